package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife"
)

func TestParseDeadline(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr string
	}{
		{"25s", 25 * time.Second, ""},
		{"1m30s", 90 * time.Second, ""},
		{"1500ms", 1500 * time.Millisecond, ""},
		{"25", 25 * time.Second, ""},
		{" 120 ", 120 * time.Second, ""},
		{"0", 0, `--deadline "0": want a time of more than 0`},
		{"-5s", 0, `--deadline "-5s": want a time of more than 0`},
		{"soon", 0, `--deadline "soon": want a duration such as 25s or 1m30s, or whole seconds such as 25`},
		{"2.5", 0, `--deadline "2.5": want a duration`},
		{"", 0, `--deadline "": want a duration`},
		{"99999999999999", 0, `--deadline "99999999999999": want a duration`},
	}
	for _, tt := range tests {
		got, err := parseDeadline("--deadline", tt.value)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("parseDeadline(%q) = %v, %v; want %v", tt.value, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseDeadline(%q) = %v, %v; want an error containing %q", tt.value, got, err, tt.wantErr)
		case tt.wantErr != "" && exitCode(err) != exitUsage:
			t.Errorf("parseDeadline(%q): exit code %d, want %d", tt.value, exitCode(err), exitUsage)
		}
	}
}

// TestDeadlineUsage: --deadline goes with -p end only, and a bad value,
// from the flag or from AKU_END_DEADLINE, is a usage error naming it and
// where it came from; the flag wins over the variable, which the other
// actions ignore (it is set in the pod for its preStop end).
func TestDeadlineUsage(t *testing.T) {
	home := writeConf(t, podTestConf)
	tests := []struct {
		name       string
		envValue   string // AKU_END_DEADLINE, "" unset
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"start", "", []string{"-p", "start", "--deadline", "25s"}, exitUsage, "aku: usage: --deadline goes with -p end only, not -p start\n"},
		{"clean", "", []string{"-p", "clean", "--deadline", "25s"}, exitUsage, "aku: usage: --deadline goes with -p end only, not -p clean\n"},
		{"release", "", []string{"-p", "release", "--peer", "3", "--deadline", "25s"}, exitUsage, "aku: usage: --deadline goes with -p end only, not -p release\n"},
		{"info", "", []string{"-i", "--deadline", "25s"}, exitUsage, "aku: usage: --deadline goes with -p end only\n"},
		{"bad flag", "", []string{"-p", "end", "--deadline", "soon"}, exitUsage, `aku: usage: --deadline "soon": want a duration`},
		{"bad variable", "later", []string{"-p", "end"}, exitUsage, `aku: usage: AKU_END_DEADLINE "later": want a duration`},
		{"the flag wins", "later", []string{"-p", "end", "--deadline", "nope"}, exitUsage, `aku: usage: --deadline "nope"`},
		// Past the deadline's check, the run needs the servers: none
		// answers this connection string.
		{"the variable is ignored by start", "later", []string{"-p", "start"}, exitEnvironment, "ODBC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := environment{AltibaseHome: home, PodName: "altibase-sts-1", MarkerPath: filepath.Join(t.TempDir(), "marker"),
				EndDeadline: tt.envValue, EndDeadlineSet: tt.envValue != ""}
			code, _, stderr := runCLI(t, env, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

// TestEndDeadline: the deadline is counted from now, from --deadline or
// else AKU_END_DEADLINE; without either an end has none.
func TestEndDeadline(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		o    options
		want time.Time
	}{
		{"none", options{}, time.Time{}},
		{"empty variable", options{env: environment{EndDeadlineSet: true}}, time.Time{}},
		{"variable", options{env: environment{EndDeadline: "25", EndDeadlineSet: true}}, now.Add(25 * time.Second)},
		{"flag wins", options{deadline: "1m", deadlineSet: true, env: environment{EndDeadline: "25", EndDeadlineSet: true}}, now.Add(time.Minute)},
	}
	for _, tt := range tests {
		got, err := tt.o.endDeadline(podlife.ActionEnd, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

// TestDeadlineDryRun: aku -p end --deadline reaches the plan, which says
// how the time is shared: here a slave of two pods, whose closing chain is
// the gap check, its STOP, its RESET and the master's RESET.
func TestDeadlineDryRun(t *testing.T) {
	m := newCLIMesh(t)
	m.start(t, 0)
	m.start(t, 1)
	code, out, errs := m.run(t, 1, "-p", "end", "--deadline", "30s", "--dry-run")
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"8s reserved for 4 closing statements (the gap check, STOP, RESET)",
		"ALTER REPLICATION AKU_REP_01 FLUSH ALL WAIT 2", // 21 or 22 s: 30 s less 8 less the observation
		"[altibase-sts-1.altibase-svc] check the gaps",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run's plan does not contain %q:\n%s", want, out)
		}
	}
}
