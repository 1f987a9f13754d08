package altisim

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/internal/retry"
)

// Replication objects, senders and receivers (docs/altisim.md, "Replication
// objects" and "How rows move").

// replItemState is one FROM user.table [PARTITION p] TO user.table
// [PARTITION p] item. An item naming a partition replicates that
// partition's rows only (docs/altisim.md, "Partitions").
type replItemState struct {
	LocalUser   string `json:"local_user"`
	LocalTable  string `json:"local_table"`
	LocalPart   string `json:"local_part,omitempty"`
	RemoteUser  string `json:"remote_user"`
	RemoteTable string `json:"remote_table"`
	RemotePart  string `json:"remote_part,omitempty"`
	TableOID    int64  `json:"table_oid"`
}

func (it replItemState) local() string  { return it.LocalUser + "." + it.LocalTable }
func (it replItemState) remote() string { return it.RemoteUser + "." + it.RemoteTable }

// replState is the persisted part of a replication object, the rows of
// SYS_REPLICATIONS_, SYS_REPL_HOSTS_ and SYS_REPL_ITEMS_.
type replState struct {
	Name           string          `json:"name"`
	Mode           string          `json:"mode"` // LAZY, EAGER
	Role           string          `json:"role,omitempty"`
	Options        []string        `json:"options,omitempty"`
	Hosts          []replHost      `json:"hosts"`
	Items          []replItemState `json:"items"`
	Started        bool            `json:"started"`
	XSN            int64           `json:"xsn"`
	LastUsedHostNo int             `json:"last_used_host_no"`
	RemoteXSN      int64           `json:"remote_xsn"`
}

// replObj is a replication object with its run-time state.
type replObj struct {
	replState
	op  chan struct{} // held by the one ALTER/DROP running on the object
	snd *sender
	// pin, while a SYNC runs, is the log position it will start from: the
	// log must keep what follows it (0 = no pin).
	pin int64
	// sync is the SYNC copying rows, nil when none runs (V$REPSYNC).
	sync *syncRun
}

// syncRun is a running SYNC as V$REPSENDER, V$REPGAP and V$REPSYNC show
// it, from the handshake until the statement ends.
type syncRun struct {
	startFlag int // startSync or startSyncOnly
	peer      replHost
	// from is the LSN up to which the log is covered by the copied rows:
	// replication continues after it.
	from  int64
	units []syncUnit
}

// syncUnit is one table or partition a SYNC copies, a row of V$REPSYNC.
type syncUnit struct {
	table, partition string
	// copied counts the rows the peer acknowledged, -1 once all are.
	copied int64
}

// V$REPSENDER START_FLAG values (Altibase General Reference, "V$REPSENDER").
const (
	startNormal   = 0
	startQuick    = 1
	startSync     = 2
	startSyncOnly = 3
)

// V$REPSENDER STATUS values (Altibase General Reference, "V$REPSENDER"). A
// sender that stops leaves the view, so STOP (0) never shows.
const (
	senderRun   = 1
	senderRetry = 2
	senderSync  = 6
)

// sender is the run-time state of a started replication's sender.
type sender struct {
	cancel    context.CancelFunc
	done      chan struct{}
	startFlag int
	status    int
	netErr    bool
	peer      replHost
	readCount int64
	sendCount int64
}

// receiver is a peer's sender as this server sees it (V$REPRECEIVER).
type receiver struct {
	repl     string
	peer     string
	applyXSN int64
	counts   [6]int64 // insert, update, delete success; insert, update, delete failure
	lastSeen time.Time
}

const (
	retryInterval   = 100 * time.Millisecond
	keepalive       = 300 * time.Millisecond
	receiverTimeout = 3 * time.Second
	batchRecords    = 500
)

