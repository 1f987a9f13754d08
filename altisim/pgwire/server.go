package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/aku-project/aku/altisim"
	"github.com/aku-project/aku/altisim/internal/netserve"
)

// PsqlODBCDriver is Debian's psqlODBC driver library (package
// odbc-postgresql), through which aku's production ODBC path reaches a
// pgwire server.
const PsqlODBCDriver = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"

// PsqlODBCTemplate is aku's connection-string template (with {host}, {port},
// {user}, {password}) that reaches a pgwire server through Debian's psqlODBC
// as SYSDBA. UseServerSidePrepare=0 makes psqlODBC send every statement as
// one plain Query message. pqopt hands libpq keywords over: connect_timeout
// bounds a hanging connect (docs/odbc.md, "Connects ignore contexts"),
// options carries the SYSDBA privilege (PRIVILEGE=SYSDBA, Altibase CLI User's
// Manual).
const PsqlODBCTemplate = "DRIVER=" + PsqlODBCDriver + ";SERVER={host};PORT={port};DATABASE=aku;UID={user};PWD={password};UseServerSidePrepare=0;pqopt={connect_timeout=3 options='-c privilege=sysdba'}"

// PsqlODBCTemplateNormal is PsqlODBCTemplate without SYSDBA privilege.
const PsqlODBCTemplateNormal = "DRIVER=" + PsqlODBCDriver + ";SERVER={host};PORT={port};DATABASE=aku;UID={user};PWD={password};UseServerSidePrepare=0;pqopt={connect_timeout=3}"

// PostgreSQL type OIDs of the columns this server describes.
const (
	oidInt8   = 20
	oidText   = 25
	oidOID    = 26
	oidFloat8 = 701
)

// startupTimeout bounds how long a new connection may take to send its
// startup and password messages.
const startupTimeout = 30 * time.Second

// Server serves one engine over the PostgreSQL protocol. Its zero value
// with Engine set is ready to Serve.
type Server struct {
	// Engine executes the statements.
	Engine *altisim.Server
	// OnQuery, when set, is called with every Query message's text before
	// it runs, housekeeping included (tests capture what psqlODBC sends).
	OnQuery func(query string)

	mu      sync.Mutex
	nextPID uint32
	backs   map[uint32]*backend
}

// Serve runs a Server for engine on ln until ctx ends; see Server.Serve.
func Serve(ctx context.Context, ln net.Listener, engine *altisim.Server) error {
	return (&Server{Engine: engine}).Serve(ctx, ln)
}

// Serve accepts client connections on ln until ctx ends; then it closes ln
// and every client connection, waits for their handlers and returns nil.
// Any other accept error is returned (after the client connections are
// closed).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return netserve.Serve(ctx, ln, "accepting clients for "+s.Engine.Name(), s.serveConn)
}

// backend is one client connection after a successful startup.
type backend struct {
	srv    *Server
	c      net.Conn
	be     *pgproto3.Backend
	sess   *altisim.Session
	pid    uint32
	secret []byte

	// cancelMu guards cancel, the CancelFunc of the running statement.
	cancelMu sync.Mutex
	cancel   context.CancelFunc

	inTx, txFailed bool
}

// serveConn runs one client connection to its end.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	// The client's bytes reach the Backend through a pipe fed by a
	// goroutine, so that a client that goes away while its statement runs
	// cancels the statement: a hang fault would otherwise keep the session,
	// and its SYSDBA slot, forever after the client (aku) was killed.
	ctx, gone := context.WithCancel(ctx)
	defer gone()
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, c)
		if err == nil {
			err = io.EOF
		}
		pw.CloseWithError(err)
		gone()
	}()
	// Unblock the copier if it still holds client bytes nobody will read
	// (a client that sent more after Terminate or before a drop).
	defer pr.Close()
	be := pgproto3.NewBackend(pr, c)
	c.SetDeadline(time.Now().Add(startupTimeout))
	startup, ok := s.startup(be, c)
	if !ok {
		return
	}
	b, err := s.authenticate(ctx, be, c, startup)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	defer s.unregister(b)
	defer b.sess.Close()
	b.loop(ctx)
}

// startup reads the startup message, refusing SSL and GSS encryption and
// serving a CancelRequest (which ends the connection).
func (s *Server) startup(be *pgproto3.Backend, c net.Conn) (*pgproto3.StartupMessage, bool) {
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return nil, false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.Write([]byte("N")); err != nil {
				return nil, false
			}
		case *pgproto3.CancelRequest:
			s.cancelStatement(m.ProcessID, m.SecretKey)
			return nil, false
		case *pgproto3.StartupMessage:
			return m, true
		default:
			return nil, false
		}
	}
}

