package replication

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aku-project/aku/conf"
)

// State is one replication object as the server's meta tables describe it
// (Altibase General Reference, "SYS_REPLICATIONS_" and "SYS_REPL_HOSTS_").
type State struct {
	Name      string // REPLICATION_NAME
	XSN       int64  // restart SN; -1 after RESET or before the first start
	Started   bool   // IS_STARTED = 1
	ItemCount int    // ITEM_COUNT
	// PeerHost and PeerPort are the object's first remote host (lowest
	// HOST_NO): the peer pod's DNS name and replication port for objects
	// aku created; empty and 0 when the object has no host row.
	PeerHost string
	PeerPort int
	// Items are the object's local items (SYS_REPL_ITEMS_), in the order
	// the server lists them; a table item has no Partition.
	Items []conf.Item
}

// Reset reports whether the object has no restart point (XSN = -1): it was
// reset, or never started (docs/behaviour.md, "Restart points and XSN").
// Such an object on a slave needs the first-start path, SYNC from the master
// (docs/behaviour.md, "Fresh slave start").
func (st State) Reset() bool { return st.XSN == -1 }

// States reads every replication object of the server from
// SYSTEM_.SYS_REPLICATIONS_ alone, sorted by name: name, XSN, started and
// item count, without hosts or items (one query, for checks that need no
// more).
func (s *Session) States(ctx context.Context) ([]State, error) {
	reps, err := s.Query(ctx, "SELECT REPLICATION_NAME, XSN, IS_STARTED, ITEM_COUNT FROM SYSTEM_.SYS_REPLICATIONS_")
	if err != nil {
		return nil, fmt.Errorf("reading replications: %w", err)
	}
	out := make([]State, 0, len(reps))
	for _, r := range reps {
		if len(r) != 4 {
			return nil, fmt.Errorf("reading replications on %s: %d columns, want 4", s.host, len(r))
		}
		var st State
		var started, items int64
		if err := scanValues(r, &st.Name, &st.XSN, &started, &items); err != nil {
			return nil, fmt.Errorf("reading replications on %s: %w", s.host, err)
		}
		st.Name = strings.TrimSpace(st.Name)
		st.Started = started == 1
		st.ItemCount = int(items)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Replications reads every replication object of the server, sorted by
// name, with its first host and its items. The three meta tables are read
// with one plain SELECT each and joined here: the SQL stays within what
// every Altibase version and the simulator answer, and contains no '?' or
// '{' (psqlODBC rewrites them).
func (s *Session) Replications(ctx context.Context) ([]State, error) {
	out, err := s.States(ctx)
	if err != nil {
		return nil, err
	}
	hosts, err := s.Query(ctx, "SELECT REPLICATION_NAME, HOST_NO, HOST_IP, PORT_NO FROM SYSTEM_.SYS_REPL_HOSTS_")
	if err != nil {
		return nil, fmt.Errorf("reading replication hosts: %w", err)
	}
	type host struct {
		no   int64
		ip   string
		port int64
	}
	first := map[string]host{}
	for _, r := range hosts {
		if len(r) != 4 {
			return nil, fmt.Errorf("reading replication hosts on %s: %d columns, want 4", s.host, len(r))
		}
		var h host
		var name string
		if err := scanValues(r, &name, &h.no, &h.ip, &h.port); err != nil {
			return nil, fmt.Errorf("reading replication hosts on %s: %w", s.host, err)
		}
		name = strings.TrimSpace(name)
		if cur, ok := first[name]; !ok || h.no < cur.no {
			first[name] = h
		}
	}
	items, err := s.Query(ctx, "SELECT REPLICATION_NAME, LOCAL_USER_NAME, LOCAL_TABLE_NAME, LOCAL_PARTITION_NAME FROM SYSTEM_.SYS_REPL_ITEMS_")
	if err != nil {
		return nil, fmt.Errorf("reading replication items: %w", err)
	}
	itemsOf := map[string][]conf.Item{}
	for _, r := range items {
		if len(r) != 4 {
			return nil, fmt.Errorf("reading replication items on %s: %d columns, want 4", s.host, len(r))
		}
		var name string
		var it conf.Item
		if err := scanValues(r, &name, &it.User, &it.Table, &it.Partition); err != nil {
			return nil, fmt.Errorf("reading replication items on %s: %w", s.host, err)
		}
		name = strings.TrimSpace(name)
		it.User, it.Table, it.Partition = strings.TrimSpace(it.User), strings.TrimSpace(it.Table), strings.TrimSpace(it.Partition)
		itemsOf[name] = append(itemsOf[name], it)
	}
	for i := range out {
		if h, ok := first[out[i].Name]; ok {
			out[i].PeerHost, out[i].PeerPort = strings.TrimSpace(h.ip), int(h.port)
		}
		out[i].Items = itemsOf[out[i].Name]
	}
	return out, nil
}

// Property reads one server property's current value from V$PROPERTY
// (VALUE1), e.g. ADMIN_MODE or REPLICATION_DDL_ENABLE, so aku can restore
// what it changes (docs/behaviour.md, "Fresh slave start").
func (s *Session) Property(ctx context.Context, name string) (int64, error) {
	vs, err := s.Properties(ctx, name)
	if err != nil {
		return 0, err
	}
	return vs[0], nil
}

// Properties reads several server properties with one query, in the order
// of names. A name the server does not know is ErrStatement.
func (s *Session) Properties(ctx context.Context, names ...string) ([]int64, error) {
	conds := make([]string, len(names))
	for i, name := range names {
		if err := checkIdent("property", name, maxIdentifier); err != nil {
			return nil, fmt.Errorf("reading properties on %s: %w", s.host, err)
		}
		conds[i] = "NAME = '" + name + "'"
	}
	what := strings.Join(names, ", ")
	rows, err := s.Query(ctx, "SELECT NAME, VALUE1 FROM V$PROPERTY WHERE "+strings.Join(conds, " OR "))
	if err != nil {
		return nil, fmt.Errorf("reading property %s: %w", what, err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		var name string
		var v int64
		if err := scanValues(r, &name, &v); err != nil {
			return nil, fmt.Errorf("reading property %s on %s: %w", what, s.host, err)
		}
		got[strings.TrimSpace(name)] = v
	}
	out := make([]int64, len(names))
	for i, name := range names {
		v, ok := got[name]
		if !ok {
			return nil, fmt.Errorf("reading property %s on %s: no such property: %w", name, s.host, ErrStatement)
		}
		out[i] = v
	}
	return out, nil
}

// scanValues converts one row's values into string and int64 targets. ODBC
// drivers differ in what they return for a number (int64, int32, float64,
// or its text), so every form is accepted.
func scanValues(row []any, dst ...any) error {
	if len(row) != len(dst) {
		return fmt.Errorf("%d values, want %d", len(row), len(dst))
	}
	for i, v := range row {
		switch d := dst[i].(type) {
		case *string:
			switch x := v.(type) {
			case nil:
				*d = ""
			case string:
				*d = x
			case []byte:
				*d = string(x)
			default:
				*d = fmt.Sprint(x)
			}
		case *int64:
			n, err := toInt64(v)
			if err != nil {
				return fmt.Errorf("column %d: %w", i+1, err)
			}
			*d = n
		default:
			return fmt.Errorf("column %d: unsupported target %T", i+1, d)
		}
	}
	return nil
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	case []byte:
		return strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
	case nil:
		return 0, fmt.Errorf("NULL is not an integer")
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}
