package parser

import "github.com/alecthomas/participle/v2/lexer"

// File is a whole aku.conf: its properties in file order.
type File struct {
	Entries []*Entry `parser:"@@*"`
	// End is the position just past the last byte of the file.
	End lexer.Position
}

// Entry is one top-level property, `NAME = VALUE` or
// `REPLICATIONS = ( ... ), ( ... )`. Parse checks that exactly one of Groups and Value is set.
type Entry struct {
	Pos    lexer.Position
	Name   string   `parser:"@Word \"=\":Punct"`
	Groups []*Group `parser:"( @@ ( \",\":Punct @@ )* )?"`
	Values []*Value `parser:"@@* EOL"`
	// Value is the single value of a scalar property (Values[0]), set by
	// Parse once it has checked there is exactly one.
	Value *Value
}

// Value is a bare word or a double-quoted string (already unescaped).
type Value struct {
	Pos    lexer.Position
	Word   *string `parser:"  @Word"`
	Quoted *string `parser:"| @String"`
}

// Text is the value's text, without quotes.
func (v *Value) Text() string {
	if v.Word != nil {
		return *v.Word
	}
	return *v.Quoted
}

// IsQuoted reports whether the value was written in double quotes.
func (v *Value) IsQuoted() bool { return v.Quoted != nil }

// Group is one parenthesised REPLICATIONS group: settings
// (REPLICATION_NAME_PREFIX, SYNC_PARALLEL_COUNT) and item lists, in any
// order; conf decides what is required and allowed.
type Group struct {
	Pos     lexer.Position
	Members []*Member `parser:"\"(\":Punct @@* \")\":Punct"`
}

// Member is a setting or an item list inside a group.
type Member struct {
	Pos     lexer.Position
	Setting *Setting  `parser:"  @@"`
	Items   *ItemList `parser:"| @@"`
}

// Setting is `NAME = VALUE` inside parentheses.
type Setting struct {
	Pos   lexer.Position
	Name  string `parser:"@Word \"=\":Punct"`
	Value *Value `parser:"@@"`
}

// ItemList is the parenthesised list of replicated tables of a group.
type ItemList struct {
	Pos lexer.Position
	// Listed is the list as parsed: nested items and runs of flat items
	// (Item.Run set), in file order. Parse gathers them into Items.
	Listed []*Item `parser:"\"(\":Punct @@* \")\":Punct"`
	// Items are the list's items in file order, set by Parse.
	Items []*Item
}

// Item is one replicated table or partition, in the flat form
// `USER.TABLE [PARTITION P]` or the 7.1 nested form
// `( USER_NAME = "U" TABLE_NAME = "T" [PARTITION_NAME = "P"] )`.
type Item struct {
	Pos lexer.Position
	// Nested is true for the nested form; Settings then holds its settings.
	Nested   bool       `parser:"( @\"(\":Punct"`
	Settings []*Setting `parser:"  @@* \")\":Punct"`
	// Comma is true when a ',' follows the item.
	Comma bool `parser:"  @(\",\":Punct)?"`
	// Run, in ItemList.Listed only, is the Items token the lexer makes of
	// a run of flat items, commas included (see items.go); it has the
	// position and the text of the run's first word.
	Run *lexer.Token `parser:"| @Items ItemsEnd )"`
	// Name and Partition are the flat form's words.
	Name      *Word
	Partition *Word
}

// Word is a bare word with its position.
type Word struct {
	Pos  lexer.Position
	Text string `parser:"@Word"`
}
