package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/replication"
)

// A running start keeps a progress file next to the marker fresh while it
// makes progress, and removes it when it ends (docs/status.md, "aku
// probe"). The probes read its age and its one line of content: a file
// younger than ProgressFresh is a start that progresses; an older one a
// start that is stuck (Watcher stopped touching it) or was killed.
//
// What counts as progress: the run itself (each step that begins or ends,
// and a heartbeat while aku waits in its own bounded ways), except while a
// SYNC or a FLUSH runs and the server shows that it moves nothing: a SYNC
// whose V$REPSYNC counts stay still, a FLUSH whose sender's restart point
// does not advance, for Stall. Such a start stops refreshing the file, so
// the liveness probe fails and the kubelet restarts the container; a long
// SYNC that still copies rows is never killed for taking long.

// ProgressPath is the progress file of the start that writes markerPath.
func ProgressPath(markerPath string) string { return markerPath + ".progress" }

// ProgressFresh is the age up to which the progress file means a running
// start: many Watcher heartbeats, so a busy node does not make a live
// start look dead.
const ProgressFresh = 30 * time.Second

// DefaultStall is how long a SYNC or a FLUSH may move nothing before the
// start counts as stuck.
const DefaultStall = 5 * time.Minute

// DefaultInterval is the Watcher's heartbeat and polling period.
const DefaultInterval = time.Second

// maxProgressBytes bounds what the probes read of the progress file.
const maxProgressBytes = 1024

// StartProgress is what the progress file says about this pod's start.
type StartProgress struct {
	// Exists: a start began and has not ended (or was killed).
	Exists bool
	// Last is when it last showed progress; Doing what it was doing.
	Last  time.Time
	Doing string
	// Stale: the file is older than ProgressFresh.
	Stale bool
	// Err says why the file could not be read.
	Err error
}

// Running reports a start that runs and progresses.
func (p StartProgress) Running() bool { return p.Exists && !p.Stale && p.Err == nil }

// ReadProgress reads the progress file at path, as of now.
//
// Like aku's other files next to the marker, it is opened without following
// a symbolic link and without blocking on a FIFO, and only a regular file
// is read: anything else at its path is an error (the probe fails), never
// a start that runs.
func ReadProgress(path string, now time.Time) StartProgress {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return StartProgress{}
	}
	if err != nil {
		return StartProgress{Err: fmt.Errorf("reading the progress file %s: %w", path, err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return StartProgress{Err: fmt.Errorf("reading the progress file: %w", err)}
	}
	if !fi.Mode().IsRegular() {
		return StartProgress{Err: fmt.Errorf("reading the progress file %s: not a regular file (%s)", path, fi.Mode().Type())}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxProgressBytes))
	if err != nil {
		return StartProgress{Err: fmt.Errorf("reading %s: %w", path, err)}
	}
	return StartProgress{
		Exists: true,
		Last:   fi.ModTime(),
		Doing:  strings.TrimSpace(string(b)),
		Stale:  now.Sub(fi.ModTime()) > ProgressFresh,
	}
}

// Watcher keeps the progress file of a start (podlife.Progress). Its
// zero Stall and Interval mean DefaultStall and DefaultInterval.
type Watcher struct {
	Path string
	// Dialer opens the ordinary sessions that watch a running SYNC or
	// FLUSH on its server; nil watches none (the heartbeat alone).
	Dialer   *replication.Dialer
	Stall    time.Duration
	Interval time.Duration

	mu      sync.Mutex
	doing   string
	written string             // the content last written
	polls   map[int]*time.Time // step ID → when its SYNC or FLUSH last moved
	stop    chan struct{}
	wg      sync.WaitGroup
}

var _ podlife.Progress = (*Watcher)(nil)

func (w *Watcher) stall() time.Duration {
	if w.Stall > 0 {
		return w.Stall
	}
	return DefaultStall
}

func (w *Watcher) interval() time.Duration {
	if w.Interval > 0 {
		return w.Interval
	}
	return DefaultInterval
}

// Begin writes the progress file and starts the heartbeat.
func (w *Watcher) Begin() {
	w.mu.Lock()
	w.doing, w.polls, w.stop = "observing the servers", map[int]*time.Time{}, make(chan struct{})
	w.refreshLocked()
	w.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.interval())
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.mu.Lock()
				if !w.stalledLocked() {
					w.refreshLocked()
				}
				w.mu.Unlock()
			}
		}
	}()
}

