package replication

import "time"

// SetCancelGrace shortens cancelGrace for a test; the returned func
// restores it.
func SetCancelGrace(d time.Duration) (restore func()) {
	old := cancelGrace
	cancelGrace = d
	return func() { cancelGrace = old }
}
