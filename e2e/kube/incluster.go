package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceAccountDir is where a pod finds its in-cluster credentials.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// ServiceAccountToken mints a token of the pod's ServiceAccount through the
// TokenRequest API, as the kubelet does for a projected service-account
// volume: bound to the pod (invalid once it is deleted), valid for ttl (at
// least 10 minutes, the API's minimum).
func (cp *ControlPlane) ServiceAccountToken(ctx context.Context, pod *corev1.Pod, ttl time.Duration) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	secs := int64(ttl / time.Second)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &secs,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	got, err := cp.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("minting a token of ServiceAccount %s/%s for pod %s: %w", pod.Namespace, sa, pod.Name, err)
	}
	return got.Status.Token, nil
}

// WriteInCluster writes the files a pod finds in ServiceAccountDir (token,
// ca.crt, namespace) into dir, for the harness to mount there.
func (cp *ControlPlane) WriteInCluster(dir, namespace, token string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing the in-cluster credentials: %w", err)
	}
	for name, data := range map[string][]byte{"token": []byte(token), "ca.crt": cp.CA, "namespace": []byte(namespace)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing the in-cluster credentials: %w", err)
		}
	}
	return nil
}

// InClusterEnv is the environment that points a pod's client at the API
// server (what client-go's rest.InClusterConfig reads): its own address,
// reachable from the pods' network, where a cluster gives the kubernetes
// Service's.
func (cp *ControlPlane) InClusterEnv() []string {
	return []string{
		"KUBERNETES_SERVICE_HOST=" + cp.address,
		"KUBERNETES_SERVICE_PORT=" + strconv.Itoa(cp.port),
		"KUBERNETES_SERVICE_PORT_HTTPS=" + strconv.Itoa(cp.port),
	}
}
