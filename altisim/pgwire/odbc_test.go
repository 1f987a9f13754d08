//go:build cgo

package pgwire_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexbrainman/odbc"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/pgwire"
)

// psqlODBCDriver is Debian's psqlODBC (package odbc-postgresql).
const psqlODBCDriver = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"

// odbcEnv pins unixODBC's configuration to an empty directory of the test,
// so that no odbcinst.ini pooling outlives db.Close (testing guide,
// gotcha 4). It skips the test when psqlODBC is not installed.
func odbcEnv(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(psqlODBCDriver); err != nil {
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

// wire is an engine served over pgwire on a loopback port for one test.
type wire struct {
	engine *altisim.Server
	port   int

	mu      sync.Mutex
	queries []string
}

// startWire serves engine on 127.0.0.1 until the test ends, recording
// every Query message.
func startWire(t *testing.T, engine *altisim.Server) *wire {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{engine: engine, port: ln.Addr().(*net.TCPAddr).Port}
	srv := &pgwire.Server{Engine: engine, OnQuery: func(q string) {
		w.mu.Lock()
		w.queries = append(w.queries, q)
		w.mu.Unlock()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return w
}

func (w *wire) takeQueries() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queries
	w.queries = nil
	return q
}

// connString expands a pgwire template as aku does.
func connString(tmpl string, port int, user, password string) string {
	return strings.NewReplacer("{host}", "127.0.0.1", "{port}", strconv.Itoa(port), "{user}", user, "{password}", password).Replace(tmpl)
}

// newEngine starts an in-memory engine closed when the test ends.
func newEngine(t *testing.T, o altisim.Options) *altisim.Server {
	t.Helper()
	if o.Name == "" {
		o.Name = "localhost"
	}
	s, err := altisim.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openConn opens a pinned connection through unixODBC and psqlODBC.
func openConn(t *testing.T, dsn string) (*sql.Conn, error) {
	t.Helper()
	db, err := sql.Open("odbc", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}

// diag is the first ODBC diagnostic of err.
func diag(t *testing.T, err error) odbc.DiagRecord {
	t.Helper()
	var oe *odbc.Error
	if !errors.As(err, &oe) || len(oe.Diag) == 0 {
		t.Fatalf("error %v (%T) is not an ODBC error with diagnostics", err, err)
	}
	return oe.Diag[0]
}

// TestODBCConnectTimeQueries pins what psqlODBC sends on its own when it
// connects (testing guide): the server answers all of it without the engine.
func TestODBCConnectTimeQueries(t *testing.T) {
	odbcEnv(t)
	w := startWire(t, newEngine(t, altisim.Options{}))
	c, err := openConn(t, connString(pgwire.PsqlODBCTemplate, w.port, "SYS", "manager"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation",
		"select oid, typbasetype from pg_type where typname = 'lo'",
	}
	if got := w.takeQueries(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("psqlODBC sent %q at connect, want %q", got, want)
	}
	if log := w.engine.StatementLog(); len(log) != 0 {
		t.Fatalf("housekeeping reached the engine: %+v", log)
	}
}
