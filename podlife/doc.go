// Package podlife is the pod side of aku: this pod's identity in the
// StatefulSet (ordinal, own and peer DNS names), the completion marker, the
// run lock, and the start / end / clean / release flows built as observe →
// plan → execute (docs/behaviour.md, "Observe, plan, execute").
//
// podlife never reads the environment or exits: cmd/aku passes in the pod
// name, paths and a Connector.
//
// # Releasing a gone peer
//
// Run with Input.Action = ActionRelease and Input.Release = the ordinals
// of the gone peers releases this pod's pairs with them (docs/behaviour.md,
// "Stale peers"): on this pod only, each such pair that is started or holds
// a restart point is stopped and reset, so that this pod's server no
// longer keeps log files for a pod that does not come back. It touches
// neither the gone peers nor the other peers nor the marker, logs a
// WARNING per released pair, and, run again, has nothing to do. aku -p
// release --peer N[,M] calls it, and so does the in-pod manager once a
// peer's name has failed to resolve for longer than AKU_STALE_PEER_TTL
// (conf.Config.StalePeerTTL):
//
//	in.Action, in.Release = podlife.ActionRelease, []int{3}
//	plan, err := podlife.Run(ctx, in)
//
// It fails with ErrBadRelease (a command-line mistake) when Release is
// empty or names this pod or an ordinal not below AKU_SERVER_COUNT, and
// with ErrUnsafe, changing nothing, when a named peer answers: its server
// accepted the connection, or did not answer in time. With DryRun it
// returns the plan without running it. Other errors are those of any run
// (ErrLocked, this pod's own server unreachable, a statement that failed).
//
// With AKU_STALE_PEER_TTL > 0, a slave whose running peers released it
// takes the fresh path when it comes back (its own sides reset, truncated,
// SYNCed from the MASTER), and a MASTER whose running slaves released it
// fails with ErrMasterFailure, to be recovered from a slave.
package podlife
