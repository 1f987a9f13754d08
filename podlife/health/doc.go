// Package health is the read-only view of the mesh: one observation of
// every server of the StatefulSet through ordinary sessions, which never
// take a server's one SYSDBA slot, turned into a Report (per pod, per
// pair, findings with the command that fixes each). aku status renders
// the Report, and aku probe answers from the same observation of this
// pod's server (docs/status.md).
//
// It also keeps the progress file of a running start (Watcher), which the
// startup and liveness probes read.
//
// Like podlife, it reads no environment and never exits: cmd/aku passes
// the configuration, the identity and the Dialers in.
package health
