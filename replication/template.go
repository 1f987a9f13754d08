package replication

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/aku-project/aku/conf"
)

// DefaultConnectTimeout is the login timeout, in seconds, of the default
// connection string: the longest a connect to an absent or silent peer may
// take (docs/odbc.md, "Connects ignore contexts": only the driver's own
// timeout bounds a connect).
const DefaultConnectTimeout = 3

// DefaultTemplate is the connection-string template aku uses when
// AKU_CONNECTION_STRING is not set (docs/behaviour.md, "Sessions" and
// "Extensions"): the Altibase 64-bit ODBC driver under altibaseHome/lib,
// connecting as SYSDBA over TCP.
//
// The keywords come from the Altibase CLI User's Manual (SQLDriverConnect)
// and the patch notes of 7.3.0.0.7:
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
		return "", fmt.Errorf("%w: %q has no {host} placeholder", ErrTemplate, RedactTemplate(tmpl))
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

// RedactTemplate returns the connection-string template tmpl with the value
// of every attribute that carries a secret replaced by conf.Masked, so that a
// template can be shown or quoted in an error without a password written
// into it. An attribute carries a secret when its keyword contains PWD,
// PASSW (Password, Passwd, SSLPassword ...), SECRET or TOKEN, in any case;
// the same rule applies to key=value pairs inside a braced value, such as
// psqlODBC's pqopt={password=...}. The {password} placeholder is kept: it
// is not a secret. Values are read as ODBC does: up to the next ';', or
// in braces with '}}' standing for '}'.
func RedactTemplate(tmpl string) string {
	var b strings.Builder
	for rest := tmpl; rest != ""; {
		// One attribute: keyword, '=', value; then ';'.
		eq := strings.IndexAny(rest, "=;")
		if eq < 0 || rest[eq] == ';' {
			end := len(rest)
			if eq >= 0 {
				end = eq + 1
			}
			b.WriteString(rest[:end])
			rest = rest[end:]
			continue
		}
		key := rest[:eq]
		value, after := odbcValue(rest[eq+1:])
		b.WriteString(key + "=")
		switch {
		case value == "{password}":
			b.WriteString(value)
		case secretKeyword(key):
			b.WriteString(conf.Masked)
		default:
			b.WriteString(redactPairs(value))
		}
		rest = after
	}
	return b.String()
}

// odbcValue splits s, which starts with an attribute's value, into the
// value (braces included) and what follows it (from the ';' on).
func odbcValue(s string) (value, rest string) {
	if strings.HasPrefix(strings.TrimLeft(s, " "), "{") {
		for i := strings.IndexByte(s, '{') + 1; i < len(s); i++ {
			if s[i] != '}' {
				continue
			}
			if i+1 < len(s) && s[i+1] == '}' {
				i++ // '}}' is a '}' inside the value
				continue
			}
			rest := s[i+1:]
			if j := strings.IndexByte(rest, ';'); j >= 0 {
				return s[:i+1] + rest[:j], rest[j:]
			}
			return s, ""
		}
		return s, "" // unclosed: the rest is the value
	}
	if j := strings.IndexByte(s, ';'); j >= 0 {
		return s[:j], s[j:]
	}
	return s, ""
}

// innerPair is a key=value pair inside a braced value, as libpq's
// connection options write them (value bare or in single quotes).
var innerPair = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'{}]+)`)

// redactPairs masks the values of secret keywords among the key=value
// pairs inside value.
func redactPairs(value string) string {
	if !strings.Contains(value, "=") {
		return value
	}
	return innerPair.ReplaceAllStringFunc(value, func(pair string) string {
		m := innerPair.FindStringSubmatch(pair)
		if !secretKeyword(m[1]) {
			return pair
		}
		return m[1] + m[2] + conf.Masked
	})
}

// secretKeyword reports whether a connection-string keyword names a secret.
func secretKeyword(key string) bool {
	k := strings.ToUpper(strings.TrimSpace(key))
	for _, s := range []string{"PWD", "PASSW", "SECRET", "TOKEN"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
