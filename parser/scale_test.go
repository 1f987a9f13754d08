package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aku-project/aku/parser/parsertest"
)

// shapes are inputs that grow in one direction. Blank lines before a ','
// or a '(' once made Parse quadratic (100,000 of them took 3.7 s, 200,000
// took 20 s); the others are the file's other repetitions.
var shapes = []parsertest.Shape{
	{Name: "blank lines before a comma", N: 25_000, Build: func(n int) []byte {
		return []byte("REPLICATIONS = ( P = x ( SYS.T1 ) )" + strings.Repeat("\n", n) + ", ( Q = y ( SYS.T2 ) )\n")
	}},
	{Name: "blank lines before a parenthesis", N: 25_000, Build: func(n int) []byte {
		return []byte("REPLICATIONS =" + strings.Repeat("\n", n) + "( P = x ( SYS.T1 ) )\n")
	}},
	{Name: "comment lines before a comma", N: 10_000, Build: func(n int) []byte {
		return []byte("REPLICATIONS = ( P = x ( SYS.T1 ) )\n" + strings.Repeat("# a comment\n", n) + ", ( Q = y ( SYS.T2 ) )\n")
	}},
	{Name: "items in one group", N: 20_000, Build: parsertest.Items},
	{Name: "nested items", N: 2_000, Build: func(n int) []byte {
		return []byte("REPLICATIONS = ( P = x (" + strings.Repeat(" ( USER_NAME = \"SYS\" TABLE_NAME = \"T\" ),", n) + " ) )\n")
	}},
	{Name: "properties", N: 5_000, Build: func(n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "AKU_P%d = %d\n", i, i)
		}
		return []byte(b.String())
	}},
	{Name: "groups", N: 2_000, Build: func(n int) []byte {
		return []byte("REPLICATIONS = ( P = x ( SYS.T1 ) )" + strings.Repeat(",\n( P = x ( SYS.T1 ) )", n) + "\n")
	}},
	{Name: "values on one line", N: 10_000, Build: func(n int) []byte {
		return []byte("AKU_SYS_PASSWORD =" + strings.Repeat(" v", n) + "\n")
	}},
	{Name: "opening parentheses", N: 10_000, Build: func(n int) []byte { return []byte(strings.Repeat("(", n)) }},
	{Name: "a long value", N: 1 << 20, Build: func(n int) []byte { return []byte("AKU_SYS_PASSWORD = " + strings.Repeat("v", n) + " x\n") }},
}

func parseIgnoringErrors(src []byte) { _, _ = Parse("a.conf", src) }

func TestParseIsLinear(t *testing.T) { parsertest.LinearShapes(t, shapes, parseIgnoringErrors) }

// checkParse parses src within parsertest.ReadBudget and checks what it
// returns: a positioned *Error of a readable length, or a tree in which
// every entry has a value or groups.
func checkParse(t *testing.T, src []byte) {
	t.Helper()
	var file *File
	var err error
	cost := parsertest.Measure(func() { file, err = Parse("fuzz.conf", src) })
	if err := parsertest.ReadBudget.Check(len(src), cost); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		var pe *Error
		if !asError(err, &pe) {
			t.Fatalf("error %v (%T) is not a *parser.Error", err, err)
		}
		if pe.Pos.Line < 1 || pe.Pos.Column < 1 {
			t.Fatalf("error without a position: %v", err)
		}
		if len(pe.Msg) > 1024 {
			t.Fatalf("error of %d bytes: %.200s", len(pe.Msg), pe.Msg)
		}
		return
	}
	for _, e := range file.Entries {
		if (e.Groups == nil) == (e.Value == nil) {
			t.Fatalf("entry %s: want exactly one of groups and value", e.Name)
		}
	}
}

// TestParseWithinBudget holds the large inputs to FuzzParse's budget:
// 200,000 blank lines took 20 s when line breaks were rescanned, five
// times the budget.
func TestParseWithinBudget(t *testing.T) {
	for _, s := range shapes {
		t.Run(s.Name, func(t *testing.T) { checkParse(t, s.Build(parsertest.Growth*s.N)) })
	}
	t.Run("200,000 blank lines before a comma", func(t *testing.T) { checkParse(t, shapes[0].Build(200_000)) })
	t.Run("200,000 blank lines before a parenthesis", func(t *testing.T) { checkParse(t, shapes[1].Build(200_000)) })
}

// maxFuzzInput is the largest input FuzzParse reads, so that the fuzzer
// spends its time on many inputs rather than on mutating huge ones;
// TestParseWithinBudget holds the large ones to the same budget.
const maxFuzzInput = 64 << 10

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"AKU_STS_NAME = sts # c\n#\n",
		"AKU_SYS_PASSWORD = \"a\\\"b\\\\c # d\"\r\n",
		"REPLICATIONS = ( REPLICATION_NAME_PREFIX = P SYNC_PARALLEL_COUNT = 1 ( SYS.T1, SYS.T2 PARTITION P1 ) ), ( REPLICATION_NAME_PREFIX = Q ( U.T ) )\n",
		"REPLICATIONS = ( REPLICATION_NAME_PREFIX = \"P\" ( ( USER_NAME = \"SYS\" TABLE_NAME = \"T1\" ), ( USER_NAME = \"SYS\" TABLE_NAME = \"T2\" PARTITION_NAME = \"P1\" ) ) )",
		"A = (\n", "= =", "\"", "a#b", "((((", "))", ",\n,",
		"R = ( P = x ( a PARTITION , b PARTITION c d, ( U = 1 ) e ) )\n",
		"R = ( P = x (\n\n\n SYS.T1 ) )\n\n\n, ( Q = y ( SYS.T2 ) )\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxFuzzInput {
			return
		}
		checkParse(t, src)
	})
}

// BenchmarkParse1MB parses a 1 MB configuration: one group of 68,000 items.
func BenchmarkParse1MB(b *testing.B) { benchmarkParse(b, parsertest.Items(68_000)) }

// BenchmarkParse10MB parses a 10 MB configuration: one group of 81,000
// items of 120-character names (10 MB of short items would be 1.6 million
// tokens, over MaxTokens).
func BenchmarkParse10MB(b *testing.B) { benchmarkParse(b, parsertest.LongItems(81_000)) }

func benchmarkParse(b *testing.B, src []byte) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("aku.conf", src); err != nil {
			b.Fatal(err)
		}
	}
}
