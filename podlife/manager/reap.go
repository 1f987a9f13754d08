package manager

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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
// It finds them through /proc/self/task/*/children, and takes each one's
// process id in this process's PID namespace from its NSpid: the /proc of a
// container may be the host's.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	lists, _ := filepath.Glob("/proc/self/task/*/children")
	for _, l := range lists {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, zombie := procZombie(f)
			if zombie && pid > 0 && !r.owned[pid] {
				var ws syscall.WaitStatus
				_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
		}
	}
}

// procZombie reads /proc/ID/status: whether the process is a zombie, and
// its process id in its innermost PID namespace (the last NSpid field).
func procZombie(id string) (pid int, zombie bool) {
	b, err := os.ReadFile("/proc/" + id + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "State" && len(f) > 0:
			zombie = f[0] == "Z"
		case k == "NSpid" && len(f) > 0:
			pid, _ = strconv.Atoi(f[len(f)-1])
		}
	}
	return pid, zombie
}
