package altisim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// The data directory (issue 3 part 4: "no acknowledged statement is lost")
// holds snapshot.json, the whole state at some point, and wal.jsonl, the
// changes since, one JSON entry per line. Every statement's entry is
// written and fsynced before the statement returns; a torn last line (a
// crash in the middle of a write) is ignored on load, and that statement was
// never acknowledged. Every compactEvery entries, and on Close, the state is
// written as a new snapshot and the WAL starts over.

const (
	snapshotFile = "snapshot.json"
	walFile      = "wal.jsonl"
	compactEvery = 5000
)

// walEntry is one line of wal.jsonl.
type walEntry struct {
	T       string      `json:"t"` // recs, table, droptable, truncate, repl, droprepl, xsn
	Recs    []logRecord `json:"recs,omitempty"`
	Table   *table      `json:"table,omitempty"`
	Name    string      `json:"name,omitempty"`
	Part    string      `json:"part,omitempty"` // truncate: the partition, "" for the table
	Repl    *replState  `json:"repl,omitempty"`
	XSN     int64       `json:"xsn,omitempty"`
	NextOID int64       `json:"next_oid,omitempty"`
}

type snapTable struct {
	Table *table    `json:"table"`
	Rows  []snapRow `json:"rows"`
}

type snapRow struct {
	K   string  `json:"k"`
	Row []Value `json:"row"`
}

type snapshot struct {
	LastLSN int64        `json:"last_lsn"`
	LogEnd  int64        `json:"log_end,omitempty"`
	NextOID int64        `json:"next_oid"`
	Tables  []snapTable  `json:"tables"`
	Log     []logRecord  `json:"log"`
	Repls   []*replState `json:"repls"`
}

type store struct {
	dir     string
	lock    *os.File // flock'ed: one server per data directory
	wal     *os.File
	entries int
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the data directory lock: %w", err)
	}
	// A second server on the same directory would corrupt it, as a second
	// Altibase on one PVC would.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("locking data directory %s: in use by another server (%w)", dir, err)
	}
	return &store{dir: dir, lock: lock}, nil
}

func (st *store) close() error {
	var err error
	if st.wal != nil {
		err = st.wal.Close()
		st.wal = nil
	}
	if st.lock != nil {
		st.lock.Close() // releases the flock
		st.lock = nil
	}
	return err
}

// load reads the snapshot and replays the WAL into s, then opens the WAL
// for appending.
func (st *store) load(s *Server) error {
	b, err := os.ReadFile(filepath.Join(st.dir, snapshotFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		var snap snapshot
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&snap); err != nil {
			return fmt.Errorf("decoding %s: %w", snapshotFile, err)
		}
		s.lastLSN, s.nextOID, s.logEnd = snap.LastLSN, snap.NextOID, snap.LogEnd
		for _, t := range snap.Tables {
			if err := t.Table.restore(); err != nil {
				return err
			}
			for _, r := range t.Rows {
				row, err := t.Table.coerceRow(r.Row)
				if err != nil {
					return fmt.Errorf("loading a row of %s: %w", t.Table.full(), err)
				}
				t.Table.rows[r.K] = row
			}
			s.tables[t.Table.full()] = t.Table
		}
		for i := range snap.Log {
			s.normalizeRecord(&snap.Log[i])
			s.placeLocked(&snap.Log[i])
		}
		s.log = snap.Log
		for _, r := range snap.Repls {
			s.repls[r.Name] = &replObj{replState: *r}
		}
	}
	f, err := os.OpenFile(filepath.Join(st.dir, walFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	st.wal = f
	good, err := st.replay(s, f)
	if err != nil {
		return err
	}
	// Cut a torn tail so that new entries start on a line of their own.
	if err := f.Truncate(good); err != nil {
		return err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		return err
	}
	// Start each run from a fresh snapshot, so that the WAL replayed at the
	// next start holds only this run's changes.
	if st.entries > 0 {
		return st.compact(s)
	}
	return nil
}

// replay applies the WAL's entries and returns the length of its intact
// prefix.
func (st *store) replay(s *Server, f *os.File) (int64, error) {
	r := bufio.NewReader(f)
	var good int64
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return good, nil // a line without '\n' is a torn write
		}
		if err != nil {
			return good, err
		}
		var e walEntry
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil {
			return good, nil
		}
		if err := s.replayEntry(&e); err != nil {
			return good, fmt.Errorf("replaying %s entry %d: %w", walFile, st.entries+1, err)
		}
		good += int64(len(line))
		st.entries++
	}
}

