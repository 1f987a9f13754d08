package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/driver"
	"github.com/aku-project/aku/podlife/kube"
)

// cliCluster is a StatefulSet of in-process simulated servers that the
// whole command line (runWith) reaches through the simulator's database/sql
// driver: everything from the flags to the last line of output is
// production code but the driver.
type cliCluster struct {
	c       *altisim.Cluster
	home    string   // ALTIBASE_HOME, with conf/aku.conf
	markers []string // each pod's marker (its /tmp)
	// kube are the in-cluster credentials of the pods that have them.
	kube map[int]kube.Config
}

// cliConf is the aku.conf of a cliCluster: three pods, the third never
// started (an absent peer), fast retries. It holds the password and is
// written readable by others, so every run warns about it.
const cliConf = `AKU_STS_NAME = altibase-sts
AKU_SVC_NAME = altibase-svc
AKU_SERVER_COUNT = 3
AKU_SYS_PASSWORD = manager
AKU_ADDRESS_CHECK_COUNT = 1
AKU_QUERY_TIMEOUT = 10
AKU_QUERY_RETRY_COUNT = 1
AKU_QUERY_RETRY_DELAY_MSEC = 10
AKU_FLUSH_TIMEOUT_AT_START = 5
REPLICATIONS = (
    REPLICATION_NAME_PREFIX = AKU_REP
    ( SYS.T1 )
)
`

func newCLICluster(t *testing.T, pods int) *cliCluster {
	t.Helper()
	cc := &cliCluster{c: altisim.NewCluster("cmd-aku-"+t.Name(), altisim.ClusterOptions{}), home: t.TempDir()}
	t.Cleanup(func() { cc.c.Close() })
	cc.writeConf(t, "aku.conf", cliConf)
	for q := 0; q < 3; q++ {
		cc.markers = append(cc.markers, filepath.Join(t.TempDir(), "aku_start_completed"))
	}
	for q := 0; q < pods; q++ {
		if _, err := cc.c.AddServer(cc.host(q), altisim.Options{
			ReplicationPort: 20301,
			ReplicationLag:  time.Millisecond,
			Properties:      map[string]int64{"ADMIN_MODE": 1},
		}); err != nil {
			t.Fatal(err)
		}
		cc.sql(t, q, "CREATE TABLE SYS.T1 (I1 INTEGER PRIMARY KEY, V VARCHAR(20))")
	}
	return cc
}

// writeConf writes a configuration file under ALTIBASE_HOME/conf, mode
// 0644, and returns its path.
func (cc *cliCluster) writeConf(t *testing.T, name, text string) string {
	t.Helper()
	dir := filepath.Join(cc.home, "conf")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return path
}

func (cc *cliCluster) host(q int) string { return fmt.Sprintf("altibase-sts-%d.altibase-svc", q) }

