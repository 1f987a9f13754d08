package health

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// Verdict is a probe's answer: whether it passes, and one line saying why
// (docs/status.md, "aku probe").
type Verdict struct {
	OK   bool
	Line string
}

func pass(format string, args ...any) Verdict { return Verdict{true, fmt.Sprintf(format, args...)} }
func fail(format string, args ...any) Verdict { return Verdict{false, fmt.Sprintf(format, args...)} }

// Startup is aku probe startup: it passes once the marker exists, and
// while a start runs and makes progress (its progress file is fresh), so
// that a long SYNC is never taken for a start that hangs. It fails when
// there is no marker and no start runs, or the start stalled. It reads two
// files and needs no server.
func Startup(markerPath string, now time.Time) Verdict {
	return StartupOf(readSelf(markerPath, now), markerPath, now)
}

// StartupOf is Startup's verdict on what the files said (SelfView, read
// at now): aku run answers /startupz with it from its cached check.
func StartupOf(self SelfView, markerPath string, now time.Time) Verdict {
	p := self.Start
	switch {
	case self.MarkerErr != nil:
		return fail("not started: %v", self.MarkerErr)
	case self.Marker:
		return pass("started: aku -p start completed (%s)", markerPath)
	case p.Err != nil:
		return fail("not started: %v", p.Err)
	case p.Running():
		return pass("starting: aku -p start runs: %s (progress %s ago)", p.Doing, age(now, p.Last))
	case p.Exists:
		return stalled(p, now)
	}
	return fail("not started: no marker %s, and no aku -p start is running", markerPath)
}

// Live is aku probe live: it fails only while a start's progress file is
// stale, a start that is stuck or was killed; the kubelet then restarts
// the container. A server whose start failed and ended stays alive for an
// operator to act on. It reads one file and needs no server.
func Live(markerPath string, now time.Time) Verdict {
	return LiveOf(ReadProgress(ProgressPath(markerPath), now), now)
}

// LiveOf is Live's verdict on a progress file read at now.
func LiveOf(p StartProgress, now time.Time) Verdict {
	switch {
	case p.Err != nil:
		return fail("not alive: %v", p.Err)
	case p.Running():
		return pass("alive: aku -p start runs: %s", p.Doing)
	case p.Exists:
		return stalled(p, now)
	}
	return pass("alive: no aku -p start is running")
}

func stalled(p StartProgress, now time.Time) Verdict {
	return fail("stalled: aku -p start has shown no progress for %s (%s): it is stuck, or was killed", age(now, p.Last), p.Doing)
}

func age(now, t time.Time) time.Duration { return now.Sub(t).Round(time.Second) }

// Ready is aku probe ready: the marker exists, this pod's server is open
// to users, and every pair toward a peer that is reachable and open is
// started here with its sender running; with maxGap ≥ 0, also each such
// sender's gap is at most maxGap bytes, a gap that cannot be read counting
// as too large. It reads this pod's server through an ordinary session,
// and a peer only where a pair is not replicating, to tell a peer that is
// gone (the pair does not count) from one that runs.
func Ready(ctx context.Context, in Input, maxGap int64) Verdict {
	v, self := openSelf(ctx, in, true)
	if !v.OK {
		return v
	}
	return readyVerdict(in.Config, self, maxGap, func(ordinals []int) map[int]State {
		// A peer is looked at once, however many groups it has pairs
		// in, and all of them in parallel.
		peers := make(map[int]State, len(ordinals))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, q := range ordinals {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := peerState(ctx, in, podlife.PeerHost(in.Config, q))
				mu.Lock()
				peers[q] = st
				mu.Unlock()
			}()
		}
		wg.Wait()
		return peers
	})
}

// ReadyOf is Ready's verdict on an observation (Observe with in) instead
// of reads of its own: the same conditions, the peers' states as
// observed. aku run answers /readyz with it from its cached check.
func ReadyOf(in Input, obs Observation, maxGap int64) Verdict {
	v, self := selfOf(in, obs)
	if !v.OK {
		return v
	}
	return readyVerdict(in.Config, self, maxGap, func(ordinals []int) map[int]State {
		peers := make(map[int]State, len(ordinals))
		for _, q := range ordinals {
			if q >= 0 && q < len(obs.Servers) {
				peers[q] = obs.Servers[q].State
			}
		}
		return peers
	})
}

// readyVerdict is Ready's decision on this pod's server as read (self),
// asking peerStates about the peers of the pairs that do not replicate.
func readyVerdict(cfg *conf.Config, self ServerView, maxGap int64, peerStates func(ordinals []int) map[int]State) Verdict {
	type suspect struct {
		name, why string
		peer      int
	}
	var suspects []suspect
	var notReady []string
	for _, o := range replication.Objects(cfg, self.Ordinal) {
		why := notReplicating(self, o.Name)
		if why == "" && maxGap >= 0 {
			gap, ok := self.Monitor.Gaps[o.Name]
			switch {
			case !ok:
				notReady = append(notReady, o.Name+" has a gap that cannot be read")
			case gap.Bytes > maxGap:
				notReady = append(notReady, fmt.Sprintf("%s is %d bytes behind (--max-gap %d)", o.Name, gap.Bytes, maxGap))
			}
		}
		if why != "" {
			suspects = append(suspects, suspect{o.Name, why, o.Peer})
		}
	}
	var ordinals []int
	for _, s := range suspects {
		if !slices.Contains(ordinals, s.peer) {
			ordinals = append(ordinals, s.peer)
		}
	}
	var peers map[int]State
	if len(ordinals) > 0 {
		peers = peerStates(ordinals)
	}
	for _, s := range suspects {
		if peers[s.peer] == StateOpen {
			notReady = append(notReady, fmt.Sprintf("%s toward %s, which runs, %s", s.name, podlife.PeerHost(cfg, s.peer), s.why))
		}
	}
	if len(notReady) > 0 {
		return fail("not ready: %s", strings.Join(notReady, "; "))
	}
	return pass("ready: open to users, every pair with a running peer replicating")
}

