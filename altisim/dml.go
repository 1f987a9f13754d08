package altisim

import (
	"sort"
)

// createTable runs CREATE TABLE with a column or table PRIMARY KEY.
func (s *Session) createTable(x *createTableStmt) error {
	srv := s.srv
	name := s.resolve(x.name)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.tables[name] != nil {
		return errTableExists(name)
	}
	owner := x.name.user
	if owner == "" {
		owner = s.user
	}
	t := &table{Owner: owner, Name: x.name.name, rows: map[string][]Value{}}
	seen := map[string]bool{}
	for i, c := range x.cols {
		if seen[c.name] {
			return syntaxError(x.name.name, 0, "duplicate column name "+c.name)
		}
		seen[c.name] = true
		t.Cols = append(t.Cols, column{Name: c.name, Type: c.typ, Size: c.size})
		if c.pk {
			t.PK = append(t.PK, i)
		}
	}
	if len(x.pk) > 0 {
		if len(t.PK) > 0 {
			return &Error{Code: 0x31034, Message: "A table can have only one primary key."} // [I] code
		}
		for _, c := range x.pk {
			i := t.colIndex(c)
			if i < 0 {
				return errNoColumn(c)
			}
			t.PK = append(t.PK, i)
		}
	}
	if x.part != nil {
		pt, err := t.newPartitioning(x.part)
		if err != nil {
			return err
		}
		t.Part = pt
	}
	srv.nextOID++
	t.OID = srv.nextOID
	srv.tables[name] = t
	return srv.persistLocked(walEntry{T: "table", Table: t})
}

// ddlCheckLocked enforces (Altibase Replication Manual, "Executing DDL
// Statements on Replication Target Tables"): DDL (here TRUNCATE and DROP
// TABLE) on a replicated table needs REPLICATION_DDL_ENABLE = 1 (ERR-312C4).
func (srv *Server) ddlCheckLocked(name string) error {
	if srv.replicatedLocked(name) && srv.props["REPLICATION_DDL_ENABLE"] == 0 {
		return errReplDDLEnable
	}
	return nil
}

func (s *Session) dropTable(x *dropTableStmt) error {
	srv := s.srv
	name := s.resolve(x.name)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.tables[name] == nil {
		return errNoTable(name)
	}
	if err := srv.ddlCheckLocked(name); err != nil {
		return err
	}
	// A table that is an item of a replication cannot be dropped even with
	// DDL enabled: it must leave the replication first [I].
	if srv.replicatedLocked(name) {
		return errReplicatedDDL
	}
	delete(srv.tables, name)
	return srv.persistLocked(walEntry{T: "droptable", Name: name})
}

// truncate runs TRUNCATE TABLE, and ALTER TABLE ... TRUNCATE PARTITION,
// which empties one partition (SQL Reference, ALTER TABLE:
// truncate_table_partition). Both are DDL: not logged for replication, so
// peers keep their rows (aku truncates each side itself before a SYNC),
// and on a replicated table both need REPLICATION_DDL_ENABLE = 1
// (Replication Manual, "Executing DDL Statements on Replication Target
// Tables"). Truncating an empty table or partition succeeds.
func (s *Session) truncate(x *truncateTableStmt) error {
	srv := s.srv
	name := s.resolve(x.name)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	t := srv.tables[name]
	if t == nil {
		return errNoTable(name)
	}
	if x.part != "" && t.Part == nil {
		return errNotPartitioned
	}
	if x.part != "" && !t.hasPartition(x.part) {
		return errNoPartition(x.part)
	}
	if err := srv.ddlCheckLocked(name); err != nil {
		return err
	}
	t.truncate(x.part)
	return srv.persistLocked(walEntry{T: "truncate", Name: name, Part: x.part})
}

func (s *Session) origin() string {
	if s.props["REPLICATION"] == 1 {
		return originNoRepl
	}
	return ""
}

