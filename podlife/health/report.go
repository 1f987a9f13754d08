package health

import (
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// Report is the health of the mesh as one observation saw it, from this
// pod: every server, every pair, and the findings with the command that
// fixes each. Its JSON form is aku status --output json, documented field
// by field in docs/status.md; field names are stable and fields are only
// added. A value the observation could not read is null, never 0.
type Report struct {
	Time     time.Time `json:"time"`
	Pod      string    `json:"pod"`
	Ordinal  int       `json:"ordinal"`
	Health   Health    `json:"health"`
	Servers  []Server  `json:"servers"`
	Pairs    []Pair    `json:"pairs"`
	Findings []Finding `json:"findings"`
}

// Health is the verdict of a Report.
type Health string

// The verdicts; aku status exits 0, 19 and 20 for them.
const (
	// Healthy: this pod's server answered (open, or starting) and there
	// is no finding.
	Healthy Health = "healthy"
	// Degraded: there are findings.
	Degraded Health = "degraded"
	// Unknown: this pod's own server could not be read (absent, down,
	// not answering, rejecting aku): aku cannot tell.
	Unknown Health = "unknown"
)

// Server is one server of the StatefulSet in a Report.
type Server struct {
	Ordinal int    `json:"ordinal"`
	Host    string `json:"host"`
	Role    string `json:"role"` // "master" (ordinal 0) or "slave"
	Self    bool   `json:"self"`
	State   State  `json:"state"`
	// Error says why the server was not read.
	Error     string `json:"error,omitempty"`
	AdminMode *int64 `json:"adminMode"`
	ViaSysdba bool   `json:"viaSysdba"`
	// LogFile is V$LFG.CUR_WRITE_LF_NO.
	LogFile *int64 `json:"logFile"`
	// Marker and Start are this pod's own files; null for the others.
	Marker *bool   `json:"marker"`
	Start  *string `json:"start"`
}

// The values of Server.Start: what this pod's files say of its start.
const (
	StartCompleted = "completed" // the marker exists
	StartRunning   = "running"   // a start runs and makes progress
	StartStalled   = "stalled"   // a start's progress file went stale: stuck or killed
	StartNone      = "none"      // no marker, and no start running
)

// Pair is one replication object pair PREFIX_ij: the object of that name
// on server i and on server j.
type Pair struct {
	Name    string  `json:"name"`
	Prefix  string  `json:"prefix"`
	Servers [2]int  `json:"servers"`
	Sides   [2]Side `json:"sides"`
}

// Side is a pair's object on one of its two servers. When that server was
// not read, Read is false and every value is null.
type Side struct {
	Ordinal int   `json:"ordinal"` // the server the object is on
	Peer    int   `json:"peer"`    // the server it replicates to
	Read    bool  `json:"read"`
	Exists  *bool `json:"exists"`
	// MatchesConfig: the object's host, port and items are aku.conf's;
	// Drift says how they differ.
	MatchesConfig *bool             `json:"matchesConfig"`
	Drift         string            `json:"drift,omitempty"`
	Started       *bool             `json:"started"`
	XSN           *int64            `json:"xsn"`
	Sender        *SenderInfo       `json:"sender"`
	Receiver      *bool             `json:"receiver"`
	GapBytes      *int64            `json:"gapBytes"`
	HeldLogFiles  *int64            `json:"heldLogFiles"`
	Sync          []SyncInfo        `json:"sync"`
	GivenUp       *GiveUpInfo       `json:"givenUp"`
	state         replication.State // the object as read, for the findings
}

// SenderInfo is the side's sender thread (V$REPSENDER).
type SenderInfo struct {
	Status     string `json:"status"`
	StatusCode int64  `json:"statusCode"`
	NetError   bool   `json:"netError"`
	StartFlag  int64  `json:"startFlag"`
}

// SyncInfo is one table or partition of a running SYNC (V$REPSYNC).
type SyncInfo struct {
	Table     string `json:"table"`
	Partition string `json:"partition,omitempty"`
	Records   int64  `json:"records"`
}

// GiveUpInfo is a give-up recorded in SYS_REPLICATIONS_.
type GiveUpInfo struct {
	Time string `json:"time"`
	XSN  *int64 `json:"xsn"`
}

// Assess turns an observation into a Report. It is a pure function.
func Assess(cfg *conf.Config, id podlife.Identity, obs Observation) *Report {
	r := &Report{Time: obs.At, Pod: id.PodName, Ordinal: id.Ordinal, Servers: []Server{}, Pairs: []Pair{}, Findings: []Finding{}}
	for _, v := range obs.Servers {
		r.Servers = append(r.Servers, server(v, id.Ordinal, obs.Self))
	}
	for g, grp := range cfg.Groups {
		for i := 0; i < cfg.ServerCount; i++ {
			for j := i + 1; j < cfg.ServerCount; j++ {
				if obs.Servers[i].State == StateAbsent && obs.Servers[j].State == StateAbsent {
					continue
				}
				name := replication.ObjectName(grp.Prefix, i, j)
				r.Pairs = append(r.Pairs, Pair{Name: name, Prefix: grp.Prefix, Servers: [2]int{i, j},
					Sides: [2]Side{side(cfg, g, name, obs.Servers[i], j), side(cfg, g, name, obs.Servers[j], i)}})
			}
		}
	}
	r.Findings = findings(cfg, id, obs, r)
	switch self := selfView(obs, id); {
	case self == nil || !knows(self.State):
		r.Health = Unknown
	case len(r.Findings) > 0:
		r.Health = Degraded
	default:
		r.Health = Healthy
	}
	return r
}

// knows reports whether a server in this state says something about
// itself: it was read, or it told aku it is not open.
func knows(s State) bool {
	switch s {
	case StateOpen, StateAdminMode, StateNotOpen, StateStarting:
		return true
	}
	return false
}

func selfView(obs Observation, id podlife.Identity) *ServerView {
	if id.Ordinal < 0 || id.Ordinal >= len(obs.Servers) {
		return nil
	}
	return &obs.Servers[id.Ordinal]
}

// server is v in a Report.
func server(v ServerView, me int, self SelfView) Server {
	s := Server{Ordinal: v.Ordinal, Host: v.Host, Role: "slave", Self: v.Ordinal == me, State: v.State, ViaSysdba: v.ViaSysdba}
	if v.Ordinal == 0 {
		s.Role = "master"
	}
	if v.Err != nil {
		s.Error = v.Err.Error()
	}
	if v.Read() {
		s.AdminMode = ptr(v.AdminMode)
		if v.Monitor.LogFile >= 0 {
			s.LogFile = ptr(v.Monitor.LogFile)
		}
	}
	if s.Self {
		s.Marker = ptr(self.Marker)
		s.Start = ptr(startOf(self))
	}
	return s
}

// startOf says what this pod's files say of its start.
func startOf(self SelfView) string {
	switch {
	case self.Marker:
		return StartCompleted
	case self.Start.Running():
		return StartRunning
	case self.Start.Exists:
		return StartStalled
	}
	return StartNone
}

// side is the object name, of group g, on server v toward peer.
func side(cfg *conf.Config, g int, name string, v ServerView, peer int) Side {
	s := Side{Ordinal: v.Ordinal, Peer: peer, Read: v.Read()}
	if !s.Read {
		return s
	}
	st, ok := v.Objects[name]
	s.Exists = ptr(ok)
	if !ok {
		return s
	}
	s.state = st
	s.Drift = podlife.DriftOf(st, podlife.PeerHost(cfg, peer), cfg.ReplicationPortNo, cfg.Groups[g].Items)
	s.MatchesConfig = ptr(s.Drift == "")
	s.Started, s.XSN = ptr(st.Started), ptr(st.XSN)
	m := v.Monitor
	if snd, ok := m.Senders[name]; ok {
		s.Sender = &SenderInfo{Status: replication.SenderStatusName(snd.Status), StatusCode: snd.Status, NetError: snd.NetError, StartFlag: snd.StartFlag}
	}
	_, ok = m.Receivers[name]
	s.Receiver = ptr(ok)
	// No V$REPGAP row: no sender, so the gap is unknown, never 0.
	if gap, ok := m.Gaps[name]; ok {
		s.GapBytes = ptr(gap.Bytes)
		if m.LogFile >= 0 && gap.ReadFile >= 0 {
			s.HeldLogFiles = ptr(max(m.LogFile-gap.ReadFile, 0))
		}
	}
	s.Sync = []SyncInfo{}
	for _, u := range m.Syncs[name] {
		s.Sync = append(s.Sync, SyncInfo{Table: u.Table, Partition: u.Partition, Records: u.Records})
	}
	if gu, ok := m.GiveUps[name]; ok {
		s.GivenUp = &GiveUpInfo{Time: gu.Time}
		if gu.XSN >= 0 {
			s.GivenUp.XSN = ptr(gu.XSN)
		}
	}
	return s
}

func ptr[T any](v T) *T { return &v }