// acquire takes the object's operation slot, so that ALTER statements on
// one object run one at a time, and returns it with its release.
func (s *Server) acquire(ctx context.Context, name string) (*replObj, func(), error) {
	s.mu.Lock()
	r := s.repls[name]
	if r == nil {
		s.mu.Unlock()
		return nil, nil, errUndefinedRepl(name)
	}
	if r.op == nil {
		r.op = make(chan struct{}, 1)
	}
	op := r.op
	s.mu.Unlock()
	select {
	case op <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	release := func() { <-op }
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repls[name] != r {
		release()
		return nil, nil, errUndefinedRepl(name)
	}
	return r, release, nil
}

func (s *Server) replicatedLocked(tableName string) bool {
	for _, r := range s.repls {
		for _, it := range r.Items {
			if it.local() == tableName {
				return true
			}
		}
	}
	return false
}

// createRepl runs CREATE REPLICATION (Altibase Replication Manual, "CREATE
// REPLICATION").
func (ss *Session) createRepl(st *createReplStmt) error {
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	// REPLICATION_NAME is VARCHAR(40) (Altibase General Reference,
	// "SYS_REPLICATIONS_").
	if len(st.name) > 40 {
		return errReplItem(fmt.Sprintf("The replication name %s is longer than 40 bytes.", st.name))
	}
	// ERR-61100 duplicate name (Altibase CloudNative FAQ).
	if s.repls[st.name] != nil {
		return errDuplicateRepl(st.name)
	}
	// At most REPLICATION_MAX_COUNT objects (Altibase General Reference,
	// "REPLICATION_MAX_COUNT"; ERR-61102).
	if max := s.props["REPLICATION_MAX_COUNT"]; int64(len(s.repls)) >= max {
		return errMaxRepl(max)
	}
	r := &replObj{replState: replState{
		Name: st.name, Mode: st.mode, Role: st.role, Options: st.options,
		Hosts: st.hosts,
		// [I]: a freshly created object's XSN is -1 (docs/altisim.md,
		// "Replication objects").
		XSN: -1, RemoteXSN: -1,
	}}
	for _, it := range st.items {
		item, err := s.newItemLocked(it)
		if err != nil {
			return err
		}
		r.Items = append(r.Items, item)
	}
	s.repls[st.name] = r
	rs := r.replState
	return s.persistLocked(walEntry{T: "repl", Repl: &rs})
}

// newItemLocked checks a FROM ... TO ... item of CREATE REPLICATION or ADD
// TABLE: the local table must exist and have a primary key (Altibase
// Replication Manual, "CREATE REPLICATION"); a named partition must be one
// of the table's, which a table that is not partitioned has none of
// (ERR-6114F).
func (s *Server) newItemLocked(it replItem) (replItemState, error) {
	t := s.tables[it.localUser+"."+it.localTable]
	if t == nil {
		return replItemState{}, errNoTable(it.localUser + "." + it.localTable)
	}
	if len(t.PK) == 0 {
		return replItemState{}, errNoPK(t.full())
	}
	if it.localPart != "" && !t.hasPartition(it.localPart) {
		return replItemState{}, errReplPartition(it.localPart)
	}
	return replItemState{
		LocalUser: it.localUser, LocalTable: it.localTable, LocalPart: it.localPart,
		RemoteUser: it.remoteUser, RemoteTable: it.remoteTable, RemotePart: it.remotePart,
		TableOID: t.OID,
	}, nil
}

func (s *Server) persistReplLocked(r *replObj) error {
	rs := r.replState
	return s.persistLocked(walEntry{T: "repl", Repl: &rs})
}

// dropRepl runs DROP REPLICATION: only while stopped (Altibase Replication
// Manual, "DROP REPLICATION"; ERR-610FE).
func (ss *Session) dropRepl(ctx context.Context, name string) error {
	s := ss.srv
	r, release, err := s.acquire(ctx, name)
	if err != nil {
		return err
	}
	defer release()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Started {
		return errReplStarted
	}
	delete(s.repls, name)
	delete(s.receivers, name)
	s.trimLogLocked()
	return s.persistLocked(walEntry{T: "droprepl", Name: name})
}

// alterRepl runs ALTER REPLICATION (Altibase Replication Manual, "ALTER
// REPLICATION").
func (ss *Session) alterRepl(ctx context.Context, st *alterReplStmt) error {
	s := ss.srv
	r, release, err := s.acquire(ctx, st.name)
	if err != nil {
		return err
	}
	defer release()
	switch st.action {
	case "START", "QUICKSTART":
		return s.start(ctx, r, st)
	case "STOP":
		return s.stop(r)
	case "RESET":
		s.mu.Lock()
		defer s.mu.Unlock()
		// RESET only while stopped (Altibase Replication Manual, "ALTER
		// REPLICATION"); XSN = -1 (Altibase General Reference,
		// "SYS_REPLICATIONS_"), and the changes not yet sent are forgotten.
		if r.Started {
			return errReplStarted
		}
		r.XSN, r.RemoteXSN = -1, -1
		s.trimLogLocked()
		return s.persistReplLocked(r)
	case "SYNC":
		return s.sync(ctx, r, st)
	case "FLUSH":
		return s.flush(ctx, r, st)
	case "ADD TABLE", "DROP TABLE":
		return s.alterItems(r, st)
	}
	return fmt.Errorf("altering replication %s: unsupported action %s", st.name, st.action)
}

// syncItemsLocked is the items a SYNC copies: all of them, or those SYNC
// ... TABLE names, each exactly as it was added, a table or a partition
// (Replication Manual, ALTER REPLICATION: SYNC ... TABLE; ERR-6114E for
// the other unit).
func (s *Server) syncItemsLocked(r *replObj, only []replItem) ([]replItemState, error) {
	if len(only) == 0 {
		return r.Items, nil
	}
	var items []replItemState
	for _, o := range only {
		found, otherUnit := false, false
		for _, it := range r.Items {
			if o.localUser != it.LocalUser || o.localTable != it.LocalTable {
				continue
			}
			if o.localPart == it.LocalPart {
				items = append(items, it)
				found = true
			} else {
				otherUnit = true
			}
		}
		switch {
		case found:
		case otherUnit && o.localPart != "":
			return nil, errReplUnit(o.localPart)
		case otherUnit:
			return nil, errReplUnit(o.localTable)
		default:
			return nil, errReplItem(fmt.Sprintf("%s.%s is not an item of replication %s", o.localUser, o.localTable, r.Name))
		}
	}
	return items, nil
}

// handshakeItemsLocked describes items as the handshake offers them.
func (s *Server) handshakeItemsLocked(items []replItemState) []HandshakeItem {
	out := make([]HandshakeItem, 0, len(items))
	for _, it := range items {
		h := HandshakeItem{Table: it.remote(), Partition: it.RemotePart, SenderTable: it.local(), SenderPartition: it.LocalPart}
		if t := s.tables[it.local()]; t != nil && t.Part != nil {
			h.Method = t.Part.Method
			h.Partitions = t.partitionInfos(it.LocalPart)
		}
		out = append(out, h)
	}
	return out
}

// start runs START / QUICKSTART [RETRY] (Altibase Replication Manual, "ALTER
// REPLICATION"): the handshake must succeed unless RETRY is given, in which
// case the sender keeps retrying in the background.
func (s *Server) start(ctx context.Context, r *replObj, st *alterReplStmt) error {
	s.mu.Lock()
	if r.Started {
		s.mu.Unlock()
		return errSenderStarted // ERR-6100A (docs/altisim.md, "Replication objects")
	}
	hosts := append([]replHost(nil), r.Hosts...)
	items := s.handshakeItemsLocked(r.Items)
	first := r.LastUsedHostNo
	s.mu.Unlock()

	link, no, peer, err := s.handshake(ctx, r.Name, hosts, first, items)
	if err != nil && (!st.retry || ctx.Err() != nil) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	flag := startNormal
	// QUICKSTART skips pending logs; an XSN of -1 (new or RESET) has no
	// restart point, so the sender starts from the current log position.
	if st.action == "QUICKSTART" {
		flag = startQuick
		r.XSN = s.lastLSN
	} else if r.XSN < 0 {
		r.XSN = s.lastLSN
	}
	r.Started = true
	if link != nil {
		r.LastUsedHostNo = no
	}
	if err := s.persistReplLocked(r); err != nil {
		if link != nil {
			link.Close()
		}
		return err
	}
	s.startSenderLocked(r, link, no, peer, flag)
	return nil
}

// stop runs STOP: the sender ends and XSN stays as the restart point
// (Altibase Replication Manual, "ALTER REPLICATION"). Stopping a stopped
// replication is ERR-61027 [I]: no public source says.
func (s *Server) stop(r *replObj) error {
	s.mu.Lock()
	if !r.Started {
		s.mu.Unlock()
		return errNotStarted
	}
	r.Started = false
	snd := r.snd
	r.snd = nil
	err := s.persistReplLocked(r)
	s.wakeLocked()
	s.mu.Unlock()
	if snd != nil {
		snd.cancel()
		<-snd.done
	}
	return err
}

// sync runs SYNC [ONLY] (Altibase Replication Manual, "ALTER REPLICATION"):
// all rows of the items are sent to the peer, then (without ONLY) replication
// starts from the log position of the moment the rows were read. While the
// rows travel, V$REPSYNC shows the progress of each table or partition and
// V$REPSENDER a sender in STATUS 6 (SYNC).
func (s *Server) sync(ctx context.Context, r *replObj, st *alterReplStmt) error {
	// PARALLEL ≤ 0 is an error (Altibase Replication Manual, "ALTER
	// REPLICATION").
	if st.parallel <= 0 {
		return errInvalidParallel(st.parallel)
	}
	s.mu.Lock()
	if r.Started {
		s.mu.Unlock()
		return errReplStarted
	}
	items, err := s.syncItemsLocked(r, st.tables)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	run := &syncRun{startFlag: startSync, from: s.lastLSN}
	if st.only {
		run.startFlag = startSyncOnly
	}
	var rows [][]ReplRecord // rows[i]: the rows of run.units[i]
	for _, it := range items {
		t := s.tables[it.local()]
		if t == nil {
			s.mu.Unlock()
			return errNoTable(it.local())
		}
		for _, part := range syncPartitions(t, it) {
			var recs []ReplRecord
			for _, k := range t.sortedKeys() {
				if part != "" && t.partitionOf(t.rows[k]) != part {
					continue
				}
				recs = append(recs, ReplRecord{Table: it.remote(), Op: "I", Row: wireValues(t.rows[k])})
			}
			run.units = append(run.units, syncUnit{table: it.LocalTable, partition: part})
			rows = append(rows, recs)
		}
	}
	batch := s.props["REPLICATION_SYNC_TUPLE_COUNT"]
	if batch <= 0 || batch > batchRecords {
		batch = batchRecords
	}
	offered := s.handshakeItemsLocked(items)
	r.pin = run.from + 1
	hosts := append([]replHost(nil), r.Hosts...)
	first := r.LastUsedHostNo
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		r.pin, r.sync = 0, nil
		s.mu.Unlock()
	}()

	link, no, peer, err := s.handshake(ctx, r.Name, hosts, first, offered)
	if err != nil {
		return err
	}
	s.mu.Lock()
	run.peer = peer
	r.sync = run
	s.mu.Unlock()
	for i, recs := range rows {
		for len(recs) > 0 {
			n := min(int64(len(recs)), batch)
			if err := s.sendSyncBatch(ctx, link, r.Name, recs[:n]); err != nil {
				link.Close()
				return err
			}
			s.mu.Lock()
			run.units[i].copied += n
			s.mu.Unlock()
			recs = recs[n:]
		}
		s.mu.Lock()
		run.units[i].copied = -1
		s.mu.Unlock()
	}
	if st.only {
		// The goodbye travels without the server's lock: a peer doing the
		// same toward this server would otherwise deadlock (docs/altisim.md:
		// the lock is never held while a message travels). Its answer does
		// not matter; a peer that misses it drops the receiver after
		// receiverTimeout.
		bctx, cancel := context.WithTimeout(ctx, time.Second)
		link.Send(bctx, &ReplMessage{Kind: "stop", Replication: r.Name, From: s.opts.Name})
		cancel()
		link.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.XSN = run.from
	r.LastUsedHostNo = no
	if st.only {
		s.trimLogLocked()
		return s.persistReplLocked(r)
	}
	r.Started = true
	if err := s.persistReplLocked(r); err != nil {
		link.Close()
		return err
	}
	s.startSenderLocked(r, link, no, peer, startSync)
	return nil
}

// syncPartitions is what a SYNC copies of an item's table, one V$REPSYNC
// row each: the item's partition, every partition of a whole partitioned
// table in the order of their definition [I], or the whole table ("").
func syncPartitions(t *table, it replItemState) []string {
	switch {
	case it.LocalPart != "":
		return []string{it.LocalPart}
	case t.Part != nil:
		parts := make([]string, len(t.Part.Parts))
		for i, p := range t.Part.Parts {
			parts[i] = p.Name
		}
		return parts
	}
	return []string{""}
}

// sendSyncBatch sends rows of a SYNC after the injected per-row delay
// (Faults.SetSyncRowDelay). A failure ends the SYNC: ctx's error, or
// ERR-6100D when the peer refused or the link broke.
func (s *Server) sendSyncBatch(ctx context.Context, link Link, name string, recs []ReplRecord) error {
	if err := retry.Sleep(ctx, time.Duration(len(recs))*s.faults.SyncRowDelay()); err != nil {
		return err
	}
	reply, err := link.Send(ctx, &ReplMessage{Kind: "sync", Replication: name, From: s.opts.Name, Records: recs})
	if err == nil && reply.Error != nil {
		err = reply.Error
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errHandshake("sync interrupted: " + err.Error())
	}
	return nil
}

// flush runs FLUSH [ALL] [WAIT n] (Altibase Replication Manual, "ALTER
// REPLICATION"): it waits until the sender has shipped (and the peer
// acknowledged) the log up to the moment of the FLUSH, or with ALL up to the
// latest log. With WAIT n it gives up after n seconds silently [I]: no
// public source says. FLUSH on a stopped replication is ERR-61027 [I].
func (s *Server) flush(ctx context.Context, r *replObj, st *alterReplStmt) error {
	var deadline <-chan time.Time
	if st.wait >= 0 {
		t := time.NewTimer(time.Duration(st.wait) * time.Second)
		defer t.Stop()
		deadline = t.C
	}
	s.mu.Lock()
	target := s.lastLSN
	for {
		if !r.Started {
			s.mu.Unlock()
			return errNotStarted
		}
		if st.all {
			target = s.lastLSN
		}
		if r.XSN >= target {
			s.mu.Unlock()
			return nil
		}
		wake := s.logWake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
}

// alterItems runs ADD TABLE / DROP TABLE FROM ... TO ... .
func (s *Server) alterItems(r *replObj, st *alterReplStmt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// ADD/DROP TABLE only while stopped (Altibase Replication Manual, "ALTER
	// REPLICATION").
	if r.Started {
		return errReplStarted
	}
	// The statement is atomic: the items change only if every named table
	// is accepted.
	items := append([]replItemState(nil), r.Items...)
	for _, it := range st.tables {
		idx := -1
		for i, have := range items {
			if have.LocalUser == it.localUser && have.LocalTable == it.localTable && have.LocalPart == it.localPart {
				idx = i
			}
		}
		if st.action == "DROP TABLE" {
			if idx < 0 {
				return errReplItem(fmt.Sprintf("%s.%s is not an item of replication %s", it.localUser, it.localTable, r.Name))
			}
			items = append(items[:idx], items[idx+1:]...)
			continue
		}
		if idx >= 0 {
			return errReplItem(fmt.Sprintf("%s.%s is already an item of replication %s", it.localUser, it.localTable, r.Name))
		}
		item, err := s.newItemLocked(it)
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	r.Items = items
	return s.persistReplLocked(r)
}

// handshake connects to the first reachable host of the object, starting
// with the last one used, and asks its receiver to accept the replication.
// Failure is ERR-6100D with the reasons (its page in the Altibase
// CloudNative FAQ).
func (s *Server) handshake(ctx context.Context, name string, hosts []replHost, first int, items []HandshakeItem) (Link, int, replHost, error) {
	if s.opts.Transport == nil {
		return nil, 0, replHost{}, errHandshake("this server has no replication transport")
	}
	timeout := time.Duration(s.prop("REPLICATION_CONNECT_TIMEOUT")) * time.Second
	var reasons []string
	for i := range hosts {
		no := (first + i) % len(hosts)
		h := hosts[no]
		hctx, cancel := context.WithTimeout(ctx, timeout)
		link, err := s.opts.Transport.Dial(hctx, h.IP, h.Port)
		if err == nil {
			var reply *ReplMessage
			reply, err = link.Send(hctx, &ReplMessage{Kind: "handshake", Replication: name, From: s.opts.Name, Items: items})
			if err == nil && reply.Error != nil {
				err = fmt.Errorf("%s", reply.Error.Message)
			}
			if err != nil {
				link.Close()
			}
		}
		cancel()
		if err == nil {
			return link, no, h, nil
		}
		if ctx.Err() != nil {
			return nil, 0, replHost{}, ctx.Err()
		}
		reasons = append(reasons, fmt.Sprintf("%s:%d: %v", h.IP, h.Port, err))
	}
	return nil, 0, replHost{}, errHandshake(strings.Join(reasons, "; "))
}

// startSenderLocked starts the sender goroutine of a started replication.
// link is an established connection or nil (the sender connects itself,
// retrying every retryInterval).
func (s *Server) startSenderLocked(r *replObj, link Link, no int, peer replHost, flag int) {
	ctx, cancel := context.WithCancel(s.ctx)
	snd := &sender{cancel: cancel, done: make(chan struct{}), startFlag: flag, status: senderRetry, peer: peer}
	if link != nil {
		snd.status = senderRun
	} else {
		snd.netErr = true
	}
	r.snd = snd
	s.wg.Add(1)
	go s.runSender(ctx, r, snd, link)
}

// runSender ships the object's committed changes with LSN > XSN, each once
// it is ReplicationLag old, and advances XSN as the peer acknowledges. When
// the peer is unreachable it keeps the changes (the gap grows) and retries.
func (s *Server) runSender(ctx context.Context, r *replObj, snd *sender, link Link) {
	defer s.wg.Done()
	defer close(snd.done)
	defer func() {
		s.mu.Lock()
		crashed := s.crashed
		s.mu.Unlock()
		if link != nil && crashed {
			link.Close() // kill -9: the peer notices by silence
		} else if link != nil {
			bctx, cancel := context.WithTimeout(context.Background(), time.Second)
			link.Send(bctx, &ReplMessage{Kind: "stop", Replication: r.Name, From: s.opts.Name})
			cancel()
			link.Close()
		}
	}()
	lastSent := time.Now()
	for ctx.Err() == nil {
		if link == nil {
			s.mu.Lock()
			hosts := append([]replHost(nil), r.Hosts...)
			items := s.handshakeItemsLocked(r.Items)
			first := r.LastUsedHostNo
			s.mu.Unlock()
			l, no, peer, err := s.handshake(ctx, r.Name, hosts, first, items)
			if err != nil {
				s.mu.Lock()
				snd.status, snd.netErr = senderRetry, true
				s.mu.Unlock()
				retry.Sleep(ctx, retryInterval)
				continue
			}
			link = l
			s.mu.Lock()
			snd.status, snd.netErr, snd.peer = senderRun, false, peer
			if r.snd == snd {
				r.LastUsedHostNo = no
			}
			s.mu.Unlock()
		}
		s.mu.Lock()
		recs, upto, bytes, next, wake := s.collectLocked(r)
		snd.readCount += int64(len(recs))
		s.mu.Unlock()
		// Faults.SetSendRate: the batch's log takes its time to travel.
		if rate := s.faults.SendRate(); rate > 0 && bytes > 0 {
			if retry.Sleep(ctx, time.Duration(float64(bytes)/float64(rate)*float64(time.Second))) != nil {
				continue
			}
		}
		var ackXSN int64 = -1
		if len(recs) > 0 {
			reply, err := s.send(ctx, link, &ReplMessage{Kind: "apply", Replication: r.Name, From: s.opts.Name, Records: recs})
			if err != nil {
				link = s.dropLink(link, snd)
				continue
			}
			ackXSN = reply.XSN
			lastSent = time.Now()
		}
		s.mu.Lock()
		advanced := false
		if r.snd == snd && upto > r.XSN {
			r.XSN = upto
			if ackXSN >= 0 {
				r.RemoteXSN = ackXSN
				snd.sendCount += int64(len(recs))
			}
			s.trimLogLocked()
			s.wakeLocked()
			if s.store != nil {
				// Not synced: a crash may lose the last XSN advances, and the
				// peer then receives those changes again and counts them as
				// conflicts, as Altibase's restart SN does.
				s.store.append(s, walEntry{T: "xsn", Name: r.Name, XSN: r.XSN}, false)
			}
			advanced = true
		}
		s.mu.Unlock()
		if advanced {
			continue
		}
		wait := keepalive - time.Since(lastSent)
		if next > 0 && next < wait {
			wait = next
		}
		if wait <= 0 {
			if _, err := s.send(ctx, link, &ReplMessage{Kind: "ping", Replication: r.Name, From: s.opts.Name}); err != nil {
				link = s.dropLink(link, snd)
				continue
			}
			lastSent = time.Now()
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// collectLocked returns the next batch of the object's changes that are due
// (at least ReplicationLag old), the LSN up to which the log has been read,
// the bytes of log that covers, how long until the next change is due (0:
// none pending), and the channel that signals a log change. With a send
// rate (Faults.SetSendRate) a batch holds about a tenth of a second's
// worth of log.
func (s *Server) collectLocked(r *replObj) ([]ReplRecord, int64, int64, time.Duration, chan struct{}) {
	if s.senderHeldLocked(r.Name) {
		return nil, r.XSN, 0, 0, s.logWake // Faults.HoldSender: nothing is due
	}
	maxBytes := int64(-1)
	if rate := s.faults.SendRate(); rate > 0 {
		maxBytes = max(rate/10, 1)
	}
	// route is where a table's changes go: the peer's table, and all of
	// them for an item of the whole table, else only the changes of rows in
	// the partitions items name.
	type route struct {
		remote string
		whole  bool
		parts  map[string]bool
	}
	items := map[string]*route{}
	for _, it := range r.Items {
		rt := items[it.local()]
		if rt == nil {
			rt = &route{remote: it.remote(), parts: map[string]bool{}}
			items[it.local()] = rt
		}
		rt.whole = rt.whole || it.LocalPart == ""
		rt.parts[it.LocalPart] = true
	}
	now := time.Now()
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].LSN > r.XSN })
	upto := r.XSN
	var next time.Duration
	var recs []ReplRecord
	var bytes int64
	exhausted := true
	for ; i < len(s.log); i++ {
		rec := &s.log[i]
		if due := rec.Time.Add(s.opts.ReplicationLag); due.After(now) {
			next = due.Sub(now)
			exhausted = false
			break
		}
		if len(recs) >= batchRecords || maxBytes >= 0 && bytes >= maxBytes {
			exhausted = false
			break
		}
		upto = rec.LSN
		bytes += rec.Size
		if rec.Origin != "" {
			continue // applied from a peer, or REPLICATION = NONE: never sent on
		}
		if rt, ok := items[rec.Table]; ok && (rt.whole || rt.parts[rec.Part]) {
			recs = append(recs, ReplRecord{LSN: rec.LSN, Table: rt.remote, Op: rec.Op, Key: wireValues(rec.Key), Row: wireValues(rec.Row)})
		}
	}
	if exhausted && s.lastLSN > upto {
		upto = s.lastLSN
	}
	return recs, upto, bytes, next, s.logWake
}

// send sends one message of a running sender, bounded by
// REPLICATION_CONNECT_TIMEOUT so that a peer that stopped answering is
// treated as a broken connection. The peer's refusal is the error.
func (s *Server) send(ctx context.Context, link Link, m *ReplMessage) (*ReplMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(s.prop("REPLICATION_CONNECT_TIMEOUT"))*time.Second)
	defer cancel()
	reply, err := link.Send(ctx, m)
	if err == nil && reply.Error != nil {
		err = reply.Error
	}
	return reply, err
}

// dropLink closes a running sender's broken link and shows the sender
// retrying (V$REPSENDER STATUS 2, NET_ERROR_FLAG 1). It returns the
// sender's link from now on: none, until it connects again.
func (s *Server) dropLink(link Link, snd *sender) Link {
	link.Close()
	s.mu.Lock()
	snd.status, snd.netErr = senderRetry, true
	s.mu.Unlock()
	return nil
}

// wireValues copies values for a ReplRecord with integers as decimal
// strings: a JSON transport would turn them into float64 and lose BIGINT
// precision, and the receiver converts by column type anyway.
func wireValues(vals []Value) []any {
	if vals == nil {
		return nil
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		if n, ok := v.(int64); ok {
			out[i] = strconv.FormatInt(n, 10)
		} else {
			out[i] = v
		}
	}
	return out
}

// checkOfferedItemLocked is the receiver's check of one item a sender
// offers in a handshake: the table must exist; if this server's object
// replicates that table, it must do so in the same unit (the same
// partition, or the whole table; rpdMeta's item comparison, ERR-610D5);
// and the partitioning must match (comparePartitions). Item lists are not
// compared otherwise (docs/altisim.md, "Deliberately not modelled").
func (s *Server) checkOfferedItemLocked(r *replObj, it HandshakeItem) *Error {
	t := s.tables[it.Table]
	if t == nil {
		return errNoTable(it.Table)
	}
	var other *replItemState
	matched := false
	for i, mine := range r.Items {
		if mine.local() != it.Table {
			continue
		}
		if mine.LocalPart == it.Partition {
			matched = true
		} else if other == nil {
			other = &r.Items[i]
		}
	}
	if !matched && other != nil {
		return errPartNameMismatch(it.Partition, other.LocalPart)
	}
	return comparePartitions(it, t)
}

// Receive is the receiver side of the replication protocol (see
// ReplMessage): it handles one message from a peer's sender and returns the
// reply. A refusal is a reply with Error; a returned error means the server
// is down, as a broken connection would.
func (s *Server) Receive(ctx context.Context, m *ReplMessage) (*ReplMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("receiving from %s: server %s is down", m.From, s.opts.Name)
	}
	refuse := func(e *Error) (*ReplMessage, error) {
		return &ReplMessage{Kind: "ack", Replication: m.Replication, From: s.opts.Name, Error: e}, nil
	}
	// REPLICATION_PORT_NO = 0 disables replication (Altibase General
	// Reference, "REPLICATION_PORT_NO").
	if s.props["REPLICATION_PORT_NO"] == 0 {
		return refuse(&Error{Code: 0x6100D, Message: "replication is disabled on " + s.opts.Name + " (REPLICATION_PORT_NO = 0)"})
	}
	ok := &ReplMessage{Kind: "ack", Replication: m.Replication, From: s.opts.Name}
	rc := s.receivers[m.Replication]
	switch m.Kind {
	case "handshake":
		// The peer must have the object of the same name, and the tables
		// (Altibase Replication Manual, "CREATE REPLICATION"; ERR-6100D,
		// Altibase CloudNative FAQ).
		r := s.repls[m.Replication]
		if r == nil {
			return refuse(&Error{Code: 0x6111B, Message: fmt.Sprintf("the replication %s does not exist on %s", m.Replication, s.opts.Name)})
		}
		for _, it := range m.Items {
			if e := s.checkOfferedItemLocked(r, it); e != nil {
				return refuse(e)
			}
		}
		s.receivers[m.Replication] = &receiver{repl: m.Replication, peer: m.From, applyXSN: -1, lastSeen: time.Now()}
		return ok, nil
	case "stop":
		if rc != nil && rc.peer == m.From {
			delete(s.receivers, m.Replication)
		}
		return ok, nil
	}
	if rc == nil || rc.peer != m.From || s.repls[m.Replication] == nil {
		return refuse(errNoReceiverHere)
	}
	rc.lastSeen = time.Now()
	switch m.Kind {
	case "ping":
		return ok, nil
	case "apply", "sync":
		// Refuse a malformed message before applying any of it: rows changed
		// here must also reach the log and the data directory below.
		for _, in := range m.Records {
			if len(in.Op) != 1 || !strings.Contains("IUD", in.Op) {
				return refuse(&Error{Code: 0x6100D, Message: "unknown record op " + in.Op})
			}
		}
		var committed []logRecord
		for _, in := range m.Records {
			rec := logRecord{Origin: m.From, Table: in.Table, Op: in.Op, Key: in.Key, Row: in.Row}
			var u undoLog
			err := s.applyLocked(&rec, &u)
			kind := strings.Index("IUD", in.Op)
			if err != nil {
				// Conflicts (duplicate key, missing row) are skipped and
				// counted, Altibase's default conflict handling (docs/altisim.md).
				u.rollback()
				rc.counts[3+kind]++
				continue
			}
			rc.counts[kind]++
			if t := s.tables[rec.Table]; t != nil && rec.Key != nil {
				rec.Key, _ = t.coerceKey(rec.Key)
			}
			committed = append(committed, rec)
		}
		if err := s.commitLocked(committed); err != nil {
			return nil, fmt.Errorf("receiving from %s: %w", m.From, err)
		}
		if n := len(m.Records); n > 0 && m.Kind == "apply" {
			rc.applyXSN = m.Records[n-1].LSN
		}
		ok.XSN = rc.applyXSN
		return ok, nil
	}
	return refuse(&Error{Code: 0x6100D, Message: "unknown message kind " + m.Kind})
}
