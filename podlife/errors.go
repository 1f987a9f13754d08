package podlife

import "errors"

// Error classes the command line maps to exit codes.
var (
	// ErrIdentity: the pod name gives no valid ordinal for this StatefulSet.
	ErrIdentity = errors.New("pod identity")
	// ErrDuplicateStart: `start` found the completion marker already there.
	ErrDuplicateStart = errors.New("duplicate start")
	// ErrLocked: another aku run holds this pod's run lock.
	ErrLocked = errors.New("another aku run is in progress")
	// ErrNeededServerUnreachable: a server the plan cannot do without (this
	// pod's own, or the master for a slave that must SYNC) did not answer.
	ErrNeededServerUnreachable = errors.New("needed server unreachable")
	// ErrMasterFailure: the master lost its replication state while slaves
	// still hold theirs (docs/behaviour.md, "Master failure").
	ErrMasterFailure = errors.New("master failure")
	// ErrSlaveFailure: a running slave lost its replication state toward the
	// master (docs/behaviour.md, "Slave failure").
	ErrSlaveFailure = errors.New("slave failure")
	// ErrRestartPointsKept: end could not flush every replication (a peer
	// not reachable, or a FLUSH that failed), so it reset none of them and
	// kept their restart points; the next start rejoins and flushes.
	ErrRestartPointsKept = errors.New("end incomplete: restart points kept")
	// ErrIncomplete: a start's closing check found a pair with a reachable
	// running peer that is not built and started on both sides.
	ErrIncomplete = errors.New("start incomplete")
	// ErrBadRelease: a release names no peer, this pod, or an ordinal not
	// below AKU_SERVER_COUNT: a mistake of the command line.
	ErrBadRelease = errors.New("bad release request")
	// ErrUnsafe: aku refuses a step that could lose data.
	ErrUnsafe = errors.New("refused: unsafe")
	// ErrMarkerDir: the marker's directory, where aku also keeps its run
	// lock and saved REPLICATION_DDL_ENABLE, is missing, not writable or full.
	ErrMarkerDir = errors.New("marker directory unusable")
	// ErrUntrustedFile: at the path of one of aku's own files (the marker,
	// the run lock, the saved REPLICATION_DDL_ENABLE) is something aku did
	// not write as it is: a symbolic link, not a regular file, another
	// owner or mode, other contents.
	ErrUntrustedFile = errors.New("untrusted file")
)
