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

// Parse parses an aku.conf. The error, if any, is an *Error. Time and
// memory grow linearly with the size of src, and a file of more than
// MaxTokens tokens is refused at the first token beyond the limit.
func Parse(filename string, src []byte) (*File, error) {
	s := newStream(filename, string(src))
	tokens, err := lexer.Upgrade(s)
	if err != nil {
		return nil, asParserError(err, s.pos)
	}
	f, err := grammar.ParseFromLexer(tokens)
	if err != nil {
		var perr participle.Error
		if errors.As(err, &perr) {
			return nil, &Error{Pos: perr.Position(), Msg: explain(s, perr)}
		}
		return nil, asParserError(err, s.pos)
	}
	gather(f, s)
	if err := check(f); err != nil {
		return nil, err
	}
	f.End = s.End()
	return f, nil
}

// asParserError returns err if it is an *Error, else an *Error at pos with
// err's text (the lexer returns *Error only; this is a safety net).
func asParserError(err error, pos lexer.Position) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Pos: pos, Msg: err.Error()}
}

// check finds what the grammar accepts but the syntax forbids: a property
// with no or several values, items not separated by commas.
func check(f *File) error {
	for _, e := range f.Entries {
		if e.Groups != nil && len(e.Values) > 0 {
			return errorf(e.Values[0].Pos, "unexpected %s after the groups of %s", Quote(e.Values[0].Text()), Clip(e.Name))
		}
		if e.Groups == nil {
			switch len(e.Values) {
			case 0:
				return errorf(e.Pos, "%s has no value after '='", Clip(e.Name))
			case 1:
				e.Value = e.Values[0]
			default:
				return errorf(e.Values[1].Pos, "unexpected %s after the value of %s: write a value containing spaces in double quotes", Quote(e.Values[1].Text()), Clip(e.Name))
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
// the end of the file by name, the unexpected value shortened by Quote, and
// which parenthesis was left open. s is the stream that lexed the whole file.
func explain(s *stream, perr participle.Error) string {
	msg := perr.Message()
	var ute *participle.UnexpectedTokenError
	if errors.As(perr, &ute) {
		// Participle quotes the whole token, which may be megabytes long.
		if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("unexpected token %q", ute.Unexpected)); ok {
			msg = "unexpected token " + Quote(ute.Unexpected.String()) + rest
		}
	}
	msg = strings.ReplaceAll(msg, `unexpected token "\n"`, "unexpected end of line")
	msg = strings.ReplaceAll(msg, `unexpected token "<EOF>"`, "unexpected end of file")
	msg = simplifyExpected(msg)
	msg = strings.ReplaceAll(msg, "<eol>", "end of line")
	msg = strings.ReplaceAll(msg, "<word>", "a name or value")
	msg = strings.ReplaceAll(msg, "<string>", "a quoted value")
	at := perr.Position().Offset
	open, afterParen := before(s.pos.Filename, s.src, at)
	if msg == `unexpected token "," (expected end of line)` && !open && afterParen {
		return `unexpected ",": no group "( ... )" follows it`
	}
	if strings.HasPrefix(msg, `unexpected token ")"`) && !open {
		return `unexpected ")": no "(" is open here`
	}
	if p, ok := s.Unclosed(); ok && at >= p.Offset {
		msg += fmt.Sprintf(` (the "(" at line %d, column %d is not closed)`, p.Line, p.Column)
	}
	return msg
}

// before lexes src again up to the token at offset and reports whether a
// "(" is open just before it and whether the token before it is ")".
func before(filename, src string, offset int) (open, afterParen bool) {
	s := newStream(filename, src)
	depth := 0
	var prev lexer.Token
	for {
		t, err := s.Next()
		if err != nil || t.EOF() || t.Pos.Offset >= offset {
			break
		}
		switch {
		case isPunct(t, "("):
			depth++
		case isPunct(t, ")") && depth > 0:
			depth--
		}
		if t.Type != tokEOL {
			prev = t
		}
	}
	return depth > 0, isPunct(prev, ")")
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
