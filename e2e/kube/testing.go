package kube

import (
	"context"
	"os"
	"testing"
	"time"
)

// StartForTest starts a control plane for test t and stops it when t ends,
// printing its logs first when t failed. Without the binaries (root is the
// repository's top directory, see BinDir) it skips t, or fails it when
// AKU_E2E_REQUIRED=1, as in CI: a skipped tier must not pass quietly.
func StartForTest(t testing.TB, root string) *ControlPlane {
	t.Helper()
	dir, err := BinDir(root)
	if err != nil {
		if os.Getenv("AKU_E2E_REQUIRED") == "1" {
			t.Fatalf("kube tier required (AKU_E2E_REQUIRED=1) but cannot run: %v", err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp, err := Start(ctx, Options{BinDir: dir, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control plane logs:\n%s", cp.Logs())
		}
		cp.Close()
	})
	return cp
}