// sql runs statements on pod q's server in a SYSDBA session of its own.
func (cc *cliCluster) sql(t *testing.T, q int, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := cc.c.Server(cc.host(q)).Connect(ctx, altisim.ConnectOptions{User: "SYS", Password: "manager", SysDBA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, stmt := range stmts {
		if _, err := s.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s on pod %d: %v", stmt, q, err)
		}
	}
}

// aku runs the command line as pod q with args.
func (cc *cliCluster) aku(t *testing.T, q int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	o := &options{
		stdout: &out,
		stderr: &errb,
		env: environment{
			AltibaseHome:       cc.home,
			PodName:            fmt.Sprintf("altibase-sts-%d", q),
			MarkerPath:         cc.markers[q],
			ConnectionString:   driver.Template(cc.c.Name(), time.Second),
			ConnectionStringOK: true,
		},
		sqlDriver: "altisim",
	}
	if k, ok := cc.kube[q]; ok {
		o.env.KubernetesHost, o.env.KubernetesPort, o.env.ServiceAccountDir = k.Host, k.Port, k.SecretDir
	}
	code = runWith(o, args)
	return code, out.String(), errb.String()
}

// TestJSONRecords runs every lifecycle command, each path that prints
// something of its own (log lines, warnings, a plan with guards, waits,
// busy peers and a failure, an error), in both spellings of JSON output,
// and checks every line of stdout against docs/json.md: each is one JSON
// object of a documented record type, with every field documented and of
// the documented JSON type, and every field the document says is always
// there. Every field the document lists must show up at least once, so
// that the document describes what aku prints, no more and no less.
func TestJSONRecords(t *testing.T) {
	schema := readJSONSchema(t)
	seen := map[string]bool{}
	for _, flag := range []string{"--log-format", "--output"} {
		t.Run(flag, func(t *testing.T) {
			cc := newCLICluster(t, 2)
			delayed := cc.writeConf(t, "delayed.conf", strings.Replace(cliConf, "AKU_SERVER_COUNT", "AKU_DELAY_START_COMPLETE_TIME = 2\nAKU_SERVER_COUNT", 1))
			leaving := cc.writeConf(t, "leaving.conf", strings.Replace(cliConf, "AKU_SERVER_COUNT", "AKU_REPLICATION_RESET_AT_END = 2\nAKU_SERVER_COUNT", 1))
			bad := cc.writeConf(t, "bad.conf", "AKU_STS_NAME = altibase-sts\nAKU_PORT = 1\n")
			steps := []struct {
				name     string
				pod      int
				args     []string
				before   func(t *testing.T) (after func())
				wantCode int
				want     []string // record types, in order, "log*" for any number of log records
			}{
				{name: "master start", pod: 0, args: []string{"-p", "start"}, want: []string{"log*", "banner", "log*", "banner"}},
				{name: "fresh slave dry run", pod: 1, args: []string{"--config", delayed, "-p", "start", "--dry-run"}, want: []string{"log*", "plan"}},
				{name: "fresh slave start", pod: 1, args: []string{"-p", "start"}, want: []string{"log*", "banner", "log*", "banner"}},
				{name: "duplicate start", pod: 1, args: []string{"-p", "start"}, wantCode: exitDuplicateStart, want: []string{"log*", "banner", "banner", "error"}},
				{name: "end dry run past a busy master", pod: 1, args: []string{"-p", "end", "--dry-run"},
					before: func(t *testing.T) func() { return cc.c.Server(cc.host(0)).Faults().HoldSysdba() },
					want:   []string{"log*", "plan"}},
				{name: "end dry run with the master away", pod: 1, args: []string{"-p", "end", "--dry-run"},
					before: func(t *testing.T) func() {
						cc.c.SetHostFault(cc.host(0), altisim.HostRefused)
						return func() { cc.c.SetHostFault(cc.host(0), altisim.HostOK) }
					},
					want: []string{"log*", "plan"}},
				{name: "slave end dry run", pod: 1, args: []string{"-p", "end", "--dry-run"}, want: []string{"log*", "plan"}},
				{name: "slave end dry run, reset when leaving, no credentials", pod: 1, args: []string{"--config", leaving, "-p", "end", "--dry-run"}, want: []string{"log*", "plan"}},
				{name: "slave end dry run with a deadline", pod: 1, args: []string{"-p", "end", "--deadline", "30s", "--dry-run"}, want: []string{"log*", "plan"}},
				{name: "slave end", pod: 1, args: []string{"-p", "end"}, want: []string{"log*", "banner", "log*", "banner"}},
				{name: "slave start again", pod: 1, args: []string{"-p", "start"}, want: []string{"log*", "banner", "log*", "banner"}},
				{name: "release dry run with the slave gone", pod: 0, args: []string{"-p", "release", "--peer", "1", "--dry-run"},
					before: func(t *testing.T) func() {
						cc.c.SetHostFault(cc.host(1), altisim.HostAbsent)
						return func() { cc.c.SetHostFault(cc.host(1), altisim.HostOK) }
					},
					want: []string{"log*", "plan"}},
				{name: "master failure dry run", pod: 0, args: []string{"-p", "start", "--dry-run"},
					before: func(t *testing.T) func() {
						// The master loses its restart point toward the
						// slave (and its marker: it restarts).
						cc.sql(t, 0, "ALTER REPLICATION AKU_REP_01 STOP", "ALTER REPLICATION AKU_REP_01 RESET")
						if err := os.Remove(cc.markers[0]); err != nil {
							t.Fatal(err)
						}
						return func() {}
					},
					want: []string{"log*", "plan"}},
				{name: "master failure", pod: 0, args: []string{"-p", "start"}, wantCode: exitMasterFailure, want: []string{"log*", "banner", "log*", "banner", "error"}},
				{name: "clean dry run", pod: 1, args: []string{"-p", "clean", "--dry-run"}, want: []string{"log*", "plan"}},
				{name: "clean", pod: 1, args: []string{"-p", "clean"}, want: []string{"log*", "banner", "log*", "banner"}},
				{name: "configuration error", pod: 1, args: []string{"--config", bad, "-p", "end"}, wantCode: exitConfig, want: []string{"error"}},
				{name: "unknown action", pod: 1, args: []string{"-p", "stop"}, wantCode: exitUsage, want: []string{"error"}},
			}
			for _, st := range steps {
				after := func() {}
				if st.before != nil {
					after = st.before(t)
				}
				code, stdout, stderr := cc.aku(t, st.pod, append(st.args, flag, "json")...)
				after()
				if code != st.wantCode {
					t.Errorf("%s: exit code %d, want %d\n%s%s", st.name, code, st.wantCode, stdout, stderr)
				}
				if stderr != "" {
					t.Errorf("%s: stderr %q, want nothing: everything is a record on stdout", st.name, stderr)
				}
				types := checkRecords(t, st.name, stdout, schema, seen)
				if !matchTypes(st.want, types) {
					t.Errorf("%s: record types %v, want %v\n%s", st.name, types, st.want, stdout)
				}
				if n := len(types); n > 0 && types[n-1] == recordError {
					var last struct {
						ExitCode int `json:"exitCode"`
					}
					lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
					if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.ExitCode != code {
						t.Errorf("%s: the error record's exitCode is %d (%v), the exit code %d", st.name, last.ExitCode, err, code)
					}
				}
			}
		})
	}
	t.Run("info", func(t *testing.T) {
		cc := newCLICluster(t, 0)
		cc.writeConf(t, "aku.conf", strings.Replace(cliConf, "( SYS.T1 )", "( SYS.T1, SYS.T2 PARTITION P1 )", 1))
		code, stdout, _ := cc.aku(t, 1, "-i", "--output", "json")
		if code != exitOK {
			t.Fatalf("exit code %d", code)
		}
		var doc any
		dec := json.NewDecoder(strings.NewReader(stdout))
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("aku -i --output json: %v\n%s", err, stdout)
		}
		if dec.More() {
			t.Fatalf("aku -i --output json printed more than one JSON value:\n%s", stdout)
		}
		checkValue(t, "info", doc, "", schema["info"], seen)
	})
	var unseen []string
	for typ, fields := range schema {
		for path := range fields {
			if !seen[typ+" "+path] {
				unseen = append(unseen, typ+" "+path)
			}
		}
	}
	sort.Strings(unseen)
	for _, f := range unseen {
		t.Errorf("docs/json.md documents %s, which no output of this test has", f)
	}
}

