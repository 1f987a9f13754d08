package health_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sixPods is an observation of six servers from pod 1, built by hand so
// that its text is stable: pods 0–2 open with a full mesh (pod 2's side
// of AKU_REP_12 rebuilt toward another port), pod 3 being SYNCed by the
// master, pod 4's server down with restart points kept toward it, pod 5
// absent.
func sixPods() health.Observation {
	cfg := meshConfig(6)
	obs := health.Observation{At: time.Date(2024, 3, 18, 14, 1, 59, 0, time.UTC), Self: health.SelfView{Marker: true}}
	states := []health.State{health.StateOpen, health.StateOpen, health.StateOpen, health.StateNotOpen, health.StateRefused, health.StateAbsent}
	errs := []error{nil, nil, nil, errors.New("connecting to altibase-sts-3.altibase-svc:20300 as SYS: server refused the session (ERR-4106E)"),
		errors.New("connecting to altibase-sts-4.altibase-svc:20300: server unreachable: connection refused"),
		errors.New("looking up altibase-sts-5.altibase-svc: lookup altibase-sts-5.altibase-svc: no such host")}
	for q := 0; q < 6; q++ {
		v := health.ServerView{Ordinal: q, Host: "altibase-sts-" + string(rune('0'+q)) + ".altibase-svc", State: states[q], Err: errs[q], AdminMode: -1}
		if q <= 2 {
			v.AdminMode = 0
			v.Objects = map[string]replication.State{}
			v.Monitor = replication.Monitor{Senders: map[string]replication.Sender{}, Receivers: map[string]replication.Receiver{},
				Gaps: map[string]replication.Gap{}, Syncs: map[string][]replication.SyncUnit{}, GiveUps: map[string]replication.GiveUp{}, LogFile: 41}
			for _, o := range replication.Objects(cfg, q) {
				st := replication.State{Name: o.Name, XSN: -1, ItemCount: 1, PeerHost: "altibase-sts-" + string(rune('0'+o.Peer)) + ".altibase-svc",
					PeerPort: 20301, Items: cfg.Groups[0].Items}
				switch {
				case o.Peer <= 2 || o.Peer == 4:
					st.XSN, st.Started = 859070110, true
					v.Monitor.Senders[o.Name] = replication.Sender{Status: replication.SenderRun, XSN: st.XSN}
					v.Monitor.Gaps[o.Name] = replication.Gap{Bytes: 5400, ReadFile: 40}
					if o.Peer <= 2 {
						v.Monitor.Receivers[o.Name] = replication.Receiver{ApplyXSN: 859070100}
					} else {
						v.Monitor.Senders[o.Name] = replication.Sender{Status: replication.SenderRetry, NetError: true, XSN: st.XSN}
						v.Monitor.Gaps[o.Name] = replication.Gap{Bytes: 3 << 20, ReadFile: 38}
					}
				case q == 0 && o.Peer == 3:
					st.XSN = 859070200
					v.Monitor.Senders[o.Name] = replication.Sender{Status: replication.SenderSync, StartFlag: 2, XSN: st.XSN}
					v.Monitor.Gaps[o.Name] = replication.Gap{Bytes: 0, ReadFile: 41}
					v.Monitor.Syncs[o.Name] = []replication.SyncUnit{{Table: "T1", Records: 150000}}
				}
				if q == 2 && o.Peer == 1 {
					st.PeerPort = 20399
				}
				v.Objects[o.Name] = st
			}
		}
		obs.Servers = append(obs.Servers, v)
	}
	return obs
}

// TestText compares the text of a six-pod report with its golden file
// (go test -update rewrites it) and keeps every line within TextWidth.
func TestText(t *testing.T) {
	cfg := meshConfig(6)
	r := health.Assess(cfg, (&mesh{cfg: cfg}).identity(t, 1), sixPods())
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "six-pods.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("text differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if n := len([]rune(line)); n > health.TextWidth {
			t.Errorf("line %d is %d columns wide, more than %d: %q", i+1, n, health.TextWidth, line)
		}
	}
}

// TestJSONUnknownIsNull: what was not read is null in the JSON form,
// never 0 or false: a side on a server not read, the gap of a side without
// a sender.
func TestJSONUnknownIsNull(t *testing.T) {
	cfg := meshConfig(6)
	r := health.Assess(cfg, (&mesh{cfg: cfg}).identity(t, 1), sixPods())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pairs []struct {
			Name  string
			Sides []map[string]any
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range doc.Pairs {
		for _, s := range p.Sides {
			switch {
			case p.Name == "AKU_REP_35" && s["ordinal"] == 3.0:
				for _, k := range []string{"exists", "matchesConfig", "started", "xsn", "sender", "receiver", "gapBytes", "heldLogFiles", "sync", "givenUp"} {
					if v, ok := s[k]; !ok || v != nil {
						t.Errorf("%s on a server not read: %s = %v, want null", p.Name, k, v)
					}
				}
				checked++
			case p.Name == "AKU_REP_05" && s["ordinal"] == 0.0:
				if s["exists"] != true || s["started"] != false || s["gapBytes"] != nil || s["heldLogFiles"] != nil || s["sender"] != nil {
					t.Errorf("%s stopped: %v; want gapBytes, heldLogFiles and sender null", p.Name, s)
				}
				checked++
			}
		}
	}
	if checked != 2 {
		t.Fatalf("checked %d sides, want 2", checked)
	}
}
