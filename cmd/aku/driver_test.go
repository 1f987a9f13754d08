//go:build cgo && !noodbc

package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A driver library the ODBC driver manager cannot load is this pod's
// configuration error: exit 4 at once, naming the library and what to do,
// not 30 tries of an "unreachable" server ending in exit 7.
func TestMissingODBCDriver(t *testing.T) {
	lib := "/nonexistent/libaltibase_odbc-64bit-ul64.so"
	env := environment{
		AltibaseHome:       writeConf(t, podTestConf),
		PodName:            "altibase-sts-0",
		MarkerPath:         filepath.Join(t.TempDir(), "marker"),
		ConnectionString:   "DRIVER=" + lib + ";SERVER={host};PORT={port};UID={user};PWD={password}",
		ConnectionStringOK: true,
	}
	start := time.Now()
	code, stdout, stderr := runCLI(t, env, "-p", "start", "--dry-run")
	if code != exitEnvironment {
		t.Errorf("exit code %d, want %d\n%s%s", code, exitEnvironment, stdout, stderr)
	}
	for _, want := range []string{lib, "install the driver", "ODBC driver unusable"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("output does not say %q:\n%s%s", want, stdout, stderr)
		}
	}
	if strings.Contains(stdout+stderr, "unreachable") {
		t.Errorf("output calls the server unreachable:\n%s%s", stdout, stderr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v, want at once", took)
	}
}
