package parser

import (
	"strconv"
	"unicode/utf8"
)

// Values that messages show: one of up to QuoteWhole characters is shown
// whole; a longer one by its first QuoteHead characters, followed by "…"
// and its length in bytes. Every message gives the value's position, so
// its head is enough to find it, and a huge value cannot flood a terminal
// (docs/configuration.md, Errors and warnings).
const (
	QuoteWhole = 160
	QuoteHead  = 64
)

// Quote quotes s for a message as %q does, shortened when s is longer
// than QuoteWhole characters: a name of ten million A's reads as 64 A's in
// quotes followed by `… (10000000 bytes)`. Its cost does not depend on the
// length of s.
func Quote(s string) string {
	head, long := cut(s)
	if !long {
		return strconv.Quote(s)
	}
	return strconv.Quote(head) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// Clip is s for a message that shows it without quotes (a property name),
// shortened as Quote shortens it.
func Clip(s string) string {
	head, long := cut(s)
	if !long {
		return s
	}
	return head + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// cut returns the first QuoteHead characters of s, and whether s is longer
// than QuoteWhole characters.
func cut(s string) (head string, long bool) {
	end, n := 0, 0 // bytes of the first QuoteHead characters; characters seen
	for i := 0; i < len(s); n++ {
		if n == QuoteWhole {
			return s[:end], true
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if n < QuoteHead {
			end = i
		}
	}
	return s, false
}