// notReplicating says why this pod's side of pair name does not send, or
// "" when it does.
func notReplicating(self ServerView, name string) string {
	st, ok := self.Objects[name]
	if !ok {
		return "is missing here"
	}
	if !st.Started {
		return "is stopped here"
	}
	snd, ok := self.Monitor.Senders[name]
	switch {
	case !ok:
		return "has no sender running here"
	case snd.NetError || snd.Status != replication.SenderRun:
		return "has its sender in " + replication.SenderStatusName(snd.Status)
	}
	return ""
}

// Role is aku probe role: "master" passes on the master pod (ordinal 0)
// and "slave" on the others, when the start completed (the marker) and
// the server is open to users; "writable" is Ready (every pod that is open
// and replicating takes writes: the mesh is active-active).
func Role(ctx context.Context, in Input, role string, maxGap int64) Verdict {
	return roleVerdict(in.Identity, role, func() Verdict { return Ready(ctx, in, maxGap) }, func() Verdict {
		v, _ := openSelf(ctx, in, false)
		return v
	})
}

// RoleOf is Role's verdict on an observation, as ReadyOf is Ready's.
func RoleOf(in Input, obs Observation, role string, maxGap int64) Verdict {
	return roleVerdict(in.Identity, role, func() Verdict { return ReadyOf(in, obs, maxGap) }, func() Verdict {
		v, _ := selfOf(in, obs)
		return v
	})
}

// roleVerdict is Role's decision, with ready (writable) and open (this
// pod's marker and server) giving the verdicts it builds on.
func roleVerdict(id podlife.Identity, role string, ready, open func() Verdict) Verdict {
	me := id.Ordinal
	switch role {
	case "writable":
		v := ready()
		return Verdict{v.OK, "writable: " + v.Line}
	case "master", "slave":
		if (me == 0) != (role == "master") {
			return fail("not %s: this pod is ordinal %d, the %s", role, me, map[bool]string{true: "master", false: "slave"}[me == 0])
		}
		if v := open(); !v.OK {
			return v
		}
		return pass("%s: open to users", role)
	}
	return fail("unknown role %q: want master, slave or writable", role)
}

// openSelf checks the marker and opens an ordinary session to this pod's
// server, which succeeds only when it is open to users; with read, it also
// reads what tells whether the server sends: its objects (from
// SYS_REPLICATIONS_ alone), V$REPSENDER and V$REPGAP. A probe must answer
// fast, so nothing else is read.
func openSelf(ctx context.Context, in Input, read bool) (Verdict, ServerView) {
	me := in.Identity.Ordinal
	v := ServerView{Ordinal: me, Host: podlife.PeerHost(in.Config, me), AdminMode: -1}
	exists, err := podlife.Marker{Path: in.MarkerPath}.Exists()
	if verdict := markerVerdict(in.MarkerPath, exists, err); !verdict.OK {
		return verdict, v
	}
	s, err := connect(ctx, in.Dialer, v.Host, in.readWait())
	if err != nil {
		return notOpen(connectState(err, in.Dialer), err), v
	}
	defer s.Close()
	v.State = StateOpen
	if read {
		if err := readSending(ctx, s, &v, in.readWait()); err != nil {
			return fail("not ready: reading this pod's server: %v", err), v
		}
	}
	return pass("open"), v
}

// selfOf is openSelf on an observation: the marker as observed, and this
// pod's server as it was read.
func selfOf(in Input, obs Observation) (Verdict, ServerView) {
	me := in.Identity.Ordinal
	v := ServerView{Ordinal: me, Host: podlife.PeerHost(in.Config, me), AdminMode: -1}
	if me >= 0 && me < len(obs.Servers) {
		v = obs.Servers[me]
	}
	if verdict := markerVerdict(in.MarkerPath, obs.Self.Marker, obs.Self.MarkerErr); !verdict.OK {
		return verdict, v
	}
	if v.State != StateOpen {
		return notOpen(v.State, v.Err), v
	}
	return pass("open"), v
}

// markerVerdict fails a pod without the marker: its start has not completed.
func markerVerdict(markerPath string, exists bool, err error) Verdict {
	switch {
	case err != nil:
		return fail("not ready: %v", err)
	case !exists:
		return fail("not ready: no marker %s: aku -p start has not completed", markerPath)
	}
	return pass("started")
}

// notOpen is the verdict on this pod's server when it is not open.
func notOpen(st State, err error) Verdict {
	return fail("not ready: this pod's server is %s: %v", st, err)
}

// readSending reads into v the server's objects and senders, within wait.
func readSending(ctx context.Context, s *replication.Session, v *ServerView, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	states, err := s.States(ctx)
	if err != nil {
		return err
	}
	if v.Monitor, err = s.MonitorSenders(ctx); err != nil {
		return err
	}
	v.Objects = make(map[string]replication.State, len(states))
	for _, st := range states {
		v.Objects[st.Name] = st
	}
	return nil
}

// peerState is what a connect to a peer says of it: open (an ordinary
// session opens), or why not.
func peerState(ctx context.Context, in Input, host string) State {
	wait := in.readWait()
	if st, err := resolve(ctx, in.Resolver, host, wait); err != nil {
		return st
	}
	s, err := connect(ctx, in.Dialer, host, wait)
	if err != nil {
		return connectState(err, in.Dialer)
	}
	s.Close()
	return StateOpen
}
