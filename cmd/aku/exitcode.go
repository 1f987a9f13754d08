package main

import (
	"context"
	"errors"

	"github.com/aku-project/aku/conf"
	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/manager"
	"github.com/aku-project/aku/replication"
)

// startRetry is what comes after aku -p start exits with a code, for aku
// run and the example entry point alike (examples/kubernetes'
// entrypoint.sh has the same list, TestStartRetryTable keeps them in
// step): done, try again after a growing pause (a peer busy or
// unreachable, a statement that failed or timed out, a signal, a refused
// session, an incomplete start), or wait for an operator (every other
// code: aku.conf, the environment, a master or slave failure, a refused
// unsafe step, an untrusted file, a bug).
var startRetry = map[int]manager.Retry{
	exitOK: manager.RetryDone, exitDuplicateStart: manager.RetryDone,
	exitLocked: manager.RetryBackoff, exitUnreachable: manager.RetryBackoff, exitSysdbaBusy: manager.RetryBackoff,
	exitStatement: manager.RetryBackoff, exitTimeout: manager.RetryBackoff, exitInterrupted: manager.RetryBackoff,
	exitRefused: manager.RetryBackoff, exitIncomplete: manager.RetryBackoff,
}

// outcome classifies a lifecycle run's error for aku run.
func outcome(err error) manager.Outcome {
	code := exitCode(err)
	retry, ok := startRetry[code]
	if !ok {
		retry = manager.RetryOperator
	}
	return manager.Outcome{Code: code, Name: exitName(code), Retry: retry}
}

// Exit codes of aku. This is the one place where errors become exit codes;
// the README lists the same table.
const (
	exitOK             = 0  // success
	exitInternal       = 1  // an error aku does not classify (a bug: please report it)
	exitUsage          = 2  // bad command line: unknown option, missing or wrong -p action, a wrong --peer
	exitConfig         = 3  // aku.conf (or the password file) is invalid, or not a regular file within the size limit
	exitEnvironment    = 4  // ALTIBASE_HOME unset, pod name without a valid ordinal, no ODBC support, marker directory missing or not writable
	exitLocked         = 5  // another aku run on this pod holds the run lock
	exitDuplicateStart = 6  // start found the completion marker: start already ran
	exitUnreachable    = 7  // a server aku cannot do without did not answer
	exitSysdbaBusy     = 8  // another SYSDBA session is open on a server (ERR-41041)
	exitStatement      = 9  // the server rejected a statement, after retries
	exitTimeout        = 10 // a statement ran past AKU_QUERY_TIMEOUT
	exitMasterFailure  = 11 // the master lost its replication state (docs/behaviour.md, "Master failure")
	exitSlaveFailure   = 12 // a slave lost its replication state (docs/behaviour.md, "Slave failure")
	exitUnsafe         = 13 // aku refused a step that could lose data
	exitInterrupted    = 14 // SIGINT or SIGTERM stopped the run: run the same command again to finish it
	exitRefused        = 15 // a server refused aku's session: wrong SYS password, REMOTE_SYSDBA_ENABLE = 0 ...
	exitRestartKept    = 16 // end stopped the replications but could not flush them all, so it reset none
	exitIncomplete     = 17 // start ran, but its closing check found a pair not built on both sides
	exitUntrustedFile  = 18 // at the path of the marker, run lock or saved REPLICATION_DDL_ENABLE is something aku did not write
	exitDegraded       = 19 // status: findings, each with its fix
	exitCannotTell     = 20 // status: this pod's own server could not be read
	exitServerFailed   = 21 // run: the server command failed, or the server it started died while aku run served
	exitServerStuck    = 22 // run: the server did not stop within the grace period (killed), or --stop-command failed

	// exitProbeFailed is every failure of aku probe: Kubernetes reads 0 as
	// pass and anything else as fail, and the probe's line says why.
	exitProbeFailed = 1
)

