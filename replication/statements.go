package replication

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/conf"
)

// The statement builders return a Statement: what it does (its Verb), the
// replication object it acts on, and the exact SQL of the Altibase
// Replication Manual ("CREATE REPLICATION", "ALTER REPLICATION", "DROP
// REPLICATION"), without a trailing ';' (ODBC sends one statement per
// call). Names come from a validated configuration; the builders still
// refuse anything that is not a plain identifier, so no caller can splice
// text into a statement.

// Verb is what a Statement does; callers act on it (the log line of a
// step) instead of reading the SQL text back.
type Verb string

// The verbs.
const (
	VerbCreate      Verb = "create"
	VerbDrop        Verb = "drop"
	VerbStart       Verb = "start"
	VerbStop        Verb = "stop"
	VerbReset       Verb = "reset"
	VerbSync        Verb = "sync"
	VerbFlush       Verb = "flush"
	VerbTruncate    Verb = "truncate"
	VerbSetProperty Verb = "set property"
)

// Statement is one statement aku runs.
type Statement struct {
	Verb Verb
	// Replication is the replication object the statement acts on; ""
	// for TRUNCATE and ALTER SYSTEM.
	Replication string
	SQL         string
}

// String is the SQL.
func (s Statement) String() string { return s.SQL }

// ErrInvalidName is wrapped by the builders' errors for a name that is not
// a plain Altibase identifier, or a host that is not a host name.
var ErrInvalidName = errors.New("invalid name")

// maxReplicationName is SYS_REPLICATIONS_.REPLICATION_NAME's width,
// VARCHAR(40) (Altibase General Reference, "SYS_REPLICATIONS_").
const maxReplicationName = 40

// maxIdentifier is the longest user, table or partition name
// (docs/configuration.md, "Properties").
const maxIdentifier = conf.MaxIdentifierBytes

// checkIdent accepts what conf accepts as an unquoted identifier
// (conf.ValidIdentifier: letters, digits, '_' and '$', not a reserved
// word), at most max bytes.
func checkIdent(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%w: %s %q is longer than %d bytes", ErrInvalidName, what, s, max)
	}
	if err := conf.ValidIdentifier(s); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidName, what, err)
	}
	return nil
}

// hostLiteral returns host as a SQL string literal. Host names (RFC 1123
// labels, IPv4, or IPv6 in brackets or bare) are all it accepts, so the
// quote doubling below is belt and braces.
func hostLiteral(host string) (string, error) {
	if host == "" || len(host) > 253 {
		return "", fmt.Errorf("%w: host %q is not a host name", ErrInvalidName, host)
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == ':', c == '[', c == ']', c == '_':
		default:
			return "", fmt.Errorf("%w: host %q is not a host name", ErrInvalidName, host)
		}
	}
	return "'" + strings.ReplaceAll(host, "'", "''") + "'", nil
}

// tableRef is USER.TABLE [PARTITION P] of an item, checked.
func tableRef(it conf.Item) (string, error) {
	if err := checkIdent("user", it.User, maxIdentifier); err != nil {
		return "", err
	}
	if err := checkIdent("table", it.Table, maxIdentifier); err != nil {
		return "", err
	}
	ref := it.User + "." + it.Table
	if it.Partition != "" {
		if err := checkIdent("partition", it.Partition, maxIdentifier); err != nil {
			return "", err
		}
		ref += " PARTITION " + it.Partition
	}
	return ref, nil
}