// privilegeOption finds "privilege=sysdba" in the startup "options"
// parameter, given as "-c privilege=sysdba" or "--privilege=sysdba".
var privilegeOption = regexp.MustCompile(`(?i)(?:^|\s)(?:-c\s*|--)privilege=(\w+)`)

// authenticate asks for the cleartext password, opens the engine session
// and sends the connection's parameters. Refusals are sent to the client
// as FATAL errors with the Altibase code as SQLSTATE.
func (s *Server) authenticate(ctx context.Context, be *pgproto3.Backend, c net.Conn, startup *pgproto3.StartupMessage) (*backend, error) {
	fail := func(code, msg string) error {
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg})
		be.Flush()
		return errors.New(msg)
	}
	user := startup.Parameters["user"]
	sysdba := false
	if m := privilegeOption.FindStringSubmatch(startup.Parameters["options"]); m != nil {
		switch strings.ToLower(m[1]) {
		case "sysdba":
			sysdba = true
		case "normal":
		default:
			return nil, fail("08004", fmt.Sprintf("unknown privilege %q", m[1]))
		}
	}
	be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := be.Flush(); err != nil {
		return nil, err
	}
	if err := be.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
		return nil, err
	}
	msg, err := be.Receive()
	if err != nil {
		return nil, err
	}
	pw, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return nil, fail("08P01", fmt.Sprintf("expected a password message, got %T", msg))
	}
	sess, err := s.connect(ctx, altisim.ConnectOptions{
		User:     user,
		Password: pw.Password,
		SysDBA:   sysdba,
		Remote:   !isLoopbackAddr(c.RemoteAddr()),
	})
	if err != nil {
		// libpq reports a refused startup as SQLSTATE 08001 whatever the
		// server sends, and psqlODBC as NativeError 101: the Altibase code
		// survives only in the message, so it is written there as Altibase
		// clients print it ("ERR-41041 : Another SYSDBA ...").
		code, _ := errorFields(err)
		return nil, fail(code, err.Error())
	}
	b := &backend{srv: s, c: c, be: be, sess: sess, secret: make([]byte, 4)}
	if _, err := rand.Read(b.secret); err != nil {
		sess.Close()
		return nil, fail("XX000", "generating the cancel key: "+err.Error())
	}
	s.register(b)
	be.Send(&pgproto3.AuthenticationOk{})
	for _, p := range [][2]string{
		{"server_version", "14.0"},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"standard_conforming_strings", "on"},
		{"DateStyle", "ISO, MDY"},
		{"integer_datetimes", "on"},
		{"TimeZone", "UTC"},
	} {
		be.Send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	be.Send(&pgproto3.BackendKeyData{ProcessID: b.pid, SecretKey: b.secret})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := be.Flush(); err != nil {
		s.unregister(b)
		sess.Close()
		return nil, err
	}
	return b, nil
}

// sysdbaGrace is how long a SYSDBA connect waits for the slot before it
// is refused with ERR-41041. The PostgreSQL protocol does not acknowledge
// Terminate, so a client that disconnects and at once reconnects as SYSDBA
// (measured: 8 in 3000 back-to-back reconnects through psqlODBC) could
// otherwise find its own previous session still holding the slot.
const sysdbaGrace = 100 * time.Millisecond

// connect opens the engine session, waiting up to sysdbaGrace for a busy
// SYSDBA slot.
func (s *Server) connect(ctx context.Context, o altisim.ConnectOptions) (*altisim.Session, error) {
	deadline := time.Now().Add(sysdbaGrace)
	for {
		sess, err := s.Engine.Connect(ctx, o)
		var ae *altisim.Error
		if err == nil || !o.SysDBA || !errors.As(err, &ae) || ae.Code != 0x41041 || time.Now().After(deadline) {
			return sess, err
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return nil, err
		}
	}
}

func isLoopbackAddr(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	// Unix sockets are local.
	return true
}

func (s *Server) register(b *backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.backs == nil {
		s.backs = map[uint32]*backend{}
	}
	s.nextPID++
	b.pid = s.nextPID
	s.backs[b.pid] = b
}

func (s *Server) unregister(b *backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.backs, b.pid)
}

// cancelStatement cancels the running statement of the connection with
// that process id and secret; a wrong secret is ignored, as PostgreSQL does.
func (s *Server) cancelStatement(pid uint32, secret []byte) {
	s.mu.Lock()
	b := s.backs[pid]
	s.mu.Unlock()
	if b == nil || subtle.ConstantTimeCompare(b.secret, secret) != 1 {
		return
	}
	b.cancelMu.Lock()
	defer b.cancelMu.Unlock()
	if b.cancel != nil {
		b.cancel()
	}
}

