package altisim

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
)

// Partitioned tables (docs/altisim.md, "Partitions"): how a table divides
// its rows among partitions, which partition a row belongs to, and how
// two servers' partitions are compared when a replication starts.

// Partitioning methods (SQL Reference, CREATE TABLE: table_partitioning_clause).
const (
	methodRange = "RANGE"
	methodList  = "LIST"
	methodHash  = "HASH"
)

// partitioning is how a partitioned table divides its rows.
type partitioning struct {
	Method string      `json:"method"`
	Key    []int       `json:"key"` // partition key columns, indexes into the table's Cols
	Parts  []partition `json:"parts"`
}

// partition is one partition of a partitioned table, in the order of its
// definition.
type partition struct {
	Name    string `json:"name"`
	Default bool   `json:"default,omitempty"`
	// Bound is a range partition's noninclusive upper limit, one value per
	// key column.
	Bound []Value `json:"bound,omitempty"`
	// Values are a list partition's key values.
	Values []Value `json:"values,omitempty"`
}

// partitionClause is PARTITION BY method (cols) (PARTITION ..., ...) of
// CREATE TABLE, as parsed.
type partitionClause struct {
	method string
	cols   []string
	parts  []partitionDef
}

// partitionDef is one PARTITION p [VALUES ...] of a partitionClause.
type partitionDef struct {
	name     string
	dflt     bool    // VALUES DEFAULT
	lessThan []Value // VALUES LESS THAN (...)
	values   []Value // VALUES (...)
}

// newPartitioning checks a PARTITION BY clause against the table's columns
// and returns the partitioning, its bounds and values converted to the key
// columns' types.
func (t *table) newPartitioning(c *partitionClause) (*partitioning, error) {
	pt := &partitioning{Method: c.method}
	for _, name := range c.cols {
		i := t.colIndex(name)
		if i < 0 {
			return nil, errPartKeyColumn(name)
		}
		for _, k := range pt.Key {
			if k == i {
				return nil, errDupPartKeyColumn(name)
			}
		}
		pt.Key = append(pt.Key, i)
	}
	if c.method == methodList && len(pt.Key) != 1 {
		return nil, errListKeyColumns
	}
	names := map[string]bool{}
	defaults := 0
	for _, d := range c.parts {
		if names[d.name] {
			return nil, errDupPartName(d.name)
		}
		names[d.name] = true
		p := partition{Name: d.name, Default: d.dflt}
		switch {
		case d.dflt && c.method == methodHash:
			return nil, errHashDefault
		case d.dflt:
			defaults++
		case c.method == methodRange:
			if len(d.lessThan) != len(pt.Key) {
				return nil, errBoundTooLong
			}
			bound, err := t.keyValues(pt.Key, d.lessThan)
			if err != nil {
				return nil, err
			}
			p.Bound = bound
		case c.method == methodList:
			for _, v := range d.values {
				kv, err := t.keyValues(pt.Key, []Value{v})
				if err != nil {
					return nil, err
				}
				p.Values = append(p.Values, kv[0])
			}
		}
		pt.Parts = append(pt.Parts, p)
	}
	if c.method != methodHash && defaults != 1 {
		return nil, errDefaultPartition
	}
	if err := pt.checkDistinct(); err != nil {
		return nil, err
	}
	return pt, nil
}

// keyValues converts condition values to the key columns' types.
func (t *table) keyValues(key []int, vals []Value) ([]Value, error) {
	out := make([]Value, len(vals))
	for i, v := range vals {
		cv, err := coerce(t.Cols[key[i]], v)
		if err != nil || cv == nil {
			return nil, errPartCondValue(v)
		}
		out[i] = cv
	}
	return out, nil
}

