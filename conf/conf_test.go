package conf_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/conf"
)

const sample73 = `AKU_STS_NAME                  = altibase-sts    # statefulsets name
AKU_SVC_NAME                  = altibase-svc    # services name
AKU_SERVER_COUNT              = 4               # the number of Pods
AKU_SYS_PASSWORD              = manager
AKU_PORT_NO                   = 20300
AKU_REPLICATION_PORT_NO       = 20301
AKU_QUERY_TIMEOUT             = 3600
AKU_QUERY_RETRY_COUNT         = 5
AKU_QUERY_RETRY_DELAY_MSEC    = 1000
AKU_ADDRESS_CHECK_COUNT       = 30
AKU_FLUSH_AT_START            = 1
AKU_FLUSH_TIMEOUT_AT_START    = 300
AKU_DELAY_START_COMPLETE_TIME = 0

AKU_FLUSH_AT_END              = 1
AKU_REPLICATION_RESET_AT_END  = 1
REPLICATIONS = (
	REPLICATION_NAME_PREFIX = AKU_REP
	SYNC_PARALLEL_COUNT     = 1
	(
		SYS.T1, SYS.T2 PARTITION P1,
		SYS.T3
	)
)
`

func pos(line, col int) conf.Position { return conf.Position{File: "a.conf", Line: line, Column: col} }

