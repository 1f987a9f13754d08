package conf

import (
	"fmt"
	"strconv"
)

// String formats the position as "file:line:col", or only the file when
// the line is unknown.
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// Error is a configuration error at a position. It reads
// "<file>:<line>:<col>: <what is wrong>" and wraps ErrInvalid.
type Error struct {
	Pos Position
	Msg string
}

// Error reads "<file>:<line>:<col>: <message>", or only the message when
// the error is not about a place in a file.
func (e *Error) Error() string {
	if p := e.Pos.String(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}

// Unwrap returns ErrInvalid: every *Error is an invalid configuration.
func (e *Error) Unwrap() error { return ErrInvalid }

// String formats a warning like an error, with "warning: " before the
// message: "<file>:<line>:<col>: warning: <msg>".
func (w Warning) String() string {
	if p := w.Pos.String(); p != "" {
		return p + ": warning: " + w.Message
	}
	return "warning: " + w.Message
}

func errorAt(pos Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
