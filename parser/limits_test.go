package parser

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseTokenLimit(t *testing.T) {
	// R = ( P = x ( and ) ) are 9 tokens; "a," two per item, "b" one.
	items := (MaxTokens - 10) / 2
	atLimit := "R = ( P = x (" + strings.Repeat(" a,", items) + " b ) )\n"
	f, err := Parse("a.conf", []byte(atLimit))
	if err != nil {
		t.Fatalf("%d tokens: %v", MaxTokens, err)
	}
	if got := len(f.Entries[0].Groups[0].Members[1].Items.Items); got != items+1 {
		t.Fatalf("%d items, want %d", got, items+1)
	}

	over := strings.Replace(atLimit, " b )", " b c )", 1)
	want := fmt.Sprintf("a.conf:1:%d: too many names, values and punctuation marks: aku reads at most %d in a configuration (docs/configuration.md, Limits)",
		strings.LastIndex(over, ")")+1, MaxTokens)
	if _, err := Parse("a.conf", []byte(over)); err == nil || err.Error() != want {
		t.Fatalf("%d tokens: error %v, want %s", MaxTokens+1, err, want)
	}

	// A million properties used to end in participle's own limit on
	// repetitions ("too many iterations of ..."), after seconds.
	entries := strings.Repeat("A = b\n", 1_000_000)
	want = fmt.Sprintf("a.conf:%d:5: too many names, values and punctuation marks: aku reads at most %d in a configuration (docs/configuration.md, Limits)",
		MaxTokens/3+1, MaxTokens)
	if _, err := Parse("a.conf", []byte(entries)); err == nil || err.Error() != want {
		t.Fatalf("a million properties: error %v, want %s", err, want)
	}
}

func TestParseShortensLongValues(t *testing.T) {
	long := strings.Repeat("w", 1<<20)
	shown := `"` + strings.Repeat("w", QuoteHead) + `"… (1048576 bytes)`
	tests := []struct{ name, src, want string }{
		{"second value", "AKU_SYS_PASSWORD = a " + long + "\n",
			"a.conf:1:22: unexpected " + shown + " after the value of AKU_SYS_PASSWORD: write a value containing spaces in double quotes"},
		{"unexpected token", "AKU_PORT_NO " + long + "\n",
			"a.conf:1:13: unexpected token " + shown + ` (expected "=")`},
		{"hash after a value", "AKU_SYS_PASSWORD = " + long + "#\n",
			"a.conf:1:1048596: '#' right after the value " + shown + " is ambiguous: put a space before a comment, or write a value containing '#' in double quotes"},
		{"name without a value", long + " =\n",
			"a.conf:1:1: " + strings.Repeat("w", QuoteHead) + "… (1048576 bytes) has no value after '='"},
		{"value of the longest length shown whole", "AKU_SYS_PASSWORD = a " + long[:QuoteWhole] + "\n",
			`a.conf:1:22: unexpected "` + long[:QuoteWhole] + `" after the value of AKU_SYS_PASSWORD: write a value containing spaces in double quotes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("a.conf", []byte(tt.src))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got: %.400v\nwant: %.400s", err, tt.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{`a"b`, `"a\"b"`},
		{strings.Repeat("ś", QuoteWhole), `"` + strings.Repeat("ś", QuoteWhole) + `"`},
		{strings.Repeat("ś", QuoteWhole+1), `"` + strings.Repeat("ś", QuoteHead) + `"… (322 bytes)`},
		{"\xff" + strings.Repeat("x", QuoteWhole), `"\xff` + strings.Repeat("x", QuoteHead-1) + `"… (161 bytes)`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%.20q…) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
