package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aku-project/aku/conf"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// infoHome makes an ALTIBASE_HOME whose conf/aku.conf holds src (mode 0600,
// so that no permission warning appears unless a test wants one).
func infoHome(t *testing.T, src string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "conf", "aku.conf"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const twoGroups = `AKU_STS_NAME = db
AKU_SVC_NAME = db-svc
AKU_SERVER_COUNT = 3
AKU_SYS_PASSWORD = "s3cret pass"
AKU_PORT_NO = 21300
AKU_REPLICATION_PORT_NO = 21301
REPLICATIONS = ( REPLICATION_NAME_PREFIX = ORDERS SYNC_PARALLEL_COUNT = 4
                 ( APP.ORDERS PARTITION P2024, APP.ORDERS_ARCHIVE ) ),
               ( REPLICATION_NAME_PREFIX = REF ( APP.COUNTRIES ) )
`

// TestInfo runs aku -i in-process and compares exit code, stdout and
// stderr with testdata/info/<name>.golden (go test ./cmd/aku -run Info -update
// rewrites them).
func TestInfo(t *testing.T) {
	tests := []struct {
		name string
		conf string
		env  environment
		args []string
	}{
		{name: "sample", conf: readExample(t, "aku.conf.sample"),
			env: environment{PodName: "AKUHOST-0"}},
		{name: "sample-71-show-password", conf: readExample(t, "aku.conf.71.sample"),
			env: environment{PodName: "altibase-sts-2"}, args: []string{"--show-password"}},
		{name: "two-groups", conf: twoGroups, env: environment{PodName: "db-1"}},
		{name: "two-groups-json", conf: twoGroups, env: environment{PodName: "db-1"}, args: []string{"--output", "json"}},
		{name: "password-from-environment", conf: twoGroups,
			env: environment{PodName: "db-0", SysPassword: "from env", SysPasswordSet: true}, args: []string{"--show-password", "--output=json"}},
		{name: "pod-without-ordinal", conf: twoGroups, env: environment{PodName: "laptop"}},
		{name: "ordinal-too-large", conf: twoGroups, env: environment{PodName: "db-3"}},
		{name: "invalid-config", conf: "AKU_STS_NAME = db\nAKU_SVC_NAME = db_svc\nAKU_PORT = 1\n", env: environment{PodName: "db-0"}},
		{name: "syntax-error", conf: "AKU_SYS_PASSWORD = pa#ss\n", env: environment{PodName: "db-0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := infoHome(t, tt.conf)
			env := tt.env
			env.AltibaseHome = home
			code, stdout, stderr := runCLI(t, env, append([]string{"-i"}, tt.args...)...)
			got := strings.ReplaceAll(fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr),
				home, "$ALTIBASE_HOME")
			golden := filepath.Join("testdata", "info", tt.name+".golden")
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("aku -i output differs from %s\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestInfoMatchesSpec checks the sample's text output against the
// reference output of the original (Altibase Utilities Manual, chapter
// "aku"; docs/configuration.md, "aku -i"), with the password masked and
// the original's item-list header before each group's items.
func TestInfoMatchesSpec(t *testing.T) {
	home := infoHome(t, readExample(t, "aku.conf.sample"))
	code, stdout, _ := runCLI(t, environment{AltibaseHome: home, PodName: "AKUHOST-0"}, "--info", "--show-password")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	want := ` #########################
 [ Server ]
  Server ID        : 0
  Host             : AKUHOST-0.altibase-svc
  User             : SYS
  Password         : manager
  Port             : 20300
  Replication Port : 20301
  Max Server Count : 4
 #########################
 [ Replications ]
 #### Serve[ID:0] Replication list ####
  Replication Name : AKU_REP_01
  Replication Name : AKU_REP_02
  Replication Name : AKU_REP_03
 #### Serve[ID:1] Replication list ####
  Replication Name : AKU_REP_01
  Replication Name : AKU_REP_12
  Replication Name : AKU_REP_13
 #### Serve[ID:2] Replication list ####
  Replication Name : AKU_REP_02
  Replication Name : AKU_REP_12
  Replication Name : AKU_REP_23
 #### Serve[ID:3] Replication list ####
  Replication Name : AKU_REP_03
  Replication Name : AKU_REP_13
  Replication Name : AKU_REP_23
 #########################
 [ Replication Items ]
 #### Replication [Prefix:AKU_REP] item list ####
  User Name        : SYS
  Table Name       : T1

  User Name        : SYS
  Table Name       : T2
  Partition Name   : P1

  User Name        : SYS
  Table Name       : T3
 #########################
`
	if stdout != want {
		t.Errorf("aku -i\n got:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestInfoJSONShape(t *testing.T) {
	home := infoHome(t, twoGroups)
	code, stdout, stderr := runCLI(t, environment{AltibaseHome: home, PodName: "db-2"}, "-i", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got infoJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Server.ID == nil || *got.Server.ID != 2 || got.Server.Password != conf.Masked {
		t.Errorf("server = %+v, want id 2 and a masked password", got.Server)
	}
	wantRepl := []infoReplication{
		{ServerID: 0, Host: "db-0.db-svc", Names: []string{"ORDERS_01", "ORDERS_02", "REF_01", "REF_02"}},
		{ServerID: 1, Host: "db-1.db-svc", Names: []string{"ORDERS_01", "ORDERS_12", "REF_01", "REF_12"}},
		{ServerID: 2, Host: "db-2.db-svc", Names: []string{"ORDERS_02", "ORDERS_12", "REF_02", "REF_12"}},
	}
	if !reflect.DeepEqual(got.Replications, wantRepl) {
		t.Errorf("replications\n got: %+v\nwant: %+v", got.Replications, wantRepl)
	}
}

func TestInfoPermissionWarning(t *testing.T) {
	home := infoHome(t, twoGroups)
	path := filepath.Join(home, "conf", "aku.conf")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, environment{AltibaseHome: home, PodName: "db-0"}, "-i")
	want := path + ":4:20: warning: the file holds the SYS password and is readable by group or others (mode 0640): chmod 600 it, or give the password in AKU_SYS_PASSWORD_FILE\n"
	if code != exitOK || stderr != want {
		t.Errorf("exit %d, stderr\n%q\nwant\n%q", code, stderr, want)
	}
}
