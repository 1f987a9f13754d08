package altisim

import "fmt"

// Altibase errors the engine raises. Codes and texts come from the sources
// docs/altisim.md names for each rule (the message catalogues of the 2018
// open-source edition, the CloudNative FAQ, the manuals: [C]) unless marked
// [I]: where no source gives the code, the simulator picks one in the right
// module range (0x31xxx QP, 0x41xxx MM, 0x61xxx RP) and docs/altisim.md
// lists it as inferred.
var (
	// One SYSDBA session per server (ERR-41041, Altibase CloudNative FAQ).
	errSysdbaBusy = &Error{Code: 0x41041, Message: "Another SYSDBA session is already running."}
	// ADMIN_MODE = 1 admits SYS/SYSTEM_ as SYSDBA only (Altibase General
	// Reference, "ADMIN_MODE"; the catalogues).
	errAdminMode = &Error{Code: 0x4106E, Message: "If ADMIN_MODE is activated, only the users SYS and SYSTEM_ can connect to the server with SYSDBA privileges."}
	// Remote SYSDBA refused (the Altibase CLI User's Manual shows ERR-410C8).
	errRemoteSysdba = &Error{Code: 0x410C8, Message: "remote access as SYSDBA not allowed"}
	// [I] code and text of a login with an unknown user or a wrong password.
	errLogin = &Error{Code: 0x4100C, Message: "Invalid username or password."}
	// The catalogues and the CloudNative FAQ (docs/altisim.md, "Modelled
	// rules").
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

// Partitioned tables: the Query Processor's catalogue (0x31000 + its
// number) and the Replication Manager's (0x61000 + its number), as the
// other codes here; docs/altisim.md, "Partitions", names the rule of each.
var (
	errListKeyColumns   = &Error{Code: 0x31262, Message: "Too many partition key columns"}
	errDefaultPartition = &Error{Code: 0x31263, Message: "The number of default partitions must be one in a range or list partitioned table"}
	errHashDefault      = &Error{Code: 0x31267, Message: "Hash partitioned table cannot have default partition"}
	errBoundTooLong     = &Error{Code: 0x3125E, Message: "A partition condition list contains too many elements"}
	errNotPartitioned   = &Error{Code: 0x31268, Message: "Unable to alter table partition on non-partitioned table"}
	// An UPDATE that would move a row to another partition: row movement
	// is disabled by default, and Altibase reports it with this code.
	errRowMovement = &Error{Code: 0x3128A, Message: "Inserted partition key is not mapped to any partition."}
)

func errPartKeyColumn(name string) *Error {
	return &Error{Code: 0x31261, Message: "Invalid partition key column name <" + name + ">"}
}

func errDupPartKeyColumn(name string) *Error {
	return &Error{Code: 0x3125F, Message: "Duplicate partition key column name <" + name + ">"}
}

func errDupPartName(name string) *Error {
	return &Error{Code: 0x3125D, Message: "Duplicate partition name <" + name + ">"}
}

func errPartCondValue(v Value) *Error {
	return &Error{Code: 0x31265, Message: fmt.Sprintf("Invalid partition key condition value : %v", v)}
}

func errDupPartCondValue(v Value) *Error {
	return &Error{Code: 0x31266, Message: fmt.Sprintf("Duplicate partition key condition value : %v", v)}
}

func errNoPartition(name string) *Error {
	return &Error{Code: 0x3125B, Message: "The table partition does not exist. <" + name + ">"}
}

// errReplPartition is a replication item naming a partition its table does
// not have, or a partition of a table that is not partitioned.
func errReplPartition(name string) *Error {
	return &Error{Code: 0x6114F, Message: "Partition not found : " + name}
}

// errReplUnit is SYNC ... TABLE naming a table or partition in another
// unit than its item's (a table item's partition, a partition item's table).
func errReplUnit(name string) *Error {
	return &Error{Code: 0x6114E, Message: "The replication units mismatch: " + name}
}

func errPartNameMismatch(theirs, mine string) *Error {
	return &Error{Code: 0x610D5, Message: fmt.Sprintf("The partition name of the replicated table does not match [%s:%s].", theirs, mine)}
}

func errPartMethodMismatch(theirTable, theirs, myTable, mine string) *Error {
	return &Error{Code: 0x610D6, Message: fmt.Sprintf("The partition method of the replicated table does not match [%s(%s):%s(%s)].", theirTable, theirs, myTable, mine)}
}

func errPartOrderMismatch(theirTable string, theirs int, myTable string, mine int) *Error {
	return &Error{Code: 0x610D7, Message: fmt.Sprintf("The partition order of the replicated table does not match [%s(%d):%s(%d)].", theirTable, theirs, myTable, mine)}
}

func errPartCondMismatch(theirs, mine string) *Error {
	return &Error{Code: 0x6115A, Message: fmt.Sprintf("The partition condition of the replicated table does not match. [%s:%s]", theirs, mine)}
}

func errReplItem(why string) *Error {
	return &Error{Code: 0x610B3, Message: why}
}