// errCanceled marks a statement cancelled by a CancelRequest.
var errCanceled = errors.New("canceling statement due to user request")

// loop serves Query messages until the client terminates or the
// connection fails. The extended protocol is refused: psqlODBC with
// UseServerSidePrepare=0 does not use it.
func (b *backend) loop(ctx context.Context) {
	skipToSync := false
	for {
		msg, err := b.be.Receive()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			if b.srv.OnQuery != nil {
				b.srv.OnQuery(m.String)
			}
			if !b.query(ctx, m.String) {
				return
			}
		case *pgproto3.Terminate:
			return
		case *pgproto3.Sync:
			skipToSync = false
			b.be.Send(&pgproto3.ReadyForQuery{TxStatus: b.txStatus()})
		case *pgproto3.Flush:
		case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
			if !skipToSync {
				skipToSync = true
				b.be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "0A000",
					Message: "the extended query protocol is not supported: use UseServerSidePrepare=0"})
			}
		default:
			b.be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "08P01",
				Message: fmt.Sprintf("unsupported message %T", msg)})
			b.be.Flush()
			return
		}
		if err := b.be.Flush(); err != nil {
			return
		}
	}
}

func (b *backend) txStatus() byte {
	switch {
	case b.txFailed:
		return 'E'
	case b.inTx:
		return 'T'
	}
	return 'I'
}

// query runs the statements of one Query message in order, stopping at the
// first error, then sends ReadyForQuery. It reports false when the
// connection must be closed (a dropped-connection fault).
func (b *backend) query(ctx context.Context, q string) bool {
	stmts := SplitStatements(q)
	if len(stmts) == 0 {
		b.be.Send(&pgproto3.EmptyQueryResponse{})
	}
	// A CancelRequest cancels the whole Query message, as in PostgreSQL:
	// also one arriving between two of its statements.
	qctx, cancel := context.WithCancelCause(ctx)
	b.cancelMu.Lock()
	b.cancel = func() { cancel(errCanceled) }
	b.cancelMu.Unlock()
	defer func() {
		b.cancelMu.Lock()
		b.cancel = nil
		b.cancelMu.Unlock()
		cancel(nil)
	}()
	for _, st := range stmts {
		res, err := b.statement(qctx, st)
		if errors.Is(err, altisim.ErrConnectionDropped) {
			return false
		}
		if err != nil {
			code, text := errorFields(err)
			b.be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: text})
			if b.inTx {
				b.txFailed = true
			}
			break
		}
		b.sendResult(res)
	}
	b.be.Send(&pgproto3.ReadyForQuery{TxStatus: b.txStatus()})
	return true
}

// errorFields is the SQLSTATE and message of err on the wire.
func errorFields(err error) (code, message string) {
	var ae *altisim.Error
	var pe *pgError
	switch {
	case errors.As(err, &ae):
		return ae.SQLState(), ae.Message
	case errors.As(err, &pe):
		return pe.code, pe.message
	case errors.Is(err, errCanceled), errors.Is(err, context.Canceled):
		return "57014", errCanceled.Error()
	}
	return "XX000", err.Error()
}

// housekeeping answers the statements psqlODBC sends on its own
// (docs/altisim.md, "PostgreSQL wire server and psqlODBC": at connect "SET
// DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation"
// and the pg_type query for 'lo'), and transaction control, which is moot in
// an autocommit engine. ok is false for statements the engine must run.
func (b *backend) housekeeping(st string) (res *result, ok bool) {
	words := strings.Fields(strings.ToUpper(st))
	if len(words) == 0 {
		return nil, false
	}
	switch words[0] {
	case "SET":
		// Altibase has no bare SET: its own are ALTER SYSTEM/SESSION SET.
		return &result{Result: &altisim.Result{Tag: "SET"}}, true
	case "SHOW":
		name := strings.ToLower(strings.Join(words[1:], " "))
		val := map[string]string{
			"transaction_isolation":       "read committed",
			"client_encoding":             "UTF8",
			"server_version":              "14.0",
			"standard_conforming_strings": "on",
			"datestyle":                   "ISO, MDY",
			"max_identifier_length":       "63",
		}[name]
		return &result{Result: &altisim.Result{Columns: []string{name}, Rows: [][]altisim.Value{{val}}, Tag: "SHOW"}}, true
	case "BEGIN", "START":
		b.inTx, b.txFailed = true, false
		return &result{Result: &altisim.Result{Tag: "BEGIN"}}, true
	case "COMMIT", "END":
		b.inTx, b.txFailed = false, false
		return &result{Result: &altisim.Result{Tag: "COMMIT"}}, true
	case "ROLLBACK", "ABORT":
		if len(words) > 1 && words[1] == "TO" {
			b.txFailed = false
		} else {
			b.inTx, b.txFailed = false, false
		}
		return &result{Result: &altisim.Result{Tag: "ROLLBACK"}}, true
	case "SAVEPOINT":
		return &result{Result: &altisim.Result{Tag: "SAVEPOINT"}}, true
	case "RELEASE":
		return &result{Result: &altisim.Result{Tag: "RELEASE"}}, true
	}
	if lower := strings.ToLower(st); strings.Contains(lower, "from pg_type") && strings.Contains(lower, "typname = 'lo'") {
		// psqlODBC looks up the large-object type 'lo': there is none.
		return &result{Result: &altisim.Result{Columns: []string{"oid", "typbasetype"}, Tag: "SELECT"}, oids: []uint32{oidOID, oidOID}}, true
	}
	return nil, false
}