// checkDistinct refuses a range bound or a list value given twice: a key
// must belong to one partition only (SQL Reference, CREATE TABLE:
// partition_range_clause, partition_list_clause).
func (pt *partitioning) checkDistinct() error {
	var seen [][]Value
	for _, p := range pt.Parts {
		conds := [][]Value{p.Bound}
		if pt.Method == methodList {
			conds = nil
			for _, v := range p.Values {
				conds = append(conds, []Value{v})
			}
		}
		for _, c := range conds {
			if c == nil {
				continue
			}
			for _, s := range seen {
				if compareTuples(c, s) == 0 {
					return errDupPartCondValue(formatTuple(c))
				}
			}
			seen = append(seen, c)
		}
	}
	return nil
}

// restore converts bounds and values read back from JSON to the key
// columns' types.
func (pt *partitioning) restore(t *table) error {
	for i := range pt.Parts {
		p := &pt.Parts[i]
		if p.Bound != nil {
			b, err := t.keyValues(pt.Key, p.Bound)
			if err != nil {
				return err
			}
			p.Bound = b
		}
		for j, v := range p.Values {
			kv, err := t.keyValues(pt.Key, []Value{v})
			if err != nil {
				return err
			}
			p.Values[j] = kv[0]
		}
	}
	return nil
}

