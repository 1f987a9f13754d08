package altisim

import "fmt"

// Altibase errors the engine raises. Codes and texts come from
// spec/altibase.md §3.4 ([C]) unless marked [I]: where no source gives the
// code, the simulator picks one in the right module range (0x31xxx QP,
// 0x41xxx MM, 0x61xxx RP) and docs/altisim.md lists it as inferred.
var (
	// altibase.md §3.4: one SYSDBA task per server.
	errSysdbaBusy = &Error{Code: 0x41041, Message: "Another SYSDBA session is already running."}
	// altibase.md §3.3/§3.4: ADMIN_MODE = 1 admits SYS/SYSTEM_ as SYSDBA only.
	errAdminMode = &Error{Code: 0x4106E, Message: "If ADMIN_MODE is activated, only the users SYS and SYSTEM_ can connect to the server with SYSDBA privileges."}
	// altibase.md §4 (CLI manual shows ERR-410C8).
	errRemoteSysdba = &Error{Code: 0x410C8, Message: "remote access as SYSDBA not allowed"}
	// [I] code and text of a login with an unknown user or a wrong password.
	errLogin = &Error{Code: 0x4100C, Message: "Invalid username or password."}
	// altibase.md §3.4.
	errSenderStarted  = &Error{Code: 0x6100A, Message: "The sender has already been started."}
	errNotStarted     = &Error{Code: 0x61027, Message: "Replication did not start."}
	errReplStarted    = &Error{Code: 0x610FE, Message: "Replication has already started."}
	errReplDDLEnable  = &Error{Code: 0x312C4, Message: "Cannot execute a DDL statement on a replicated table when the system property REPLICATION_DDL_ENABLE is 0."}
	errReplicatedDDL  = &Error{Code: 0x31020, Message: "You cannot execute DDL on a replicated table."}
	errQueryTimeout   = &Error{Code: 0x01044, Message: "Query timeout"} // [I] code
	errSessionClosed  = &Error{Code: 0x410D5, Message: "Client unable to establish connection."}
	errNoReceiverHere = &Error{Code: 0x6100C, Message: "The receiver does not exist."}
)

func errDuplicateRepl(name string) *Error {
	return &Error{Code: 0x61100, Message: fmt.Sprintf("Duplicate replication names [%s]", name)}
}

func errMaxRepl(max int64) *Error {
	return &Error{Code: 0x61102, Message: fmt.Sprintf("No more replications may be created (REPLICATION_MAX_COUNT = %d).", max)}
}

func errUndefinedRepl(name string) *Error {
	return &Error{Code: 0x6111B, Message: fmt.Sprintf("Undefined replication name [%s]", name)}
}

func errHandshake(reason string) *Error {
	return &Error{Code: 0x6100D, Message: fmt.Sprintf("[Sender] Failed to handshake with the peer server (%s)", reason)}
}

func errNoTable(name string) *Error {
	return &Error{Code: 0x31031, Message: "Table or view was not found : " + name}
}

// [I] codes below: no source gives them.
func errTableExists(name string) *Error {
	return &Error{Code: 0x31032, Message: "Duplicate table name : " + name}
}

func errNoPK(name string) *Error {
	return &Error{Code: 0x610A9, Message: fmt.Sprintf("The replicated table %s has no primary key.", name)}
}

func errProperty(name string) *Error {
	return &Error{Code: 0x10024, Message: fmt.Sprintf("Property [%s] not found", name)}
}

func errPropertyReadOnly(name string) *Error {
	return &Error{Code: 0x10025, Message: fmt.Sprintf("Property [%s] is read-only", name)}
}

func errPropertyRange(name string, v int64) *Error {
	return &Error{Code: 0x10026, Message: fmt.Sprintf("Value %d is out of the range of property [%s]", v, name)}
}

func errInvalidParallel(n int) *Error {
	return &Error{Code: 0x610B2, Message: fmt.Sprintf("Invalid PARALLEL value %d for SYNC", n)}
}

func errReplItem(why string) *Error {
	return &Error{Code: 0x610B3, Message: why}
}
