// Package kube is aku's use of the Kubernetes API from inside its pod, and
// the only importer of client-go: whether this pod leaves for good when it
// ends (AKU_REPLICATION_RESET_AT_END = 2), its role labels, and Events on
// it for each start and end (docs/behaviour.md, "Kubernetes").
//
// It works only with in-cluster credentials: the service account's token,
// CA and namespace mounted in the pod, and the API server's address from
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which cmd/aku reads
// and passes in a Config. Without them New fails with ErrNoCredentials and
// aku does what it does without Kubernetes.
//
// Every call is bounded by Config.Timeout (DefaultTimeout, 3 s): an API
// server that does not answer must not hold an end, which runs within the
// pod's grace period. Once the server has not answered, or has refused the
// token, the client asks it nothing more and returns that error at once.
//
// It talks through client-go's REST client with a scheme of the three
// groups it uses (core/v1 for the pod, apps/v1 for its StatefulSet,
// events.k8s.io/v1 for Events): the typed clients would link client-go's
// scheme of every group, and Go runs every linked package's init at each
// start of aku, also for aku -i and the probes. A Client is built only on
// the runs that use it.
package kube
