package replication

import "errors"

// Error classes the command line maps to exit codes. Errors returned by this
// package wrap at most one of them.
var (
	// ErrUnreachable: a server could not be connected to (refused, no such
	// host, connect timeout, lost connection).
	ErrUnreachable = errors.New("server unreachable")
	// ErrSysdbaBusy: the server already has a SYSDBA session (ERR-41041).
	ErrSysdbaBusy = errors.New("another SYSDBA session is already running")
	// ErrRefused: the server answered and refused the session with an
	// Altibase error (a wrong SYS password, REMOTE_SYSDBA_ENABLE = 0 ...).
	// Trying again does not help; the configuration must change.
	ErrRefused = errors.New("server refused the session")
	// ErrStatement: the server rejected a statement, after any retries.
	ErrStatement = errors.New("statement failed")
	// ErrTimeout: a statement ran past AKU_QUERY_TIMEOUT and was cancelled
	// (podlife also wraps it when an end's deadline passed).
	ErrTimeout = errors.New("statement timed out")
	// ErrDriver: the ODBC driver manager could not use the driver (its
	// library is missing or not an ODBC driver, a data source is not
	// defined): a configuration error of this pod, not of a server, and
	// never cured by trying again.
	ErrDriver = errors.New("ODBC driver unusable")
	// ErrNoAnswer: a connect did not complete in time (a host that drops
	// SYNs, a frozen server); it comes with ErrUnreachable. Unlike a
	// missing host, such a server exists.
	ErrNoAnswer = errors.New("no answer in time")
)
