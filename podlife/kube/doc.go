// Package kube is aku's use of the Kubernetes API from inside its pod:
// whether this pod leaves for good when it ends
// (AKU_REPLICATION_RESET_AT_END = 2), its role labels, and Events on it for
// each start and end (docs/behaviour.md, "Kubernetes").
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
// It talks through a small client of its own on net/http and
// encoding/json, not client-go: exactly the four requests aku sends (GET
// the pod, GET its StatefulSet, a merge patch of the pod's labels, POST an
// events.k8s.io/v1 Event), decoded into local structs of the fields aku
// reads. It reads the token from its file for each request (the kubelet
// rotates a bound token in place), trusts the CA of the service account's
// directory, and words a refusal from the Status object the API server
// answers with. The reason is start-up time: Go runs the init of every
// linked package at each start of aku, also for aku -i and the probes,
// which have a 10 ms budget and never use this package. client-go's REST
// client with a scheme of the three groups aku uses took aku from 44 to
// 156 package inits and their summed time from about 6 to 15 ms (median
// of 51 runs, GODEBUG=inittrace=1, aku -i on the 7.3 sample), and doubled
// the binary; this client takes 99 inits and about 8 ms. The package
// imports no k8s.io package; its tests use client-go against a real API
// server (kubetest). A Client is built only on the runs that use it.
package kube
