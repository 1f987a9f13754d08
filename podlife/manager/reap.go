package manager

import (
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// reaper waits for the orphans of the container when aku run is its PID 1:
// a daemonizing `server start` leaves the server to PID 1, and a server
// that stopped must not stay a zombie (a stop command that waits for its
// process id to vanish would wait for ever). The commands aku run waits
// for itself (exec.Cmd.Wait) are owned and left alone. A nil reaper does
// nothing.
type reaper struct {
	mu    sync.Mutex
	owned map[int]bool
	stop  chan struct{}
}

// newReaper starts reaping when this process is PID 1; otherwise it
// returns nil (an orphan then goes to the real init).
func newReaper() *reaper {
	if os.Getpid() != 1 {
		return nil
	}
	r := &reaper{owned: map[int]bool{}, stop: make(chan struct{})}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	go func() {
		defer signal.Stop(sigs)
		for {
			select {
			case <-r.stop:
				return
			case <-sigs:
				r.reap()
			}
		}
	}()
	return r
}

// close stops reaping.
func (r *reaper) close() {
	if r != nil {
		close(r.stop)
	}
}

// own runs start (cmd.Start) and records cmd's process as one aku run
// waits for itself; the lock keeps the reaper from taking it in between.
func (r *reaper) own(start func() error, cmd *exec.Cmd) error {
	if r == nil {
		return start()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := start(); err != nil {
		return err
	}
	r.owned[cmd.Process.Pid] = true
	return nil
}

// disown forgets cmd once it was waited for.
func (r *reaper) disown(cmd *exec.Cmd) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.owned, cmd.Process.Pid)
}

// reap waits for every zombie child of this process that is not owned.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || r.owned[pid] {
			continue
		}
		if ppid, zombie := procState(pid); zombie && ppid == me {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

// procState reads a process's parent and whether it is a zombie from
// /proc/PID/stat.
func procState(pid int) (ppid int, zombie bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0] == "Z"
}
