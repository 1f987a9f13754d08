package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
)

// logAt writes one record through h as if logged from this function, and
// returns the code location the line must show, "logAt:<line>".
func logAt(t *testing.T, h slog.Handler, level slog.Level, msg string, args ...any) string {
	t.Helper()
	var pcs [1]uintptr
	runtime.Callers(1, pcs[:])
	_, _, line, _ := runtime.Caller(0)
	r := slog.NewRecord(time.Date(2024, 3, 18, 14, 1, 59, 604647000, time.UTC), level, msg, pcs[0])
	r.Add(args...)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("logAt:%d", line-1)
}

func TestAkuHandler(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		with  []any
		args  []any
		want  string // after the "[AKU][time][tid] " prefix; %LOC% is the caller field
	}{
		{"no pod", slog.LevelInfo, nil, nil, "[INFO][%LOC%][-][-] Start as SLAVE Pod."},
		{"pod and replication", slog.LevelInfo, nil, []any{"pod", "altibase-sts-0", "replication", "AKU_REP_01"},
			"[INFO][%LOC%][altibase-sts-0][AKU_REP_01] Start as SLAVE Pod."},
		{"pod from With", slog.LevelError, []any{"pod", "altibase-sts-1"}, nil, "[ERROR][%LOC%][altibase-sts-1][-] Start as SLAVE Pod."},
		{"extra fields", slog.LevelWarn, nil, []any{"replication", "AKU_REP_12", "sql", "ALTER REPLICATION AKU_REP_12 STOP", "n", 3},
			`[WARNING][%LOC%][-][AKU_REP_12] Start as SLAVE Pod. sql="ALTER REPLICATION AKU_REP_12 STOP" n=3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			var h slog.Handler = newAkuHandler(&b, 4242)
			if tt.with != nil {
				h = slog.New(h).With(tt.with...).Handler()
			}
			loc := logAt(t, h, tt.level, "Start as SLAVE Pod.", tt.args...)
			want := "[AKU][2024/03/18 14:01:59.604647][4242] " + strings.Replace(tt.want, "%LOC%", loc, 1) + "\n"
			if b.String() != want {
				t.Errorf("line = %q, want %q", b.String(), want)
			}
		})
	}
}

// A driver message that spans lines (psqlODBC ends its error texts with a
// newline) still makes one log line.
func TestAkuHandlerOneLine(t *testing.T) {
	var b bytes.Buffer
	h := newAkuHandler(&b, 1)
	loc := logAt(t, h, slog.LevelWarn, "host-2 is not reachable (could not translate host name\n): its side is skipped",
		"err", "08001\r\n  second line\n")
	want := "[AKU][2024/03/18 14:01:59.604647][1] [WARNING][" + loc + "][-][-] host-2 is not reachable (could not translate host name ): its side is skipped err=\"08001 second line\"\n"
	if b.String() != want {
		t.Errorf("line = %q, want %q", b.String(), want)
	}
}

func TestAkuHandlerDebugDropped(t *testing.T) {
	var b bytes.Buffer
	slog.New(newAkuHandler(&b, 1)).Debug("not shown")
	if b.Len() != 0 {
		t.Errorf("debug line written: %q", b.String())
	}
}

func TestJSONLogFormat(t *testing.T) {
	var b bytes.Buffer
	newConsole(&b, true).log.Info("Flush replications.", "pod", "altibase-sts-2", "replication", "AKU_REP_02")
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON object: %q: %v", b.String(), err)
	}
	for k, v := range map[string]string{"level": "INFO", "msg": "Flush replications.", "pod": "altibase-sts-2", "replication": "AKU_REP_02"} {
		if rec[k] != v {
			t.Errorf("%s = %v, want %q", k, rec[k], v)
		}
	}
	// The source file is relative to the module: no path of the build
	// machine in a log line.
	if src, _ := rec["source"].(map[string]any); src["file"] != "cmd/aku/logformat_test.go" {
		t.Errorf("source = %v, want the file cmd/aku/logformat_test.go", rec["source"])
	}
}

// TestModulePath: source files are shown relative to the module, whether
// the binary was built with -trimpath or not.
func TestModulePath(t *testing.T) {
	tests := []struct{ root, file, want string }{
		{"/home/builder/src/aku/", "/home/builder/src/aku/podlife/execute.go", "podlife/execute.go"},
		{"github.com/aku-project/aku/", "github.com/aku-project/aku/podlife/execute.go", "podlife/execute.go"},
		{"github.com/aku-project/aku/", "github.com/aku-project/aku/cmd/aku/pod.go", "cmd/aku/pod.go"},
		{"/home/builder/src/aku/", "/home/builder/go/pkg/mod/example.com/dep@v1.0.0/log/log.go", "log/log.go"},
		{"", "/home/builder/src/aku/podlife/execute.go", "podlife/execute.go"},
	}
	for _, tt := range tests {
		if got := modulePath(tt.root, tt.file); got != tt.want {
			t.Errorf("modulePath(%q, %q) = %q, want %q", tt.root, tt.file, got, tt.want)
		}
	}
}