func TestParseSample(t *testing.T) {
	cfg, warnings, err := conf.Parse("a.conf", []byte(sample73), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	want := &conf.Config{
		File: "a.conf", StsName: "altibase-sts", SvcName: "altibase-svc", ServerCount: 4,
		SysUser: "SYS", SysPassword: "manager", PasswordSource: "file",
		PortNo: 20300, ReplicationPortNo: 20301,
		QueryTimeout: time.Hour, QueryRetryCount: 5, QueryRetryDelay: time.Second,
		AddressCheckCount: 30, FlushAtStart: true, FlushTimeoutAtStart: 300 * time.Second,
		FlushAtEnd: true, ReplicationResetAtEnd: true, ObserveTimeout: 10 * time.Second, SysdbaWait: 300 * time.Second,
		Groups: []conf.Group{{
			Prefix: "AKU_REP", SyncParallelCount: 1, Pos: pos(17, 16),
			Items: []conf.Item{
				{User: "SYS", Table: "T1", Pos: pos(21, 3)},
				{User: "SYS", Table: "T2", Partition: "P1", Pos: pos(21, 11)},
				{User: "SYS", Table: "T3", Pos: pos(22, 3)},
			},
		}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n got: %+v\nwant: %+v", cfg, want)
	}
}

func TestParseDefaultsAndFolding(t *testing.T) {
	src := `AKU_STS_NAME = "AKUHOST"
AKU_SVC_NAME = svc
AKU_SYS_PASSWORD = "p a#ss"
AKU_CONNECTION_STRING = "DRIVER=x;SERVER={host};PORT_NO={port};UID={user};PWD={password}"
REPLICATIONS = ( REPLICATION_NAME_PREFIX = aku_rep ( sys.t1 partition p$1 ) ),
               ( SYNC_PARALLEL_COUNT = 100 REPLICATION_NAME_PREFIX = "B" ( ( TABLE_NAME = "t_2" USER_NAME = "u" ) ) )
`
	cfg, _, err := conf.Parse("a.conf", []byte(src), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := &conf.Config{
		File: "a.conf", StsName: "AKUHOST", SvcName: "svc", ServerCount: 4,
		SysUser: "SYS", SysPassword: "p a#ss", PasswordSource: "file",
		PortNo: 20300, ReplicationPortNo: 20301,
		QueryTimeout: time.Hour, QueryRetryCount: 5, QueryRetryDelay: time.Second,
		AddressCheckCount: 30, FlushAtStart: true, FlushTimeoutAtStart: 300 * time.Second,
		FlushAtEnd: true, ReplicationResetAtEnd: true, ObserveTimeout: 10 * time.Second, SysdbaWait: 300 * time.Second,
		ConnectionString: "DRIVER=x;SERVER={host};PORT_NO={port};UID={user};PWD={password}",
		Groups: []conf.Group{
			{Prefix: "AKU_REP", SyncParallelCount: 1, Pos: pos(5, 16),
				Items: []conf.Item{{User: "SYS", Table: "T1", Partition: "P$1", Pos: pos(5, 54)}}},
			{Prefix: "B", SyncParallelCount: 100, Pos: pos(6, 16),
				Items: []conf.Item{{User: "U", Table: "T_2", Pos: pos(6, 76)}}},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n got: %+v\nwant: %+v", cfg, want)
	}
}

// base is a valid configuration; the error tests replace or append lines.
const base = `AKU_STS_NAME = sts
AKU_SVC_NAME = svc
AKU_SYS_PASSWORD = pw
REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) )
`

const repl = "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) )\n"
const head = "AKU_STS_NAME = sts\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = pw\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty file", "", `a.conf:1:1: Property [AKU_STS_NAME] should be specified by configuration.
a.conf:1:1: Property [AKU_SVC_NAME] should be specified by configuration.
a.conf:1:1: Property [AKU_SYS_PASSWORD] should be specified by configuration.
a.conf:1:1: Property [REPLICATIONS] should be specified by configuration.`},
		{"missing REPLICATIONS at the end of the file", head,
			`a.conf:4:1: Property [REPLICATIONS] should be specified by configuration.`},
		{"syntax error", head + "AKU_PORT_NO 1\n" + repl,
			`a.conf:4:13: unexpected token "1" (expected "=")`},
		{"unknown property with suggestion", head + "AKU_PORT = 20300\n" + repl,
			`a.conf:4:1: unknown property "AKU_PORT" (did you mean AKU_PORT_NO?)`},
		{"unknown property without suggestion", head + "FOO = 1\n" + repl,
			`a.conf:4:1: unknown property "FOO"`},
		{"lower-case property", head + "aku_port_no = 20300\n" + repl,
			`a.conf:4:1: unknown property "aku_port_no": property names are upper-case (did you mean AKU_PORT_NO?)`},
		{"group property at the top level", head + "SYNC_PARALLEL_COUNT = 1\n" + repl,
			`a.conf:4:1: property SYNC_PARALLEL_COUNT is not allowed here: it belongs inside a REPLICATIONS group`},
		{"duplicate property", head + "AKU_PORT_NO = 20300\nAKU_PORT_NO = 20400\n" + repl,
			`a.conf:5:1: duplicate property AKU_PORT_NO: already set at line 4`},
		{"password under both spellings", head + "AKU_SYS_PASWWORD = pw\n" + repl,
			`a.conf:4:1: duplicate property AKU_SYS_PASWWORD: already set at line 3 as AKU_SYS_PASSWORD (AKU_SYS_PASWWORD is the legacy spelling of AKU_SYS_PASSWORD)`},
		{"port out of range", head + "AKU_PORT_NO = 80\n" + repl,
			`a.conf:4:15: AKU_PORT_NO must be between 1024 and 65535, not 80`},
		{"server count out of range", head + "AKU_SERVER_COUNT = 7\n" + repl,
			`a.conf:4:20: AKU_SERVER_COUNT must be between 1 and 6, not 7`},
		{"flag not 0 or 1", head + "AKU_FLUSH_AT_END = 2\n" + repl,
			`a.conf:4:20: AKU_FLUSH_AT_END must be 0 or 1, not 2`},
		{"negative count", head + "AKU_QUERY_RETRY_COUNT = -1\n" + repl,
			`a.conf:4:25: AKU_QUERY_RETRY_COUNT must be between 0 and 4294967295, not -1`},
		{"address check count zero", head + "AKU_ADDRESS_CHECK_COUNT = 0\n" + repl,
			`a.conf:4:27: AKU_ADDRESS_CHECK_COUNT must be between 1 and 4294967295, not 0`},
		{"not an integer", head + "AKU_QUERY_TIMEOUT = 1h\n" + repl,
			`a.conf:4:21: AKU_QUERY_TIMEOUT "1h" is not an integer`},
		{"same ports", head + "AKU_PORT_NO = 20301\n" + repl,
			`a.conf:4:15: AKU_PORT_NO 20301 is the same as AKU_REPLICATION_PORT_NO`},
		{"STS name too long", "AKU_STS_NAME = " + strings.Repeat("a", 64) + "\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = pw\n" + repl,
			`a.conf:1:16: AKU_STS_NAME "` + strings.Repeat("a", 64) + `" is 64 bytes long, more than 63: it forms the pod host names <AKU_STS_NAME>-<n>.<AKU_SVC_NAME>`},
		{"SVC name not a DNS label", "AKU_STS_NAME = sts\nAKU_SVC_NAME = alti_svc\nAKU_SYS_PASSWORD = pw\n" + repl,
			`a.conf:2:16: AKU_SVC_NAME "alti_svc" is not a DNS label (only letters, digits and '-' are allowed, found '_'): it forms the pod host names <AKU_STS_NAME>-<n>.<AKU_SVC_NAME>`},
		{"STS name ends with a dash", "AKU_STS_NAME = sts-\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = pw\n" + repl,
			`a.conf:1:16: AKU_STS_NAME "sts-" is not a DNS label (it must start and end with a letter or digit): it forms the pod host names <AKU_STS_NAME>-<n>.<AKU_SVC_NAME>`},
		{"empty quoted password", "AKU_STS_NAME = sts\nAKU_SVC_NAME = svc\nAKU_SYS_PASSWORD = \"\"\n" + repl,
			`a.conf:3:20: AKU_SYS_PASSWORD is empty`},
		{"connection string without host", head + "AKU_CONNECTION_STRING = \"DSN={port}\"\n" + repl,
			`a.conf:4:25: AKU_CONNECTION_STRING must contain {host}`},
		{"monitor connection string without host", head + "AKU_MONITOR_CONNECTION_STRING = \"DSN={port}\"\n" + repl,
			`a.conf:4:33: AKU_MONITOR_CONNECTION_STRING must contain {host}`},
		{"scalar given groups", head + "AKU_PORT_NO = ( A = 1 ( X.Y ) )\n" + repl,
			`a.conf:4:15: AKU_PORT_NO takes a single value, not a list in parentheses`},
		{"REPLICATIONS given a value", head + "REPLICATIONS = none\n",
			`a.conf:4:16: REPLICATIONS takes groups in parentheses: REPLICATIONS = ( REPLICATION_NAME_PREFIX = ... ( USER.TABLE, ... ) )`},
		{"too many replication objects", head + "AKU_SERVER_COUNT = 6\nREPLICATIONS = " +
			"( REPLICATION_NAME_PREFIX = A ( S.T1 ) ), ( REPLICATION_NAME_PREFIX = B ( S.T2 ) ),\n" +
			"( REPLICATION_NAME_PREFIX = C ( S.T3 ) ), ( REPLICATION_NAME_PREFIX = D ( S.T4 ) ),\n" +
			"( REPLICATION_NAME_PREFIX = E ( S.T5 ) ), ( REPLICATION_NAME_PREFIX = F ( S.T6 ) ),\n" +
			"( REPLICATION_NAME_PREFIX = G ( S.T7 ) )\n",
			`a.conf:5:1: REPLICATIONS: 7 groups × (AKU_SERVER_COUNT 6 − 1) = 35 replication objects on each pod, more than the server's REPLICATION_MAX_COUNT (32)`},
		{"missing prefix", head + "REPLICATIONS = ( SYNC_PARALLEL_COUNT = 1 ( SYS.T1 ) )\n",
			`a.conf:4:16: Property [REPLICATION_NAME_PREFIX] should be specified by configuration.`},
		{"prefix too long", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = " + strings.Repeat("P", 38) + " ( SYS.T1 ) )\n",
			`a.conf:4:44: REPLICATION_NAME_PREFIX "` + strings.Repeat("P", 38) + `" is 38 bytes long, more than 37 (the object names ` + strings.Repeat("P", 38) + `_ij must fit in 40 bytes)`},
		{"prefix with SQL", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = \"P; DROP TABLE T\" ( SYS.T1 ) )\n",
			`a.conf:4:44: REPLICATION_NAME_PREFIX: name "P; DROP TABLE T" contains ';': names may contain only letters, digits, '_' and '$'`},
		{"duplicate prefix", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 ) ),\n( REPLICATION_NAME_PREFIX = p ( SYS.T2 ) )\n",
			`a.conf:5:29: duplicate REPLICATION_NAME_PREFIX P: already used by the group at line 4`},
		{"parallel count out of range", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P SYNC_PARALLEL_COUNT = 0 ( SYS.T1 ) )\n",
			`a.conf:4:68: SYNC_PARALLEL_COUNT must be between 1 and 100, not 0`},
		{"unknown group setting", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P SYNC_PARALEL_COUNT = 2 ( SYS.T1 ) )\n",
			`a.conf:4:46: unknown property "SYNC_PARALEL_COUNT" (did you mean SYNC_PARALLEL_COUNT?)`},
		{"duplicate group setting", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P\nREPLICATION_NAME_PREFIX = Q ( SYS.T1 ) )\n",
			`a.conf:5:1: duplicate property REPLICATION_NAME_PREFIX: already set at line 4`},
		{"no item list", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P )\n",
			`a.conf:4:16: the replication group has no item list: add ( USER.TABLE [PARTITION P], ... )`},
		{"two item lists", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 )\n( SYS.T2 ) )\n",
			`a.conf:5:1: a replication group has one item list: this group's list starts at line 4`},
		{"empty item list", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ) )\n",
			`a.conf:4:46: the replication item list is empty`},
		{"item without user", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( T1 ) )\n",
			`a.conf:4:48: replication item "T1": write USER.TABLE (with exactly one '.')`},
		{"bad table name", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.1T ) )\n",
			`a.conf:4:52: table name: name "1T" must start with a letter or '_'`},
		{"reserved word", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1 PARTITION SELECT ) )\n",
			`a.conf:4:65: partition name: name "SELECT" is an Altibase reserved word`},
		{"name too long", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS." + strings.Repeat("T", 129) + " ) )\n",
			`a.conf:4:52: table name: name "` + strings.Repeat("T", 129) + `" is 129 bytes long, more than 128`},
		{"duplicate item", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1,\nsys.t1 ) )\n",
			`a.conf:5:1: SYS.T1 is listed twice in this group (first at line 4)`},
		{"partition of a listed table", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( SYS.T1,\nSYS.T1 PARTITION P1 ) )\n",
			`a.conf:5:1: SYS.T1 PARTITION P1 overlaps the whole table SYS.T1 listed at line 4`},
		{"nested item missing table", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ( USER_NAME = \"SYS\" ) ) )\n",
			`a.conf:4:48: Property [TABLE_NAME] should be specified by configuration.`},
		{"nested item unknown key", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ( USER_NAME = \"SYS\" TABLE = \"T\" TABLE_NAME = \"T\" ) ) )\n",
			`a.conf:4:68: unknown property "TABLE"`},
		{"nested item bad user", head + "REPLICATIONS = ( REPLICATION_NAME_PREFIX = P ( ( USER_NAME = \"S Y\" TABLE_NAME = \"T\" ) ) )\n",
			`a.conf:4:62: USER_NAME: name "S Y" contains ' ': names may contain only letters, digits, '_' and '$'`},
		{"several errors in file order", head + "AKU_PORT_NO = x\nAKU_FLUSH_AT_END = 3\n" + repl,
			`a.conf:4:15: AKU_PORT_NO "x" is not an integer
a.conf:5:20: AKU_FLUSH_AT_END must be 0 or 1, not 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := conf.Parse("a.conf", []byte(tt.src), conf.Overrides{})
			if err == nil {
				t.Fatalf("Parse succeeded, want\n%s", tt.want)
			}
			if !errors.Is(err, conf.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestLegacyPasswordKey(t *testing.T) {
	src := strings.Replace(base, "AKU_SYS_PASSWORD = pw", "AKU_SYS_PASWWORD = \"pw\"", 1)
	cfg, warnings, err := conf.Parse("a.conf", []byte(src), conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SysPassword != "pw" || cfg.PasswordSource != conf.SourceFile {
		t.Errorf("password %q from %q, want pw from file", cfg.SysPassword, cfg.PasswordSource)
	}
	want := []string{"a.conf:3:1: warning: AKU_SYS_PASWWORD is the legacy misspelling of AKU_SYS_PASSWORD: rename it"}
	if got := warningStrings(warnings); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings\n got: %q\nwant: %q", got, want)
	}
}

func warningStrings(ws []conf.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "password")
	if err := os.WriteFile(secret, []byte("from secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noPassword := strings.Replace(base, "AKU_SYS_PASSWORD = pw\n", "", 1)
	tests := []struct {
		name         string
		src          string
		ov           conf.Overrides
		wantPassword string
		wantSource   string
		wantConn     string
		wantMonitor  string
		wantWarnings []string
		wantErr      string
	}{
		{name: "file", src: base, wantPassword: "pw", wantSource: "file"},
		{name: "environment wins over the file", src: base,
			ov:           conf.Overrides{SysPassword: "env pw", SysPasswordSet: true},
			wantPassword: "env pw", wantSource: "environment"},
		{name: "secret file wins over the file, one newline trimmed", src: base,
			ov:           conf.Overrides{SysPasswordFile: secret},
			wantPassword: "from secret", wantSource: "secret file"},
		{name: "secret file without a password in aku.conf", src: noPassword,
			ov:           conf.Overrides{SysPasswordFile: secret},
			wantPassword: "from secret", wantSource: "secret file"},
		{name: "environment wins over the secret file", src: noPassword,
			ov:           conf.Overrides{SysPassword: "e", SysPasswordSet: true, SysPasswordFile: secret},
			wantPassword: "e", wantSource: "environment",
			wantWarnings: []string{"warning: AKU_SYS_PASSWORD_FILE is ignored: AKU_SYS_PASSWORD is set in the environment and wins"}},
		{name: "no password anywhere", src: noPassword,
			wantErr: "a.conf:4:1: Property [AKU_SYS_PASSWORD] should be specified by configuration."},
		{name: "empty password in the environment", src: base,
			ov:      conf.Overrides{SysPasswordSet: true},
			wantErr: "AKU_SYS_PASSWORD is set in the environment but empty"},
		{name: "empty secret file", src: base,
			ov:      conf.Overrides{SysPasswordFile: empty},
			wantErr: empty + ": the password file named by AKU_SYS_PASSWORD_FILE is empty"},
		{name: "missing secret file", src: base,
			ov:      conf.Overrides{SysPasswordFile: filepath.Join(dir, "nope")},
			wantErr: filepath.Join(dir, "nope") + ": reading the password named by AKU_SYS_PASSWORD_FILE: no such file or directory"},
		{name: "connection string from the environment", src: head + "AKU_CONNECTION_STRING = \"A={host}\"\n" + repl,
			ov:           conf.Overrides{ConnectionString: "B={host};{port}", ConnectionStringSet: true},
			wantPassword: "pw", wantSource: "file", wantConn: "B={host};{port}"},
		{name: "connection string from the environment without host", src: base,
			ov:      conf.Overrides{ConnectionString: "B={port}", ConnectionStringSet: true},
			wantErr: "AKU_CONNECTION_STRING from the environment must contain {host}"},
		{name: "monitor connection string from aku.conf", src: head + "AKU_MONITOR_CONNECTION_STRING = \"M={host}\"\n" + repl,
			wantPassword: "pw", wantSource: "file", wantMonitor: "M={host}"},
		{name: "monitor connection string from the environment", src: head + "AKU_MONITOR_CONNECTION_STRING = \"M={host}\"\n" + repl,
			ov:           conf.Overrides{MonitorConnectionString: "E={host}", MonitorConnectionStringSet: true},
			wantPassword: "pw", wantSource: "file", wantMonitor: "E={host}"},
		{name: "monitor connection string from the environment without host", src: base,
			ov:      conf.Overrides{MonitorConnectionString: "E={port}", MonitorConnectionStringSet: true},
			wantErr: "AKU_MONITOR_CONNECTION_STRING from the environment must contain {host}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warnings, err := conf.Parse("a.conf", []byte(tt.src), tt.ov)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, conf.ErrInvalid) {
					t.Fatalf("error %v, want %q wrapping ErrInvalid", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SysPassword != tt.wantPassword || cfg.PasswordSource != tt.wantSource || cfg.ConnectionString != tt.wantConn || cfg.MonitorConnectionString != tt.wantMonitor {
				t.Errorf("got password %q from %q, connection %q, monitor %q; want %q from %q, %q, %q",
					cfg.SysPassword, cfg.PasswordSource, cfg.ConnectionString, cfg.MonitorConnectionString, tt.wantPassword, tt.wantSource, tt.wantConn, tt.wantMonitor)
			}
			if got := warningStrings(warnings); !reflect.DeepEqual(got, tt.wantWarnings) {
				t.Errorf("warnings\n got: %q\nwant: %q", got, tt.wantWarnings)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	readable := write("readable.conf", base, 0o644)
	private := write("private.conf", base, 0o600)
	noPassword := write("nopw.conf", strings.Replace(base, "AKU_SYS_PASSWORD = pw\n", "", 1), 0o644)

	_, warnings, err := conf.Load(readable, conf.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{readable + ":3:20: warning: the file holds the SYS password and is readable by group or others (mode 0644): chmod 600 it, or give the password in AKU_SYS_PASSWORD_FILE"}
	if got := warningStrings(warnings); !reflect.DeepEqual(got, want) {
		t.Errorf("warnings\n got: %q\nwant: %q", got, want)
	}
	for _, p := range []string{private, noPassword} {
		_, warnings, err := conf.Load(p, conf.Overrides{SysPassword: "x", SysPasswordSet: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 0 {
			t.Errorf("%s: unexpected warnings %q", p, warningStrings(warnings))
		}
	}
	missing := filepath.Join(dir, "missing.conf")
	_, _, err = conf.Load(missing, conf.Overrides{})
	if want := missing + ": reading the configuration: no such file or directory"; err == nil || err.Error() != want || !errors.Is(err, conf.ErrInvalid) {
		t.Errorf("error %v, want %q wrapping ErrInvalid", err, want)
	}
}

func TestValidIdentifier(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SYS", ""}, {"_t$1", ""}, {"t_1", ""}, {strings.Repeat("A", 128), ""},
		{"", "empty name"},
		{strings.Repeat("A", 129), `name "` + strings.Repeat("A", 129) + `" is 129 bytes long, more than 128`},
		{"1A", `name "1A" must start with a letter or '_'`},
		{"$A", `name "$A" must start with a letter or '_'`},
		{"A-B", `name "A-B" contains '-': names may contain only letters, digits, '_' and '$'`},
		{`A"B`, `name "A\"B" contains '"': names may contain only letters, digits, '_' and '$'`},
		{"T1'; DROP", `name "T1'; DROP" contains '\'': names may contain only letters, digits, '_' and '$'`},
		{"tablé", `name "tablé" contains 'é': names may contain only letters, digits, '_' and '$'`},
		{"table", `name "table" is an Altibase reserved word`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := conf.ValidIdentifier(tt.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("ValidIdentifier(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzValidIdentifier(f *testing.F) {
	for _, s := range []string{"SYS", "T1", "_x$", "", "1a", "a b", "a'b", "a\"b", "a;b", "a--b", "select", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if conf.ValidIdentifier(s) != nil {
			return
		}
		// An accepted name is safe to write unquoted in SQL: nothing but
		// ASCII letters, digits, '_' and '$', not starting with a digit.
		if len(s) == 0 || len(s) > conf.MaxIdentifierBytes {
			t.Fatalf("accepted %q of length %d", s, len(s))
		}
		if c := s[0]; c >= '0' && c <= '9' || c == '$' {
			t.Fatalf("accepted %q starting with %q", s, c)
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '$') {
				t.Fatalf("accepted %q containing %q", s, c)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	src := []byte(sample73)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := conf.Parse("aku.conf", src, conf.Overrides{}); err != nil {
			b.Fatal(err)
		}
	}
}