func compareTuples(a, b []Value) int {
	for i := range a {
		if c := compareValues(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// formatTuple writes condition values as a partition condition is shown:
// numbers as they are, strings quoted, several values separated by commas.
func formatTuple(vals []Value) string {
	var parts []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			parts = append(parts, "'"+strings.ReplaceAll(s, "'", "''")+"'")
		} else {
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, ",")
}

// rangeOrder is the range partitions with a bound, lowest bound first:
// a key belongs to the first whose bound is above it.
func (pt *partitioning) rangeOrder() []*partition {
	var out []*partition
	for i := range pt.Parts {
		if !pt.Parts[i].Default {
			out = append(out, &pt.Parts[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return compareTuples(out[i].Bound, out[j].Bound) < 0 })
	return out
}

func (pt *partitioning) defaultPart() string {
	for _, p := range pt.Parts {
		if p.Default {
			return p.Name
		}
	}
	return ""
}

// partitionOf is the partition a row of t belongs to; "" for a table that
// is not partitioned. A range or list partitioned table always has a
// default partition, so every row has one.
func (t *table) partitionOf(row []Value) string {
	pt := t.Part
	if pt == nil {
		return ""
	}
	key := make([]Value, len(pt.Key))
	for i, c := range pt.Key {
		key[i] = row[c]
	}
	switch pt.Method {
	case methodRange:
		// NULL keys belong to the default partition (SQL Reference,
		// CREATE TABLE: range_partitioning).
		for _, v := range key {
			if v == nil {
				return pt.defaultPart()
			}
		}
		for _, p := range pt.rangeOrder() {
			if compareTuples(key, p.Bound) < 0 {
				return p.Name
			}
		}
	case methodList:
		for _, p := range pt.Parts {
			for _, v := range p.Values {
				if key[0] != nil && compareValues(key[0], v) == 0 {
					return p.Name
				}
			}
		}
	case methodHash:
		// Altibase's hash function is not published: any function that
		// gives one key one partition behaves the same for aku.
		h := fnv.New32a()
		h.Write([]byte(encodeKey(key)))
		return pt.Parts[int(h.Sum32()%uint32(len(pt.Parts)))].Name
	}
	return pt.defaultPart()
}

// hasPartition reports whether t has a partition of that name.
func (t *table) hasPartition(name string) bool {
	if t.Part == nil {
		return false
	}
	for _, p := range t.Part.Parts {
		if p.Name == name {
			return true
		}
	}
	return false
}

// PartitionInfo describes one partition as a replication handshake
// compares it (Replication Manual, "Partitioned Table Constraints"): its
// name, its condition (Min and Max, as Altibase keeps PARTITION_MIN_VALUE
// and PARTITION_MAX_VALUE) and, for hash partitions, its position.
type PartitionInfo struct {
	// Name is the partition's name.
	Name string `json:"name"`
	// Min is a range partition's lower limit (the next lower partition's
	// bound), "" for the lowest.
	Min string `json:"min,omitempty"`
	// Max is a range partition's upper limit or a list partition's values,
	// "" for a default partition.
	Max string `json:"max,omitempty"`
	// Order is the partition's position in the table's definition.
	Order int `json:"order"`
}

// partitionInfos describes the partitions a replication item covers: the
// named one, or every partition of a whole partitioned table (none for a
// table that is not partitioned).
func (t *table) partitionInfos(part string) []PartitionInfo {
	pt := t.Part
	if pt == nil {
		return nil
	}
	lower := map[string]string{}
	var prev string
	var upper string
	for _, p := range pt.rangeOrder() {
		lower[p.Name] = prev
		upper = formatTuple(p.Bound)
		prev = upper
	}
	var out []PartitionInfo
	for i, p := range pt.Parts {
		if part != "" && p.Name != part {
			continue
		}
		info := PartitionInfo{Name: p.Name, Order: i}
		switch {
		case pt.Method == methodRange && p.Default:
			info.Min = upper
		case pt.Method == methodRange:
			info.Min, info.Max = lower[p.Name], formatTuple(p.Bound)
		case pt.Method == methodList && !p.Default:
			var vals []string
			for _, v := range p.Values {
				vals = append(vals, formatTuple([]Value{v}))
			}
			sort.Strings(vals)
			info.Max = strings.Join(vals, ",")
		}
		out = append(out, info)
	}
	return out
}

// comparePartitions is the receiver's check of a handshake item against
// its own table (Replication Manual, "Partitioned Table Constraints": the
// same method; the same conditions for range and list partitions, for the
// replicated ones only; the same position for hash partitions). A table
// that is not partitioned has the method NONE here. An item naming
// partitions compares the sender's with the receiver's, whatever their
// names (the unit check matched those); a whole partitioned table
// compares partitions of the same name, and each side must have all of
// the other's. The refusals are the Replication Manager's catalogue
// entries (docs/altisim.md, "Partitions").
func comparePartitions(it HandshakeItem, local *table) *Error {
	method := "NONE"
	if local.Part != nil {
		method = local.Part.Method
	}
	theirs := it.Method
	if theirs == "" {
		theirs = "NONE"
	}
	if theirs != method {
		return errPartMethodMismatch(it.SenderTable, theirs, it.Table, method)
	}
	if it.Partition != "" {
		if !local.hasPartition(it.Partition) {
			return errReplPartition(it.Partition)
		}
		mine := local.partitionInfos(it.Partition)[0]
		for _, p := range it.Partitions {
			if e := compareCondition(it, method, p, mine); e != nil {
				return e
			}
		}
		return nil
	}
	mine := map[string]PartitionInfo{}
	for _, p := range local.partitionInfos("") {
		mine[p.Name] = p
	}
	theirNames := map[string]bool{}
	for _, p := range it.Partitions {
		if _, ok := mine[p.Name]; !ok {
			return errPartNameMismatch(p.Name, "")
		}
		theirNames[p.Name] = true
	}
	var extra []string
	for name := range mine {
		if !theirNames[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return errPartNameMismatch("", extra[0])
	}
	for _, p := range it.Partitions {
		if e := compareCondition(it, method, p, mine[p.Name]); e != nil {
			return e
		}
	}
	return nil
}

// compareCondition compares the sender's partition theirs with the
// receiver's mine: the position for hash partitions, the condition (lower
// and upper limit) for range and list partitions.
func compareCondition(it HandshakeItem, method string, theirs, mine PartitionInfo) *Error {
	switch {
	case method == methodHash && theirs.Order != mine.Order:
		return errPartOrderMismatch(it.SenderTable, theirs.Order, it.Table, mine.Order)
	case method == methodHash:
	case theirs.Min != mine.Min:
		return errPartCondMismatch(theirs.Min, mine.Min)
	case theirs.Max != mine.Max:
		return errPartCondMismatch(theirs.Max, mine.Max)
	}
	return nil
}
