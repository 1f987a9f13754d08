package altisim

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Meta tables and performance views with their real names and columns
// (altibase.md §3.2, DOCS:GR2). They are generated from the live state at
// each SELECT. SYSTEM_ tables may also be named without the SYSTEM_ prefix,
// V$ views with or without it; DUAL has one row.

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
			// REPL_MODE: 0 lazy, 2 eager (altibase.md §3.2).
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
		rel := &relation{cols: []string{"REP_NAME", "CURRENT_TYPE", "START_FLAG", "NET_ERROR_FLAG", "XSN", "COMMIT_XSN",
			"STATUS", "SENDER_IP", "PEER_IP", "SENDER_PORT", "PEER_PORT", "READ_LOG_COUNT", "SEND_LOG_COUNT",
			"REPL_MODE", "ACT_REPL_MODE"}}
		for _, r := range srv.sortedRepls() {
			snd := r.snd
			if snd == nil {
				continue
			}
			var peerIP, peerPort Value
			if snd.peer.IP != "" {
				peerIP, peerPort = snd.peer.IP, int64(snd.peer.Port)
			}
			mode := "LAZY"
			if r.Mode == "EAGER" {
				mode = "EAGER"
			}
			rel.rows = append(rel.rows, []Value{r.Name, "NORMAL", int64(snd.startFlag), b2i(snd.netErr), r.XSN, r.XSN,
				int64(snd.status), srv.opts.Name, peerIP, srv.props["REPLICATION_PORT_NO"], peerPort,
				snd.readCount, snd.sendCount, mode, mode})
		}
		return rel
	case "V$REPRECEIVER":
		rel := &relation{cols: []string{"REP_NAME", "MY_IP", "MY_PORT", "PEER_IP", "PEER_PORT", "APPLY_XSN",
			"INSERT_SUCCESS_COUNT", "UPDATE_SUCCESS_COUNT", "DELETE_SUCCESS_COUNT",
			"INSERT_FAILURE_COUNT", "UPDATE_FAILURE_COUNT", "DELETE_FAILURE_COUNT",
			"PARALLEL_ID", "SQL_APPLY_TABLE_COUNT", "APPLIER_INIT_BUFFER_USAGE"}}
		names := make([]string, 0, len(srv.receivers))
		for n, rc := range srv.receivers {
			// A receiver whose sender went silent (crashed server,
			// partition) disappears after receiverTimeout.
			if time.Since(rc.lastSeen) < receiverTimeout {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			rc := srv.receivers[n]
			row := []Value{rc.repl, srv.opts.Name, srv.props["REPLICATION_PORT_NO"], rc.peer, nil, rc.applyXSN}
			for _, c := range rc.counts {
				row = append(row, c)
			}
			rel.rows = append(rel.rows, append(row, int64(0), int64(0), int64(0)))
		}
		return rel
	case "V$REPGAP":
		// REP_GAP is counted in log records here, not in
		// REPLICATION_GAP_UNIT megabytes (docs/altisim.md).
		rel := &relation{cols: []string{"REP_NAME", "START_FLAG", "REP_LAST_SN", "REP_SN", "REP_GAP", "REP_GAP_SIZE",
			"READ_LFG_ID", "READ_FILE_NO", "READ_OFFSET"}}
		for _, r := range srv.sortedRepls() {
			if r.snd == nil {
				continue // rows only while the sender is active (altibase.md §3.2)
			}
			gap := srv.lastLSN - r.XSN
			if gap < 0 {
				gap = 0
			}
			rel.rows = append(rel.rows, []Value{r.Name, int64(r.snd.startFlag), srv.lastLSN, r.XSN, gap, gap,
				int64(0), int64(0), int64(0)})
		}
		return rel
	case "V$PROPERTY":
		rel := &relation{cols: []string{"NAME", "STOREDCOUNT", "ATTR", "MIN", "MAX", "VALUE1"}}
		for _, n := range propertyNames() {
			d := propDefs[n]
			rel.rows = append(rel.rows, []Value{n, int64(1), int64(0), strconv.FormatInt(d.min, 10),
				strconv.FormatInt(d.max, 10), strconv.FormatInt(srv.props[n], 10)})
		}
		return rel
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
