package altisim

import (
	"sort"
	"strings"
)

// Meta tables and performance views with their real names and columns
// (Altibase General Reference, "The Data Dictionary"; docs/altisim.md,
// "Meta tables and views"). They are generated from the live state at
// each SELECT. SYSTEM_ tables may also be named without the SYSTEM_ prefix,
// V$ views with or without it; DUAL has one row. The performance views
// are in views.go.

// relationLocked resolves the FROM clause.
func (s *Session) relationLocked(from *qname) (*relation, error) {
	srv := s.srv
	if from == nil {
		return &relation{rows: [][]Value{{}}}, nil
	}
	if from.user == "" || from.user == "SYSTEM_" || from.user == "SYS" && strings.HasPrefix(from.name, "V$") {
		if rel := srv.metaLocked(from.name); rel != nil {
			return rel, nil
		}
	}
	name := s.resolve(*from)
	t := srv.tables[name]
	if t == nil {
		return nil, errNoTable(name)
	}
	rel, _ := t.relation()
	return rel, nil
}

func (srv *Server) sortedRepls() []*replObj {
	out := make([]*replObj, 0, len(srv.repls))
	for _, r := range srv.repls {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// metaLocked returns the named meta table or view, or nil.
func (srv *Server) metaLocked(name string) *relation {
	switch name {
	case "DUAL":
		return &relation{cols: []string{"DUMMY"}, rows: [][]Value{{"X"}}}
	case "SYS_REPLICATIONS_":
		rel := &relation{cols: []string{"REPLICATION_NAME", "LAST_USED_HOST_NO", "HOST_COUNT", "IS_STARTED", "XSN",
			"ITEM_COUNT", "CONFLICT_RESOLUTION", "REPL_MODE", "ROLE", "OPTIONS", "INVALID_RECOVERY",
			"REMOTE_FAULT_DETECT_TIME", "GIVE_UP_TIME", "GIVE_UP_XSN", "PARALLEL_APPLIER_COUNT", "REMOTE_XSN",
			"APPLIER_INIT_BUFFER_SIZE"}}
		for _, r := range srv.sortedRepls() {
			// CONFLICT_RESOLUTION: 0 default, 1 AS MASTER, 2 AS SLAVE;
			// REPL_MODE: 0 lazy, 2 eager (Altibase General Reference,
			// "SYS_REPLICATIONS_").
			conflict := int64(0)
			switch r.Role {
			case "MASTER":
				conflict = 1
			case "SLAVE":
				conflict = 2
			}
			mode := int64(0)
			if r.Mode == "EAGER" {
				mode = 2
			}
			var remoteXSN Value = r.RemoteXSN
			rel.rows = append(rel.rows, []Value{r.Name, int64(r.LastUsedHostNo), int64(len(r.Hosts)), b2i(r.Started), r.XSN,
				int64(len(r.Items)), conflict, mode, int64(0), replOptions(r.Options), int64(0),
				nil, nil, nil, int64(1), remoteXSN, int64(0)})
		}
		return rel
	case "SYS_REPL_HOSTS_":
		rel := &relation{cols: []string{"HOST_NO", "REPLICATION_NAME", "HOST_IP", "PORT_NO", "CONN_TYPE", "IB_LATENCY"}}
		no := int64(0)
		for _, r := range srv.sortedRepls() {
			for _, h := range r.Hosts {
				no++
				rel.rows = append(rel.rows, []Value{no, r.Name, h.IP, int64(h.Port), "TCP", nil})
			}
		}
		return rel
	case "SYS_REPL_ITEMS_":
		rel := &relation{cols: []string{"REPLICATION_NAME", "TABLE_OID", "LOCAL_USER_NAME", "LOCAL_TABLE_NAME",
			"LOCAL_PARTITION_NAME", "REMOTE_USER_NAME", "REMOTE_TABLE_NAME", "REMOTE_PARTITION_NAME", "IS_PARTITION",
			"INVALID_MAX_SN", "CONDITION", "REPLICATION_UNIT", "IS_CONDITION_SYNCED"}}
		for _, r := range srv.sortedRepls() {
			for _, it := range r.Items {
				isPart, unit := "N", "T"
				var lp, rp Value
				if it.LocalPart != "" {
					isPart, unit, lp = "Y", "P", it.LocalPart
				}
				if it.RemotePart != "" {
					rp = it.RemotePart
				}
				rel.rows = append(rel.rows, []Value{r.Name, it.TableOID, it.LocalUser, it.LocalTable, lp,
					it.RemoteUser, it.RemoteTable, rp, isPart, int64(-1), nil, unit, "N"})
			}
		}
		return rel
	case "V$REPSENDER":
		return srv.repSenderLocked()
	case "V$REPRECEIVER":
		return srv.repReceiverLocked()
	case "V$REPGAP":
		return srv.repGapLocked()
	case "V$REPSYNC":
		return srv.repSyncLocked()
	case "V$REPLOGBUFFER":
		return srv.repLogBufferLocked()
	case "V$LFG":
		return srv.lfgLocked()
	case "V$PROPERTY":
		return srv.propertyLocked()
	}
	return nil
}

// replOptions is SYS_REPLICATIONS_.OPTIONS, a bitmask of the OPTIONS
// clause [I]: RECOVERY 1, OFFLINE 2, GAPLESS 4, PARALLEL 8, GROUPING 16,
// LOCAL 32.
func replOptions(opts []string) int64 {
	bits := map[string]int64{"RECOVERY": 1, "OFFLINE": 2, "GAPLESS": 4, "PARALLEL": 8, "GROUPING": 16, "LOCAL": 32}
	var m int64
	for _, o := range opts {
		m |= bits[o]
	}
	return m
}
