// Package manager is aku run (docs/run.md): the small long-running process
// of a pod. It starts the server command as a child, waits until the
// server answers, runs the start lifecycle with retries, then serves HTTP
// endpoints (the probes, this pod's status, Prometheus metrics) from one
// cached check of the mesh until SIGTERM, when it runs the end lifecycle
// within the grace period and stops the server.
//
// The lifecycle runs and the exit codes are cmd/aku's: it passes them in
// (Config.Lifecycle, Config.Classify), so that aku run runs exactly what
// aku -p runs. The checks read through ordinary sessions only (health),
// never a server's one SYSDBA session.
package manager
