package altisim

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// column is one column of a user table.
type column struct {
	Name string `json:"name"`
	Type string `json:"type"` // INTEGER, BIGINT, SMALLINT, VARCHAR, CHAR
	Size int    `json:"size,omitempty"`
}

// table is a user table: columns, primary key and rows keyed by the
// encoded primary key (a table without a primary key keys rows by an
// internal row number).
type table struct {
	OID   int64    `json:"oid"`
	Owner string   `json:"owner"`
	Name  string   `json:"name"`
	Cols  []column `json:"cols"`
	PK    []int    `json:"pk,omitempty"`
	// Part divides a partitioned table's rows among its partitions; nil
	// for a table that is not partitioned (partition.go).
	Part      *partitioning `json:"partitioning,omitempty"`
	NextRowID int64         `json:"next_row_id,omitempty"`

	rows map[string][]Value
}

func (t *table) full() string { return t.Owner + "." + t.Name }

func (t *table) colIndex(name string) int {
	for i, c := range t.Cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func isIntType(typ string) bool { return typ == "INTEGER" || typ == "BIGINT" || typ == "SMALLINT" }

// coerce converts v to the type of column c, as Altibase converts literals
// on INSERT/UPDATE, and checks lengths and ranges.
func coerce(c column, v Value) (Value, error) {
	if v == nil {
		return nil, nil
	}
	if isIntType(c.Type) {
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int:
			n = int64(x)
		case float64:
			if x != math.Trunc(x) {
				return nil, invalidLiteral(c, v)
			}
			n = int64(x)
		case json.Number:
			i, err := x.Int64()
			if err != nil {
				return nil, invalidLiteral(c, v)
			}
			n = i
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, invalidLiteral(c, v)
			}
			n = i
		default:
			return nil, invalidLiteral(c, v)
		}
		lim := int64(math.MaxInt32)
		switch c.Type {
		case "SMALLINT":
			lim = math.MaxInt16
		case "BIGINT":
			lim = math.MaxInt64
		}
		if n > lim || n < -lim {
			return nil, &Error{Code: 0x2100E, Message: "Value overflow"}
		}
		return n, nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		s = x.String()
	default:
		return nil, invalidLiteral(c, v)
	}
	if len(s) > c.Size {
		return nil, &Error{Code: 0x2100E, Message: "Value overflow"}
	}
	if c.Type == "CHAR" && len(s) < c.Size {
		s += strings.Repeat(" ", c.Size-len(s))
	}
	return s, nil
}

func invalidLiteral(c column, v Value) *Error {
	return &Error{Code: 0x21011, Message: fmt.Sprintf("Invalid literal %v for column %s", v, c.Name)}
}