// matchTypes reports whether got matches want, where "log*" stands for
// any number of "log".
func matchTypes(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "log*" {
		return matchTypes(want[1:], got) || (len(got) > 0 && got[0] == recordLog && matchTypes(want, got[1:]))
	}
	return len(got) > 0 && got[0] == want[0] && matchTypes(want[1:], got[1:])
}

// checkRecords checks each line of out as a record and returns their types.
func checkRecords(t *testing.T, name, out string, schema map[string]map[string]jsonField, seen map[string]bool) []string {
	t.Helper()
	var types []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("%s: a line is not one JSON object: %v\n%s", name, err, sc.Text())
			continue
		}
		typ, _ := rec[recordKeyType].(string)
		fields, ok := schema[typ]
		if !ok || typ == "info" {
			t.Errorf("%s: record of undocumented type %q: %s", name, typ, sc.Text())
			continue
		}
		types = append(types, typ)
		all := map[string]jsonField{}
		for p, f := range schema["every"] {
			all[p] = f
		}
		for p, f := range fields {
			all[p] = f
		}
		checkValue(t, name+": "+typ+" record", rec, "", all, seen)
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["time"])); err != nil {
			t.Errorf("%s: time %v: %v", name, rec["time"], err)
		}
		for _, k := range []string{"pod", "replication"} {
			if rec[k] == "-" {
				t.Errorf("%s: %s is the text layout's \"-\": absent is JSON's none: %s", name, k, sc.Text())
			}
		}
		switch rec["level"] {
		case "DEBUG", "INFO", "WARN", "ERROR":
		default:
			t.Errorf("%s: level %v", name, rec["level"])
		}
	}
	return types
}

