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
	tokWord     lexer.TokenType = -(iota + 2) // bare value or name
	tokString                                 // double-quoted value, unescaped
	tokPunct                                  // = ( ) ,
	tokEOL                                    // end of a top-level property
	tokItems                                  // a run of flat items (see items.go)
	tokItemsEnd                               // the end of that run
)

// rawNewline is a line break as scanned, before the lexer decides whether
// it ends a property; participle never sees it.
const rawNewline lexer.TokenType = -100

// MaxTokens is the most names, values and punctuation marks (= ( ) ,) a
// configuration may hold; comments, white space and line breaks do not
// count. It bounds the parser's memory whatever the input (a file of
// parentheses included) and, because each repetition of the grammar takes
// at least one token, keeps participle below its own limit on repetitions,
// whose message would name grammar internals. A real aku.conf holds a few
// hundred tokens; the limit allows about 250,000 items. It is documented
// in docs/configuration.md (Limits).
const MaxTokens = 500_000

// confLexer is the lexer.Definition of aku.conf. It is hand-written rather
// than regular-expression based because whether a line break matters
// depends on context (see the package documentation).
type confLexer struct{}

func (confLexer) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":      lexer.EOF,
		"Word":     tokWord,
		"String":   tokString,
		"Punct":    tokPunct,
		"EOL":      tokEOL,
		"Items":    tokItems,
		"ItemsEnd": tokItemsEnd,
	}
}

func (confLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filename, err)
	}
	return newStream(filename, string(src)), nil
}

func (confLexer) LexString(filename, src string) (lexer.Lexer, error) {
	return newStream(filename, src), nil
}

func (confLexer) LexBytes(filename string, src []byte) (lexer.Lexer, error) {
	return newStream(filename, string(src)), nil
}

// stream scans a file one token at a time, in a single pass over the
// bytes, and decides at each line break whether it ends a property: a
// line break is an EOL at the top level, except after a comma, before a
// comma or an opening parenthesis, and on blank lines; inside parentheses
// it is white space. Deciding needs the next significant token only, so a
// run of blank lines costs time in proportion to its length.
type stream struct {
	src   string         // the file; token values are slices of it
	i     int            // next byte to scan
	pos   lexer.Position // position of src[i]
	depth int            // parentheses open before src[i]
	// outer is the position of the outermost open parenthesis, if depth > 0.
	outer  lexer.Position
	tokens int // names, values and punctuation scanned so far
	// last is the type and text of the last token handed out (Type 0
	// before the first); held is a token scanned before the EOL that
	// precedes it, handed out next.
	last     lexer.Token
	held     lexer.Token
	haveHeld bool
	// back is a token scanned ahead and given back, if haveBack.
	back     lexer.Token
	haveBack bool
	// runs are the items of each run of flat items, by the offset of the
	// run's first byte.
	runs map[int][]*Item
}

func newStream(filename, src string) *stream {
	s := &stream{src: src, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}
	if strings.HasPrefix(src, "\uFEFF") {
		s.i, s.pos.Offset = 3, 3
	}
	return s
}

// Next hands out the next token; after the end of the file it keeps
// returning EOF. The error, if any, is an *Error.
func (s *stream) Next() (lexer.Token, error) {
	if s.last.EOF() {
		return s.last, nil
	}
	if s.haveHeld {
		s.haveHeld = false
		return s.hand(s.held), nil
	}
	var brk lexer.Position // a line break that ends a property, if Line > 0
	for {
		t, err := s.token()
		if err != nil {
			return lexer.Token{}, err
		}
		if t.Type == tokWord && s.depth == itemListDepth {
			run, end, err := s.run(t)
			if err != nil {
				return lexer.Token{}, err
			}
			s.held, s.haveHeld = end, true
			return s.hand(run), nil
		}
		if t.Type == rawNewline {
			if brk.Line == 0 && s.depth == 0 && s.last.Type != 0 && s.last.Type != tokEOL && !isPunct(s.last, ",") {
				brk = t.Pos
			}
			continue
		}
		if brk.Line == 0 && t.Type == lexer.EOF && s.depth == 0 && s.last.Type != 0 && s.last.Type != tokEOL {
			// The end of the file ends the last property, unless a
			// parenthesis is still open: the parser then reports it.
			brk = t.Pos
		}
		if brk.Line > 0 && !isPunct(t, ",") && !isPunct(t, "(") {
			s.held, s.haveHeld = t, true
			return s.hand(lexer.Token{Type: tokEOL, Value: "\n", Pos: brk}), nil
		}
		return s.hand(t), nil
	}
}

// token returns the token given back, if any, else the next one scanned.
func (s *stream) token() (lexer.Token, error) {
	if s.haveBack {
		s.haveBack = false
		return s.back, nil
	}
	return s.scan()
}

// giveBack returns one token to the stream: token returns it next.
func (s *stream) giveBack(t lexer.Token) { s.back, s.haveBack = t, true }

func (s *stream) hand(t lexer.Token) lexer.Token {
	s.last = t
	return t
}

// End is the position just past the last byte of the file, once Next
// has returned EOF.
func (s *stream) End() lexer.Position { return s.pos }

// Unclosed is the position of the outermost parenthesis left open at the
// end of the file, once Next has returned EOF.
func (s *stream) Unclosed() (lexer.Position, bool) {
	if s.depth == 0 {
		return lexer.Position{}, false
	}
	return s.outer, true
}

