// Package driver is a database/sql driver, registered as "altisim", that
// opens sessions on the in-process servers of an altisim.Cluster, so that
// aku's flows can be tested fast, without cgo, network or root:
//
//	import _ "github.com/aku-project/aku/altisim/driver"
//
//	db, err := sql.Open("altisim", "CLUSTER=t1;HOST=altibase-sts-0.altibase-svc;PORT=20300;UID=SYS;PWD=manager;PRIVILEGE=SYSDBA;CONNECT_TIMEOUT=3")
//
// The data source name is an ODBC connection string, so that aku's
// connection-string template ({host} {port} {user} {password}) works
// unchanged: key=value pairs separated by ';', keys case-insensitive, a
// value containing ';' quoted in braces ({a;b}, with '}}' for '}'). Keys:
//
//	CLUSTER          the registered altisim.Cluster (required)
//	HOST             host name of a server of the cluster (aliases SERVER, DSN, HOSTNAME)
//	PORT             SQL port (alias PORT_NO); checked only if the cluster sets one
//	UID              user (aliases USER, USERNAME, USERID)
//	PWD              password (alias PASSWORD)
//	PRIVILEGE        SYSDBA asks for the SYSDBA privilege (Altibase CLI User's Manual)
//	CONNECT_TIMEOUT  seconds a hanging connect waits (aliases TIMEOUT, CONNECTION_TIMEOUT)
//
// Other keys (DRIVER, NLS_USE ...) are accepted and ignored, as ODBC drivers
// do. A client is remote (REMOTE_SYSDBA_ENABLE, Altibase CLI User's Manual)
// unless HOST is a loopback name.
//
// Each statement runs alone in autocommit; Begin returns a transaction whose
// Commit and Rollback do nothing. Placeholders are not supported (aku does
// not use them: psqlODBC would rewrite '?'). A statement that returns no
// rows, run through QueryContext, yields empty Rows without columns (where
// alexbrainman/odbc returns the error "Stmt did not create a result set").
// Server refusals are *altisim.Error values (code and SQLSTATE); a dropped
// connection becomes driver.ErrBadConn, as SQLSTATE 08S01 does through
// alexbrainman/odbc; network failures at connect are *ConnectError.
package driver
