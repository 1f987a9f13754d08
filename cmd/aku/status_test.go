package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
	"github.com/aku-project/aku/replication"
)

// cliMesh is a StatefulSet of in-process simulated servers that aku's
// whole command line reaches through the simulator's database/sql driver,
// with the pods' DNS answered from the cluster's hosts.
type cliMesh struct {
	c    *altisim.Cluster
	home string
	tmp  []string
}

const statusTestConf = podTestConf + "AKU_OBSERVE_TIMEOUT = 2\nAKU_QUERY_RETRY_DELAY_MSEC = 10\n"

func newCLIMesh(t *testing.T) *cliMesh {
	t.Helper()
	m := &cliMesh{c: altisim.NewCluster("cmd-aku-"+strings.ReplaceAll(t.Name(), "/", "-"), altisim.ClusterOptions{}), home: writeConf(t, statusTestConf)}
	t.Cleanup(func() { m.c.Close() })
	for q := 0; q < 2; q++ {
		m.tmp = append(m.tmp, t.TempDir())
		host := fmt.Sprintf("altibase-sts-%d.altibase-svc", q)
		srv, err := m.c.AddServer(host, altisim.Options{ReplicationPort: 20301, ReplicationLag: 2 * time.Millisecond, Properties: map[string]int64{"ADMIN_MODE": 1}})
		if err != nil {
			t.Fatal(err)
		}
		m.sql(t, srv, "CREATE TABLE SYS.T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(20))")
	}
	return m
}

