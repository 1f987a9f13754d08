package parser

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// itemListDepth is the depth of parentheses inside an item list: a group
// opens the first, its item list the second.
const itemListDepth = 2

// run reads a run of flat items starting with the word first, inside an
// item list, and returns the two tokens that stand for it: an Items token
// at first's position, whose text is first's, and an ItemsEnd token where
// the run ends. The items are kept in s.runs until gather puts them in the
// tree.
//
// An item list is the one part of aku.conf that grows with the data, and
// participle spends about ten allocations on every token of a repetition
// (even for @(Word | ",")*) and keeps every token: parsing 8,000 items
// took about 45 ms and 26 MB of allocations, against 4 ms and 1.7 MB when
// they are read here. So flat items are read here, by the rule
//
//	Item = Word ( "PARTITION" Word )? ","?
//
// with participle's semantics: PARTITION matches in any case, and the
// optional part is taken only when a word follows it. A run ends at the
// first token that does not continue it; that token is given back, and
// the grammar reports it if it does not belong there. check finds the
// missing commas.
//
// ItemsEnd exists for participle's error reporting: a branch that fails
// after consuming more tokens than the lookahead (2) is committed to, and
// its error, at the offending token, is the one reported; otherwise the
// error of an outer rule, at an earlier token, wins. "(" Items ItemsEnd
// is three tokens, so a bad token after a run is reported where it
// stands, as it was when every word was a token of its own.
func (s *stream) run(first lexer.Token) (run, end lexer.Token, err error) {
	var items []*Item
	t := first
	for t.Type == tokWord {
		// One allocation for the item and its name.
		n := &struct {
			item Item
			name Word
		}{Item{Pos: t.Pos}, Word{Pos: t.Pos, Text: t.Value}}
		it := &n.item
		it.Name = &n.name
		items = append(items, it)
		if t, err = s.significant(); err != nil {
			return run, end, err
		}
		if t.Type == tokWord && strings.EqualFold(t.Value, "PARTITION") {
			part, err := s.significant()
			if err != nil {
				return run, end, err
			}
			if part.Type != tokWord {
				// A lone PARTITION begins the next item, as in the
				// grammar; check reports it.
				s.giveBack(part)
				continue
			}
			it.Partition = &Word{Pos: part.Pos, Text: part.Value}
			if t, err = s.significant(); err != nil {
				return run, end, err
			}
		}
		if isPunct(t, ",") {
			it.Comma = true
			if t, err = s.significant(); err != nil {
				return run, end, err
			}
		}
	}
	s.giveBack(t)
	if s.runs == nil {
		s.runs = map[int][]*Item{}
	}
	s.runs[first.Pos.Offset] = items
	run = lexer.Token{Type: tokItems, Value: first.Value, Pos: first.Pos}
	end = lexer.Token{Type: tokItemsEnd, Value: first.Value, Pos: t.Pos}
	return run, end, nil
}

// significant is the next token other than a line break: inside
// parentheses line breaks are white space.
func (s *stream) significant() (lexer.Token, error) {
	for {
		t, err := s.token()
		if err != nil || t.Type != rawNewline {
			return t, err
		}
	}
}

// gather sets every item list's Items from what was listed, in file
// order: a nested item as it is, a run by its items.
func gather(f *File, s *stream) {
	for _, e := range f.Entries {
		for _, g := range e.Groups {
			for _, m := range g.Members {
				l := m.Items
				if l == nil {
					continue
				}
				for _, it := range l.Listed {
					switch {
					case it.Run == nil:
						l.Items = append(l.Items, it)
					case len(l.Listed) == 1:
						l.Items = s.runs[it.Run.Pos.Offset]
					default:
						l.Items = append(l.Items, s.runs[it.Run.Pos.Offset]...)
					}
				}
			}
		}
	}
}
