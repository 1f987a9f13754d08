package health

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// Finding is something wrong with the mesh, with the command that fixes it
// (docs/status.md, "Findings").
type Finding struct {
	Kind Kind `json:"kind"`
	// Server is the ordinal of the server the finding is about, where the
	// fix runs.
	Server      int    `json:"server"`
	Replication string `json:"replication,omitempty"`
	Message     string `json:"message"`
	Fix         string `json:"fix"`
}

// Kind names what a Finding is about.
type Kind string

// The kinds of findings.
const (
	// KindUnreachable: a pod exists (its name resolves) but its server
	// refuses connections, does not answer, or rejects aku's session.
	KindUnreachable Kind = "unreachable"
	// KindNotOpen: a server in ADMIN_MODE = 1 whose start may be running
	// or may have failed (without --sysdba aku cannot tell).
	KindNotOpen Kind = "not-open"
	// KindAdminMode: a server in ADMIN_MODE = 1 with no aku start running.
	KindAdminMode Kind = "admin-mode"
	// KindStartStalled: this pod's start showed no progress for longer
	// than ProgressFresh: stuck, or killed.
	KindStartStalled Kind = "start-stalled"
	// KindHalfBuilt: two running pods, and their pair is missing or
	// stopped on one side (or both).
	KindHalfBuilt Kind = "half-built"
	// KindSenderDown: both sides started, but one side's sender does not
	// run or lost its peer: nothing flows that way.
	KindSenderDown Kind = "sender-down"
	// KindGivenUp: the server recorded that a sender gave up
	// (REPLICATION_MAX_LOGFILE): its peer misses what was not sent.
	KindGivenUp Kind = "sender-given-up"
	// KindStalePeer: an object keeps a restart point toward a pod that
	// does not exist, so its server keeps log files for it.
	KindStalePeer Kind = "stale-peer"
	// KindDrift: an object's host, port or items differ from aku.conf.
	KindDrift Kind = "drift"
)

// findings lists what is wrong: the servers' first, by ordinal, then the
// pairs', in the Report's order.
func findings(cfg *conf.Config, id podlife.Identity, obs Observation, r *Report) []Finding {
	out := []Finding{}
	pod := func(q int) string { return cfg.StsName + "-" + strconv.Itoa(q) }
	for _, v := range obs.Servers {
		if f, ok := serverFinding(v, v.Ordinal == id.Ordinal, obs.Self, pod(v.Ordinal)); ok {
			out = append(out, f)
		}
	}
	for _, p := range r.Pairs {
		for _, s := range p.Sides {
			out = append(out, sideFindings(cfg, p, s, obs.Servers[s.Peer], pod)...)
		}
		out = append(out, pairFindings(cfg, p, obs, pod)...)
	}
	return out
}

// serverFinding is what is wrong with one server, if anything.
func serverFinding(v ServerView, self bool, sv SelfView, pod string) (Finding, bool) {
	f := Finding{Server: v.Ordinal}
	why := ""
	if v.Err != nil {
		why = ": " + v.Err.Error()
	}
	switch {
	case v.State == StateRefused || v.State == StateNotAnswering || v.State == StateRejected:
		f.Kind = KindUnreachable
		f.Message = fmt.Sprintf("pod %s exists but its server %s%s", pod, unreachable[v.State], why)
		f.Fix = fmt.Sprintf("kubectl describe pod %s; kubectl logs %s", pod, pod)
		if v.State == StateRejected {
			f.Fix = "check that the SYS password aku uses (AKU_SYS_PASSWORD, AKU_SYS_PASSWORD_FILE) is the server's, on every pod"
		}
	case self && v.State == StateNotOpen && sv.Start.Exists:
		f.Kind = KindStartStalled
		f.Message = fmt.Sprintf("this pod's aku -p start has shown no progress since %s (%s): it is stuck, or was killed",
			sv.Start.Last.UTC().Format("2006-01-02T15:04:05Z"), sv.Start.Doing)
		f.Fix = fmt.Sprintf("kubectl logs %s; the liveness probe (aku probe live) restarts the container, whose start then runs again", pod)
	case v.State == StateAdminMode || self && v.State == StateNotOpen:
		f.Kind = KindAdminMode
		f.Message = fmt.Sprintf("the server of %s is in ADMIN_MODE = 1 (not open to users) and no aku start is running on it", pod)
		f.Fix = fmt.Sprintf("kubectl logs %s tells why its start failed; once that is fixed: kubectl exec %s -- aku -p start", pod, pod)
	case v.State == StateNotOpen:
		f.Kind = KindNotOpen
		f.Message = fmt.Sprintf("the server of %s is not open to users (ADMIN_MODE = 1): its start is in progress, or failed", pod)
		f.Fix = fmt.Sprintf("kubectl logs %s shows its start (aku status --sysdba tells a running start from a failed one); once a failure is fixed: kubectl exec %s -- aku -p start", pod, pod)
	default:
		return f, false
	}
	return f, true
}

// unreachable says what a server in each unreachable state does.
var unreachable = map[State]string{
	StateRefused:      "refuses connections",
	StateNotAnswering: "does not answer",
	StateRejected:     "rejects aku's session",
}

