package altisim

// ReplMessage is one message of the replication protocol between a sender
// and a peer's receiver. Every field is exported and JSON-encodable, so that
// any Transport (in-process or TCP) can carry it unchanged.
//
// Kinds (docs/altisim.md, "Replication protocol"):
//   - "handshake": Items are the items the sender ships; the receiver
//     checks that it has a replication object of the same name, the
//     items' tables, and the same partitions (docs/altisim.md,
//     "Partitions"), then registers a receiver (V$REPRECEIVER).
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
	// Items, in a handshake, are the replication items the sender ships.
	Items []HandshakeItem `json:"items,omitempty"`
	// Records are the row changes of an apply or sync message.
	Records []ReplRecord `json:"records,omitempty"`
	// XSN, in an apply reply, is the LSN of the last record applied.
	XSN int64 `json:"xsn,omitempty"`
}

// HandshakeItem is one replication item as a sender offers it in a
// handshake, with what the receiver compares.
type HandshakeItem struct {
	// Table is the receiver's USER.TABLE (the item's TO side).
	Table string `json:"table"`
	// Partition is the receiver's partition (TO side), "" for a whole table.
	Partition string `json:"partition,omitempty"`
	// SenderTable is the sender's USER.TABLE (the item's FROM side).
	SenderTable string `json:"sender_table"`
	// SenderPartition is the sender's partition (FROM side), "" for a
	// whole table.
	SenderPartition string `json:"sender_partition,omitempty"`
	// Method is how the sender's table is partitioned: RANGE, LIST or
	// HASH; "" when it is not partitioned.
	Method string `json:"method,omitempty"`
	// Partitions describe the sender's partitions the item covers: the
	// named one, or every partition of a whole partitioned table.
	Partitions []PartitionInfo `json:"partitions,omitempty"`
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
