//go:build cgo

package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alexbrainman/odbc"

	"github.com/aku-project/aku/altisim/pgwire"
	"github.com/aku-project/aku/altisim/pgwire/pgwiretest"
)

// buildBinary builds altisim into a temporary directory once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	pgwiretest.PinODBC(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "altisim")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building altisim: %v\n%s", err, out)
	}
	return bin
}

// process is a running `altisim serve`.
type process struct {
	cmd    *exec.Cmd
	listen string
	repl   string
	ctl    string
	// exited is closed when the process has exited, with its Wait error
	// in err.
	exited chan struct{}
	err    error
}

var readyLine = regexp.MustCompile(`^altisim ready name=(\S+) listen=(\S+) replication=(\S+) control=(\S+) data=(.+)$`)

// startServe runs the binary on dataDir and waits for its ready line. The
// process is killed when the test ends if it is still running.
func startServe(t *testing.T, bin, dataDir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--replication-listen", "127.0.0.1:0", "--data", dataDir, "--name", "sts-0"}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case line, ok := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("altisim serve printed %q, want an \"altisim ready\" line", line)
		}
		if m[1] != "sts-0" || m[5] != dataDir {
			t.Fatalf("ready line %q names the wrong server or data directory", line)
		}
		p.listen, p.repl, p.ctl = m[2], m[3], m[4]
	case <-time.After(20 * time.Second):
		t.Fatal("altisim serve did not get ready in 20s")
	}
	return p
}

func (p *process) dsn(t *testing.T) string {
	return p.dsnOf(t, pgwire.PsqlODBCTemplate)
}

// dsnOf expands a connection-string template for this server.
func (p *process) dsnOf(t *testing.T, tmpl string) string {
	host, port, err := net.SplitHostPort(p.listen)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("{host}", host, "{port}", port, "{user}", "SYS", "{password}", "manager").Replace(tmpl)
}

// session opens one pinned SYSDBA ODBC session, closed with its pool at
// the end.
func (p *process) session(t *testing.T) (*sql.Conn, func()) {
	t.Helper()
	return p.sessionOf(t, pgwire.PsqlODBCTemplate)
}

// sessionOf opens one pinned ODBC session with a template's privilege.
func (p *process) sessionOf(t *testing.T, tmpl string) (*sql.Conn, func()) {
	t.Helper()
	db, err := sql.Open("odbc", p.dsnOf(t, tmpl))
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		t.Fatalf("connecting to %s: %v", p.listen, err)
	}
	return c, func() { c.Close(); db.Close() }
}

func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(10 * time.Second):
		t.Fatal("altisim serve did not exit in 10s")
		return nil
	}
}

// TestBinaryKill9KeepsAcknowledgedRows: a row whose INSERT was
// acknowledged survives kill -9 of the server (a PVC keeps DIR), and a
// SIGTERM stops the server cleanly (issue 3 part 4).
func TestBinaryKill9KeepsAcknowledgedRows(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")

	p := startServe(t, bin, data)
	c, done := p.session(t)
	for _, q := range []string{"CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)", "INSERT INTO T1 VALUES (1, 10)", "INSERT INTO T1 VALUES (2, 20)"} {
		if _, err := c.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	done()

	p = startServe(t, bin, data)
	c, done = p.session(t)
	rows, err := c.QueryContext(context.Background(), "SELECT I1, I2 FROM T1 ORDER BY I1")
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, a, b)
	}
	rows.Close()
	if !reflect.DeepEqual(got, []int64{1, 10, 2, 20}) {
		t.Fatalf("rows after kill -9 and restart = %v, want [1 10 2 20]", got)
	}
	done()

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t); err != nil {
		t.Fatalf("altisim serve after SIGTERM: %v, want exit status 0", err)
	}
}