// checkValue checks v, found at path, against the documented fields, and
// marks the fields it has as seen under typ.
func checkValue(t *testing.T, where string, v any, path string, fields map[string]jsonField, seen map[string]bool) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			checkField(t, where, child, p, fields, seen)
		}
		for p, f := range fields {
			if f.always && parentOf(p) == path {
				if _, ok := v[strings.TrimPrefix(strings.TrimPrefix(p, path), ".")]; !ok {
					t.Errorf("%s: %s is documented as always present, and missing", where, p)
				}
			}
		}
	case []any:
		for _, child := range v {
			checkField(t, where, child, path+"[]", fields, seen)
		}
	}
}

func checkField(t *testing.T, where string, v any, path string, fields map[string]jsonField, seen map[string]bool) {
	t.Helper()
	f, ok := fields[path]
	if !ok {
		t.Errorf("%s: field %s is not in docs/json.md", where, path)
		return
	}
	seen[f.section+" "+path] = true
	if typ := jsonTypeOf(v); !f.types[typ] {
		t.Errorf("%s: %s is a JSON %s, docs/json.md says %s", where, path, typ, f.typeText)
	}
	if f.sameAs != "" {
		path = f.sameAs
	}
	checkValue(t, where, v, path, fields, seen)
}

// parentOf is the path of the object or array holding path's field:
// "plan.steps[].id" -> "plan.steps[]", "plan.notes[]" -> "plan.notes",
// "plan" -> "".
func parentOf(path string) string {
	if strings.HasSuffix(path, "[]") {
		return strings.TrimSuffix(path, "[]")
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func jsonTypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	default:
		return "object"
	}
}

// jsonField is one row of a field table of docs/json.md.
type jsonField struct {
	section  string          // the table's record type, "every" or "info"
	types    map[string]bool // JSON types allowed: "string", "number or null" ...
	typeText string
	always   bool
	// sameAs is the path of the object whose fields this one has ("same
	// fields as `plan.steps[]`"), or "".
	sameAs string
}

var (
	sectionRE = regexp.MustCompile("^#+ .*`([a-z]+)` records|^#+ Every record|^#+ `aku -i --output json`")
	rowRE     = regexp.MustCompile("^\\| `([a-zA-Z.\\[\\]]+)` \\| ([a-z ]+) \\| ([a-z]+) \\| (.*) \\|$")
	sameAsRE  = regexp.MustCompile("^same fields as `([a-zA-Z.\\[\\]]+)`$")
)

// readJSONSchema reads the field tables of docs/json.md: for each record
// type (and "every" for the fields of every record, "info" for aku -i), the
// documented fields by path.
func readJSONSchema(t *testing.T) map[string]map[string]jsonField {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	schema := map[string]map[string]jsonField{}
	section := ""
	for i, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, "#") {
			section = ""
			if m := sectionRE.FindStringSubmatch(line); m != nil {
				switch {
				case m[1] != "":
					section = m[1]
				case strings.Contains(line, "Every record"):
					section = "every"
				default:
					section = "info"
				}
				if schema[section] == nil {
					schema[section] = map[string]jsonField{}
				}
			}
			continue
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if section == "" {
			t.Fatalf("docs/json.md:%d: a field table outside a record section", i+1)
		}
		f := jsonField{section: section, types: map[string]bool{}, typeText: m[2], always: m[3] == "always"}
		if same := sameAsRE.FindStringSubmatch(m[4]); same != nil {
			f.sameAs = same[1]
		}
		for _, typ := range strings.Split(m[2], " or ") {
			f.types[typ] = true
		}
		schema[section][m[1]] = f
	}
	for _, s := range []string{"every", "log", "banner", "plan", "error", "info"} {
		if schema[s] == nil {
			t.Fatalf("docs/json.md has no section for %q records", s)
		}
	}
	return schema
}