func (s *Server) normalizeRecord(rec *logRecord) {
	t := s.tables[rec.Table]
	if t == nil {
		return
	}
	if row, err := t.coerceRow(rec.Row); err == nil && rec.Row != nil {
		rec.Row = row
	}
	if k, err := t.coerceKey(rec.Key); err == nil && rec.Key != nil {
		rec.Key = k
	}
}

func (s *Server) replayEntry(e *walEntry) error {
	switch e.T {
	case "recs":
		for i := range e.Recs {
			rec := &e.Recs[i]
			s.normalizeRecord(rec)
			if err := s.applyLocked(rec, nil); err != nil {
				return err
			}
			s.lastLSN = rec.LSN
			s.placeLocked(rec)
			s.log = append(s.log, *rec)
		}
	case "table":
		if err := e.Table.restore(); err != nil {
			return err
		}
		s.tables[e.Table.full()] = e.Table
	case "droptable":
		delete(s.tables, e.Name)
	case "truncate":
		if t := s.tables[e.Name]; t != nil {
			t.truncate(e.Part)
		}
	case "repl":
		if old := s.repls[e.Repl.Name]; old != nil {
			old.replState = *e.Repl
		} else {
			s.repls[e.Repl.Name] = &replObj{replState: *e.Repl}
		}
	case "droprepl":
		delete(s.repls, e.Name)
	case "xsn":
		if r := s.repls[e.Name]; r != nil {
			r.XSN = e.XSN
		}
	default:
		return fmt.Errorf("unknown entry type %q", e.T)
	}
	if e.NextOID > s.nextOID {
		s.nextOID = e.NextOID
	}
	s.trimLogLocked()
	return nil
}

// append writes e to the WAL; with sync it also fsyncs, which every
// acknowledged statement does.
func (st *store) append(s *Server, e walEntry, sync bool) error {
	if st.wal == nil {
		return errors.New("writing the data directory: store closed")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding a %s entry: %w", e.T, err)
	}
	if _, err := st.wal.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", walFile, err)
	}
	if sync {
		if err := st.wal.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", walFile, err)
		}
	}
	st.entries++
	if st.entries >= compactEvery {
		return st.compact(s)
	}
	return nil
}

// compact writes the whole state as a new snapshot (written aside, synced,
// then renamed over the old one) and empties the WAL.
func (st *store) compact(s *Server) error {
	if st.wal == nil {
		return nil
	}
	snap := snapshot{LastLSN: s.lastLSN, NextOID: s.nextOID, LogEnd: s.logEnd, Log: s.log}
	for _, t := range s.tables {
		stt := snapTable{Table: t}
		for _, k := range t.sortedKeys() {
			stt.Rows = append(stt.Rows, snapRow{k, t.rows[k]})
		}
		snap.Tables = append(snap.Tables, stt)
	}
	for _, r := range s.repls {
		rs := r.replState
		snap.Repls = append(snap.Repls, &rs)
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encoding the snapshot: %w", err)
	}
	tmp := filepath.Join(st.dir, snapshotFile+".tmp")
	if err := writeSynced(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(st.dir, snapshotFile)); err != nil {
		return fmt.Errorf("installing the snapshot: %w", err)
	}
	if d, err := os.Open(st.dir); err == nil {
		d.Sync()
		d.Close()
	}
	if err := st.wal.Truncate(0); err != nil {
		return fmt.Errorf("emptying %s: %w", walFile, err)
	}
	if _, err := st.wal.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("emptying %s: %w", walFile, err)
	}
	st.entries = 0
	return st.wal.Sync()
}

func writeSynced(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return f.Close()
}

// persistLocked writes a non-row change (DDL, replication state) and syncs.
func (s *Server) persistLocked(e walEntry) error {
	if s.store == nil {
		return nil
	}
	e.NextOID = s.nextOID
	return s.store.append(s, e, true)
}