// exitNames are the exit codes' names, for the Events of a failed run
// (docs/behaviour.md, "Kubernetes"), and the outcome label of aku run's
// aku_lifecycle_runs_total and the word of its log lines
// (docs/metrics.md).
var exitNames = map[int]string{
	exitOK: "ok", exitInternal: "internal", exitUsage: "usage", exitConfig: "configuration",
	exitEnvironment: "environment", exitLocked: "locked", exitDuplicateStart: "duplicate start",
	exitUnreachable: "unreachable", exitSysdbaBusy: "SYSDBA busy", exitStatement: "statement",
	exitTimeout: "timeout", exitMasterFailure: "master failure", exitSlaveFailure: "slave failure",
	exitUnsafe: "unsafe", exitInterrupted: "interrupted", exitRefused: "refused",
	exitRestartKept: "end incomplete: restart points kept", exitIncomplete: "start incomplete",
	exitUntrustedFile: "untrusted file", exitDegraded: "degraded", exitCannotTell: "cannot tell",
	exitServerFailed: "server failed", exitServerStuck: "server not stopped",
}

// exitName is the name of an exit code of aku -p.
func exitName(code int) string { return exitNames[code] }

// errUsage marks command-line errors; errEnvironment marks a process
// environment aku cannot run in; errDegraded and errCannotTell are the
// verdicts of aku status other than healthy.
var (
	errUsage       = errors.New("usage")
	errEnvironment = errors.New("environment")
	errDegraded    = errors.New("degraded")
	errCannotTell  = errors.New("cannot tell")
)

// probeError is a probe that did not pass, with its one line.
type probeError struct{ line string }

func (e *probeError) Error() string { return e.line }

// exitCode maps an error to its exit code. Classes are checked from the
// most specific to the most general: a SYSDBA-busy connect is also
// "unreachable" in spirit, but has its own code and advice.
func exitCode(err error) int {
	var probe *probeError
	var runExit *manager.ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &runExit):
		return runExit.Code
	case errors.As(err, &probe):
		return exitProbeFailed
	case errors.Is(err, errDegraded):
		return exitDegraded
	case errors.Is(err, errCannotTell):
		return exitCannotTell
	case errors.Is(err, errUsage), errors.Is(err, podlife.ErrBadRelease):
		return exitUsage
	case errors.Is(err, context.Canceled):
		// Only a signal cancels the command's context (root.go).
		return exitInterrupted
	case errors.Is(err, conf.ErrInvalid), errors.Is(err, replication.ErrTemplate):
		return exitConfig
	case errors.Is(err, errEnvironment), errors.Is(err, podlife.ErrIdentity), errors.Is(err, replication.ErrDriver), errors.Is(err, podlife.ErrMarkerDir):
		return exitEnvironment
	case errors.Is(err, podlife.ErrUntrustedFile):
		return exitUntrustedFile
	case errors.Is(err, podlife.ErrLocked):
		return exitLocked
	case errors.Is(err, podlife.ErrDuplicateStart):
		return exitDuplicateStart
	case errors.Is(err, podlife.ErrMasterFailure):
		return exitMasterFailure
	case errors.Is(err, podlife.ErrSlaveFailure):
		return exitSlaveFailure
	case errors.Is(err, podlife.ErrUnsafe):
		return exitUnsafe
	case errors.Is(err, podlife.ErrRestartPointsKept):
		return exitRestartKept
	case errors.Is(err, podlife.ErrIncomplete):
		return exitIncomplete
	case errors.Is(err, replication.ErrSysdbaBusy):
		return exitSysdbaBusy
	case errors.Is(err, replication.ErrRefused):
		return exitRefused
	case errors.Is(err, podlife.ErrNeededServerUnreachable), errors.Is(err, replication.ErrUnreachable):
		return exitUnreachable
	case errors.Is(err, replication.ErrTimeout):
		return exitTimeout
	case errors.Is(err, replication.ErrStatement):
		return exitStatement
	default:
		return exitInternal
	}
}