// End stops the heartbeat and every poll and removes the file.
func (w *Watcher) End() {
	close(w.stop)
	w.wg.Wait()
	os.Remove(w.Path)
}

// Step records the step as what the start does, and watches a SYNC or a
// FLUSH on its server until done is called.
func (w *Watcher) Step(ctx context.Context, s podlife.Step) (done func()) {
	w.mu.Lock()
	w.doing = describe(s)
	w.refreshLocked()
	w.mu.Unlock()
	if s.Kind != podlife.StepSQL || (s.Verb != replication.VerbSync && s.Verb != replication.VerbFlush) || w.Dialer == nil {
		return func() {}
	}
	pctx, cancel := context.WithCancel(ctx)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.poll(pctx, s)
	}()
	return cancel
}

// poll reads the step's server every interval while the step runs,
// through an ordinary session, and notes when the SYNC or FLUSH moves. A
// server it cannot open an ordinary session to (one not open yet) is not
// watched: the statement is then bounded by AKU_QUERY_TIMEOUT alone.
func (w *Watcher) poll(ctx context.Context, s podlife.Step) {
	sess, err := connect(ctx, w.Dialer, s.Host, w.stall())
	if err != nil {
		return
	}
	defer sess.Close()
	last := time.Now()
	w.mu.Lock()
	if ctx.Err() != nil {
		w.mu.Unlock()
		return
	}
	w.polls[s.ID] = &last
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.polls, s.ID)
		w.mu.Unlock()
	}()
	t := time.NewTicker(w.interval())
	defer t.Stop()
	prev := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m, err := sess.Monitor(ctx)
		if err != nil {
			continue
		}
		mark, doing := movement(m, s)
		w.mu.Lock()
		if mark != prev {
			prev, last = mark, time.Now()
			w.doing = doing
		}
		w.mu.Unlock()
	}
}

// movement sums up what the server shows of the step's SYNC or FLUSH: a
// mark that changes when it moves, and a line for people.
func movement(m replication.Monitor, s podlife.Step) (mark, doing string) {
	if s.Verb == replication.VerbSync {
		var sent int64
		var units []string
		for _, u := range m.Syncs[s.Replication] {
			units = append(units, fmt.Sprintf("%s.%s=%d", u.Table, u.Partition, u.Records))
			sent += max(u.Records, 0)
		}
		return strings.Join(units, ","), fmt.Sprintf("%s: %d rows sent", describe(s), sent)
	}
	snd, ok := m.Senders[s.Replication]
	if !ok {
		return "no sender", describe(s) + ": no sender running"
	}
	gap := "unknown"
	if g, ok := m.Gaps[s.Replication]; ok {
		gap = fmt.Sprintf("%d bytes", g.Bytes)
	}
	return fmt.Sprint(snd.XSN), fmt.Sprintf("%s: restart point %d, gap %s", describe(s), snd.XSN, gap)
}

// stalledLocked reports a watched SYNC or FLUSH that moved nothing for
// Stall.
func (w *Watcher) stalledLocked() bool {
	for _, last := range w.polls {
		if time.Since(*last) > w.stall() {
			return true
		}
	}
	return false
}

// refreshLocked writes the file when what the start does changed, and
// otherwise touches it.
func (w *Watcher) refreshLocked() {
	if w.doing != w.written {
		if err := writeProgress(w.Path, w.doing+"\n"); err == nil {
			w.written = w.doing
		}
		return
	}
	now := time.Now()
	if err := os.Chtimes(w.Path, now, now); err != nil {
		writeProgress(w.Path, w.doing+"\n")
	}
}

// writeProgress replaces the file atomically, so a probe never reads half
// a line.
func writeProgress(path, content string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// describe says what a step does, in a few words.
func describe(s podlife.Step) string {
	switch {
	case s.Kind == podlife.StepSQL && s.Replication != "":
		return fmt.Sprintf("%s of %s on %s", strings.ToUpper(string(s.Verb)), s.Replication, s.Host)
	case s.Kind == podlife.StepSQL:
		return fmt.Sprintf("%s on %s", s.Statement, s.Host)
	}
	return string(s.Kind)
}
