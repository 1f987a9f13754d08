// Package replication is everything in aku that speaks Altibase SQL: the
// object names PREFIX_ij (spec §4), statement builders that accept validated
// identifiers only, one session per server over a pinned *sql.Conn, the
// per-statement timeout and retry policy, classification of Altibase errors,
// and the state queries on SYSTEM_.SYS_REPLICATIONS_ and friends.
//
// It knows nothing about pods, files or the environment.
package replication