func isPunct(t lexer.Token, p string) bool { return t.Type == tokPunct && t.Value == p }

// advance moves over src[i:j], which holds no line break.
func (s *stream) advance(j int) {
	s.pos.Column += utf8.RuneCountInString(s.src[s.i:j])
	s.pos.Offset += j - s.i
	s.i = j
}

// newline moves over a line break of width bytes.
func (s *stream) newline(width int) {
	s.i += width
	s.pos.Offset += width
	s.pos.Line++
	s.pos.Column = 1
}

// scan returns the next word, quoted string, punctuation mark, line break
// or EOF, skipping white space and comments.
func (s *stream) scan() (lexer.Token, error) {
	src := s.src
	for s.i < len(src) {
		c := src[s.i]
		switch {
		case c == '\n' || c == '\r':
			t := lexer.Token{Type: rawNewline, Value: "\n", Pos: s.pos}
			if c == '\r' && s.i+1 < len(src) && src[s.i+1] == '\n' {
				s.newline(2)
			} else {
				s.newline(1)
			}
			return t, nil
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			s.advance(s.i + 1)
		case c == '#':
			j := s.i
			for j < len(src) && src[j] != '\n' && src[j] != '\r' {
				j++
			}
			s.advance(j)
		case c == '=' || c == '(' || c == ')' || c == ',':
			return s.punct(c)
		case c == '"':
			return s.quoted()
		case c < 0x20 || c == 0x7f:
			return lexer.Token{}, errorf(s.pos, "unexpected control character %U", rune(c))
		default:
			return s.word()
		}
	}
	return lexer.Token{Type: lexer.EOF, Pos: s.pos}, nil
}

// count counts one more token against MaxTokens.
func (s *stream) count(at lexer.Position) error {
	s.tokens++
	if s.tokens > MaxTokens {
		return errorf(at, "too many names, values and punctuation marks: aku reads at most %d in a configuration (docs/configuration.md, Limits)", MaxTokens)
	}
	return nil
}

func (s *stream) punct(c byte) (lexer.Token, error) {
	t := lexer.Token{Type: tokPunct, Value: s.src[s.i : s.i+1], Pos: s.pos}
	if err := s.count(t.Pos); err != nil {
		return lexer.Token{}, err
	}
	switch c {
	case '(':
		if s.depth == 0 {
			s.outer = s.pos
		}
		s.depth++
	case ')':
		if s.depth > 0 {
			s.depth--
		}
	}
	s.advance(s.i + 1)
	return t, nil
}

// quoted scans a double-quoted value, which must close on its line.
func (s *stream) quoted() (lexer.Token, error) {
	src := s.src
	start := s.pos
	var b strings.Builder
	j := s.i + 1
	for j < len(src) && src[j] != '\n' && src[j] != '\r' {
		switch {
		case src[j] == '"':
			s.advance(j + 1)
			if s.i < len(src) && isWordByte(src[s.i]) {
				return lexer.Token{}, errorf(s.pos, "unexpected text right after a closing quote: quote the whole value")
			}
			if err := s.count(start); err != nil {
				return lexer.Token{}, err
			}
			return lexer.Token{Type: tokString, Value: b.String(), Pos: start}, nil
		case src[j] == '\\' && j+1 < len(src) && (src[j+1] == '"' || src[j+1] == '\\'):
			b.WriteByte(src[j+1])
			j += 2
		case src[j] == '\\':
			s.advance(j)
			esc := "\\"
			if j+1 < len(src) && src[j+1] != '\n' && src[j+1] != '\r' {
				r, _ := utf8.DecodeRuneInString(src[j+1:])
				esc += string(r)
			}
			return lexer.Token{}, errorf(s.pos, "unknown escape %q in a quoted value: only \\\" (a quote) and \\\\ (a backslash) are escapes", esc)
		default:
			b.WriteByte(src[j])
			j++
		}
	}
	return lexer.Token{}, errorf(start, "unterminated quoted value: the closing \" is missing on this line")
}

// word scans a bare value or name.
func (s *stream) word() (lexer.Token, error) {
	src := s.src
	start := s.pos
	j := s.i
	for j < len(src) && isWordByte(src[j]) {
		j++
	}
	word := src[s.i:j]
	if !utf8.ValidString(word) {
		return lexer.Token{}, errorf(start, "invalid UTF-8 in %s", Quote(word))
	}
	s.advance(j)
	if s.i < len(src) && src[s.i] == '#' {
		return lexer.Token{}, errorf(s.pos, "'#' right after the value %s is ambiguous: put a space before a comment, or write a value containing '#' in double quotes", Quote(word))
	}
	if s.i < len(src) && src[s.i] == '"' {
		return lexer.Token{}, errorf(s.pos, "a quote inside the value %s is ambiguous: write the whole value in double quotes", Quote(word))
	}
	if err := s.count(start); err != nil {
		return lexer.Token{}, err
	}
	return lexer.Token{Type: tokWord, Value: word, Pos: start}, nil
}

// isWordByte reports whether c may be part of a bare value.
func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\v', '\f', '\n', '\r', '#', '"', '=', '(', ')', ',':
		return false
	}
	return c >= 0x20 && c != 0x7f
}
