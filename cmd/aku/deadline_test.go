package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
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

// TestDeadlineDryRun: the deadline reaches the plan of an end, which
// says how it shares the time: here a slave of two pods, whose closing
// chain is the gap check, its STOP, its RESET and the master's RESET.
func TestDeadlineDryRun(t *testing.T) {
	cfg, _, err := conf.Parse("aku.conf", []byte(podTestConf), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	c := altisim.NewCluster("cmd-aku-"+t.Name(), altisim.ClusterOptions{})
	t.Cleanup(func() { c.Close() })
	var cons *console
	var out bytes.Buffer
	cons = newConsole(&out, false)
	input := func(q int, action podlife.Action) podlife.Input {
		id, err := podlife.Identify("altibase-sts-"+string(rune('0'+q)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return podlife.Input{
			Action: action, Config: cfg, Identity: id,
			Connector: podlife.DialerConnector{Dialer: &replication.Dialer{
				Driver:   "altisim",
				Template: "CLUSTER=" + c.Name() + ";HOST={host};PORT={port};UID={user};PWD={password};PRIVILEGE=SYSDBA;CONNECT_TIMEOUT=1",
				Port:     cfg.PortNo, User: cfg.SysUser, Password: cfg.SysPassword,
				Policy: replication.Policy{QueryTimeout: 5 * time.Second},
			}},
			MarkerPath: filepath.Join(t.TempDir(), "aku_start_completed"),
			Logger:     cons.log,
		}
	}
	ctx := context.Background()
	for q := 0; q < 2; q++ {
		srv, err := c.AddServer(podlife.PeerHost(cfg, q), altisim.Options{ReplicationPort: cfg.ReplicationPortNo, Properties: map[string]int64{"ADMIN_MODE": 1}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := srv.Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(ctx, "CREATE TABLE SYS.T1 (I1 INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if err := podRun(ctx, cons, input(q, podlife.ActionStart), false); err != nil {
			t.Fatalf("start of pod %d: %v\n%s", q, err, out.String())
		}
	}
	o := &options{env: environment{EndDeadline: "30", EndDeadlineSet: true}}
	deadline, err := o.endDeadline(podlife.ActionEnd, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := input(1, podlife.ActionEnd)
	in.Deadline, in.DryRun = deadline, true
	out.Reset()
	if err := podRun(ctx, cons, in, true); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"8s reserved for 4 closing statements (the gap check, STOP, RESET)",
		"ALTER REPLICATION AKU_REP_01 FLUSH WAIT 2", // 21 or 22 s: 30 s less 8 less what the start took
		"[" + podlife.PeerHost(cfg, 1) + "] check the gaps",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dry run's plan does not contain %q:\n%s", want, out.String())
		}
	}
}
