// Package podlife is the pod side of aku: this pod's identity in the
// StatefulSet (ordinal, own and peer DNS names), the completion marker, the
// run lock, and the start / end / clean flows built as observe → plan →
// execute (docs/behaviour.md, "Observe, plan, execute").
//
// podlife never reads the environment or exits: cmd/aku passes in the pod
// name, paths and a Connector.
package podlife
