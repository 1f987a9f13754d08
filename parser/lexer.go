package parser

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types of the aku.conf lexer.
const (
	tokWord   lexer.TokenType = -(iota + 2) // bare value or name
	tokString                               // double-quoted value, unescaped
	tokPunct                                // = ( ) ,
	tokEOL                                  // end of a top-level property
)

// confLexer is the lexer.Definition of aku.conf. It is hand-written rather
// than regular-expression based because whether a line break matters
// depends on context (see the package documentation).
type confLexer struct{}

func (confLexer) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":    lexer.EOF,
		"Word":   tokWord,
		"String": tokString,
		"Punct":  tokPunct,
		"EOL":    tokEOL,
	}
}

func (d confLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filename, err)
	}
	return d.LexBytes(filename, src)
}

func (confLexer) LexString(filename, src string) (lexer.Lexer, error) {
	return lexBytes(filename, []byte(src))
}

func (confLexer) LexBytes(filename string, src []byte) (lexer.Lexer, error) {
	return lexBytes(filename, src)
}

// tokenList serves pre-scanned tokens to participle.
type tokenList struct {
	toks []lexer.Token
	i    int
}

func (l *tokenList) Next() (lexer.Token, error) {
	if l.i >= len(l.toks) {
		return l.toks[len(l.toks)-1], nil
	}
	t := l.toks[l.i]
	l.i++
	return t, nil
}

// raw token kinds before line-break handling.
const rawNewline lexer.TokenType = -100

func lexBytes(filename string, src []byte) (lexer.Lexer, error) {
	raw, end, err := scan(filename, src)
	if err != nil {
		return nil, err
	}
	toks := arrangeLines(raw, end)
	return &tokenList{toks: toks}, nil
}

// scan splits src into words, quoted strings, punctuation and line breaks,
// dropping white space and comments. end is the position just past the input.
func scan(filename string, src []byte) (toks []lexer.Token, end lexer.Position, err error) {
	pos := lexer.Position{Filename: filename, Line: 1, Column: 1}
	i := 0
	if strings.HasPrefix(string(src), "\uFEFF") {
		i = 3
		pos.Offset = 3
	}
	// advance moves pos over src[i:j], which holds no line break.
	advance := func(j int) {
		pos.Column += utf8.RuneCount(src[i:j])
		pos.Offset += j - i
		i = j
	}
	newline := func(width int) {
		i += width
		pos.Offset += width
		pos.Line++
		pos.Column = 1
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			toks = append(toks, lexer.Token{Type: rawNewline, Value: "\n", Pos: pos})
			newline(1)
		case c == '\r':
			toks = append(toks, lexer.Token{Type: rawNewline, Value: "\n", Pos: pos})
			if i+1 < len(src) && src[i+1] == '\n' {
				newline(2)
			} else {
				newline(1)
			}
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			advance(i + 1)
		case c == '#':
			j := i
			for j < len(src) && src[j] != '\n' && src[j] != '\r' {
				j++
			}
			advance(j)
		case c == '=' || c == '(' || c == ')' || c == ',':
			toks = append(toks, lexer.Token{Type: tokPunct, Value: string(c), Pos: pos})
			advance(i + 1)
		case c == '"':
			start := pos
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) && src[j] != '\n' && src[j] != '\r' {
				if src[j] == '"' {
					closed = true
					break
				}
				if src[j] == '\\' {
					if j+1 < len(src) && (src[j+1] == '"' || src[j+1] == '\\') {
						b.WriteByte(src[j+1])
						j += 2
						continue
					}
					advance(j)
					esc := "\\"
					if j+1 < len(src) && src[j+1] != '\n' && src[j+1] != '\r' {
						r, _ := utf8.DecodeRune(src[j+1:])
						esc += string(r)
					}
					return nil, pos, errorf(pos, "unknown escape %q in a quoted value: only \\\" (a quote) and \\\\ (a backslash) are escapes", esc)
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, pos, errorf(start, "unterminated quoted value: the closing \" is missing on this line")
			}
			advance(j + 1)
			if i < len(src) && isWordByte(src[i]) {
				return nil, pos, errorf(pos, "unexpected text right after a closing quote: quote the whole value")
			}
			toks = append(toks, lexer.Token{Type: tokString, Value: b.String(), Pos: start})
		case c < 0x20 || c == 0x7f:
			return nil, pos, errorf(pos, "unexpected control character %U", rune(c))
		default:
			start := pos
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			word := string(src[i:j])
			if !utf8.ValidString(word) {
				return nil, pos, errorf(start, "invalid UTF-8 in %q", word)
			}
			advance(j)
			if i < len(src) && src[i] == '#' {
				return nil, pos, errorf(pos, "'#' right after the value %q is ambiguous: put a space before a comment, or write a value containing '#' in double quotes", word)
			}
			if i < len(src) && src[i] == '"' {
				return nil, pos, errorf(pos, "a quote inside the value %q is ambiguous: write the whole value in double quotes", word)
			}
			toks = append(toks, lexer.Token{Type: tokWord, Value: word, Pos: start})
		}
	}
	return toks, pos, nil
}

// isWordByte reports whether c may be part of a bare value.
func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\v', '\f', '\n', '\r', '#', '"', '=', '(', ')', ',':
		return false
	}
	return c >= 0x20 && c != 0x7f
}

// arrangeLines turns raw line breaks into EOL tokens where they end a
// top-level property, and drops them elsewhere: inside parentheses, after a
// comma, before a comma or an opening parenthesis, and on blank lines. It
// ends the stream with an EOL (when there is content) and EOF.
func arrangeLines(raw []lexer.Token, end lexer.Position) []lexer.Token {
	out := make([]lexer.Token, 0, len(raw)+2)
	depth := 0
	// nextSignificant is the first non-newline token after index i.
	nextSignificant := func(i int) *lexer.Token {
		for j := i + 1; j < len(raw); j++ {
			if raw[j].Type != rawNewline {
				return &raw[j]
			}
		}
		return nil
	}
	for i, t := range raw {
		if t.Type == rawNewline {
			if depth > 0 || len(out) == 0 {
				continue
			}
			last := out[len(out)-1]
			if last.Type == tokEOL || (last.Type == tokPunct && last.Value == ",") {
				continue
			}
			if n := nextSignificant(i); n != nil && n.Type == tokPunct && (n.Value == "," || n.Value == "(") {
				continue
			}
			out = append(out, lexer.Token{Type: tokEOL, Value: "\n", Pos: t.Pos})
			continue
		}
		if t.Type == tokPunct {
			switch t.Value {
			case "(":
				depth++
			case ")":
				if depth > 0 {
					depth--
				}
			}
		}
		out = append(out, t)
	}
	// An EOL ends the last property, unless a parenthesis is still open:
	// the parser then reports the end of the file.
	if depth == 0 && len(out) > 0 && out[len(out)-1].Type != tokEOL {
		out = append(out, lexer.Token{Type: tokEOL, Value: "\n", Pos: end})
	}
	return append(out, lexer.Token{Type: lexer.EOF, Pos: end})
}