// faultCLI runs `altisim fault ARGS --control ctl` and returns its output;
// an error fails the test.
func faultCLI(t *testing.T, bin, ctl string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"fault", "--control", ctl}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("altisim fault %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// TestBinaryControlPath drives faults of a running binary with `altisim
// fault` and sees them through psqlODBC.
func TestBinaryControlPath(t *testing.T) {
	bin := buildBinary(t)
	p := startServe(t, bin, filepath.Join(t.TempDir(), "data"))
	fault := faultCLI(t, bin, p.ctl)
	c, done := p.session(t)
	defer done()
	if _, err := c.ExecContext(context.Background(), "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if got, want := fault("add", "--pattern", "^INSERT", "--nth", "2", "--code", "6100D", "--message", "[Sender] Failed to handshake with the peer server (test)"),
		`{"pattern":"^INSERT","action":"fail","nth":2,"code":"6100D","message":"[Sender] Failed to handshake with the peer server (test)"}`+"\n"; got != want {
		t.Fatalf("fault add printed %q, want %q", got, want)
	}
	if _, err := c.ExecContext(context.Background(), "INSERT INTO T1 VALUES (1, 1)"); err != nil {
		t.Fatalf("first INSERT: %v", err)
	}
	_, err := c.ExecContext(context.Background(), "INSERT INTO T1 VALUES (2, 2)")
	var oe *odbc.Error
	if !errors.As(err, &oe) || oe.Diag[0].State != "6100D" {
		t.Fatalf("second INSERT: %v, want SQLSTATE 6100D from the fault", err)
	}
	fault("hold-sysdba")
	db, err := sql.Open("odbc", p.dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Conn(context.Background()); err == nil || !strings.Contains(err.Error(), "ERR-41041") {
		t.Fatalf("SYSDBA connect while held: %v, want ERR-41041", err)
	}
	fault("release-sysdba")
	if log := fault("log"); !strings.Contains(log, `"sql":"INSERT INTO T1 VALUES (2, 2)"`) || !strings.Contains(log, `"code":397325`) {
		t.Fatalf("statement log lacks the failed INSERT: %s", log)
	}
	if got := fault("clear"); got != "[]\n" {
		t.Fatalf("fault clear printed %q", got)
	}
	fault("shutdown")
	if err := p.wait(t); err != nil {
		t.Fatalf("altisim serve after shutdown: %v, want exit status 0", err)
	}
}

// TestBinarySecondServerOnADataDirectoryLeavesTheFirstAlone: a second
// `altisim serve` on a data directory in use fails (the directory is
// locked) without replacing the first server's control socket.
func TestBinarySecondServerOnADataDirectoryLeavesTheFirstAlone(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, data)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--name", "sts-0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another server") {
		t.Fatalf("second serve on %s: %v\n%s\nwant a failure naming the directory in use", data, err, out)
	}
	if out, err := exec.CommandContext(ctx, bin, "fault", "list", "--control", p.ctl).CombinedOutput(); err != nil {
		t.Fatalf("control path of the first server after the second failed: %v\n%s", err, out)
	}
}

// TestBinaryMonitorFaults: `altisim fault sync-delay` slows a SYNC so that
// an ordinary session sees it in V$REPSYNC, and `hold-sender` /
// `release-sender` stall a running sender (STATUS 1, a growing gap in
// bytes) and let it catch up; --property sets LOG_FILE_SIZE.
func TestBinaryMonitorFaults(t *testing.T) {
	bin := buildBinary(t)
	a := startServe(t, bin, filepath.Join(t.TempDir(), "a"), "--property", "LOG_FILE_SIZE=131072")
	b := startServe(t, bin, filepath.Join(t.TempDir(), "b"))
	fault := faultCLI(t, bin, a.ctl)
	ctx := context.Background()
	run := func(c *sql.Conn, q string) {
		t.Helper()
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	value := func(c *sql.Conn, q string) string {
		t.Helper()
		var v string
		if err := c.QueryRowContext(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	ca, doneA := a.session(t)
	defer doneA()
	cb, doneB := b.session(t)
	defer doneB()
	for _, side := range []struct {
		c    *sql.Conn
		peer *process
	}{{ca, b}, {cb, a}} {
		_, port, err := net.SplitHostPort(side.peer.repl)
		if err != nil {
			t.Fatal(err)
		}
		run(side.c, "CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)")
		run(side.c, "CREATE REPLICATION R1 WITH '127.0.0.1', "+port+" FROM SYS.T1 TO SYS.T1")
	}
	run(ca, "INSERT INTO T1 VALUES (1, 1);INSERT INTO T1 VALUES (2, 2)")
	mon, doneMon := a.sessionOf(t, pgwire.PsqlODBCTemplateNormal)
	defer doneMon()
	if got := value(mon, "SELECT VALUE1 FROM V$PROPERTY WHERE NAME = 'LOG_FILE_SIZE'"); got != "131072" {
		t.Fatalf("LOG_FILE_SIZE = %s, want 131072 from --property", got)
	}

	if got := fault("sync-delay", "400ms"); got != `{"delay":"400ms"}`+"\n" {
		t.Fatalf("fault sync-delay printed %q", got)
	}
	synced := make(chan error, 1)
	go func() {
		_, err := ca.ExecContext(ctx, "ALTER REPLICATION R1 SYNC")
		synced <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for value(mon, "SELECT COUNT(*) FROM V$REPSYNC") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("V$REPSYNC showed no running SYNC")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := value(mon, "SELECT STATUS FROM V$REPSENDER"); got != "6" {
		t.Fatalf("V$REPSENDER.STATUS during SYNC = %s, want 6 (SYNC)", got)
	}
	if err := <-synced; err != nil {
		t.Fatalf("SYNC: %v", err)
	}
	fault("sync-delay", "0s")

	if got := fault("hold-sender", "r1"); got != `{"held":true,"replication":"R1"}`+"\n" {
		t.Fatalf("fault hold-sender printed %q", got)
	}
	run(ca, "INSERT INTO T1 VALUES (3, 3)")
	if got := value(mon, "SELECT STATUS FROM V$REPSENDER"); got != "1" {
		t.Fatalf("held sender's STATUS = %s, want 1 (RUN)", got)
	}
	if got := value(mon, "SELECT REP_GAP_SIZE FROM V$REPGAP"); got != "54" {
		t.Fatalf("REP_GAP_SIZE of one record while held = %s, want 54", got)
	}
	fctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, err := ca.QueryContext(fctx, "ALTER REPLICATION R1 FLUSH"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FLUSH while the sender is held: %v, want a deadline", err)
	}
	fault("release-sender", "R1")
	run(ca, "ALTER REPLICATION R1 FLUSH")
	if got := value(mon, "SELECT REP_GAP_SIZE FROM V$REPGAP"); got != "0" {
		t.Fatalf("REP_GAP_SIZE after release and FLUSH = %s, want 0", got)
	}
	if got := value(cb, "SELECT COUNT(*) FROM T1"); got != "3" {
		t.Fatalf("peer has %s rows, want 3", got)
	}
}
