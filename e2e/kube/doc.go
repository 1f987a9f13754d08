// Package kube runs a real Kubernetes control plane for the end-to-end
// tests: etcd, kube-apiserver and the StatefulSet and EndpointSlice
// controllers (one process, kube-controllers), built once per machine by
// scripts/kube-build (module e2e/kube/controlplane) and started here as
// processes of the test, each in its own process group.
//
// Start brings them up on free ports (etcd on loopback, the API server on
// Options.Address, which the pods' network namespaces reach), with a
// generated CA and serving certificate, a static admin token
// (system:masters), a service-account signing key pair, RBAC authorization
// and the default admission plugins, and waits for /readyz. The
// ControlPlane gives the API server's address, CA and admin token, a
// client-go client, ServiceAccount tokens through the TokenRequest API and
// the in-cluster files and environment a pod sees.
//
// Close stops everything (SIGTERM, then SIGKILL, by process group). If the
// test process is killed outright the components die with it (a
// parent-death signal), and the next Start sweeps what a killed run left in
// its state directory (/var/tmp/aku-kube-*), as package e2e does for its
// pods. See docs/e2e.md, "The kube tier".
package kube
