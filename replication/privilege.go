package replication

import (
	"fmt"
	"strings"
)

// OrdinaryTemplate returns the ordinary-session form of a connection-string
// template: tmpl without its PRIVILEGE=SYSDBA attribute (keyword and value
// in any case, spaces around them allowed), for the read-only sessions of
// aku status and aku probe, which must never take a server's one SYSDBA
// slot (ERR-41041, Altibase CloudNative FAQ). The default template and any
// AKU_CONNECTION_STRING written for the Altibase driver carry the
// privilege so (Altibase CLI User's Manual).
//
// A template without that attribute is an error wrapping ErrTemplate: it
// may ask for SYSDBA some other way (a DSN's odbc.ini, a driver option),
// and aku cannot tell; its ordinary form must then be given explicitly
// (AKU_MONITOR_CONNECTION_STRING, see CheckOrdinary).
func OrdinaryTemplate(tmpl string) (string, error) {
	attrs := splitAttributes(tmpl)
	kept := attrs[:0]
	found := false
	for _, a := range attrs {
		if isSysdbaAttribute(a) {
			found = true
			continue
		}
		kept = append(kept, a)
	}
	if !found {
		return "", fmt.Errorf("%w: %q has no PRIVILEGE=SYSDBA attribute, so aku cannot tell how to open an ordinary session with it: set AKU_MONITOR_CONNECTION_STRING",
			ErrTemplate, RedactTemplate(tmpl))
	}
	return strings.Join(kept, ";"), nil
}

// CheckOrdinary refuses a template given for ordinary sessions
// (AKU_MONITOR_CONNECTION_STRING) that asks for SYSDBA with a
// PRIVILEGE=SYSDBA attribute, or that has no {host}.
func CheckOrdinary(tmpl string) error {
	if !strings.Contains(tmpl, "{host}") {
		return fmt.Errorf("%w: %q has no {host} placeholder", ErrTemplate, RedactTemplate(tmpl))
	}
	for _, a := range splitAttributes(tmpl) {
		if isSysdbaAttribute(a) {
			return fmt.Errorf("%w: %q asks for PRIVILEGE=SYSDBA: read-only sessions must not take the server's one SYSDBA session",
				ErrTemplate, RedactTemplate(tmpl))
		}
	}
	return nil
}

// isSysdbaAttribute reports whether one attribute of a connection string
// is PRIVILEGE=SYSDBA.
func isSysdbaAttribute(attr string) bool {
	k, v, ok := strings.Cut(attr, "=")
	return ok && strings.EqualFold(strings.TrimSpace(k), "PRIVILEGE") && strings.EqualFold(strings.TrimSpace(v), "SYSDBA")
}

// splitAttributes splits a connection string at the ';' that end its
// attributes, as ODBC reads it: a value in braces runs to its closing
// brace ('}}' inside stands for '}'), so a ';' within it does not split.
func splitAttributes(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			if eq := strings.IndexByte(s[start:i], '='); eq < 0 || strings.TrimSpace(s[start+eq+1:i]) != "" {
				continue // a brace that does not open the value
			}
			for i++; i < len(s); i++ {
				if s[i] == '}' {
					if i+1 < len(s) && s[i+1] == '}' {
						i++
						continue
					}
					break
				}
			}
		case ';':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
