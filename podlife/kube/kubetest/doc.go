// Package kubetest runs the tests of aku's use of the Kubernetes API
// against a real API server: it starts the control plane of e2e/kube
// (etcd, kube-apiserver, the StatefulSet and EndpointSlice controllers),
// creates in a namespace of the test's own the objects of
// examples/kubernetes/rbac.yaml and a StatefulSet whose controller creates
// real pods, and writes the in-cluster credentials a pod of it would find. Without the control
// plane's binaries (make kube-deps) the tests are skipped, or fail when
// AKU_E2E_REQUIRED=1, as in CI.
package kubetest
