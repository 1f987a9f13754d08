package altisim

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// FaultAction is what a Fault does to a matching statement.
type FaultAction string

// The fault actions (issue 3 part 6).
const (
	// FaultFail makes the statement fail with Fault.Code and Fault.Message
	// without executing it.
	FaultFail FaultAction = "fail"
	// FaultDelay adds Fault.Delay before the statement executes.
	FaultDelay FaultAction = "delay"
	// FaultHang blocks the statement until its context is cancelled (a
	// client cancel or QUERY_TIMEOUT); it is then not executed.
	FaultHang FaultAction = "hang"
	// FaultDrop drops the client's connection: Exec returns
	// ErrConnectionDropped. With Fault.After the statement is executed first
	// (its reply is lost), otherwise it is not executed.
	FaultDrop FaultAction = "drop"
)

// Fault is one injected fault. It is JSON-encodable so that the server
// binary's control path can carry it unchanged.
type Fault struct {
	// Pattern is a regular expression matched against the statement text;
	// (?i) is implied, so keywords match in any case.
	Pattern string `json:"pattern"`
	// Action is what happens to a matching statement.
	Action FaultAction `json:"action"`
	// Nth selects the n-th matching statement counted from when the fault was
	// added (1 = the next one); the fault fires once. 0 means every matching
	// statement, for as long as the fault is installed.
	Nth int `json:"nth,omitempty"`
	// Code and Message are the Altibase error of FaultFail (default code
	// 0x41000 and a message naming the fault).
	Code    uint32 `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Delay is the wait of FaultDelay.
	Delay time.Duration `json:"delay,omitempty"`
	// After, for FaultDrop, executes the statement before dropping the
	// connection (the client never learns the outcome).
	After bool `json:"after,omitempty"`
}

type faultRule struct {
	Fault
	re    *regexp.Regexp
	seen  int
	fired bool
}

// Faults injects faults into one server's statements and connections. The
// zero value is not usable; every Server has one (Server.Faults). All methods
// are safe for concurrent use.
type Faults struct {
	mu        sync.Mutex
	rules     []*faultRule
	latency   time.Duration
	syncDelay time.Duration
	sendRate  int64
	srv       *Server
}

// Add installs a fault. It fails on an invalid pattern or action.
func (f *Faults) Add(fl Fault) error {
	re, err := regexp.Compile("(?i)" + fl.Pattern)
	if err != nil {
		return fmt.Errorf("compiling fault pattern %q: %w", fl.Pattern, err)
	}
	switch fl.Action {
	case FaultFail, FaultDelay, FaultHang, FaultDrop:
	default:
		return fmt.Errorf("adding fault: unknown action %q", fl.Action)
	}
	if fl.Nth < 0 {
		return fmt.Errorf("adding fault: nth %d is negative", fl.Nth)
	}
	if fl.Action == FaultFail && fl.Code == 0 {
		fl.Code = 0x41000
	}
	if fl.Action == FaultFail && fl.Message == "" {
		fl.Message = "Injected fault for statements matching " + fl.Pattern
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &faultRule{Fault: fl, re: re})
	return nil
}

// SetLatency adds d to every statement of the server from now on (0 turns
// it off). It models a slow server for the critical-path benchmark.
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Latency is the per-statement latency currently injected.
func (f *Faults) Latency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency
}

// HoldSysdba occupies the server's single SYSDBA slot, as an operator's open
// `isql -sysdba` session would (ERR-41041, Altibase CloudNative FAQ), until
// release is called. It waits for no one: if a SYSDBA session is already
// connected, the hold takes effect when that session closes. release is
// idempotent.
func (f *Faults) HoldSysdba() (release func()) {
	return f.srv.holdSysdba()
}

// HoldSender stops the sender of the replication name (every sender of
// the server when name is "") from shipping changes until release is
// called. The sender stays connected and keeps pinging, so V$REPSENDER
// still shows it running (STATUS 1) while its gap in V$REPGAP grows, as a
// sender stalled by a slow link or a slow peer would; FLUSH waits
// meanwhile. A sender started later is held too; the rows of a SYNC are
// not (SetSyncRowDelay slows them). release is idempotent.
func (f *Faults) HoldSender(name string) (release func()) {
	return f.srv.holdSender(strings.ToUpper(name))
}

// SetSyncRowDelay makes every row a SYNC copies take d from now on (0
// turns it off), so that a test can read V$REPSYNC while a SYNC runs.
func (f *Faults) SetSyncRowDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncDelay = d
}

// SyncRowDelay is the per-row SYNC delay currently injected.
func (f *Faults) SyncRowDelay() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncDelay
}

// SetSendRate makes every sender of the server ship its log at
// bytesPerSecond from now on (0 turns it off; a negative rate is 0), as a
// slow link would: a gap of REP_GAP_SIZE bytes then takes REP_GAP_SIZE /
// bytesPerSecond seconds to drain, a tenth of a second's worth at a time,
// so that V$REPGAP shrinks as it goes and a FLUSH WAIT n that gives up
// leaves the gap partly drained. The rows of a SYNC are not slowed
// (SetSyncRowDelay does that).
func (f *Faults) SetSendRate(bytesPerSecond int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sendRate = max(bytesPerSecond, 0)
}

// SendRate is the send rate currently injected in bytes per second, 0 for
// none.
func (f *Faults) SendRate() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sendRate
}

// Clear removes every installed fault, the injected latency, the SYNC row
// delay and the send rate; it releases neither a SYSDBA hold nor a sender
// hold.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
	f.latency = 0
	f.syncDelay = 0
	f.sendRate = 0
}

// List returns the installed faults that can still fire.
func (f *Faults) List() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Fault
	for _, r := range f.rules {
		if !r.fired {
			out = append(out, r.Fault)
		}
	}
	return out
}

// match returns the faults that fire for sql, counting the statement
// against every matching Nth fault, plus the latency to add.
func (f *Faults) match(sql string) ([]Fault, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Fault
	for _, r := range f.rules {
		if r.fired || !r.re.MatchString(sql) {
			continue
		}
		if r.Nth == 0 {
			out = append(out, r.Fault)
			continue
		}
		r.seen++
		if r.seen == r.Nth {
			r.fired = true
			out = append(out, r.Fault)
		}
	}
	return out, f.latency
}
