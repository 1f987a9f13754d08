package e2e

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/e2e/manifest"
)

// These tests need no root: they check how the harness reads the manifests.

// specCluster is a Cluster that has read variant's spec but started
// nothing, with its work directory at /w.
func specCluster(t *testing.T, variant string, o Options) *Cluster {
	t.Helper()
	set, err := manifest.Load("../examples/kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	sts := set.StatefulSets[variant].DeepCopy()
	ct, err := manifest.Container(sts)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{opts: o, manifests: set, sts: sts, container: ct, dir: "/w", binDir: "/w/bin",
		net: &network{prefix: "10.1.2."}}
	if err := c.readSpec(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSpecFromManifests(t *testing.T) {
	c := specCluster(t, "statefulset-entrypoint", Options{})
	if c.probePeriod != 10*time.Second || c.probeThreshold != 360 || c.grace != 120*time.Second || c.password != "manager" {
		t.Errorf("probe period %v, threshold %d, grace %v, password %q; want the manifests' 10s, 360, 120s, manager",
			c.probePeriod, c.probeThreshold, c.grace, c.password)
	}
	tuned := specCluster(t, "statefulset-entrypoint", Options{ProbePeriod: 200 * time.Millisecond})
	if tuned.probePeriod != 200*time.Millisecond || tuned.probeThreshold != 360 {
		t.Errorf("tuned probe period %v, threshold %d", tuned.probePeriod, tuned.probeThreshold)
	}
}

func TestTranslateMountPaths(t *testing.T) {
	c := specCluster(t, "statefulset-hooks", Options{})
	tests := []struct{ path, pod, want string }{
		{"/aku/config/entrypoint.sh", "", "/w/configmap/entrypoint.sh"},
		{"/aku/secret/sys-password", "altibase-sts-1", "/w/secret/sys-password"},
		{"/altibase/home", "altibase-sts-1", "/w/pvc/data-altibase-sts-1/home"},
		{"/altibase/home/conf/aku.conf", "altibase-sts-2", "/w/configmap/aku.conf"},
		{"/altibase/home", "", "/altibase/home"}, // a PVC path needs the pod
		{"/tmp/aku_start_completed", "altibase-sts-1", "/tmp/aku_start_completed"},
		{"/bin/sh", "", "/bin/sh"},
		{"aku", "", "aku"},
	}
	for _, tt := range tests {
		if got := c.translate(tt.path, tt.pod); got != tt.want {
			t.Errorf("translate(%q, %q) = %q, want %q", tt.path, tt.pod, got, tt.want)
		}
	}
	if got := c.translateOuter("/altibase/home/conf/aku.conf", "altibase-sts-2"); got != "/w/pvc/data-altibase-sts-2/home/conf/aku.conf" {
		t.Errorf("translateOuter = %q", got)
	}
}

func TestContainerCommandsFromManifests(t *testing.T) {
	entry := specCluster(t, "statefulset-entrypoint", Options{})
	if got, want := entry.containerCommand(), []string{"/bin/sh", "/w/configmap/entrypoint.sh", "run"}; !reflect.DeepEqual(got, want) {
		t.Errorf("entrypoint variant command = %q, want %q", got, want)
	}
	if entry.postStart() != nil || entry.preStop() != nil {
		t.Errorf("entrypoint variant has hooks: %q, %q", entry.postStart(), entry.preStop())
	}
	hooks := specCluster(t, "statefulset-hooks", Options{})
	if got, want := hooks.containerCommand(), []string{"/bin/sh", "/w/configmap/entrypoint.sh", "server"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hooks variant command = %q, want %q", got, want)
	}
	if got, want := hooks.postStart(), []string{"/bin/sh", "/w/configmap/entrypoint.sh", "post-start"}; !reflect.DeepEqual(got, want) {
		t.Errorf("postStart = %q, want %q", got, want)
	}
	if got, want := hooks.preStop(), []string{"aku", "-p", "end"}; !reflect.DeepEqual(got, want) {
		t.Errorf("preStop = %q, want %q", got, want)
	}
}

func TestPodEnvironment(t *testing.T) {
	c := specCluster(t, "statefulset-entrypoint", Options{})
	env, err := c.podEnv(&Pod{Ordinal: 1, Name: "altibase-sts-1", IP: "10.1.2.11"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PATH=/w/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LANG=C.UTF-8",
		"HOSTNAME=altibase-sts-1",
		"ODBCSYSINI=/w/odbc",
		"ODBCINI=/w/odbc/odbc.ini",
		"AKU_CONNECTION_STRING=" + sysdbaTemplate,
		"AKU_MONITOR_CONNECTION_STRING=" + normalTemplate,
		"POD_NAME=altibase-sts-1",
		"ALTIBASE_HOME=/w/pvc/data-altibase-sts-1/home",
		"ALTIBASE_PORT_NO=20300",
		"ALTIBASE_REPLICATION_PORT_NO=20301",
		"ALTIBASE_ADMIN_MODE=1",
		"ALTIBASE_REMOTE_SYSDBA_ENABLE=1",
		"AKU_END_DEADLINE=110",
		"AKU_SYS_PASSWORD_FILE=/w/secret/sys-password",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("pod environment:\n got %q\nwant %q", env, want)
	}
	// A test's grace period scales the end's deadline (110 of 120 s), and
	// Options.Env replaces or, empty, removes a variable.
	c = specCluster(t, "statefulset-entrypoint", Options{GracePeriod: 12 * time.Second, Env: map[string]string{"ALTIBASE_ADMIN_MODE": "0", "AKU_SYS_PASSWORD_FILE": ""}})
	if env, err = c.podEnv(&Pod{Ordinal: 1, Name: "altibase-sts-1", IP: "10.1.2.11"}); err != nil {
		t.Fatal(err)
	}
	want = append(want[:len(want)-2:len(want)-2], "AKU_END_DEADLINE=11000ms")
	want[len(want)-3] = "ALTIBASE_ADMIN_MODE=0"
	if !reflect.DeepEqual(env, want) {
		t.Errorf("pod environment with a 12 s grace period and Env:\n got %q\nwant %q", env, want)
	}
}

func TestOverrideConf(t *testing.T) {
	in := "# comment\nAKU_STS_NAME = s # name\nAKU_QUERY_RETRY_DELAY_MSEC    = 1000\nREPLICATIONS = (\n)\n"
	got := overrideConf(in, map[string]string{"AKU_QUERY_RETRY_DELAY_MSEC": "100", "AKU_ADDRESS_CHECK_COUNT": "3"})
	want := "AKU_ADDRESS_CHECK_COUNT = 3 # set by the test\n# comment\nAKU_STS_NAME = s # name\nAKU_QUERY_RETRY_DELAY_MSEC = 100 # set by the test\nREPLICATIONS = (\n)\n"
	if got != want {
		t.Errorf("overrideConf:\n got %q\nwant %q", got, want)
	}
	if got := overrideConf(in, nil); got != in {
		t.Errorf("overrideConf without overrides changed the text: %q", got)
	}
}

func TestAkuExits(t *testing.T) {
	log := strings.Join([]string{
		"entrypoint: aku -p start exited with 0",
		"AKU run successfully.",
		"harness: postStart hook exited with 0",
		"entrypoint: aku -p start exited with 8",
		"entrypoint: aku -p end exited with 11",
		"harness: preStop hook exited with -1",
		"not entrypoint: aku -p start exited with 3",
	}, "\n")
	if got, want := akuExits(log), []string{"start=0", "start=8", "end=11", "end=-1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("akuExits = %q, want %q", got, want)
	}
}

func TestMeshState(t *testing.T) {
	got := meshState(1, 4, map[int]bool{0: true, 1: true, 3: true})
	want := map[string]wantRepl{"AKU_REP_01": {started: true}, "AKU_REP_12": {reset: true}, "AKU_REP_13": {started: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("meshState = %v, want %v", got, want)
	}
}
