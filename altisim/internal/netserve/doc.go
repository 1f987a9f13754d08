// Package netserve is the accept loop the simulator's two TCP servers share:
// the replication listener (altisim.ServeReplication) and the PostgreSQL
// wire server (altisim/pgwire).
package netserve
