package manager

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// child is a command aku run started: the server command, or the stop
// command. Its own process group holds it and what it starts, so that a
// Ctrl-C on a terminal reaches aku run only, which then runs the end
// before it stops the server.
type child struct {
	argv []string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's, set before done is closed
}

// startChild starts argv with stdout and stderr passed through; reap, when
// not nil, is told its process id before it can exit (reaper.own).
func startChild(argv []string, stdout, stderr io.Writer, reap *reaper) (*child, error) {
	c := &child{argv: argv, done: make(chan struct{})}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Stdout, c.cmd.Stderr = stdout, stderr
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// An output that is not a file is copied through a pipe, which a
	// process the command left behind may hold open: its end is the
	// command's, not theirs.
	c.cmd.WaitDelay = time.Second
	if err := reap.own(c.cmd.Start, c.cmd); err != nil {
		return nil, fmt.Errorf("starting %q: %w", strings.Join(argv, " "), err)
	}
	go func() {
		c.err = c.cmd.Wait()
		reap.disown(c.cmd)
		close(c.done)
	}()
	return c, nil
}

// exited reports whether the command has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// describe says how the command ended: "exited with 0", "was killed by
// signal terminated" ...
func (c *child) describe() string {
	var ee *exec.ExitError
	switch {
	case c.err == nil:
		return "exited with 0"
	case errors.As(c.err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with %d", ee.ExitCode())
	}
	return c.err.Error()
}

// stop sends SIGTERM to the command's process group and waits for it until
// deadline; then SIGKILL. It reports whether it had to kill.
func (c *child) stop(deadline time.Time) (killed bool) {
	if c.exited() {
		return false
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	return c.wait(deadline)
}

// wait waits for the command until deadline, then kills its process group
// with SIGKILL. It reports whether it had to kill.
func (c *child) wait(deadline time.Time) (killed bool) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.done:
		return false
	case <-t.C:
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.done
	return true
}
