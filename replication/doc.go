// Package replication is everything in aku that speaks Altibase SQL: the
// object names PREFIX_ij (docs/behaviour.md, "Replication objects"),
// statement builders that accept validated identifiers only, one session per
// server over a pinned *sql.Conn, the per-statement timeout and retry policy,
// classification of Altibase errors, and the state queries on
// SYSTEM_.SYS_REPLICATIONS_ and friends.
//
// It knows nothing about pods, files or the environment.
//
// The session layer is shaped by the driver gotchas of docs/odbc.md:
// one pinned connection per server (one SYSDBA session per server, and no
// silent re-run of a statement after a lost reply); every statement through
// QueryContext, the only cancellable call of alexbrainman/odbc, taking "Stmt
// did not create a result set" as success; connects run beside the caller so
// its context bounds the wait; and a cancel the driver never completes (a
// network partition) gives the session up after a grace instead of hanging.
// Which Altibase codes are retried, and why, is documented on Retryable.
package replication
