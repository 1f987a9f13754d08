package pgwire_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/pgwire/pgwiretest"
)

// serveEngine serves a fresh in-memory engine on a loopback port until the
// test ends.
func serveEngine(t *testing.T, o altisim.Options) (*altisim.Server, string) {
	t.Helper()
	engine, port := pgwiretest.Serve(t, o)
	return engine, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// client is a raw protocol client.
type client struct {
	t   *testing.T
	c   net.Conn
	fe  *pgproto3.Frontend
	key *pgproto3.BackendKeyData
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, fe: pgproto3.NewFrontend(c, c)}
}

// render is a message in one comparable line.
func render(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.AuthenticationCleartextPassword:
		return "AuthenticationCleartextPassword"
	case *pgproto3.AuthenticationOk:
		return "AuthenticationOk"
	case *pgproto3.ParameterStatus:
		return "ParameterStatus " + m.Name + "=" + m.Value
	case *pgproto3.BackendKeyData:
		return "BackendKeyData"
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.RowDescription:
		var f []string
		for _, d := range m.Fields {
			f = append(f, fmt.Sprintf("%s:%d", d.Name, d.DataTypeOID))
		}
		return "RowDescription " + strings.Join(f, ",")
	case *pgproto3.DataRow:
		var v []string
		for _, b := range m.Values {
			if b == nil {
				v = append(v, "NULL")
			} else {
				v = append(v, string(b))
			}
		}
		return "DataRow " + strings.Join(v, "|")
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		return "ErrorResponse " + m.Severity + " " + m.Code + " " + m.Message
	case *pgproto3.EmptyQueryResponse:
		return "EmptyQueryResponse"
	}
	return fmt.Sprintf("%T", m)
}

// until receives messages up to and including ReadyForQuery (or a FATAL
// error) and renders them.
func (c *client) until() []string {
	c.t.Helper()
	var out []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("receiving after %q: %v", out, err)
		}
		if k, ok := m.(*pgproto3.BackendKeyData); ok {
			c.key = &pgproto3.BackendKeyData{ProcessID: k.ProcessID, SecretKey: append([]byte(nil), k.SecretKey...)}
		}
		out = append(out, render(m))
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			return out
		case *pgproto3.ErrorResponse:
			if m.Severity == "FATAL" {
				return out
			}
		case *pgproto3.AuthenticationCleartextPassword:
			return out
		}
	}
}

func (c *client) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// login runs SSLRequest, startup and password; it returns the messages
// after the password.
func (c *client) login(user, password, options string) []string {
	c.t.Helper()
	c.send(&pgproto3.SSLRequest{})
	b := make([]byte, 1)
	if _, err := c.c.Read(b); err != nil || b[0] != 'N' {
		c.t.Fatalf("SSLRequest answered %q, %v; want N", b, err)
	}
	params := map[string]string{"user": user, "database": "aku"}
	if options != "" {
		params["options"] = options
	}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params})
	if got := c.until(); len(got) != 1 || got[0] != "AuthenticationCleartextPassword" {
		c.t.Fatalf("after startup: %q", got)
	}
	c.send(&pgproto3.PasswordMessage{Password: password})
	return c.until()
}

func (c *client) query(q string) []string {
	c.t.Helper()
	c.send(&pgproto3.Query{String: q})
	return c.until()
}

func expect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func TestWireSession(t *testing.T) {
	_, addr := serveEngine(t, altisim.Options{})
	c := dial(t, addr)
	expect(t, "login", c.login("SYS", "manager", "-c privilege=sysdba"), []string{
		"AuthenticationOk",
		"ParameterStatus server_version=14.0",
		"ParameterStatus server_encoding=UTF8",
		"ParameterStatus client_encoding=UTF8",
		"ParameterStatus standard_conforming_strings=on",
		"ParameterStatus DateStyle=ISO, MDY",
		"ParameterStatus integer_datetimes=on",
		"ParameterStatus TimeZone=UTC",
		"BackendKeyData",
		"ReadyForQuery I",
	})
	steps := []struct {
		q    string
		want []string
	}{
		{"SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation", []string{
			"CommandComplete SET", "CommandComplete SET", "RowDescription transaction_isolation:25", "DataRow read committed", "CommandComplete SHOW", "ReadyForQuery I"}},
		{"select oid, typbasetype from pg_type where typname = 'lo'", []string{
			"RowDescription oid:26,typbasetype:26", "CommandComplete SELECT 0", "ReadyForQuery I"}},
		{"CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER);INSERT INTO T1 VALUES (1, 10);INSERT INTO T1 VALUES (2, NULL)", []string{
			"CommandComplete CREATE TABLE", "CommandComplete INSERT 0 1", "CommandComplete INSERT 0 1", "ReadyForQuery I"}},
		{"SELECT I1, I2 FROM T1 ORDER BY I1", []string{
			"RowDescription I1:20,I2:20", "DataRow 1|10", "DataRow 2|NULL", "CommandComplete SELECT 2", "ReadyForQuery I"}},
		{"UPDATE T1 SET I2 = 5;DROP REPLICATION NOPE;DELETE FROM T1", []string{
			"CommandComplete UPDATE 2", "ErrorResponse ERROR 6111B Undefined replication name [NOPE]", "ReadyForQuery I"}},
		{"SELECT COUNT(*) FROM T1", []string{"RowDescription COUNT:20", "DataRow 2", "CommandComplete SELECT 1", "ReadyForQuery I"}},
		{" ; ", []string{"EmptyQueryResponse", "ReadyForQuery I"}},
		{"BEGIN", []string{"CommandComplete BEGIN", "ReadyForQuery T"}},
		{"DROP REPLICATION NOPE", []string{"ErrorResponse ERROR 6111B Undefined replication name [NOPE]", "ReadyForQuery E"}},
		{"SELECT COUNT(*) FROM T1", []string{"ErrorResponse ERROR 25P02 current transaction is aborted, commands ignored until end of transaction block", "ReadyForQuery E"}},
		{"ROLLBACK", []string{"CommandComplete ROLLBACK", "ReadyForQuery I"}},
	}
	for _, st := range steps {
		expect(t, st.q, c.query(st.q), st.want)
	}
	c.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	expect(t, "extended protocol", c.until(), []string{
		"ErrorResponse ERROR 0A000 the extended query protocol is not supported: use UseServerSidePrepare=0", "ReadyForQuery I"})
}

