package replication

import (
	"context"
	"fmt"
	"strings"
)

// Monitor is what a server's performance views say about its replication
// threads at one moment (Altibase General Reference, "The Data Dictionary"): the senders, receivers,
// gaps and running SYNCs, the log file it writes, and the give-ups its
// meta table records. Every map is keyed by replication name.
//
// The views have rows only while the thread exists, so a name missing from
// Senders or Gaps means "no sender running", never "no gap": a reader
// must show such a gap as unknown.
type Monitor struct {
	Senders   map[string]Sender
	Receivers map[string]Receiver
	Gaps      map[string]Gap
	// Syncs are the tables and partitions of each running SYNC, in the
	// order the server lists them.
	Syncs map[string][]SyncUnit
	// GiveUps are the objects SYS_REPLICATIONS_ records a give-up for.
	GiveUps map[string]GiveUp
	// LogFile is V$LFG.CUR_WRITE_LF_NO, the log file the server writes;
	// -1 when the view has no row.
	LogFile int64
}

// Sender is a row of V$REPSENDER: a sender thread.
type Sender struct {
	// Status is STATUS: 0 STOP, 1 RUN, 2 RETRY, 3–5 failback, 6 SYNC, ...,
	// 9 IDLE (SenderStatusName names them).
	Status int64
	// StartFlag is START_FLAG: 0 NORMAL, 1 QUICK, 2 SYNC, 3 SYNC_ONLY ...
	StartFlag int64
	// NetError is NET_ERROR_FLAG = 1: the sender lost its peer.
	NetError bool
	XSN      int64
}

// Receiver is a row of V$REPRECEIVER: the peer's sender is connected to
// this server's receiver.
type Receiver struct {
	ApplyXSN int64
}

// Gap is a row of V$REPGAP (the largest, when a replication has several).
type Gap struct {
	// Bytes is REP_GAP_SIZE: the log after the sender's restart point.
	Bytes int64
	// ReadFile is READ_FILE_NO, the log file the sender reads.
	ReadFile int64
}

// SyncUnit is a row of V$REPSYNC: one table or partition of a running
// SYNC.
type SyncUnit struct {
	Table     string
	Partition string // empty for a whole table
	// Records is SYNC_RECORD_COUNT: rows sent so far, -1 once done.
	Records int64
}

// GiveUp is a give-up SYS_REPLICATIONS_ records (GIVE_UP_TIME not NULL):
// the sender fell REPLICATION_MAX_LOGFILE files behind and dropped what
// it had not sent (ERR-610A0, Altibase CloudNative FAQ).
type GiveUp struct {
	Time string // GIVE_UP_TIME as the server prints it
	XSN  int64  // GIVE_UP_XSN; -1 when NULL
}

// Sender statuses of V$REPSENDER.STATUS (Altibase General Reference, "V$REPSENDER").
const (
	SenderStop  = 0
	SenderRun   = 1
	SenderRetry = 2
	SenderSync  = 6
	SenderIdle  = 9
)

// SenderStatusName names a V$REPSENDER STATUS code as the Data Dictionary
// does; a code it does not name reads "STATUS n".
func SenderStatusName(code int64) string {
	switch code {
	case SenderStop:
		return "STOP"
	case SenderRun:
		return "RUN"
	case SenderRetry:
		return "RETRY"
	case 3, 4, 5:
		return "FAILBACK"
	case SenderSync:
		return "SYNC"
	case SenderIdle:
		return "IDLE"
	}
	return fmt.Sprintf("STATUS %d", code)
}

// monitorQueries are the reads of Monitor, one plain SELECT each (no '?'
// or '{': psqlODBC rewrites them), in the order Monitor scans them.
var monitorQueries = struct {
	senders, receivers, gaps, syncs, lfg, giveUps string
}{
	senders:   "SELECT REP_NAME, STATUS, START_FLAG, NET_ERROR_FLAG, XSN FROM V$REPSENDER",
	receivers: "SELECT REP_NAME, APPLY_XSN FROM V$REPRECEIVER",
	gaps:      "SELECT REP_NAME, REP_GAP_SIZE, READ_FILE_NO FROM V$REPGAP",
	syncs:     "SELECT REP_NAME, SYNC_TABLE, SYNC_PARTITION, SYNC_RECORD_COUNT FROM V$REPSYNC",
	lfg:       "SELECT CUR_WRITE_LF_NO FROM V$LFG",
	giveUps:   "SELECT REPLICATION_NAME, GIVE_UP_TIME, GIVE_UP_XSN FROM SYSTEM_.SYS_REPLICATIONS_",
}

