package podlife

import "github.com/aku-project/aku/replication"

// Observation is what a run's observe phase saw (docs/behaviour.md,
// "Observation"): one ServerView per ordinal 0..AKU_SERVER_COUNT−1, and the
// REPLICATION_DDL_ENABLE value a killed run saved before it set the
// property to 1 (docs/behaviour.md, "The DDL journal"). It is a plain
// value, so BuildPlan is a pure function of it and tests build it by hand.
type Observation struct {
	Servers []ServerView
	// SavedDDLEnable is valid when HasSavedDDL: the value to restore.
	SavedDDLEnable int64
	HasSavedDDL    bool
	// Leaving is what Kubernetes said about this pod's end (Input.Leaving):
	// with AKU_REPLICATION_RESET_AT_END = 2 it decides end's reset.
	Leaving Leaving
}

// ServerView is one server as the observe phase saw it: reachable and
// read, or why not (Class, Err).
type ServerView struct {
	Ordinal int
	Host    string
	// Reachable is false when the connect failed; Err says why and Class
	// what kind of failure it was. Absent peers are normal
	// (docs/behaviour.md, "Observation").
	Reachable bool
	Err       error
	Class     Class
	// Dropped: the server accepted the connection, then lost it (or did
	// not answer) while it was read. Such a server is not reachable, but
	// it answers: a release refuses it (docs/behaviour.md, "Stale peers").
	Dropped bool
	// Objects are the server's replication objects by name.
	Objects map[string]replication.State
	// AdminMode and DDLEnable are ADMIN_MODE and REPLICATION_DDL_ENABLE;
	// -1 when not read.
	AdminMode int64
	DDLEnable int64
}

// object returns the named object and whether it exists on a reachable
// server.
func (v ServerView) object(name string) (replication.State, bool) {
	if !v.Reachable {
		return replication.State{}, false
	}
	st, ok := v.Objects[name]
	return st, ok
}

// hasState reports whether an object holds a restart point or runs: the
// meaning of "holds a restart point" in docs/behaviour.md, "Master
// failure" (started, or XSN ≠ −1).
func hasState(st replication.State) bool { return st.Started || st.XSN != -1 }

// Class is what observe made of a server: up, or why not.
type Class int

// The classes. Only ClassAbsent is a pod that may not exist; a server that
// does not answer in time exists (docs/behaviour.md, "Observation").
const (
	ClassAbsent       Class = iota // the connect failed: no such host, nothing listening, connection lost
	ClassUp                        // connected and read
	ClassNotAnswering              // the connect or a read did not finish within its deadline
	ClassSysdbaBusy                // it answered: another SYSDBA session holds its one slot
	ClassRefused                   // it answered and refused aku's session (password, REMOTE_SYSDBA_ENABLE)
	ClassDriver                    // the ODBC driver could not be used: nothing was sent
)

// Status says in a few words what the class means, for messages.
func (v ServerView) Status() string {
	switch {
	case v.Reachable:
		return "is up"
	}
	switch v.Class {
	case ClassNotAnswering:
		return "did not answer in time"
	case ClassSysdbaBusy:
		return "has its SYSDBA session taken"
	case ClassRefused:
		return "refused aku's session"
	case ClassDriver:
		return "could not be tried: the ODBC driver is unusable"
	}
	return "is not reachable"
}