func TestWireRefusedLogins(t *testing.T) {
	engine, addr := serveEngine(t, altisim.Options{})
	release := engine.Faults().HoldSysdba()
	defer release()
	tests := []struct {
		name, password, options string
		want                    string
	}{
		{"wrong password", "nope", "", "ErrorResponse FATAL 4100C ERR-4100C : Invalid username or password."},
		{"SYSDBA slot held", "manager", "-c privilege=sysdba", "ErrorResponse FATAL 41041 ERR-41041 : Another SYSDBA session is already running."},
		{"unknown privilege", "manager", "--privilege=root", `ErrorResponse FATAL 08004 unknown privilege "root"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
				Parameters: map[string]string{"user": "SYS", "options": tt.options}})
			got := c.until()
			if got[0] == "AuthenticationCleartextPassword" {
				c.send(&pgproto3.PasswordMessage{Password: tt.password})
				got = c.until()
			}
			expect(t, "login", got, []string{tt.want})
		})
	}
}

// TestWireCancelRequest: a CancelRequest with the connection's key cancels
// its running statement; one with a wrong key is ignored.
func TestWireCancelRequest(t *testing.T) {
	engine, addr := serveEngine(t, altisim.Options{})
	c := dial(t, addr)
	c.login("SYS", "manager", "")
	expect(t, "create", c.query("CREATE TABLE T1 (I1 INTEGER PRIMARY KEY, I2 INTEGER)"), []string{"CommandComplete CREATE TABLE", "ReadyForQuery I"})
	if err := engine.Faults().Add(altisim.Fault{Pattern: "^INSERT", Action: altisim.FaultHang, Nth: 1}); err != nil {
		t.Fatal(err)
	}
	c.send(&pgproto3.Query{String: "INSERT INTO T1 VALUES (1, 1)"})
	cancel := func(secret []byte) {
		cc := dial(t, addr)
		cc.send(&pgproto3.CancelRequest{ProcessID: c.key.ProcessID, SecretKey: secret})
		b := make([]byte, 1)
		if n, _ := cc.c.Read(b); n != 0 {
			t.Fatalf("CancelRequest got a reply %q", b)
		}
	}
	cancel([]byte{0, 0, 0, 0})
	c.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if m, err := c.fe.Receive(); err == nil {
		t.Fatalf("a CancelRequest with a wrong key ended the statement: %s", render(m))
	}
	// The timed-out read broke this Frontend's reader: read with a new one.
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.fe = pgproto3.NewFrontend(c.c, c.c)
	cancel(c.key.SecretKey)
	expect(t, "cancelled INSERT", c.until(), []string{"ErrorResponse ERROR 57014 canceling statement due to user request", "ReadyForQuery I"})
	expect(t, "count", c.query("SELECT COUNT(*) FROM T1"), []string{"RowDescription COUNT:20", "DataRow 0", "CommandComplete SELECT 1", "ReadyForQuery I"})
}

// TestWireDroppedConnection: a drop fault closes the client's connection.
func TestWireDroppedConnection(t *testing.T) {
	engine, addr := serveEngine(t, altisim.Options{})
	c := dial(t, addr)
	c.login("SYS", "manager", "")
	if err := engine.Faults().Add(altisim.Fault{Pattern: "COUNT", Action: altisim.FaultDrop}); err != nil {
		t.Fatal(err)
	}
	c.send(&pgproto3.Query{String: "SELECT COUNT(*) FROM SYSTEM_.SYS_REPLICATIONS_"})
	if m, err := c.fe.Receive(); err == nil {
		t.Fatalf("got %s, want the connection closed", render(m))
	}
}

// TestWireClientGoneCancelsStatement: a client that disconnects while its
// statement hangs frees its session and the SYSDBA slot.
func TestWireClientGoneCancelsStatement(t *testing.T) {
	engine, addr := serveEngine(t, altisim.Options{})
	c := dial(t, addr)
	c.login("SYS", "manager", "-c privilege=sysdba")
	if err := engine.Faults().Add(altisim.Fault{Pattern: "FLUSH", Action: altisim.FaultHang}); err != nil {
		t.Fatal(err)
	}
	c.send(&pgproto3.Query{String: "ALTER REPLICATION R1 FLUSH"})
	time.Sleep(50 * time.Millisecond)
	c.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c2 := dial(t, addr)
		got := c2.login("SYS", "manager", "-c privilege=sysdba")
		if got[len(got)-1] == "ReadyForQuery I" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SYSDBA login after the client left: %q", got)
		}
		c2.c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	log := engine.StatementLog()
	if len(log) != 1 || log[0].SQL != "ALTER REPLICATION R1 FLUSH" || log[0].Err == "" {
		t.Fatalf("statement log %+v, want the FLUSH ended with an error", log)
	}
}
