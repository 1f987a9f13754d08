package altisim

import (
	"sort"
	"strconv"
	"time"
)

// logRecord is one committed row change in the server's transaction log.
// Changes a receiver applied carry the sending server's name in Origin and
// are never sent on again, so changes do not loop between servers; changes
// made with the session property REPLICATION = NONE ([I]; docs/altisim.md,
// "Properties") carry originNoRepl.
type logRecord struct {
	LSN    int64     `json:"lsn"`
	Time   time.Time `json:"time"`
	Origin string    `json:"origin,omitempty"`
	Table  string    `json:"table"` // USER.TABLE
	// Part is the partition of the row changed, "" in a table that is not
	// partitioned: what a replication item naming a partition ships.
	Part string `json:"part,omitempty"`
	Op   string `json:"op"` // I, U, D
	// RowKey is the internal key of the old row (U, D); Key its primary key
	// values, which is what a peer uses to find the row.
	RowKey string  `json:"rk,omitempty"`
	Key    []Value `json:"key,omitempty"`
	Row    []Value `json:"row,omitempty"`
	// Pos is the byte position at which the record starts in the
	// server's log, and Size its length (byteSize): they place the record
	// in a log file (LOG_FILE_SIZE) and measure the gaps of V$REPGAP.
	Pos  int64 `json:"pos,omitempty"`
	Size int64 `json:"size,omitempty"`
}

// logHeaderSize is the fixed part of a log record's size [I]: Altibase's
// log record layout is not published, so the simulator picks a plausible
// header (transaction id, LSN, type, table OID, lengths) and adds the
// encoded values (docs/altisim.md, "Log size and log files").
const logHeaderSize = 32

// byteSize is the record's length in the log [I]: the header, the table
// and partition names, and every key and row value (NULL 1 byte, a
// number 8, a string 2 plus its bytes). It depends only on the record's
// content, so a replayed record has the size it had when committed.
func (rec *logRecord) byteSize() int64 {
	n := int64(logHeaderSize + len(rec.Table) + len(rec.Part))
	for _, vals := range [][]Value{rec.Key, rec.Row} {
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				n++
			case string:
				n += 2 + int64(len(x))
			default:
				n += 8
			}
		}
	}
	return n
}

// placeLocked gives rec its position at the end of the log and its size,
// unless it has them (a record replayed from the data directory), and
// moves the end of the log past it.
func (s *Server) placeLocked(rec *logRecord) {
	if rec.Size == 0 {
		rec.Pos, rec.Size = s.logEnd, rec.byteSize()
	}
	s.logEnd = rec.Pos + rec.Size
}

// unsentPosLocked is the log position from which a sender whose restart
// point is xsn still has to read: the start of the first record after xsn,
// or the end of the log. Records after a running sender's XSN are never
// trimmed (trimLogLocked), so the position is exact.
func (s *Server) unsentPosLocked(xsn int64) int64 {
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].LSN > xsn })
	if i < len(s.log) {
		return s.log[i].Pos
	}
	return s.logEnd
}

// logFileLocked is the log file number and the offset in it of a log
// position: files are LOG_FILE_SIZE bytes, numbered from 0 (a record may
// straddle two files [I]).
func (s *Server) logFileLocked(pos int64) (no, offset int64) {
	size := s.props["LOG_FILE_SIZE"]
	return pos / size, pos % size
}

const originNoRepl = "-"

// undoLog restores rows a failing statement has already changed, so that a
// statement is atomic (autocommit, one statement = one transaction).
type undoLog struct {
	entries []undoEntry
}

type undoEntry struct {
	t         *table
	key       string
	old       []Value
	existed   bool
	nextRowID int64
}

func (u *undoLog) save(t *table, key string) {
	old, ok := t.rows[key]
	u.entries = append(u.entries, undoEntry{t, key, old, ok, t.NextRowID})
}

func (u *undoLog) rollback() {
	for i := len(u.entries) - 1; i >= 0; i-- {
		e := u.entries[i]
		if e.existed {
			e.t.rows[e.key] = e.old
		} else {
			delete(e.t.rows, e.key)
		}
		e.t.NextRowID = e.nextRowID
	}
}

// applyLocked applies one change to its table. It is used by DML (with an
// undo log), by a receiver, and by replay from the data directory.
func (s *Server) applyLocked(rec *logRecord, u *undoLog) error {
	t := s.tables[rec.Table]
	if t == nil {
		return errNoTable(rec.Table)
	}
	switch rec.Op {
	case "I":
		row, err := t.coerceRow(rec.Row)
		if err != nil {
			return err
		}
		rec.Row = row
		rec.Part = t.partitionOf(row)
		key := "#" + strconv.FormatInt(t.NextRowID+1, 10)
		if len(t.PK) > 0 {
			key = encodeKey(t.keyOf(row))
		}
		if u != nil {
			u.save(t, key)
		}
		return t.insert(row)
	case "U", "D":
		if rec.RowKey == "" {
			k, err := t.coerceKey(rec.Key)
			if err != nil {
				return err
			}
			rec.RowKey = encodeKey(k)
		}
		old, ok := t.rows[rec.RowKey]
		if !ok {
			return errRowNotFound
		}
		rec.Part = t.partitionOf(old)
		if u != nil {
			u.save(t, rec.RowKey)
		}
		if rec.Op == "D" {
			delete(t.rows, rec.RowKey)
			return nil
		}
		row, err := t.coerceRow(rec.Row)
		if err != nil {
			return err
		}
		rec.Row = row
		if t.partitionOf(row) != rec.Part {
			return errRowMovement
		}
		if len(t.PK) == 0 {
			t.rows[rec.RowKey] = row
			return nil
		}
		delete(t.rows, rec.RowKey)
		nk := encodeKey(t.keyOf(row))
		if u != nil && nk != rec.RowKey {
			u.save(t, nk)
		}
		return t.insert(row)
	}
	return nil
}

var errRowNotFound = &Error{Code: 0x11059, Message: "The row was not found."} // [I]

// commitLocked gives recs their LSNs, appends them to the transaction log,
// writes them to the data directory (synced) and wakes the senders. It is
// the commit of one statement: once it returns, the change is durable.
func (s *Server) commitLocked(recs []logRecord) error {
	if len(recs) == 0 {
		return nil
	}
	now := time.Now()
	for i := range recs {
		s.lastLSN++
		recs[i].LSN = s.lastLSN
		recs[i].Time = now
		s.placeLocked(&recs[i])
	}
	s.log = append(s.log, recs...)
	s.trimLogLocked()
	s.wakeLocked()
	if s.store != nil {
		return s.store.append(s, walEntry{T: "recs", Recs: recs}, true)
	}
	return nil
}

// trimLogLocked forgets log records that no replication can still need:
// those at or below the smallest XSN of all replication objects whose XSN is
// set. Objects with XSN = -1 start from the end of the log
// (docs/altisim.md, "Replication objects"), so they need nothing.
func (s *Server) trimLogLocked() {
	min := s.lastLSN
	for _, r := range s.repls {
		if r.XSN >= 0 && r.XSN < min {
			min = r.XSN
		}
		if r.pin > 0 && r.pin-1 < min {
			min = r.pin - 1
		}
	}
	i := 0
	for i < len(s.log) && s.log[i].LSN <= min {
		i++
	}
	if i > 0 {
		s.log = append(s.log[:0:0], s.log[i:]...)
	}
}