// coerceRow converts a whole row (also one decoded from JSON, whose numbers
// are float64 or json.Number) to the table's column types.
func (t *table) coerceRow(row []Value) ([]Value, error) {
	if len(row) != len(t.Cols) {
		return nil, &Error{Code: 0x3104A, Message: "Mismatched number of values"}
	}
	out := make([]Value, len(row))
	for i, c := range t.Cols {
		v, err := coerce(c, row[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (t *table) coerceKey(key []Value) ([]Value, error) {
	if len(key) != len(t.PK) {
		return nil, fmt.Errorf("key of %d values for a primary key of %d columns", len(key), len(t.PK))
	}
	out := make([]Value, len(key))
	for i, ci := range t.PK {
		v, err := coerce(t.Cols[ci], key[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func encodeKey(vals []Value) string {
	var b strings.Builder
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b.WriteString("N\x00")
		case int64:
			b.WriteString("I" + strconv.FormatInt(x, 10) + "\x00")
		default:
			b.WriteString(fmt.Sprintf("S%v\x00", x))
		}
	}
	return b.String()
}

func (t *table) keyOf(row []Value) []Value {
	k := make([]Value, len(t.PK))
	for i, ci := range t.PK {
		k[i] = row[ci]
	}
	return k
}

// errDuplicateKey is the unique-index violation of a primary key.
var errDuplicateKey = &Error{Code: 0x11058, Message: "The row already exists in a unique index."}

// insert adds a coerced row; a duplicate primary key is ERR-11058.
func (t *table) insert(row []Value) error {
	if len(t.PK) == 0 {
		t.NextRowID++
		t.rows["#"+strconv.FormatInt(t.NextRowID, 10)] = row
		return nil
	}
	for _, ci := range t.PK {
		if row[ci] == nil {
			return &Error{Code: 0x31056, Message: "Unable to insert (or update) NULL into NOT NULL column."}
		}
	}
	k := encodeKey(t.keyOf(row))
	if _, ok := t.rows[k]; ok {
		return errDuplicateKey
	}
	t.rows[k] = row
	return nil
}

// restore readies a table read back from the data directory: no rows
// yet, and its partition conditions converted back to the key columns'
// types (JSON has turned them into numbers and strings).
func (t *table) restore() error {
	t.rows = map[string][]Value{}
	if t.Part == nil {
		return nil
	}
	if err := t.Part.restore(t); err != nil {
		return fmt.Errorf("loading the partitions of %s: %w", t.full(), err)
	}
	return nil
}

// truncate removes every row of t, or with part every row of that
// partition.
func (t *table) truncate(part string) {
	if part == "" {
		t.rows = map[string][]Value{}
		return
	}
	for k, row := range t.rows {
		if t.partitionOf(row) == part {
			delete(t.rows, k)
		}
	}
}

// sortedKeys lists the row keys in primary-key order, so SELECT without
// ORDER BY is deterministic.
func (t *table) sortedKeys() []string {
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := t.rows[keys[i]], t.rows[keys[j]]
		if len(t.PK) == 0 {
			ai, _ := strconv.ParseInt(keys[i][1:], 10, 64)
			bi, _ := strconv.ParseInt(keys[j][1:], 10, 64)
			return ai < bi
		}
		for _, ci := range t.PK {
			if c := compareValues(a[ci], b[ci]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	return keys
}

// compareValues orders NULL first, numbers numerically, strings bytewise.
func compareValues(a, b Value) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		}
		return 1
	}
	ai, aok := a.(int64)
	bi, bok := b.(int64)
	if aok && bok {
		switch {
		case ai < bi:
			return -1
		case ai > bi:
			return 1
		}
		return 0
	}
	if aok != bok { // compare a number with a string as Altibase converts: numerically when possible
		as, bs := fmt.Sprint(a), fmt.Sprint(b)
		if x, err := strconv.ParseInt(strings.TrimSpace(as), 10, 64); err == nil {
			if y, err := strconv.ParseInt(strings.TrimSpace(bs), 10, 64); err == nil {
				return compareValues(x, y)
			}
		}
		return strings.Compare(as, bs)
	}
	return strings.Compare(strings.TrimRight(fmt.Sprint(a), " "), strings.TrimRight(fmt.Sprint(b), " "))
}

// relation is rows with named columns: a user table's contents or a
// generated meta table or view.
type relation struct {
	cols []string
	rows [][]Value
}

func (r *relation) colIndex(name string) int {
	for i, c := range r.cols {
		if c == name {
			return i
		}
	}
	return -1
}

var errNoColumn = func(name string) *Error {
	return &Error{Code: 0x31003, Message: "Column not found : " + name}
}

// eval evaluates e against a row of r (r may be nil for constant
// expressions). Conditions evaluate to bool; NULL comparisons are false.
func eval(e expr, r *relation, row []Value) (Value, error) {
	switch x := e.(type) {
	case *litExpr:
		return x.v, nil
	case *colExpr:
		if r == nil {
			return nil, errNoColumn(x.name)
		}
		i := r.colIndex(x.name)
		if i < 0 {
			return nil, errNoColumn(x.name)
		}
		return row[i], nil
	case *notExpr:
		v, err := eval(x.e, r, row)
		if err != nil {
			return nil, err
		}
		b, _ := v.(bool)
		return !b, nil
	case *isNullExpr:
		v, err := eval(x.e, r, row)
		if err != nil {
			return nil, err
		}
		return (v == nil) != x.not, nil
	case *binExpr:
		l, err := eval(x.l, r, row)
		if err != nil {
			return nil, err
		}
		rv, err := eval(x.r, r, row)
		if err != nil {
			return nil, err
		}
		switch x.op {
		case "AND", "OR":
			lb, _ := l.(bool)
			rb, _ := rv.(bool)
			if x.op == "AND" {
				return lb && rb, nil
			}
			return lb || rb, nil
		case "+", "-":
			if l == nil || rv == nil {
				return nil, nil
			}
			li, lok := toInt(l)
			ri, rok := toInt(rv)
			if !lok || !rok {
				return nil, &Error{Code: 0x21011, Message: "Invalid literal"}
			}
			if x.op == "+" {
				return li + ri, nil
			}
			return li - ri, nil
		}
		if l == nil || rv == nil {
			return false, nil
		}
		c := compareValues(l, rv)
		switch x.op {
		case "=":
			return c == 0, nil
		case "<>":
			return c != 0, nil
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		case ">=":
			return c >= 0, nil
		}
	}
	return nil, fmt.Errorf("evaluating %T: unsupported expression", e)
}

func toInt(v Value) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func matches(where expr, r *relation, row []Value) (bool, error) {
	if where == nil {
		return true, nil
	}
	v, err := eval(where, r, row)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// tableRelation exposes a table's rows (in key order) as a relation.
func (t *table) relation() (*relation, []string) {
	r := &relation{}
	for _, c := range t.Cols {
		r.cols = append(r.cols, c.Name)
	}
	keys := t.sortedKeys()
	for _, k := range keys {
		r.rows = append(r.rows, t.rows[k])
	}
	return r, keys
}
