package parser

import (
	"errors"
	"fmt"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Error is a syntax error at a position in the file.
type Error struct {
	Pos lexer.Position
	Msg string
}

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
			return nil, &Error{Pos: perr.Position(), Msg: perr.Message()}
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
					if !items[i].Comma {
						return errorf(items[i+1].Pos, "missing ',' between replication items")
					}
				}
			}
		}
	}
	return nil
}
