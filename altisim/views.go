package altisim

import (
	"sort"
	"strconv"
	"time"
)

// The performance views a monitor reads (V$REPSENDER, V$REPRECEIVER,
// V$REPGAP, V$REPSYNC, V$REPLOGBUFFER, V$LFG, V$PROPERTY), with the
// columns of the Data Dictionary (General Reference-2) that the simulator
// can fill; docs/altisim.md, "Meta tables and views", gives the source of
// each value. A sender's rows exist only while its sender does, so a
// missing row means "not running", never "no gap".

// repSenderLocked is V$REPSENDER: a row per running sender, and per SYNC
// copying rows (STATUS 6).
func (srv *Server) repSenderLocked() *relation {
	rel := &relation{cols: []string{"REP_NAME", "START_FLAG", "NET_ERROR_FLAG", "XSN", "COMMIT_XSN",
		"STATUS", "SENDER_IP", "PEER_IP", "SENDER_PORT", "PEER_PORT", "READ_LOG_COUNT", "SEND_LOG_COUNT",
		"REPL_MODE", "ACT_REPL_MODE"}}
	for _, r := range srv.sortedRepls() {
		var flag, status int
		var netErr bool
		var xsn, read, sent int64
		var peer replHost
		switch {
		case r.sync != nil:
			flag, status, xsn, peer = r.sync.startFlag, senderSync, r.sync.from, r.sync.peer
		case r.snd != nil:
			snd := r.snd
			flag, status, netErr, xsn, peer = snd.startFlag, snd.status, snd.netErr, r.XSN, snd.peer
			read, sent = snd.readCount, snd.sendCount
		default:
			continue
		}
		// PEER_IP and PEER_PORT are NULL while the sender has not reached
		// a peer.
		var peerIP, peerPort Value
		if peer.IP != "" {
			peerIP, peerPort = peer.IP, int64(peer.Port)
		}
		mode := "LAZY"
		if r.Mode == "EAGER" {
			mode = "EAGER"
		}
		rel.rows = append(rel.rows, []Value{r.Name, int64(flag), b2i(netErr), xsn, xsn, int64(status),
			srv.opts.Name, peerIP, srv.props["REPLICATION_PORT_NO"], peerPort, read, sent, mode, mode})
	}
	return rel
}

// repReceiverLocked is V$REPRECEIVER: a row per receiver whose sender is
// connected.
func (srv *Server) repReceiverLocked() *relation {
	rel := &relation{cols: []string{"REP_NAME", "MY_IP", "MY_PORT", "PEER_IP", "PEER_PORT", "APPLY_XSN",
		"INSERT_SUCCESS_COUNT", "INSERT_FAILURE_COUNT", "UPDATE_SUCCESS_COUNT", "UPDATE_FAILURE_COUNT",
		"DELETE_SUCCESS_COUNT", "DELETE_FAILURE_COUNT",
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
		for op := range 3 { // insert, update, delete: success then failure
			row = append(row, rc.counts[op], rc.counts[3+op])
		}
		rel.rows = append(rel.rows, append(row, int64(0), int64(0), int64(0)))
	}
	return rel
}

// repGapLocked is V$REPGAP: per running sender (or SYNC), the log it has
// not had acknowledged yet. REP_GAP_SIZE is its size in bytes, REP_GAP the
// same in REPLICATION_GAP_UNIT, rounded up (Altibase 7.1.0.1.8 patch notes,
// BUG-46598); READ_FILE_NO and READ_OFFSET are where the sender reads in the
// log files.
func (srv *Server) repGapLocked() *relation {
	rel := &relation{cols: []string{"REP_NAME", "START_FLAG", "REP_LAST_SN", "REP_SN", "REP_GAP", "REP_GAP_SIZE",
		"READ_LFG_ID", "READ_FILE_NO", "READ_OFFSET"}}
	unit := srv.props["REPLICATION_GAP_UNIT"]
	for _, r := range srv.sortedRepls() {
		var flag int
		var sn int64
		switch {
		case r.sync != nil:
			flag, sn = r.sync.startFlag, r.sync.from
		case r.snd != nil:
			flag, sn = r.snd.startFlag, r.XSN
		default:
			continue
		}
		pos := srv.unsentPosLocked(sn)
		size := srv.logEnd - pos
		file, offset := srv.logFileLocked(pos)
		rel.rows = append(rel.rows, []Value{r.Name, int64(flag), srv.lastLSN, sn, (size + unit - 1) / unit, size,
			int64(0), file, offset})
	}
	return rel
}

// repSyncLocked is V$REPSYNC: per running SYNC, a row per table or
// partition it copies, with the rows copied so far (-1 once done).
func (srv *Server) repSyncLocked() *relation {
	rel := &relation{cols: []string{"REP_NAME", "SYNC_TABLE", "SYNC_PARTITION", "SYNC_RECORD_COUNT", "SYNC_SN"}}
	for _, r := range srv.sortedRepls() {
		if r.sync == nil {
			continue
		}
		for _, u := range r.sync.units {
			var part Value
			if u.partition != "" {
				part = u.partition
			}
			// SYNC_SN is "not currently used" (Data Dictionary): 0, as
			// other unused columns show.
			rel.rows = append(rel.rows, []Value{r.Name, u.table, part, u.copied, int64(0)})
		}
	}
	return rel
}

// repLogBufferLocked is V$REPLOGBUFFER: empty, since the simulator has no
// replication log buffer, as a server with REPLICATION_LOG_BUFFER_SIZE = 0
// (its default) [I]. Senders read the log files, so the files held back
// for a sender are V$LFG.CUR_WRITE_LF_NO - V$REPGAP.READ_FILE_NO.
func (srv *Server) repLogBufferLocked() *relation {
	return &relation{cols: []string{"REP_NAME", "BUFFER_MIN_SN", "READ_SN", "BUFFER_MAX_SN"}}
}

// lfgLocked is V$LFG: the one log file group and where it writes.
func (srv *Server) lfgLocked() *relation {
	file, offset := srv.logFileLocked(srv.logEnd)
	return &relation{cols: []string{"LFG_ID", "CUR_WRITE_LF_NO", "CUR_WRITE_LF_OFFSET"},
		rows: [][]Value{{int64(0), file, offset}}}
}

// propertyLocked is V$PROPERTY: every modelled property and its value.
func (srv *Server) propertyLocked() *relation {
	rel := &relation{cols: []string{"NAME", "STOREDCOUNT", "ATTR", "MIN", "MAX", "VALUE1"}}
	for _, n := range PropertyNames() {
		d := propDefs[n]
		rel.rows = append(rel.rows, []Value{n, int64(1), int64(0), strconv.FormatInt(d.min, 10),
			strconv.FormatInt(d.max, 10), strconv.FormatInt(srv.props[n], 10)})
	}
	return rel
}
