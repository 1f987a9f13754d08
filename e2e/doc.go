// Package e2e simulates a Kubernetes StatefulSet of Altibase pods on one
// Linux host, so that the real aku binary is tested as it runs in a pod: each
// pod is a network namespace with its own IP on a bridge, its own /tmp, host
// name and process tree (mount, UTS and PID namespaces), a simulated
// Altibase server (altisim serve) on the real ports 20300/20301 with a data
// directory that outlives the pod (its PersistentVolumeClaim), and DNS names
// <sts>-<ordinal>.<svc> served by a dnsmasq of its own. aku reaches every
// server through unixODBC and psqlODBC, as it would reach Altibase.
//
// A Cluster behaves like the StatefulSet controller with podManagementPolicy
// OrderedReady, and takes what it runs from the example manifests
// (examples/kubernetes): the container's command, environment, volume
// mounts, lifecycle hooks, startup and readiness probes and grace period. The manifests'
// `server start|stop|create` and `is` (Altibase's server script and SQL
// client) are shell shims that run altisim and unixODBC's isql.
//
// A KubeCluster (StartKube) runs the same pods under a real control plane
// (package e2e/kube: etcd, kube-apiserver, Kubernetes' StatefulSet
// controller): the manifests are applied to the API server, the controller
// creates and deletes the Pod objects, and the harness plays only the
// kubelet of one node (kubelet.go).
//
// The harness needs root (network namespaces, mounts); see docs/e2e.md.
package e2e
