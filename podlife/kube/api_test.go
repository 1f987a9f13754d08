package kube_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/kube"
	"github.com/aku-project/aku/podlife/kube/kubetest"
)

// TestAgainstAPIServer runs aku's client against a real kube-apiserver,
// with the RBAC of examples/kubernetes/rbac.yaml and a StatefulSet whose
// pods the real controller creates: one control plane, a namespace for
// each case.
func TestAgainstAPIServer(t *testing.T) {
	cp := kubetest.Start(t)

	// An end that nothing deletes the pod for (run by hand) resets. A pod
	// of the set deleted by hand (or evicted, or rolled) comes back: its
	// end keeps the restart points. After a scale-down it does not: its
	// end resets. The pod stays, terminating, meanwhile.
	t.Run("leaving", func(t *testing.T) {
		ns := "aku-leaving"
		kubetest.Namespace(t, cp, ns, 3)
		c := client(t, kubetest.Credentials(t, cp, ns, "altibase-sts-2", ""))
		ctx := context.Background()
		if l := c.Leaving(ctx, 2); l.Verdict != podlife.VerdictNotDeleted {
			t.Errorf("not deleted: %v %q, want not deleted", l.Verdict, l.Why)
		}
		kubetest.Delete(t, cp, ns, "altibase-sts-2", false)
		l := c.Leaving(ctx, 2)
		if l.Verdict != podlife.VerdictReturning || !strings.Contains(l.Why, "is below StatefulSet altibase-sts's spec.replicas 3") {
			t.Errorf("deleted, with 3 replicas: %v %q, want returning", l.Verdict, l.Why)
		}
		kubetest.Scale(t, cp, ns, 2)
		l = c.Leaving(ctx, 2)
		if l.Verdict != podlife.VerdictLeaving || !strings.Contains(l.Why, "is not below StatefulSet altibase-sts's spec.replicas 2: a scale-down") {
			t.Errorf("scaled to 2: %v %q, want leaving", l.Verdict, l.Why)
		}
		// Pod 1 is still counted: deleted, it comes back.
		c1 := client(t, kubetest.Credentials(t, cp, ns, "altibase-sts-1", ""))
		kubetest.Delete(t, cp, ns, "altibase-sts-1", false)
		if l := c1.Leaving(ctx, 1); l.Verdict != podlife.VerdictReturning {
			t.Errorf("pod 1 deleted, with 2 replicas: %v %q, want returning", l.Verdict, l.Why)
		}
	})

	// Label patches the pod's aku labels and leaves its others; Event
	// leaves an Event that kubectl describe pod finds (core/v1, by the
	// pod's name, namespace, kind and UID).
	t.Run("labels and events", func(t *testing.T) {
		ns := "aku-publish"
		kubetest.Namespace(t, cp, ns, 2)
		c := client(t, kubetest.Credentials(t, cp, ns, "altibase-sts-1", ""))
		ctx := context.Background()
		for _, synced := range []bool{true, false} {
			if err := c.Label(ctx, kube.RoleSlave, synced); err != nil {
				t.Fatal(err)
			}
			pod := kubetest.Pod(t, cp, ns, "altibase-sts-1")
			want := map[string]string{"aku/role": "slave", "aku/synced": map[bool]string{true: "true", false: "false"}[synced], "app": "altibase"}
			for k, v := range want {
				if pod.Labels[k] != v {
					t.Errorf("after Label(slave, %v): label %s = %q, want %q (labels %v)", synced, k, pod.Labels[k], v, pod.Labels)
				}
			}
		}
		note := "aku -p end failed with exit code 16 (end incomplete: restart points kept): " + strings.Repeat("x", 2000)
		if err := c.Event(ctx, kube.Event{Warning: true, Action: "End", Reason: "EndFailed", Note: note}); err != nil {
			t.Fatal(err)
		}
		pod := kubetest.Pod(t, cp, ns, "altibase-sts-1")
		sel := fields.Set{"involvedObject.name": pod.Name, "involvedObject.namespace": ns, "involvedObject.kind": "Pod", "involvedObject.uid": string(pod.UID)}
		evs, err := cp.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel.AsSelector().String()})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs.Items) != 1 {
			t.Fatalf("events of pod altibase-sts-1: %d, want 1: %+v", len(evs.Items), evs.Items)
		}
		e := evs.Items[0]
		if e.Type != "Warning" || e.Reason != "EndFailed" || !strings.HasPrefix(e.Message, note[:80]) || len(e.Message) > 1024 || e.ReportingController != "aku" {
			t.Errorf("event: type %q reason %q controller %q message %d bytes %q…", e.Type, e.Reason, e.ReportingController, len(e.Message), e.Message[:80])
		}
	})

	// A ServiceAccount without the RoleBinding: every request is
	// forbidden, the verdict unknown (end resets, as with 1), and the
	// message names the permission.
	t.Run("forbidden", func(t *testing.T) {
		ns := "aku-forbidden"
		kubetest.Namespace(t, cp, ns, 2)
		c := client(t, kubetest.Credentials(t, cp, ns, "altibase-sts-1", "no-rbac"))
		ctx := context.Background()
		l := c.Leaving(ctx, 1)
		if l.Verdict != podlife.VerdictUnknown || !strings.Contains(l.Why, "403 Forbidden") || !strings.Contains(l.Why, `cannot get resource "pods"`) {
			t.Errorf("Leaving = %v %q, want unknown, 403 naming the permission", l.Verdict, l.Why)
		}
		for what, err := range map[string]error{
			"Label": c.Label(ctx, kube.RoleSlave, true),
			"Event": c.Event(ctx, kube.Event{Action: "Start", Reason: "Started", Note: "n"}),
		} {
			if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
				t.Errorf("%s: %v, want 403 Forbidden", what, err)
			}
		}
	})
	// The token is read from its file for each request, as the kubelet
	// rotates a bound token in place: the same client is refused with one
	// ServiceAccount's token, let in with the pod's, and refused again.
	t.Run("token rotated", func(t *testing.T) {
		ns := "aku-token"
		kubetest.Namespace(t, cp, ns, 2)
		cfg := kubetest.Credentials(t, cp, ns, "altibase-sts-1", "no-rbac")
		refused := readToken(t, cfg)
		granted := readToken(t, kubetest.Credentials(t, cp, ns, "altibase-sts-1", ""))
		c := client(t, cfg)
		ctx := context.Background()
		for i, tt := range []struct {
			token   string
			allowed bool
		}{{refused, false}, {granted, true}, {refused, false}} {
			rotateToken(t, cfg, tt.token)
			err := c.Label(ctx, kube.RoleSlave, true)
			if tt.allowed && err != nil {
				t.Errorf("request %d, with the pod's token: %v", i+1, err)
			}
			if !tt.allowed && (err == nil || !strings.Contains(err.Error(), `User "system:serviceaccount:aku-token:no-rbac" cannot patch resource "pods"`)) {
				t.Errorf("request %d, with ServiceAccount no-rbac's token: %v, want 403 naming no-rbac", i+1, err)
			}
		}
		if got := kubetest.Pod(t, cp, ns, "altibase-sts-1").Labels["aku/role"]; got != "slave" {
			t.Errorf("label aku/role = %q after the request with the pod's token, want slave", got)
		}
	})

	// A refusal is worded from the Status object the API server answers
	// with: its code, reason and message. A 404 concerns one request; a
	// 401 stops the client asking for the run.
	t.Run("status errors", func(t *testing.T) {
		ns := "aku-status"
		kubetest.Namespace(t, cp, ns, 2)
		cfg := kubetest.Credentials(t, cp, ns, "altibase-sts-7", "altibase-aku")
		c := client(t, cfg)
		ctx := context.Background()
		const notFound = `reading pod altibase-sts-7: the API server answered 404 NotFound: pods "altibase-sts-7" not found`
		if l := c.Leaving(ctx, 7); l.Verdict != podlife.VerdictUnknown || l.Why != notFound {
			t.Errorf("Leaving of a pod that does not exist = %v %q, want unknown %q", l.Verdict, l.Why, notFound)
		}
		if err := c.Event(ctx, kube.Event{Action: "Start", Reason: "Started", Note: "n"}); err == nil || !strings.Contains(err.Error(), notFound) {
			t.Errorf("Event after a 404: %v, want the API server asked again: %s", err, notFound)
		}
		good := readToken(t, cfg)
		rotateToken(t, cfg, "not-a-token")
		const unauthorized = "labelling pod altibase-sts-7: the Kubernetes API cannot be used: the API server refused the service account's token (401 Unauthorized): Unauthorized"
		if err := c.Label(ctx, kube.RoleSlave, true); err == nil || err.Error() != unauthorized {
			t.Errorf("Label with a token the API server does not know: %v, want %q", err, unauthorized)
		}
		rotateToken(t, cfg, good)
		if err := c.Label(ctx, kube.RoleSlave, true); err == nil || err.Error() != unauthorized {
			t.Errorf("Label after a 401: %v, want the same error without asking again", err)
		}
	})
}

// readToken is the token of the in-cluster credentials of cfg.
func readToken(t *testing.T, cfg kube.Config) string {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(cfg.SecretDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	return string(token)
}

// rotateToken replaces the token of the in-cluster credentials of cfg, as
// the kubelet does: a new file renamed over the old.
func rotateToken(t *testing.T, cfg kube.Config, token string) {
	t.Helper()
	tmp := filepath.Join(cfg.SecretDir, ".token.new")
	if err := os.WriteFile(tmp, []byte(token), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(cfg.SecretDir, "token")); err != nil {
		t.Fatal(err)
	}
}

func client(t *testing.T, cfg kube.Config) *kube.Client {
	t.Helper()
	cfg.Timeout = 10 * time.Second // a busy test machine, not a silent server
	c, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
