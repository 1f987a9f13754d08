package altisim

// ReplMessage is one message of the replication protocol between a sender
// and a peer's receiver. Every field is exported and JSON-encodable, so that
// any Transport (in-process or TCP) can carry it unchanged.
//
// Kinds (docs/altisim.md, "Replication protocol"):
//   - "handshake": Tables lists the peer tables the sender ships to; the
//     receiver checks that it has a replication object of the same name and
//     those tables, then registers a receiver (V$REPRECEIVER).
//   - "apply": Records are committed changes, in LSN order; the reply's XSN
//     acknowledges them.
//   - "sync": Records are inserts of all rows of the replicated tables
//     (ALTER REPLICATION ... SYNC).
//   - "ping": keeps an idle receiver alive.
//   - "stop": the sender stops; the receiver goes away.
//
// Every reply has Kind "ack", or an Error.
type ReplMessage struct {
	// Kind is the message type, e.g. "handshake" or "apply".
	Kind string `json:"kind"`
	// Replication is the replication object's name, the same on both servers.
	Replication string `json:"replication"`
	// From is the sending server's host name.
	From string `json:"from,omitempty"`
	// Error, in a reply, is the receiver's refusal (nil when it accepted).
	Error *Error `json:"error,omitempty"`
	// Tables, in a handshake, are the peer's USER.TABLE names the sender
	// replicates to.
	Tables []string `json:"tables,omitempty"`
	// Records are the row changes of an apply or sync message.
	Records []ReplRecord `json:"records,omitempty"`
	// XSN, in an apply reply, is the LSN of the last record applied.
	XSN int64 `json:"xsn,omitempty"`
}

// ReplRecord is one row change as it travels to a peer.
type ReplRecord struct {
	// LSN is the record's position in the sender's transaction log.
	LSN int64 `json:"lsn"`
	// Table is the peer's USER.TABLE (the item's TO side).
	Table string `json:"table"`
	// Op is I (insert), U (update) or D (delete).
	Op string `json:"op"`
	// Key is the primary key of the old row (U, D).
	Key []any `json:"key,omitempty"`
	// Row is the new row (I, U), in the table's column order. Integers
	// travel as decimal strings (JSON numbers would lose BIGINT precision);
	// the receiver converts every value to its column's type.
	Row []any `json:"row,omitempty"`
}
