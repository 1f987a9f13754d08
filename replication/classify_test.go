package replication

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
)

// stateErr is a driver error with a SQLSTATE, as the altisim driver's are.
type stateErr struct{ state, msg string }

func (e *stateErr) Error() string    { return e.msg }
func (e *stateErr) SQLState() string { return e.state }

// diagErr stands for an *odbc.Error: diagnose below reads it as cmd/aku's
// odbcDiagnostics reads the real one.
type diagErr struct {
	state  string
	native int
	msg    string
}

func (e *diagErr) Error() string { return e.msg }

func diagnose(err error) (string, int, bool) {
	var d *diagErr
	if !errors.As(err, &d) {
		return "", 0, false
	}
	return d.state, d.native, true
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		diagnose func(error) (string, int, bool)
		code     uint32
		ok       bool
	}{
		{"altisim SQLSTATE", &stateErr{"6100D", "ERR-6100D : x"}, nil, 0x6100D, true},
		{"wrapped SQLSTATE", fmt.Errorf("x: %w", &stateErr{"41041", "busy"}), nil, 0x41041, true},
		{"lower-case hex", &stateErr{"610fe", ""}, nil, 0x610FE, true},
		{"ODBC state 08001 is not a code", &stateErr{"08001", ""}, nil, 0, false},
		{"08S01 is not a code", &stateErr{"08S01", ""}, nil, 0, false},
		{"HY000 is not a code", &stateErr{"HY000", ""}, nil, 0, false},
		{"native error wins", &diagErr{"HY000", 0x6111B, ""}, diagnose, 0x6111B, true},
		{"native 1 falls back to the state", &diagErr{"61100", 1, ""}, diagnose, 0x61100, true},
		{"native 0 and a non-hex state", &diagErr{"HY000", 0, ""}, diagnose, 0, false},
		{"diagnose does not know it: SQLState()", &stateErr{"11075", ""}, diagnose, 0x11075, true},
		{"plain error", errors.New("boom"), diagnose, 0, false},
		{"psqlODBC refused connect: code only in the message", &diagErr{"08001", 101, "FATAL:  ERR-41041 : Another SYSDBA session is already running."}, diagnose, 0x41041, true},
		{"native below any Altibase code is not one", &diagErr{"HY000", 108, "no code here"}, diagnose, 0, false},
		{"message code without diagnostics", errors.New("connect: ERR-4106E : admin mode"), nil, 0x4106E, true},
		{"ERR- followed by six hex digits is not a code", errors.New("ERR-6100DA"), nil, 0, false},
		{"second ERR- in the message", errors.New("ERR-xyz then ERR-6111B : undefined"), nil, 0x6111B, true},
		{"SQLState wins over the message", &stateErr{"6100D", "ERR-41041 : x"}, nil, 0x6100D, true},
		{"nil", nil, diagnose, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ok := CodeOf(tt.err, tt.diagnose)
			if code != tt.code || ok != tt.ok {
				t.Errorf("CodeOf = %#x, %v; want %#x, %v", code, ok, tt.code, tt.ok)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	retryable := map[uint32]bool{
		CodeHandshake: true, CodeNoReceiver: true, CodeLockTimeout: true, CodeDeadlock: true,
	}
	for _, code := range []uint32{
		CodeDeadlock, CodeLockTimeout, CodeDDLOnReplicatedTable, CodeDDLDisabled, CodeSysdbaBusy,
		CodeAdminMode, CodeRemoteSysdba, CodeCannotConnect, CodeAlreadyStarted, CodeNoReceiver,
		CodeHandshake, CodeNotStarted, CodeReplicationStarted, CodeDuplicateName, CodeMaxCount,
		CodeUndefinedName, 0,
	} {
		if got := Retryable(code); got != retryable[code] {
			t.Errorf("Retryable(%#x) = %v, want %v", code, got, retryable[code])
		}
	}
}

func TestLostConnection(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{driver.ErrBadConn, true},
		{fmt.Errorf("x: %w", driver.ErrBadConn), true},
		{sql.ErrConnDone, true},
		{&diagErr{"08S01", 0, "link failure"}, true},
		{&stateErr{"08S01", ""}, true},
		{&stateErr{"6100D", ""}, false},
		{errors.New("Stmt did not create a result set"), false},
	}
	for _, tt := range tests {
		if got := lostConnection(tt.err, diagnose); got != tt.want {
			t.Errorf("lostConnection(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestStatementErrorText(t *testing.T) {
	const stmt = "ALTER REPLICATION AKU_REP_01 START"
	tests := []struct {
		name string
		err  *StatementError
		want string
	}{
		{
			name: "altisim error",
			err: &StatementError{Host: "altibase-sts-1.altibase-svc", Stmt: stmt, Code: 0x6100D, Tries: 1, Class: ErrStatement,
				Err: &stateErr{"6100D", "ERR-6100D : [Sender] Failed to handshake with the peer server (no receiver)"}},
			want: "on altibase-sts-1.altibase-svc: ALTER REPLICATION AKU_REP_01 START: ERR-6100D : [Sender] Failed to handshake with the peer server (no receiver)",
		},
		{
			name: "odbc decoration is cut, tries counted",
			err: &StatementError{Host: "h", Stmt: stmt, Code: 0x6100D, Tries: 6, Class: ErrStatement,
				Err: &diagErr{"6100D", 1, "SQLExecute: {6100D} ERROR: ERR-6100D : [Sender] Failed to handshake;\nError while executing the query"}},
			want: "on h: ALTER REPLICATION AKU_REP_01 START: ERR-6100D : [Sender] Failed to handshake (tried 6 times)",
		},
		{
			name: "code only in NativeError",
			err: &StatementError{Host: "h", Stmt: stmt, Code: 0x610FE, Tries: 1, Class: ErrStatement,
				Err: &diagErr{"HY000", 0x610FE, "Replication has already started."}},
			want: "on h: ALTER REPLICATION AKU_REP_01 START: ERR-610FE : Replication has already started.",
		},
		{
			name: "lost connection",
			err:  &StatementError{Host: "h", Stmt: stmt, Tries: 1, Class: ErrUnreachable, Err: driver.ErrBadConn},
			want: "on h: ALTER REPLICATION AKU_REP_01 START: connection lost, the statement may or may not have run: driver: bad connection",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if !errors.Is(tt.err, tt.err.Class) {
				t.Errorf("does not wrap its class %v", tt.err.Class)
			}
		})
	}
}
