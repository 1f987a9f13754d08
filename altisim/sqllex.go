package altisim

import (
	"fmt"
	"strings"
)

// tokKind classifies a lexical token of the simulator's SQL.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokQuoted // "double-quoted identifier": case kept
	tokString // 'string literal' with '' as an escaped quote
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string // identifiers folded to upper case; strings unescaped
	pos  int
}

// lex splits sql into tokens. Keywords and unquoted identifiers fold to
// upper case, as Altibase does; identifiers may contain $ and # (V$PROPERTY).
func lex(sql string) ([]token, error) {
	var out []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentPart(sql[j]) {
				j++
			}
			out = append(out, token{tokIdent, strings.ToUpper(sql[i:j]), i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			out = append(out, token{tokNumber, sql[i:j], i})
			i = j
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(sql) {
					return nil, syntaxError(sql, i, "unterminated string literal")
				}
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			out = append(out, token{tokString, b.String(), i})
			i = j + 1
		case c == '"':
			j := strings.IndexByte(sql[i+1:], '"')
			if j < 0 {
				return nil, syntaxError(sql, i, "unterminated quoted identifier")
			}
			out = append(out, token{tokQuoted, sql[i+1 : i+1+j], i})
			i += j + 2
		default:
			two := ""
			if i+1 < len(sql) {
				two = sql[i : i+2]
			}
			switch two {
			case "<=", ">=", "<>", "!=":
				out = append(out, token{tokPunct, two, i})
				i += 2
				continue
			}
			if strings.IndexByte("(),.;=*<>+-", c) < 0 {
				return nil, syntaxError(sql, i, fmt.Sprintf("unexpected character %q", c))
			}
			out = append(out, token{tokPunct, string(c), i})
			i++
		}
	}
	out = append(out, token{tokEOF, "", len(sql)})
	return out, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' || c == '#'
}

// syntaxError is Altibase's ERR-31001 with the statement and a caret line,
// in the shape isql prints it.
func syntaxError(sql string, pos int, why string) *Error {
	if pos > len(sql) {
		pos = len(sql)
	}
	return &Error{Code: 0x31001, Message: fmt.Sprintf("SQL syntax error\nline 1: %s\n%s\n%s^", why, sql, strings.Repeat(" ", pos))}
}