// sql runs statements on a server in a SYSDBA session of its own.
func (m *cliMesh) sql(t *testing.T, srv *altisim.Server, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	s, err := srv.Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, stmt := range stmts {
		if _, err := s.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// run runs aku with args in pod q.
func (m *cliMesh) run(t *testing.T, q int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	o := &options{stdout: &out, stderr: &errb, sqlDriver: "altisim", resolver: m, env: environment{
		AltibaseHome: m.home, PodName: fmt.Sprintf("altibase-sts-%d", q), MarkerPath: filepath.Join(m.tmp[q], "aku_start_completed"),
		ConnectionString:   driver.Template(m.c.Name(), 300*time.Millisecond),
		ConnectionStringOK: true,
	}}
	code = runWith(o, args)
	return code, out.String(), errb.String()
}

// LookupHost answers for the cluster's hosts, running or not.
func (m *cliMesh) LookupHost(_ context.Context, host string) ([]string, error) {
	if !slices.Contains(m.c.Hosts(), host) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []string{"10.0.0.1"}, nil
}

func (m *cliMesh) start(t *testing.T, q int) {
	t.Helper()
	if code, out, errs := m.run(t, q, "-p", "start"); code != exitOK {
		t.Fatalf("aku -p start on pod %d: exit %d\n%s%s", q, code, out, errs)
	}
}

// TestStatusCommand runs aku status through the whole command line on a
// mesh started by aku -p start: healthy (0), degraded (19), cannot tell
// (20), the report on stdout each time and the verdict on stderr.
func TestStatusCommand(t *testing.T) {
	m := newCLIMesh(t)
	m.start(t, 0)
	m.start(t, 1)

	code, out, errs := m.run(t, 1, "status")
	if code != exitOK || !strings.HasPrefix(out, "aku status from altibase-sts-1 at ") || !strings.Contains(out, ": HEALTHY\n") || errs != "" {
		t.Fatalf("healthy: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = m.run(t, 1, "status", "--output", "json")
	var r health.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK || r.Health != health.Healthy || r.Pod != "altibase-sts-1" || len(r.Servers) != 2 || len(r.Pairs) != 1 {
		t.Fatalf("healthy JSON: exit %d, %v\n%s", code, err, out)
	}

	m.sql(t, m.c.Server("altibase-sts-0.altibase-svc"), "ALTER REPLICATION AKU_REP_01 STOP")
	code, out, errs = m.run(t, 1, "status")
	if code != exitDegraded || !strings.Contains(out, ": DEGRADED, 1 finding\n") || !strings.Contains(out, "1. [half-built] AKU_REP_01 is stopped on altibase-sts-0") ||
		errs != "aku: degraded: 1 finding\n" {
		t.Fatalf("degraded: exit %d\n%s%s", code, out, errs)
	}

	if err := m.c.Crash("altibase-sts-1.altibase-svc"); err != nil {
		t.Fatal(err)
	}
	code, out, errs = m.run(t, 1, "status")
	if code != exitCannotTell || !strings.Contains(out, ": UNKNOWN") || errs != "aku: cannot tell: this pod's own server altibase-sts-1.altibase-svc is refused\n" {
		t.Fatalf("cannot tell: exit %d\n%s%s", code, out, errs)
	}

	code, _, errs = m.run(t, 1, "status", "--output", "yaml")
	if code != exitUsage || !strings.Contains(errs, `--output "yaml": want text or json`) {
		t.Fatalf("bad --output: exit %d, %s", code, errs)
	}
}

// TestStatusTemplates: the read-only sessions use
// AKU_MONITOR_CONNECTION_STRING, or aku's template without its
// PRIVILEGE=SYSDBA; a template aku cannot derive them from, or one that
// asks for SYSDBA, is a configuration error (exit 3) before anything is
// read.
func TestStatusTemplates(t *testing.T) {
	tests := []struct {
		name          string
		conn, monitor string
		wantCode      int
		wantErr       string
	}{
		{"derived", "DSN={host};PRIVILEGE=SYSDBA", "", exitCannotTell, ""},
		{"explicit", "SERVER={host};pqopt={options='-c privilege=sysdba'}", "SERVER={host}", exitCannotTell, ""},
		{"cannot derive", "SERVER={host};pqopt={options='-c privilege=sysdba'}", "", exitConfig,
			`has no PRIVILEGE=SYSDBA attribute, so aku cannot tell how to open an ordinary session with it: set AKU_MONITOR_CONNECTION_STRING`},
		{"monitor asks for SYSDBA", "DSN={host};PRIVILEGE=SYSDBA", "DSN={host};PRIVILEGE=SYSDBA", exitConfig,
			`AKU_MONITOR_CONNECTION_STRING: invalid connection-string template: "DSN={host};PRIVILEGE=SYSDBA" asks for PRIVILEGE=SYSDBA`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			o := &options{stdout: &out, stderr: &errb, sqlDriver: "altisim", resolver: absentResolver{}, env: environment{
				AltibaseHome: writeConf(t, statusTestConf), PodName: "altibase-sts-0", MarkerPath: filepath.Join(t.TempDir(), "m"),
				ConnectionString: tt.conn, ConnectionStringOK: true,
				MonitorConnectionString: tt.monitor, MonitorConnectionStringOK: tt.monitor != "",
			}}
			code := runWith(o, []string{"status"})
			if code != tt.wantCode || !strings.Contains(errb.String(), tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, errb.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

// absentResolver answers NXDOMAIN for every name.
type absentResolver struct{}

func (absentResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestStatusJSON checks the JSON of aku status against the table of
// docs/status.md, both ways: every field of every output is listed with
// its JSON type, every field listed "always" is in every object that may
// hold it, and every listed field appears in some output. The outputs are
// those of a healthy mesh, a degraded one (a side stopped, another drifted,
// a server not read) and, for what the simulator cannot show (a give-up, a
// SYNC of a partition), a report built by hand.
func TestStatusJSON(t *testing.T) {
	doc := readStatusFields(t)
	m := newCLIMesh(t)
	m.start(t, 0)
	m.start(t, 1)
	var outputs []string
	_, out, _ := m.run(t, 0, "status", "--output", "json")
	outputs = append(outputs, out)
	m.sql(t, m.c.Server("altibase-sts-1.altibase-svc"), "ALTER REPLICATION AKU_REP_01 STOP", "DROP REPLICATION AKU_REP_01",
		"CREATE REPLICATION AKU_REP_01 WITH 'altibase-sts-0.altibase-svc', 20399 FROM SYS.T1 TO SYS.T1")
	_, out, _ = m.run(t, 0, "status", "--output", "json")
	outputs = append(outputs, out)
	if err := m.c.Crash("altibase-sts-1.altibase-svc"); err != nil {
		t.Fatal(err)
	}
	_, out, _ = m.run(t, 0, "status", "--output", "json")
	outputs = append(outputs, out, handBuiltReport(t))

	seen := map[string]bool{}
	for i, o := range outputs {
		var v any
		if err := json.Unmarshal([]byte(o), &v); err != nil {
			t.Fatalf("output %d is not JSON: %v\n%s", i, err, o)
		}
		checkFields(t, doc, "", v, seen)
	}
	for path := range doc {
		if !seen[path] {
			t.Errorf("docs/status.md lists %s, which no output shows", path)
		}
	}
}

// statusField is a row of the JSON table of docs/status.md.
type statusField struct {
	types  []string // JSON types: string, number, boolean, object, array, null
	always bool
}

// readStatusFields reads the JSON table of docs/status.md.
func readStatusFields(t *testing.T) map[string]statusField {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "status.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]statusField{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## JSON"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) != 6 {
			t.Fatalf("docs/status.md: row %q: want 4 cells", line)
		}
		path := strings.Trim(strings.TrimSpace(cells[1]), "`")
		out[path] = statusField{types: strings.Split(strings.TrimSpace(cells[2]), " or "), always: strings.TrimSpace(cells[3]) == "always"}
	}
	if len(out) == 0 {
		t.Fatal("docs/status.md: no JSON table")
	}
	return out
}

// checkFields checks the value v at path (and what it holds) against doc,
// noting the paths it sees.
func checkFields(t *testing.T, doc map[string]statusField, path string, v any, seen map[string]bool) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			p := strings.TrimPrefix(path+"."+k, ".")
			f, ok := doc[p]
			if !ok {
				t.Errorf("field %s is not in docs/status.md", p)
				continue
			}
			if typ := jsonTypeOf(child); !slices.Contains(f.types, typ) {
				t.Errorf("field %s is %s, docs/status.md says %s", p, typ, strings.Join(f.types, " or "))
			}
			seen[p] = true
			checkFields(t, doc, p, child, seen)
		}
		for p, f := range doc {
			parent, name := "", p
			if i := strings.LastIndex(p, "."); i >= 0 {
				parent, name = p[:i], p[i+1:]
			}
			if f.always && parent == path && !strings.HasSuffix(name, "[]") {
				if _, ok := x[name]; !ok {
					t.Errorf("field %s, listed always, is missing in %v", p, x)
				}
			}
		}
	case []any:
		p := path + "[]"
		if _, ok := doc[p]; !ok {
			t.Errorf("array items %s are not in docs/status.md", p)
			return
		}
		for _, item := range x {
			if typ := jsonTypeOf(item); !slices.Contains(doc[p].types, typ) {
				t.Errorf("item of %s is %s, docs/status.md says %v", p, typ, doc[p].types)
			}
			seen[p] = true
			checkFields(t, doc, p, item, seen)
		}
	}
}

// handBuiltReport is the JSON of a report with what the simulator cannot
// show: a side whose sender gave up, and a SYNC of a partition.
func handBuiltReport(t *testing.T) string {
	t.Helper()
	cfg, _, err := conf.Parse("aku.conf", []byte(statusTestConf), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := podlife.Identify("altibase-sts-0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs := health.Observation{At: time.Unix(1700000000, 0)}
	for q := 0; q < 2; q++ {
		mon := replication.Monitor{
			Senders: map[string]replication.Sender{"AKU_REP_01": {Status: replication.SenderSync, StartFlag: 2}},
			Gaps:    map[string]replication.Gap{"AKU_REP_01": {ReadFile: 2}}, LogFile: 2,
			Syncs:   map[string][]replication.SyncUnit{"AKU_REP_01": {{Table: "T2", Partition: "P1", Records: 10}}},
			GiveUps: map[string]replication.GiveUp{"AKU_REP_01": {Time: "2024-03-18 14:01:59", XSN: 90}},
		}
		obs.Servers = append(obs.Servers, health.ServerView{Ordinal: q, Host: podlife.PeerHost(cfg, q), State: health.StateOpen,
			Objects: map[string]replication.State{"AKU_REP_01": {Name: "AKU_REP_01", XSN: 90, Started: true}}, Monitor: mon})
	}
	b, err := json.Marshal(health.Assess(cfg, id, obs))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProbeCommands runs every probe through the whole command line before
// and after the pods' starts: one line each, on stdout when it passes and
// on stderr when it fails, and exit 0 or 1.
func TestProbeCommands(t *testing.T) {
	m := newCLIMesh(t)
	type probe struct {
		pod  int
		args []string
		code int
		line string
	}
	check := func(t *testing.T, tests []probe) {
		t.Helper()
		for _, tt := range tests {
			code, out, errs := m.run(t, tt.pod, append([]string{"probe"}, tt.args...)...)
			got := out + errs
			if tt.code != exitOK {
				got = strings.TrimPrefix(errs, "aku: ")
				if out != "" {
					t.Errorf("probe %v on pod %d: a failure printed %q on stdout", tt.args, tt.pod, out)
				}
			}
			if code != tt.code || !strings.HasPrefix(got, tt.line) || strings.Count(out+errs, "\n") != 1 {
				t.Errorf("probe %v on pod %d: exit %d, %q; want %d, one line %q...", tt.args, tt.pod, code, out+errs, tt.code, tt.line)
			}
		}
	}
	check(t, []probe{
		{0, []string{"startup"}, exitProbeFailed, "not started: no marker "},
		{0, []string{"live"}, exitOK, "alive: no aku -p start is running"},
		{0, []string{"ready"}, exitProbeFailed, "not ready: no marker "},
		{0, []string{"role", "master"}, exitProbeFailed, "not ready: no marker "},
	})
	m.start(t, 0)
	m.start(t, 1)
	check(t, []probe{
		{0, []string{"startup"}, exitOK, "started: aku -p start completed"},
		{1, []string{"live"}, exitOK, "alive: no aku -p start is running"},
		{1, []string{"ready"}, exitOK, "ready: open to users"},
		{1, []string{"ready", "--max-gap", "1048576"}, exitOK, "ready: open to users"},
		{0, []string{"role", "master"}, exitOK, "master: open to users"},
		{1, []string{"role", "master"}, exitProbeFailed, "not master: this pod is ordinal 1, the slave"},
		{1, []string{"role", "slave"}, exitOK, "slave: open to users"},
		{1, []string{"role", "writable"}, exitOK, "writable: ready: open to users"},
	})
	m.sql(t, m.c.Server("altibase-sts-1.altibase-svc"), "ALTER REPLICATION AKU_REP_01 STOP")
	check(t, []probe{
		{1, []string{"ready"}, exitProbeFailed, "not ready: AKU_REP_01 toward altibase-sts-0.altibase-svc, which runs, is stopped here"},
		{0, []string{"ready"}, exitOK, "ready: open to users"},
	})
	if code, _, errs := m.run(t, 0, "probe", "ready", "--config", filepath.Join(t.TempDir(), "none.conf")); code != exitProbeFailed ||
		!strings.HasPrefix(errs, "aku: not ready: ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("probe ready without aku.conf: exit %d, %q; want 1 and one line", code, errs)
	}
	if code, _, errs := m.run(t, 0, "probe"); code != exitUsage || !strings.Contains(errs, "needs one of startup, live, ready or role") {
		t.Errorf("aku probe alone: exit %d, %q", code, errs)
	}
}