// insert runs INSERT INTO t [(cols)] VALUES (...)[, (...)]; the statement
// is atomic: a duplicate key (ERR-11058) inserts nothing.
func (s *Session) insert(x *insertStmt) (int64, error) {
	srv := s.srv
	name := s.resolve(x.table)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	t := srv.tables[name]
	if t == nil {
		return 0, errNoTable(name)
	}
	idx := make([]int, 0, len(t.Cols))
	if len(x.cols) == 0 {
		for i := range t.Cols {
			idx = append(idx, i)
		}
	} else {
		for _, c := range x.cols {
			i := t.colIndex(c)
			if i < 0 {
				return 0, errNoColumn(c)
			}
			idx = append(idx, i)
		}
	}
	var recs []logRecord
	var u undoLog
	for _, vals := range x.rows {
		if len(vals) != len(idx) {
			u.rollback()
			return 0, &Error{Code: 0x3104A, Message: "Mismatched number of values"} // [I] code
		}
		row := make([]Value, len(t.Cols))
		for j, e := range vals {
			v, err := eval(e, nil, nil)
			if err != nil {
				u.rollback()
				return 0, err
			}
			row[idx[j]] = v
		}
		rec := logRecord{Origin: s.origin(), Table: name, Op: "I", Row: row}
		if err := srv.applyLocked(&rec, &u); err != nil {
			u.rollback()
			return 0, err
		}
		recs = append(recs, rec)
	}
	if err := srv.commitLocked(recs); err != nil {
		return 0, err
	}
	return int64(len(recs)), nil
}

// targetLocked resolves the table of an UPDATE or DELETE and returns its
// USER.TABLE name and the keys of its rows that satisfy where.
func (s *Session) targetLocked(tn qname, where expr) (string, *table, []string, error) {
	name := s.resolve(tn)
	t := s.srv.tables[name]
	if t == nil {
		return "", nil, nil, errNoTable(name)
	}
	keys, err := matchingKeys(t, where)
	return name, t, keys, err
}

// matchingKeys returns the keys of t's rows that satisfy where.
func matchingKeys(t *table, where expr) ([]string, error) {
	rel, keys := t.relation()
	var out []string
	for i, row := range rel.rows {
		ok, err := matches(where, rel, row)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, keys[i])
		}
	}
	return out, nil
}

// update runs UPDATE t SET c = expr[, ...] [WHERE cond]; the statement is
// atomic.
func (s *Session) update(x *updateStmt) (int64, error) {
	srv := s.srv
	srv.mu.Lock()
	defer srv.mu.Unlock()
	name, t, keys, err := s.targetLocked(x.table, x.where)
	if err != nil {
		return 0, err
	}
	rel := &relation{}
	for _, c := range t.Cols {
		rel.cols = append(rel.cols, c.Name)
	}
	// Compute every new row from the old rows first, then apply: SET uses
	// the values before the statement.
	type change struct {
		key      string
		old, row []Value
	}
	var changes []change
	for _, k := range keys {
		old := t.rows[k]
		row := append([]Value(nil), old...)
		for _, sc := range x.sets {
			i := t.colIndex(sc.col)
			if i < 0 {
				return 0, errNoColumn(sc.col)
			}
			v, err := eval(sc.e, rel, old)
			if err != nil {
				return 0, err
			}
			row[i] = v
		}
		changes = append(changes, change{k, old, row})
	}
	var u undoLog
	var recs, inserts []logRecord
	// Remove all old rows, then insert the new ones, so that a statement
	// shifting keys (SET I1 = I1 + 1) does not collide with itself.
	for _, c := range changes {
		u.save(t, c.key)
		delete(t.rows, c.key)
	}
	for _, c := range changes {
		row, err := t.coerceRow(c.row)
		part := t.partitionOf(c.old)
		if err == nil && t.partitionOf(row) != part {
			err = errRowMovement
		}
		if err == nil {
			if len(t.PK) == 0 {
				t.rows[c.key] = row
			} else {
				nk := encodeKey(t.keyOf(row))
				u.save(t, nk)
				err = t.insert(row)
			}
		}
		if err != nil {
			u.rollback()
			return 0, err
		}
		if len(t.PK) == 0 {
			recs = append(recs, logRecord{Origin: s.origin(), Table: name, Part: part, Op: "U", RowKey: c.key, Row: row})
			continue
		}
		if nk := encodeKey(t.keyOf(row)); nk == c.key {
			recs = append(recs, logRecord{Origin: s.origin(), Table: name, Part: part, Op: "U", RowKey: c.key, Key: t.keyOf(c.old), Row: row})
		} else {
			// A changed primary key is logged as a delete of the old row
			// and, after all deletes, an insert of the new one, so that
			// replay and peers never see a transient duplicate key.
			recs = append(recs, logRecord{Origin: s.origin(), Table: name, Part: part, Op: "D", RowKey: c.key, Key: t.keyOf(c.old)})
			inserts = append(inserts, logRecord{Origin: s.origin(), Table: name, Part: part, Op: "I", Row: row})
		}
	}
	recs = append(recs, inserts...)
	if err := srv.commitLocked(recs); err != nil {
		return 0, err
	}
	return int64(len(changes)), nil
}

