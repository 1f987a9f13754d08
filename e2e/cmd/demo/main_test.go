package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDemo runs `make demo`'s program and checks that it explains itself:
// a crashed pod rejoining by FLUSH (no truncate), aku -i, a --dry-run
// plan, the table's columns, every line within 100 characters, and the
// rows right at the end (the program checks those itself and fails).
func TestDemo(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("AKU_E2E_REQUIRED") == "1" {
			t.Fatal("the demo needs root (AKU_E2E_REQUIRED=1)")
		}
		t.Skip("the demo needs root: each pod is a network namespace")
	}
	var out bytes.Buffer
	if code := run(&out); code != 0 {
		t.Fatalf("demo exited %d:\n%s", code, out.String())
	}
	text := out.String()
	for i, l := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(l); n > 100 {
			t.Errorf("line %d has %d characters: %q", i+1, n, l)
		}
	}
	crash := text[strings.Index(text, "crashes (SIGKILL"):]
	rejoin := crash[:strings.Index(crash, "exited with")]
	for _, want := range []string{"Start as SLAVE Pod.", "Flush replications.", "Replication flush has ended."} {
		if !strings.Contains(rejoin, want) {
			t.Errorf("the restarted pod's start does not show %q:\n%s", want, rejoin)
		}
	}
	if strings.Contains(rejoin, "Truncate tables") {
		t.Errorf("the restarted pod truncated instead of rejoining:\n%s", rejoin)
	}
	for _, want := range []string{
		"Password         : ********",                   // aku -i, masked
		"aku -p end on altibase-sts-2 (ordinal 2): end", // the dry run's plan
		"ALTER REPLICATION AKU_REP_12 RESET",            // ... its steps
		"XSN = its restart point in the log",            // the columns explained
		"-1 = none",                                     // ... and what -1 means
		"Done: every pod holds rows 1..18, each once.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo does not show %q", want)
		}
	}
}
