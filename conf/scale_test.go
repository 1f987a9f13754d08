package conf_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/parser/parsertest"
)

var update = flag.Bool("update", false, "rewrite testdata/items8000.conf")

// shapes are configurations that grow in one direction. Many items in one
// group once made Parse quadratic (the overlap check rescanned every
// earlier item: 8,000 items took 1.3 to 2.1 s).
var shapes = []parsertest.Shape{
	{Name: "items in one group", N: 2_000, Build: parsertest.Items},
	{Name: "partitions of one table", N: 2_000, Build: func(n int) []byte {
		var b strings.Builder
		b.WriteString(head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P (\n")
		for i := range n {
			fmt.Fprintf(&b, "SYS.T1 PARTITION P%d,\n", i)
		}
		b.WriteString("SYS.T1 ) )\n")
		return []byte(b.String())
	}},
	{Name: "unknown properties", N: 500, Build: func(n int) []byte {
		var b strings.Builder
		b.WriteString(head)
		for i := range n {
			fmt.Fprintf(&b, "AKU_PORT%d = %d\n", i, i)
		}
		return []byte(b.String() + repl)
	}},
	{Name: "a long unknown property", N: 1 << 20, Build: func(n int) []byte {
		return []byte(head + strings.Repeat("x", n) + " = 1\n" + repl)
	}},
}

func parseIgnoringErrors(src []byte) { _, _, _ = conf.Parse("a.conf", src, conf.Overrides{}) }

func TestParseIsLinear(t *testing.T) { parsertest.LinearShapes(t, shapes, parseIgnoringErrors) }

// checkParse validates src within parsertest.ReadBudget and checks what
// it returns: an invalid configuration with a position and a readable
// length, or a configuration whose groups are valid.
func checkParse(t *testing.T, src []byte) {
	t.Helper()
	var cfg *conf.Config
	var err error
	cost := parsertest.Measure(func() { cfg, _, err = conf.Parse("f.conf", src, conf.Overrides{}) })
	if err := parsertest.ReadBudget.Check(len(src), cost); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		if !errors.Is(err, conf.ErrInvalid) || !strings.HasPrefix(err.Error(), "f.conf:") {
			t.Fatalf("error %q: want a positioned ErrInvalid", err)
		}
		if len(err.Error()) > 64<<10 {
			t.Fatalf("error of %d bytes: %.200s", len(err.Error()), err)
		}
		return
	}
	for _, g := range cfg.Groups {
		if conf.ValidIdentifier(g.Prefix) != nil || len(g.Items) == 0 {
			t.Fatalf("accepted group %+v", g)
		}
	}
}

// TestParseWithinBudget holds the large inputs to FuzzConfig's budget:
// 40,000 items took 42 s when the overlap check was quadratic, four times
// the budget.
func TestParseWithinBudget(t *testing.T) {
	for _, s := range shapes {
		t.Run(s.Name, func(t *testing.T) { checkParse(t, s.Build(parsertest.Growth*s.N)) })
	}
	t.Run("40,000 items", func(t *testing.T) { checkParse(t, parsertest.Items(40_000)) })
}

// maxFuzzInput is the largest input FuzzConfig reads, so that the fuzzer
// spends its time on many inputs rather than on mutating huge ones;
// TestParseWithinBudget holds the large ones to the same budget.
const maxFuzzInput = 64 << 10

// FuzzConfig checks that validation never panics, stays within its budget,
// and that every error it returns is an invalid configuration with a
// position.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(sample73))
	f.Add([]byte(base))
	f.Add([]byte(head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ( USER_NAME = \"SYS\" TABLE_NAME = \"T1\" PARTITION_NAME = \"P\" ) ) )\n"))
	f.Add([]byte(head + "AKU_PORT_NO = ( A = 1 ( X.Y ) )\nREPLICATIONS = 1\n"))
	f.Add(parsertest.Items(20))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxFuzzInput {
			return
		}
		checkParse(t, src)
	})
}

// TestItemsFile checks that testdata/items8000.conf, which `make bench`
// times `aku -i` on, is parsertest.Items(8000); -update rewrites it.
func TestItemsFile(t *testing.T) {
	path := filepath.Join("testdata", "items8000.conf")
	want := parsertest.Items(8000)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not parsertest.Items(8000): run go test ./conf -run TestItemsFile -update", path)
	}
	cfg, _, err := conf.Parse(path, got, conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.Groups[0].Items); n != 8000 {
		t.Fatalf("%d items, want 8000", n)
	}
}

// BenchmarkParse8000Items validates a configuration of 8,000 items, the
// file `make bench` times `aku -i` on.
func BenchmarkParse8000Items(b *testing.B) {
	src := parsertest.Items(8000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := conf.Parse("aku.conf", src, conf.Overrides{}); err != nil {
			b.Fatal(err)
		}
	}
}
