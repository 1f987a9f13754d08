// Package manifest decodes the Kubernetes example manifests of
// examples/kubernetes strictly with the Kubernetes API types and checks the
// invariants aku depends on (docs/behaviour.md, "Requirements", as the
// Altibase Utilities Manual, chapter "aku", states them): OrderedReady, a
// headless Service publishing not-ready addresses, aku's startup, liveness
// and readiness probes (the last needs the completion marker), a grace
// period that leaves room for `aku -p end`, and
// names and ports that agree with the aku.conf of the ConfigMap.
//
// The e2e harness runs its simulated StatefulSet from the decoded objects, so
// what the examples say is what the end-to-end tests exercise.
package manifest
