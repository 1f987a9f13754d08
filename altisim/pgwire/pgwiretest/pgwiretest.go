package pgwiretest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/pgwire"
)

// PinODBC points unixODBC at empty configuration files in a directory of
// the test, so that no system odbcinst.ini (and its connection pooling,
// which keeps connections past db.Close: docs/odbc.md, "unixODBC pooling")
// applies. It skips the test when psqlODBC is not installed. It sets
// environment variables, so the test must not run in parallel.
func PinODBC(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(pgwire.PsqlODBCDriver); err != nil {
		t.Skipf("psqlODBC not installed (make deps): %v", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"odbcinst.ini", "odbc.ini"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("ODBCSYSINI", dir)
	t.Setenv("ODBCINI", filepath.Join(dir, "odbc.ini"))
}

// Start serves srv on a loopback port until the test ends and returns the
// port. When the test ends, the server is stopped and must return within
// 10 seconds, without an error.
func Start(t testing.TB, srv *pgwire.Server) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pgwire Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("pgwire Serve did not return after cancel")
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// Serve starts an in-memory engine with o (named "localhost") and serves it
// on a loopback port until the test ends, then closes it. It returns the
// engine and the port.
func Serve(t testing.TB, o altisim.Options) (*altisim.Server, int) {
	t.Helper()
	o.Name = "localhost"
	engine, err := altisim.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() }) // runs after the server's cleanup
	return engine, Start(t, &pgwire.Server{Engine: engine})
}
