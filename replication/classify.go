package replication

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Altibase error codes aku branches on (Altibase Error Message Reference;
// codes are the module base plus the index in the message catalogues of the
// 2018 open-source edition: 0x1xxxx storage, 0x3xxxx query processor,
// 0x4xxxx main module, 0x6xxxx replication).
const (
	// CodeDeadlock: "A deadlock situation has been detected." The victim
	// was rolled back and may simply be run again.
	CodeDeadlock = 0x11041
	// CodeLockTimeout: "The transaction has exceeded the lock timeout
	// specified by the user." SYNC takes S-locks and TRUNCATE an X-lock on
	// the replicated tables; an application transaction holding a row can
	// make them wait past the lock timeout.
	CodeLockTimeout = 0x11075
	// CodeDDLOnReplicatedTable: "You cannot execute DDL on a replicated
	// table." (TRUNCATE with REPLICATION_DDL_ENABLE = 0).
	CodeDDLOnReplicatedTable = 0x31020
	// CodeDDLDisabled: ERR-312C4, DDL refused because REPLICATION_DDL_ENABLE
	// is 0.
	CodeDDLDisabled = 0x312C4
	// CodeSysdbaBusy: "Another SYSDBA session is already running."
	CodeSysdbaBusy = 0x41041
	// CodeAdminMode: ADMIN_MODE = 1 admits SYS and SYSTEM_ as SYSDBA only.
	CodeAdminMode = 0x4106E
	// CodeRemoteSysdba: remote access as SYSDBA not allowed
	// (REMOTE_SYSDBA_ENABLE = 0; 0x410C9 in older catalogues).
	CodeRemoteSysdba = 0x410C8
	// CodeCannotConnect: "Client unable to establish connection."
	CodeCannotConnect = 0x410D5
	// CodeAlreadyStarted: "The sender has already been started."
	CodeAlreadyStarted = 0x6100A
	// CodeNoReceiver: "The receiver does not exist."
	CodeNoReceiver = 0x6100C
	// CodeHandshake: "[Sender] Failed to handshake with the peer server".
	CodeHandshake = 0x6100D
	// CodeNotStarted: "Replication did not start."
	CodeNotStarted = 0x61027
	// CodeReplicationStarted: "Replication has already started." (DROP,
	// RESET or ALTER of a started replication).
	CodeReplicationStarted = 0x610FE
	// CodeDuplicateName: "Duplicate replication names".
	CodeDuplicateName = 0x61100
	// CodeMaxCount: "No more replications may be created"
	// (REPLICATION_MAX_COUNT).
	CodeMaxCount = 0x61102
	// CodeUndefinedName: "Undefined replication name".
	CodeUndefinedName = 0x6111B
)

// CodeOf returns the Altibase error code carried by err. The real Altibase
// ODBC driver puts it in the diagnostic record's NativeError; psqlODBC in
// front of the altisim simulator carries it as a 5-hex-digit SQLSTATE
// (docs/odbc.md, "Error codes"). So a NativeError that can be an Altibase
// code wins, else a SQLSTATE of 5 hex digits not starting with '0' (ODBC's
// own states such as 08001 or 01000 are not Altibase codes; 08S01 and HY000
// are not hex), else an "ERR-xxxxx" in the message.
//
// The message is the last resort because a refused connect loses both
// fields on the way through libpq and psqlODBC (SQLSTATE 08001, NativeError
// 101, whatever the server sent): only the text keeps the code there, as
// in "ERR-41041 : Another SYSDBA session is already running.".
//
// diagnose extracts (SQLSTATE, NativeError) from a driver error, as
// cmd/aku does for *odbc.Error; when it is nil or does not recognise err,
// CodeOf looks for an error in the chain with a SQLState() string method,
// as the altisim driver's errors have.
func CodeOf(err error, diagnose func(error) (state string, native int, ok bool)) (code uint32, ok bool) {
	if err == nil {
		return 0, false
	}
	if diagnose != nil {
		if state, native, ok := diagnose(err); ok {
			if native >= minAltibaseCode {
				return uint32(native), true
			}
			if code, ok := codeOfState(state); ok {
				return code, true
			}
			return codeOfMessage(err.Error())
		}
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		if code, ok := codeOfState(st.SQLState()); ok {
			return code, true
		}
	}
	return codeOfMessage(err.Error())
}

// minAltibaseCode is the smallest Altibase error code: every code is five
// hex digits with a non-zero module digit (the module bases above), while
// other drivers' native errors (psqlODBC's 101, 108 ...) are small numbers.
const minAltibaseCode = 0x10000

// codeOfMessage finds "ERR-xxxxx" (five hex digits, then a non-hex
// character or the end) in an error message.
func codeOfMessage(msg string) (uint32, bool) {
	for i := strings.Index(msg, "ERR-"); i >= 0; {
		rest := msg[i+4:]
		if len(rest) >= 5 && (len(rest) == 5 || !isHex(rest[5])) {
			if code, ok := codeOfState(rest[:5]); ok {
				return code, true
			}
		}
		j := strings.Index(rest, "ERR-")
		if j < 0 {
			break
		}
		i += 4 + j
	}
	return 0, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func codeOfState(state string) (uint32, bool) {
	if len(state) != 5 || state[0] == '0' {
		return 0, false
	}
	v, err := strconv.ParseUint(state, 16, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// Retryable reports whether a statement that failed with code may succeed
// if run again unchanged, so that Exec spends AKU_QUERY_RETRY_COUNT on it:
//
//   - CodeHandshake, CodeNoReceiver: START and SYNC handshake with the
//     peer's receiver. Pods start one after another and the peer may not
//     have its replication listener up, or its object of the same name,
//     yet (ERR-6100D when the peer is unreachable, Altibase CloudNative FAQ).
//   - CodeLockTimeout, CodeDeadlock: SYNC and TRUNCATE lock the replicated
//     tables; an application transaction may hold them for a moment. The
//     statement was rolled back and can be run again.
//
// Everything else is not retryable: it states a fact about the objects
// (duplicate or undefined name, already started, maximum count, DDL not
// enabled, syntax) that running the same statement again cannot change, so
// retrying would only delay the error by COUNT × DELAY.
func Retryable(code uint32) bool {
	switch code {
	case CodeHandshake, CodeNoReceiver, CodeLockTimeout, CodeDeadlock:
		return true
	}
	return false
}

// lostConnection reports whether err means the connection went away with
// the statement's outcome unknown: database/sql's ErrBadConn (which
// alexbrainman/odbc returns for SQLSTATE 08S01, its message dropped:
// docs/odbc.md, "A lost reply is never re-run") or a use of a connection
// database/sql already gave up on.
func lostConnection(err error, diagnose func(error) (string, int, bool)) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	if diagnose != nil {
		if state, _, ok := diagnose(err); ok && (state == "08S01" || state == "08003") {
			return true
		}
	}
	var st interface{ SQLState() string }
	return errors.As(err, &st) && (st.SQLState() == "08S01" || st.SQLState() == "08003")
}

// noResultSet reports the alexbrainman/odbc error for a QueryContext of a
// statement that returns no rows. It comes after the statement ran to
// completion, so for Exec it means success (docs/odbc.md, "Statements run
// through QueryContext").
func noResultSet(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Stmt did not create a result set")
}

// StatementError is a statement the server rejected, or that timed out or
// lost its connection. It wraps exactly one of ErrStatement, ErrTimeout and
// ErrUnreachable, and the driver's error.
type StatementError struct {
	Host  string // server the statement ran on
	Stmt  string // the SQL text
	Code  uint32 // Altibase code, 0 when none was found
	Tries int    // how many times the statement was sent
	Class error  // ErrStatement, ErrTimeout or ErrUnreachable
	Err   error  // the driver's (or context's) error
}

// Error reads like "on altibase-sts-1.altibase-svc: ALTER REPLICATION
// AKU_REP_01 START: ERR-6100D : [Sender] Failed to handshake ...".
func (e *StatementError) Error() string {
	var msg string
	switch {
	case errors.Is(e.Class, ErrTimeout):
		msg = e.Class.Error() + ": " + e.Err.Error()
	case errors.Is(e.Class, ErrUnreachable):
		msg = "connection lost, the statement may or may not have run: " + driverMessage(e.Err, e.Code)
	default:
		msg = driverMessage(e.Err, e.Code)
	}
	s := fmt.Sprintf("on %s: %s: %s", e.Host, e.Stmt, msg)
	if e.Tries > 1 {
		s += fmt.Sprintf(" (tried %d times)", e.Tries)
	}
	return s
}

// Unwrap returns the class and the driver's error, for errors.Is and
// errors.As.
func (e *StatementError) Unwrap() []error { return []error{e.Class, e.Err} }

// driverMessage is the driver's text from the "ERR-xxxxx" on when present:
// alexbrainman/odbc prefixes the API name and "{state}", psqlODBC prefixes
// "ERROR: " and appends a line of its own.
func driverMessage(err error, code uint32) string {
	text := err.Error()
	if code != 0 {
		tag := fmt.Sprintf("ERR-%05X", code)
		if i := strings.Index(text, tag); i >= 0 {
			text = text[i:]
			if j := strings.IndexAny(text, "\r\n"); j >= 0 {
				text = text[:j]
			}
			return strings.TrimRight(text, "; ")
		}
		return tag + " : " + text
	}
	return text
}
