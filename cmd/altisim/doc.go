// Command altisim runs a simulated Altibase server (package altisim) that
// clients reach over the PostgreSQL wire protocol, through unixODBC and
// psqlODBC, exactly as aku reaches a real server over ODBC. It is test
// infrastructure: the end-to-end tests and the demo run one per pod.
//
//	altisim serve --listen HOST:PORT --replication-listen HOST:PORT --data DIR
//	              [--sys-password PW] [--admin-mode 0|1] [--property NAME=VALUE]...
//	              [--replication-lag D] [--statement-latency D] [--name HOST] [--control ADDR]
//	altisim fault add|list|clear|latency|sync-delay|send-rate|hold-sysdba|release-sysdba|hold-sender|release-sender|log|shutdown --control ADDR ...
//
// serve prints one line starting "altisim ready" once it accepts clients.
// State lives in DIR: a graceful stop (SIGTERM, SIGINT) and kill -9 both
// keep every acknowledged statement. Environment variables
// ALTIBASE_<PROPERTY> (ALTIBASE_ADMIN_MODE, ALTIBASE_REMOTE_SYSDBA_ENABLE
// ...) override the flags, as they override altibase.properties on a real
// server (Altibase General Reference, "Altibase Properties").
//
// The control path is HTTP with JSON bodies on --control (a TCP HOST:PORT,
// or a unix socket path; default DIR/control.sock); `altisim fault` is its
// client. See docs/altisim.md, "Wire, binary and control path".
package main