// delete runs DELETE FROM t [WHERE cond].
func (s *Session) delete(x *deleteStmt) (int64, error) {
	srv := s.srv
	srv.mu.Lock()
	defer srv.mu.Unlock()
	name, t, keys, err := s.targetLocked(x.table, x.where)
	if err != nil {
		return 0, err
	}
	var recs []logRecord
	for _, k := range keys {
		var key []Value
		if len(t.PK) > 0 {
			key = t.keyOf(t.rows[k])
		}
		part := t.partitionOf(t.rows[k])
		delete(t.rows, k)
		recs = append(recs, logRecord{Origin: s.origin(), Table: name, Part: part, Op: "D", RowKey: k, Key: key})
	}
	if err := srv.commitLocked(recs); err != nil {
		return 0, err
	}
	return int64(len(recs)), nil
}

// selectRows runs SELECT over a user table, a meta table or view, or DUAL.
func (s *Session) selectRows(x *selectStmt) (*Result, error) {
	srv := s.srv
	srv.mu.Lock()
	rel, err := s.relationLocked(x.from)
	srv.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var rows [][]Value
	for _, row := range rel.rows {
		ok, err := matches(x.where, rel, row)
		if err != nil {
			return nil, err
		}
		if ok {
			rows = append(rows, row)
		}
	}
	if len(x.order) > 0 {
		idx := make([]int, len(x.order))
		for i, o := range x.order {
			if idx[i] = rel.colIndex(o.col); idx[i] < 0 {
				return nil, errNoColumn(o.col)
			}
		}
		sort.SliceStable(rows, func(a, b int) bool {
			for i, o := range x.order {
				c := compareValues(rows[a][idx[i]], rows[b][idx[i]])
				if c != 0 {
					return (c < 0) != o.desc
				}
			}
			return false
		})
	}
	res := &Result{Tag: "SELECT"}
	// COUNT(*) alone aggregates; mixed with columns it is not supported.
	for _, it := range x.items {
		if it.count {
			if len(x.items) != 1 {
				return nil, syntaxError("SELECT", 0, "COUNT(*) can only be selected alone")
			}
			name := "COUNT"
			if it.alias != "" {
				name = it.alias
			}
			res.Columns = []string{name}
			res.Rows = [][]Value{{int64(len(rows))}}
			res.RowsAffected = 1
			return res, nil
		}
	}
	for _, it := range x.items {
		switch {
		case it.star:
			res.Columns = append(res.Columns, rel.cols...)
		case it.alias != "":
			res.Columns = append(res.Columns, it.alias)
		default:
			if c, ok := it.e.(*colExpr); ok {
				res.Columns = append(res.Columns, c.name)
			} else {
				res.Columns = append(res.Columns, "EXPR")
			}
		}
	}
	for _, row := range rows {
		var out []Value
		for _, it := range x.items {
			if it.star {
				out = append(out, row...)
				continue
			}
			v, err := eval(it.e, rel, row)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		res.Rows = append(res.Rows, out)
	}
	res.RowsAffected = int64(len(res.Rows))
	return res, nil
}
