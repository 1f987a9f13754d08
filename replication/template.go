package replication

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// DefaultConnectTimeout is the login timeout, in seconds, of the default
// connection string: the longest a connect to an absent or silent peer may
// take (guides/testing.md gotcha 3: connect ignores contexts, so only the
// driver's own timeout bounds it).
const DefaultConnectTimeout = 3

// DefaultTemplate is the connection-string template aku uses when
// AKU_CONNECTION_STRING is not set (spec §10, §12): the Altibase 64-bit ODBC
// driver under altibaseHome/lib, connecting as SYSDBA over TCP.
//
// The keywords come from altibase.md §4:
//   - DSN={host} as well as Server={host}: clients before 7.3.0.0.7 fail
//     without DSN= (BUG-50905); later ones accept either.
//   - PORT_NO, UID, PWD, CONNTYPE=1 (TCP) and PRIVILEGE=SYSDBA: the servers
//     stay in ADMIN_MODE = 1, which admits SYSDBA only, until aku opens them.
//   - TIMEOUT is the CLI's login timeout. It is always present so that a
//     peer whose SYNs are dropped costs DefaultConnectTimeout seconds rather
//     than minutes. CONNECTION_TIMEOUT is deliberately left out: the CLI
//     applies it to network waits in general, which would cut short a long
//     SYNC or FLUSH; statement time is bounded by AKU_QUERY_TIMEOUT instead.
//
// NLS_USE is not set: the client then follows ALTIBASE_NLS_USE, as isql
// does in the same container.
func DefaultTemplate(altibaseHome string) string {
	driver := path.Join(altibaseHome, "lib", "libaltibase_odbc-64bit-ul64.so")
	return "DRIVER=" + quoteODBCValue(driver) +
		";DSN={host};Server={host};PORT_NO={port};UID={user};PWD={password}" +
		";CONNTYPE=1;PRIVILEGE=SYSDBA;TIMEOUT=" + strconv.Itoa(DefaultConnectTimeout)
}

// ErrTemplate is wrapped by every error ExpandTemplate returns.
var ErrTemplate = errors.New("invalid connection-string template")

// ExpandTemplate fills the placeholders {host}, {port}, {user} and
// {password} of a connection-string template. Only those four are
// replaced: other braces, such as psqlODBC's pqopt={connect_timeout=3},
// are kept as they are. A value containing ';', '{' or '}' (a password,
// typically) is quoted ODBC-style as {value} with every '}' doubled, so it
// cannot end its attribute early or add another one. A template without
// {host} is an error: aku would connect every pod's session to one server.
func ExpandTemplate(tmpl, host string, port int, user, password string) (string, error) {
	if !strings.Contains(tmpl, "{host}") {
		return "", fmt.Errorf("%w: %q has no {host} placeholder", ErrTemplate, redact(tmpl))
	}
	values := map[string]string{
		"{host}":     host,
		"{port}":     strconv.Itoa(port),
		"{user}":     user,
		"{password}": password,
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if tmpl[i] == '{' {
			if j := strings.IndexByte(tmpl[i:], '}'); j > 0 {
				if v, ok := values[tmpl[i:i+j+1]]; ok {
					b.WriteString(quoteODBCValue(v))
					i += j + 1
					continue
				}
			}
		}
		b.WriteByte(tmpl[i])
		i++
	}
	return b.String(), nil
}

// quoteODBCValue returns v as an ODBC attribute value: unchanged when it is
// safe, else in braces with '}' doubled (the ODBC connection-string rule,
// which unixODBC, psqlODBC and the Altibase CLI follow).
func quoteODBCValue(v string) string {
	if !strings.ContainsAny(v, ";{}") && strings.TrimSpace(v) == v {
		return v
	}
	return "{" + strings.ReplaceAll(v, "}", "}}") + "}"
}

// redact hides a literal password in a template quoted in an error, so a
// misconfigured AKU_CONNECTION_STRING does not print a secret.
func redact(tmpl string) string {
	parts := strings.Split(tmpl, ";")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "PWD", "PASSWORD":
			parts[i] = k + "=***"
		}
	}
	return strings.Join(parts, ";")
}