// CreateReplication is CREATE REPLICATION name WITH 'peerHost', peerPort
// FROM u.t [PARTITION p] TO u.t [PARTITION p], ... — every item replicated
// to the table of the same name on the peer (docs/behaviour.md, "Replication
// objects"; Altibase Replication Manual, "CREATE REPLICATION").
// The replication is lazy, without AS MASTER/SLAVE or options, as the
// original creates it.
func CreateReplication(name, peerHost string, peerPort int, items []conf.Item) (Statement, error) {
	if err := checkIdent("replication name", name, maxReplicationName); err != nil {
		return Statement{}, err
	}
	host, err := hostLiteral(peerHost)
	if err != nil {
		return Statement{}, err
	}
	if peerPort < 1 || peerPort > 65535 {
		return Statement{}, fmt.Errorf("%w: port %d of %s is out of range", ErrInvalidName, peerPort, peerHost)
	}
	if len(items) == 0 {
		return Statement{}, fmt.Errorf("replication %s has no items", name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE REPLICATION %s WITH %s, %d", name, host, peerPort)
	for i, it := range items {
		ref, err := tableRef(it)
		if err != nil {
			return Statement{}, err
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " FROM %s TO %s", ref, ref)
	}
	return Statement{Verb: VerbCreate, Replication: name, SQL: b.String()}, nil
}

// alter is ALTER REPLICATION name <action>.
func alter(verb Verb, name, action string) (Statement, error) {
	if err := checkIdent("replication name", name, maxReplicationName); err != nil {
		return Statement{}, err
	}
	return Statement{Verb: verb, Replication: name, SQL: "ALTER REPLICATION " + name + " " + action}, nil
}

// StartStmt is ALTER REPLICATION name START: start from the restart point.
// Not START RETRY, which succeeds even when the handshake fails: aku wants
// the handshake error (ERR-6100D), to retry it and report it.
func StartStmt(name string) (Statement, error) { return alter(VerbStart, name, "START") }

// StopStmt is ALTER REPLICATION name STOP; the restart point is kept.
func StopStmt(name string) (Statement, error) { return alter(VerbStop, name, "STOP") }

// ResetStmt is ALTER REPLICATION name RESET (only while stopped): the
// restart point is forgotten and XSN becomes -1.
func ResetStmt(name string) (Statement, error) { return alter(VerbReset, name, "RESET") }

// SyncStmt is ALTER REPLICATION name SYNC PARALLEL n: copy every row of
// the items to the peer, then start (docs/behaviour.md, "Fresh slave
// start"). PARALLEL is always written, also for 1, so the statement log
// shows SYNC_PARALLEL_COUNT.
func SyncStmt(name string, parallel int) (Statement, error) {
	if parallel < 1 || parallel > 100 {
		return Statement{}, fmt.Errorf("sync parallel count %d of %s is not in 1..100", parallel, name)
	}
	return alter(VerbSync, name, "SYNC PARALLEL "+strconv.Itoa(parallel))
}

// FlushStmt is ALTER REPLICATION name FLUSH ALL when wait is 0, else
// ALTER REPLICATION name FLUSH WAIT <seconds> with wait rounded up to whole
// seconds (AKU_FLUSH_TIMEOUT_AT_START, docs/configuration.md, "Properties":
// 0 is FLUSH ALL, 1 or more FLUSH WAIT <n>).
func FlushStmt(name string, wait time.Duration) (Statement, error) {
	if wait < 0 {
		return Statement{}, fmt.Errorf("flush wait %s of %s is negative", wait, name)
	}
	if wait == 0 {
		return alter(VerbFlush, name, "FLUSH ALL")
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	return alter(VerbFlush, name, "FLUSH WAIT "+strconv.FormatInt(secs, 10))
}

// FlushAllWaitStmt is ALTER REPLICATION name FLUSH ALL WAIT <seconds>
// (Altibase Replication Manual, "ALTER REPLICATION": FLUSH [ALL] [WAIT
// n]): up to the latest log, as the FLUSH ALL of end, but for at most
// wait, rounded up to whole seconds (at least 1): an end with a deadline.
func FlushAllWaitStmt(name string, wait time.Duration) (Statement, error) {
	if wait <= 0 {
		return Statement{}, fmt.Errorf("flush wait %s of %s is not positive", wait, name)
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	return alter(VerbFlush, name, "FLUSH ALL WAIT "+strconv.FormatInt(secs, 10))
}

// DropStmt is DROP REPLICATION name (only while stopped, else ERR-610FE).
func DropStmt(name string) (Statement, error) {
	if err := checkIdent("replication name", name, maxReplicationName); err != nil {
		return Statement{}, err
	}
	return Statement{Verb: VerbDrop, Replication: name, SQL: "DROP REPLICATION " + name}, nil
}

// TruncateStmt empties one item before SYNC (docs/behaviour.md, "Fresh slave
// start"): TRUNCATE TABLE u.t for a whole table, ALTER TABLE u.t TRUNCATE
// PARTITION p for a partition (Altibase truncates a single partition through
// ALTER TABLE; TRUNCATE TABLE takes no PARTITION clause). Both need REPLICATION_DDL_ENABLE = 1
// on a replicated table (Altibase Replication Manual, "Executing DDL
// Statements on Replication Target Tables").
func TruncateStmt(it conf.Item) (Statement, error) {
	it2 := it
	it2.Partition = ""
	ref, err := tableRef(it2)
	if err != nil {
		return Statement{}, err
	}
	if it.Partition == "" {
		return Statement{Verb: VerbTruncate, SQL: "TRUNCATE TABLE " + ref}, nil
	}
	if err := checkIdent("partition", it.Partition, maxIdentifier); err != nil {
		return Statement{}, err
	}
	return Statement{Verb: VerbTruncate, SQL: "ALTER TABLE " + ref + " TRUNCATE PARTITION " + it.Partition}, nil
}

// SetSystem is ALTER SYSTEM SET prop = v (Altibase SQL Reference, "ALTER
// SYSTEM"), e.g. REPLICATION_DDL_ENABLE = 1 or ADMIN_MODE = 0.
func SetSystem(prop string, v int64) (Statement, error) {
	if err := checkIdent("property", prop, maxIdentifier); err != nil {
		return Statement{}, err
	}
	return Statement{Verb: VerbSetProperty, SQL: "ALTER SYSTEM SET " + prop + " = " + strconv.FormatInt(v, 10)}, nil
}
