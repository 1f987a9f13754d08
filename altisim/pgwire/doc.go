// Package pgwire serves an altisim.Server over the PostgreSQL wire
// protocol, so that clients reach the simulator through the production
// path: database/sql, alexbrainman/odbc, unixODBC and Debian's psqlODBC
// driver (docs/odbc.md, "The path").
//
// It implements what psqlODBC uses with UseServerSidePrepare=0: SSLRequest
// (refused with 'N'), the startup message, cleartext password
// authentication checked by the engine's Connect, simple Query messages
// holding one or more ';'-separated statements, and CancelRequest. Altibase
// errors travel as ErrorResponse with the 5-hex-digit code as SQLSTATE
// ("6100D") and the Altibase message as message text. A refused connect
// (wrong password, ERR-41041 a second SYSDBA session, ADMIN_MODE) is the
// exception: libpq turns it into SQLSTATE 08001 and psqlODBC into
// NativeError 101, so the code travels in the message instead, as
// "ERR-41041 : Another SYSDBA session is already running.". psqlODBC's
// connect-time housekeeping (SET DateStyle, SET extra_float_digits, show
// transaction_isolation, the pg_type query for 'lo') and transaction
// control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT ...) are answered here and
// never reach the engine: every engine statement is autocommitted.
//
// SYSDBA privilege (PRIVILEGE=SYSDBA, Altibase CLI User's Manual) is asked
// for with the startup parameter "options" holding "-c privilege=sysdba",
// which psqlODBC sends from pqopt={options='-c privilege=sysdba'}; see
// PsqlODBCTemplate. A SYSDBA connect waits up to 100 ms for a busy SYSDBA
// slot before ERR-41041, because the protocol does not acknowledge a
// client's Terminate: a client reconnecting at once could otherwise find
// its own previous session still holding the slot. A client that
// disconnects while its statement runs cancels it. A client is remote
// (REMOTE_SYSDBA_ENABLE) when its address is not a loopback address.
package pgwire
