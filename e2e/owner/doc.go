// Package owner records which process owns a directory of the end-to-end
// harness (a cluster's work directory, the binaries' directory, a control
// plane's state directory), so that a later run can tell the leftovers of a
// killed run (kill -9, a go test timeout, which runs no cleanup) from those
// of a run still going, and remove them. A process is known by its PID and
// its start time, so that a new process reusing the PID is not mistaken for
// the owner.
package owner
