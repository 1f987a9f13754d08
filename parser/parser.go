package parser

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Error is a syntax error at a position in the file.
type Error struct {
	Pos lexer.Position
	Msg string
}

// Error reads "<file>:<line>:<col>: <message>".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

func errorf(pos lexer.Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

var grammar = participle.MustBuild[File](
	participle.Lexer(confLexer{}),
	participle.CaseInsensitive("Word"),
	participle.UseLookahead(2),
)

// Parse parses an aku.conf. The error, if any, is an *Error.
func Parse(filename string, src []byte) (*File, error) {
	f, err := grammar.ParseBytes(filename, src)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		var perr participle.Error
		if errors.As(err, &perr) {
			return nil, &Error{Pos: perr.Position(), Msg: explain(filename, src, perr)}
		}
		return nil, &Error{Pos: lexer.Position{Filename: filename, Line: 1, Column: 1}, Msg: err.Error()}
	}
	if err := check(f); err != nil {
		return nil, err
	}
	_, end, _ := scan(filename, src) // cannot fail: the parse above succeeded
	f.End = end
	return f, nil
}

// check finds what the grammar accepts but the syntax forbids: a property
// with no or several values, items not separated by commas.
func check(f *File) error {
	for _, e := range f.Entries {
		if e.Groups != nil && len(e.Values) > 0 {
			return errorf(e.Values[0].Pos, "unexpected %q after the groups of %s", e.Values[0].Text(), e.Name)
		}
		if e.Groups == nil {
			switch len(e.Values) {
			case 0:
				return errorf(e.Pos, "%s has no value after '='", e.Name)
			case 1:
				e.Value = e.Values[0]
			default:
				return errorf(e.Values[1].Pos, "unexpected %q after the value of %s: write a value containing spaces in double quotes", e.Values[1].Text(), e.Name)
			}
		}
		for _, g := range e.Groups {
			for _, m := range g.Members {
				if m.Items == nil {
					continue
				}
				items := m.Items.Items
				for i := 0; i+1 < len(items); i++ {
					if next := items[i+1].Name; !items[i].Comma && next != nil && strings.EqualFold(next.Text, "PARTITION") {
						return errorf(next.Pos, "PARTITION must be followed by a partition name")
					}
					if !items[i].Comma {
						return errorf(items[i+1].Pos, "missing ',' between replication items")
					}
				}
			}
		}
	}
	return nil
}

// explain rewrites participle's message in the file's terms: line ends and
// the end of the file by name, and which parenthesis was left open.
func explain(filename string, src []byte, perr participle.Error) string {
	msg := perr.Message()
	msg = strings.ReplaceAll(msg, `unexpected token "\n"`, "unexpected end of line")
	msg = strings.ReplaceAll(msg, `unexpected token "<EOF>"`, "unexpected end of file")
	msg = simplifyExpected(msg)
	msg = strings.ReplaceAll(msg, "<eol>", "end of line")
	msg = strings.ReplaceAll(msg, "<word>", "a name or value")
	msg = strings.ReplaceAll(msg, "<string>", "a quoted value")
	if raw, _, err := scan(filename, src); err == nil {
		if msg == `unexpected token "," (expected end of line)` && !isOpenAt(raw, perr.Position().Offset) && afterParen(raw, perr.Position().Offset) {
			return `unexpected ",": no group "( ... )" follows it`
		}
		if strings.HasPrefix(msg, `unexpected token ")"`) && !isOpenAt(raw, perr.Position().Offset) {
			return `unexpected ")": no "(" is open here`
		}
		if open := unclosed(raw); open != nil && perr.Position().Offset >= open.Offset {
			msg += fmt.Sprintf(` (the "(" at line %d, column %d is not closed)`, open.Line, open.Column)
		}
	}
	return msg
}

// unclosed is the position of the first "(" never closed, if any.
func unclosed(raw []lexer.Token) *lexer.Position {
	var stack []lexer.Position
	for _, t := range raw {
		if t.Type != tokPunct {
			continue
		}
		switch t.Value {
		case "(":
			stack = append(stack, t.Pos)
		case ")":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(stack) == 0 {
		return nil
	}
	return &stack[0]
}

// simplifyExpected shortens participle's "(expected <grammar>)" to the
// first thing that may come next, in the file's own terms.
func simplifyExpected(msg string) string {
	i := strings.Index(msg, " (expected ")
	if i < 0 {
		if strings.HasPrefix(msg, `unexpected token "`) {
			return msg + " (expected a property name)"
		}
		return msg
	}
	rest := strings.TrimSuffix(msg[i+len(" (expected "):], ")")
	var first string
	switch {
	case strings.HasPrefix(rest, `"`):
		if j := strings.Index(rest[1:], `"`); j >= 0 {
			first = rest[:j+2]
		}
	case strings.HasPrefix(rest, "<"):
		if j := strings.Index(rest, ">"); j >= 0 {
			first = rest[:j+1]
		}
	case strings.HasPrefix(rest, "Group"), strings.HasPrefix(rest, "ItemList"):
		first = `"("`
	case strings.HasPrefix(rest, "Value"), strings.HasPrefix(rest, "Word"), strings.HasPrefix(rest, "Setting"), strings.HasPrefix(rest, "Item"):
		first = "<word>"
	}
	if first == "" {
		return msg
	}
	return msg[:i] + " (expected " + first + ")"
}

// isOpenAt reports whether a "(" is open just before offset.
func isOpenAt(raw []lexer.Token, offset int) bool {
	depth := 0
	for _, t := range raw {
		if t.Pos.Offset >= offset {
			break
		}
		if t.Type == tokPunct && t.Value == "(" {
			depth++
		} else if t.Type == tokPunct && t.Value == ")" && depth > 0 {
			depth--
		}
	}
	return depth > 0
}

// afterParen reports whether the token before offset is ")".
func afterParen(raw []lexer.Token, offset int) bool {
	var prev *lexer.Token
	for i := range raw {
		if raw[i].Pos.Offset >= offset {
			break
		}
		if raw[i].Type != rawNewline {
			prev = &raw[i]
		}
	}
	return prev != nil && prev.Type == tokPunct && prev.Value == ")"
}