// result is a statement's result and, for housekeeping answers, the
// PostgreSQL types of its columns (nil: derived from the values).
type result struct {
	*altisim.Result
	oids []uint32
}

// pgError is an error of the wire server itself, with a PostgreSQL SQLSTATE.
type pgError struct{ code, message string }

func (e *pgError) Error() string { return e.message }

// statement runs one statement: housekeeping here, the rest on the engine
// with ctx, the Query message's context that a CancelRequest cancels.
func (b *backend) statement(ctx context.Context, st string) (*result, error) {
	if res, ok := b.housekeeping(st); ok {
		return res, nil
	}
	if b.txFailed {
		return nil, &pgError{"25P02", "current transaction is aborted, commands ignored until end of transaction block"}
	}
	if errors.Is(context.Cause(ctx), errCanceled) {
		return nil, errCanceled
	}
	res, err := b.sess.Exec(ctx, st)
	if err != nil && errors.Is(context.Cause(ctx), errCanceled) {
		err = errCanceled
	}
	if err != nil {
		return nil, err
	}
	return &result{Result: res}, nil
}

// sendResult sends one statement's rows (if it has columns) and its
// command tag.
func (b *backend) sendResult(r *result) {
	res := r.Result
	if res == nil {
		res = &altisim.Result{}
	}
	if res.Columns != nil {
		fields := make([]pgproto3.FieldDescription, len(res.Columns))
		for i, name := range res.Columns {
			oid, size := columnType(res, i)
			if i < len(r.oids) {
				oid, size = r.oids[i], typeSize(r.oids[i])
			}
			fields[i] = pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: oid, DataTypeSize: size, TypeModifier: -1}
		}
		b.be.Send(&pgproto3.RowDescription{Fields: fields})
		for _, row := range res.Rows {
			vals := make([][]byte, len(res.Columns))
			for i := range vals {
				if i < len(row) {
					vals[i] = formatValue(row[i])
				}
			}
			b.be.Send(&pgproto3.DataRow{Values: vals})
		}
	}
	b.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(commandTag(res))})
}

// columnType is the PostgreSQL type of column i, from its first non-NULL
// value: int8, float8 or text.
func columnType(res *altisim.Result, i int) (oid uint32, size int16) {
	for _, row := range res.Rows {
		if i >= len(row) || row[i] == nil {
			continue
		}
		switch row[i].(type) {
		case int64, int, int32:
			return oidInt8, 8
		case float64, float32:
			return oidFloat8, 8
		}
		return oidText, -1
	}
	return oidText, -1
}

// typeSize is the wire size of a type (-1: variable).
func typeSize(oid uint32) int16 {
	switch oid {
	case oidInt8, oidFloat8:
		return 8
	case oidOID:
		return 4
	}
	return -1
}

// formatValue is the text format of a value; nil is SQL NULL.
func formatValue(v altisim.Value) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []byte(x)
	case int64:
		return strconv.AppendInt(nil, x, 10)
	case float64:
		return strconv.AppendFloat(nil, x, 'g', -1, 64)
	case []byte:
		return x
	}
	return []byte(fmt.Sprint(v))
}

// commandTag is the CommandComplete tag psqlODBC reads the row count from
// (SQLRowCount): "SELECT n", "INSERT 0 n", "UPDATE n", "DELETE n", or the
// engine's tag for other statements.
func commandTag(res *altisim.Result) string {
	switch res.Tag {
	case "SELECT":
		return "SELECT " + strconv.Itoa(len(res.Rows))
	case "INSERT":
		return "INSERT 0 " + strconv.FormatInt(res.RowsAffected, 10)
	case "UPDATE", "DELETE":
		return res.Tag + " " + strconv.FormatInt(res.RowsAffected, 10)
	case "":
		if res.Columns != nil {
			return "SELECT " + strconv.Itoa(len(res.Rows))
		}
		return "OK"
	}
	return res.Tag
}
