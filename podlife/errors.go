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
	// ErrMasterFailure: spec §8, the master lost its replication state while
	// slaves still hold theirs.
	ErrMasterFailure = errors.New("master failure")
	// ErrSlaveFailure: spec §8, a running slave lost its replication state
	// toward the master.
	ErrSlaveFailure = errors.New("slave failure")
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