// Monitor reads the performance views of the server. It needs no SYSDBA
// privilege: an ordinary session of SYS reads them while another session
// holds the server's one SYSDBA slot.
func (s *Session) Monitor(ctx context.Context) (Monitor, error) {
	m, err := s.MonitorSenders(ctx)
	if err != nil {
		return Monitor{}, err
	}
	q := monitorQueries
	err = s.scan(ctx, "V$REPRECEIVER", q.receivers, 2, func(r []any) error {
		var name string
		var rc Receiver
		if err := scanValues(r, &name, &rc.ApplyXSN); err != nil {
			return err
		}
		m.Receivers[strings.TrimSpace(name)] = rc
		return nil
	})
	if err == nil {
		err = s.scan(ctx, "V$REPSYNC", q.syncs, 4, func(r []any) error {
			var name string
			var u SyncUnit
			if err := scanValues(r, &name, &u.Table, &u.Partition, &u.Records); err != nil {
				return err
			}
			name = strings.TrimSpace(name)
			u.Table, u.Partition = strings.TrimSpace(u.Table), strings.TrimSpace(u.Partition)
			m.Syncs[name] = append(m.Syncs[name], u)
			return nil
		})
	}
	if err == nil {
		err = s.scan(ctx, "V$LFG", q.lfg, 1, func(r []any) error {
			var n int64
			if err := scanValues(r, &n); err != nil {
				return err
			}
			m.LogFile = max(m.LogFile, n)
			return nil
		})
	}
	if err == nil {
		err = s.scan(ctx, "SYS_REPLICATIONS_", q.giveUps, 3, func(r []any) error {
			if r[1] == nil {
				return nil
			}
			var name string
			g := GiveUp{XSN: -1}
			if r[2] != nil {
				if err := scanValues(r[2:], &g.XSN); err != nil {
					return err
				}
			}
			if err := scanValues(r[:2], &name, &g.Time); err != nil {
				return err
			}
			m.GiveUps[strings.TrimSpace(name)] = g
			return nil
		})
	}
	if err != nil {
		return Monitor{}, err
	}
	return m, nil
}

// MonitorSenders reads V$REPSENDER and V$REPGAP alone, what tells whether
// the server sends and how far behind: a Monitor whose other views are
// left empty (LogFile -1), for a probe that must answer fast.
func (s *Session) MonitorSenders(ctx context.Context) (Monitor, error) {
	m := Monitor{
		Senders:   map[string]Sender{},
		Receivers: map[string]Receiver{},
		Gaps:      map[string]Gap{},
		Syncs:     map[string][]SyncUnit{},
		GiveUps:   map[string]GiveUp{},
		LogFile:   -1,
	}
	q := monitorQueries
	err := s.scan(ctx, "V$REPSENDER", q.senders, 5, func(r []any) error {
		var name string
		var snd Sender
		var netErr int64
		if err := scanValues(r, &name, &snd.Status, &snd.StartFlag, &netErr, &snd.XSN); err != nil {
			return err
		}
		name = strings.TrimSpace(name)
		// A replication with parallel senders has a row each: one that
		// lost its peer speaks for the replication.
		if prev, ok := m.Senders[name]; ok && (prev.NetError || prev.Status != SenderRun) {
			return nil
		}
		snd.NetError = netErr == 1
		m.Senders[name] = snd
		return nil
	})
	if err == nil {
		err = s.scan(ctx, "V$REPGAP", q.gaps, 3, func(r []any) error {
			var name string
			var g Gap
			if err := scanValues(r, &name, &g.Bytes, &g.ReadFile); err != nil {
				return err
			}
			name = strings.TrimSpace(name)
			// The vendor's query takes the largest gap of a replication
			// (MAX(REP_GAP) GROUP BY REP_NAME, as the Altibase CloudNative replication monitoring query does).
			if prev, ok := m.Gaps[name]; !ok || g.Bytes > prev.Bytes {
				m.Gaps[name] = g
			}
			return nil
		})
	}
	if err != nil {
		return Monitor{}, err
	}
	return m, nil
}

// scan runs query and passes each row of cols columns to row; errors name
// what was read.
func (s *Session) scan(ctx context.Context, what, query string, cols int, row func([]any) error) error {
	rows, err := s.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	for _, r := range rows {
		if len(r) != cols {
			return fmt.Errorf("reading %s on %s: %d columns, want %d", what, s.host, len(r), cols)
		}
		if err := row(r); err != nil {
			return fmt.Errorf("reading %s on %s: %w", what, s.host, err)
		}
	}
	return nil
}
