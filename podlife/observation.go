package podlife

import "github.com/aku-project/aku/replication"

// Observation is what Observe saw: one ServerView per ordinal
// 0..AKU_SERVER_COUNT−1, and the REPLICATION_DDL_ENABLE value a killed run
// saved before it set the property to 1 (spec §6.2 step 5). It is a plain
// value, so Plan is a pure function of it and tests build it by hand.
type Observation struct {
	Servers []ServerView
	// SavedDDLEnable is valid when HasSavedDDL: the value to restore.
	SavedDDLEnable int64
	HasSavedDDL    bool
}

// ServerView is one server as Observe saw it.
type ServerView struct {
	Ordinal int
	Host    string
	// Reachable is false when the connect failed; Err says why. Absent
	// peers are normal (spec §6.1 step 3).
	Reachable bool
	Err       error
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
// meaning of "has state" in spec §8 (XSN ≠ −1), with a started object
// counted too whatever its XSN says.
func hasState(st replication.State) bool { return st.Started || st.XSN != -1 }