// sideFindings is what is wrong with one side of a pair on its own: drift,
// a give-up, a restart point toward a pod that is gone.
func sideFindings(cfg *conf.Config, p Pair, s Side, peer ServerView, pod func(int) string) []Finding {
	if !s.Read || !*s.Exists {
		return nil
	}
	var out []Finding
	add := func(k Kind, msg, fix string) {
		out = append(out, Finding{Kind: k, Server: s.Ordinal, Replication: p.Name, Message: msg, Fix: fix})
	}
	if s.Drift != "" {
		add(KindDrift, fmt.Sprintf("%s on %s %s", p.Name, pod(s.Ordinal), s.Drift),
			"rebuild the pair from aku.conf, "+podlife.RebuildProcedure(cfg, p.Name, p.Servers[0], p.Servers[1])+` (docs/behaviour.md, "Configuration drift")`)
	}
	if s.GivenUp != nil {
		add(KindGivenUp, fmt.Sprintf("%s on %s gave up sending at %s (GIVE_UP_XSN %s): %s misses what was written on %s since",
			p.Name, pod(s.Ordinal), s.GivenUp.Time, orUnknown(s.GivenUp.XSN), pod(s.Peer), pod(s.Ordinal)),
			fmt.Sprintf("kubectl exec %s -- aku -p end, then kubectl exec %s -- aku -p start: its new start SYNCs it from the MASTER", pod(p.Servers[1]), pod(p.Servers[1])))
	}
	if peer.State == StateAbsent && (s.state.Started || s.state.XSN != -1) {
		stmts := []string{"ALTER REPLICATION " + p.Name + " RESET"}
		if s.state.Started {
			stmts = append([]string{"ALTER REPLICATION " + p.Name + " STOP"}, stmts...)
		}
		add(KindStalePeer, fmt.Sprintf("%s on %s keeps a restart point toward %s, which does not exist: %s keeps its log files for it until its disk fills",
			p.Name, pod(s.Ordinal), pod(s.Peer), pod(s.Ordinal)),
			fmt.Sprintf("on %s, as SYS: %s; or kubectl exec %s -- aku -p release --peer %d, which runs them (docs/behaviour.md, \"Stale peers\")",
				pod(s.Ordinal), strings.Join(stmts, "; "), pod(s.Ordinal), s.Peer))
	}
	return out
}

// pairFindings is what is wrong with a pair between two running pods: a
// side missing or stopped, or a sender that does not run.
func pairFindings(cfg *conf.Config, p Pair, obs Observation, pod func(int) string) []Finding {
	i, j := p.Servers[0], p.Servers[1]
	if obs.Servers[i].State != StateOpen || obs.Servers[j].State != StateOpen {
		return nil
	}
	a, b := p.Sides[0], p.Sides[1]
	rebuild := fmt.Sprintf("kubectl exec %s -- aku -p end, then kubectl exec %s -- aku -p start: a start builds its pairs with every running pod on both sides (docs/behaviour.md, \"Half-built pairs\")", pod(j), pod(j))
	finding := func(k Kind, server int, msg, fix string) []Finding {
		return []Finding{{Kind: k, Server: server, Replication: p.Name, Message: msg, Fix: fix}}
	}
	switch {
	case !*a.Exists && !*b.Exists:
		if !member(cfg, obs.Servers[i], p.Prefix) || !member(cfg, obs.Servers[j], p.Prefix) {
			return nil // a pod without any of aku's objects was cleaned: it does not replicate
		}
		return finding(KindHalfBuilt, j, fmt.Sprintf("%s is missing on both %s and %s, which both run", p.Name, pod(i), pod(j)), rebuild)
	case !*a.Exists || !*b.Exists:
		have, lack := i, j
		if !*a.Exists {
			have, lack = j, i
		}
		return finding(KindHalfBuilt, lack, fmt.Sprintf("%s exists on %s but not on %s, which runs: nothing replicates between them", p.Name, pod(have), pod(lack)), rebuild)
	}
	var out []Finding
	for _, s := range p.Sides {
		switch {
		case !*s.Started:
			out = append(out, finding(KindHalfBuilt, s.Ordinal, fmt.Sprintf("%s is stopped on %s: nothing goes from %s to %s", p.Name, pod(s.Ordinal), pod(s.Ordinal), pod(s.Peer)),
				fmt.Sprintf("on %s, as SYS: ALTER REPLICATION %s START", pod(s.Ordinal), p.Name))...)
		case s.Sender == nil || s.Sender.NetError || (s.Sender.StatusCode != replication.SenderRun && s.Sender.StatusCode != replication.SenderSync):
			what := "no sender runs"
			if s.Sender != nil {
				what = "its sender is " + s.Sender.Status
				if s.Sender.NetError {
					what += " (network error)"
				}
			}
			out = append(out, finding(KindSenderDown, s.Ordinal, fmt.Sprintf("%s is started on %s but %s: nothing goes from %s to %s", p.Name, pod(s.Ordinal), what, pod(s.Ordinal), pod(s.Peer)),
				fmt.Sprintf("check the network and AKU_REPLICATION_PORT_NO between %s and %s (a sender retries by itself); if it stays down, on %s, as SYS: ALTER REPLICATION %s STOP; ALTER REPLICATION %s START",
					pod(s.Ordinal), pod(s.Peer), pod(s.Ordinal), p.Name, p.Name))...)
		}
	}
	return out
}

// member reports whether a read server holds any of aku's objects of the
// group with this prefix: a running pod with none of them was cleaned
// (aku -p clean) or never started by aku.
func member(cfg *conf.Config, v ServerView, prefix string) bool {
	for _, o := range replication.Objects(cfg, v.Ordinal) {
		if _, ok := v.Objects[o.Name]; ok && cfg.Groups[o.Group].Prefix == prefix {
			return true
		}
	}
	return false
}

func orUnknown(v *int64) string {
	if v == nil {
		return "unknown"
	}
	return strconv.FormatInt(*v, 10)
}
