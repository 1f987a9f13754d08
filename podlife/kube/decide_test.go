package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aku-project/aku/podlife"
)

// Decide, from (ordinal, the StatefulSet's replicas, the API's error) to
// the verdict end decides its reset on (docs/behaviour.md, "end").
func TestDecide(t *testing.T) {
	sts := func(replicas int32) Set { return Set{Name: "altibase-sts", Replicas: replicas, PodDeleting: true} }
	tests := []struct {
		name    string
		ordinal int
		set     Set
		err     error
		want    podlife.Verdict
		why     string
	}{
		{"restart within the replicas", 2, sts(4), nil, podlife.VerdictReturning, "ordinal 2 is below StatefulSet altibase-sts's spec.replicas 4"},
		{"highest ordinal kept", 3, sts(4), nil, podlife.VerdictReturning, "is below"},
		{"scale-down by one", 3, sts(3), nil, podlife.VerdictLeaving, "ordinal 3 is not below StatefulSet altibase-sts's spec.replicas 3: a scale-down"},
		{"scale-down to one", 5, sts(1), nil, podlife.VerdictLeaving, "is not below"},
		{"scale to zero", 1, sts(0), nil, podlife.VerdictLeaving, "is not below"},
		{"ordinals starting above this one", 1, Set{Name: "altibase-sts", Replicas: 3, Start: 2, PodDeleting: true}, nil, podlife.VerdictLeaving, "is not below"},
		{"ordinals starting at 2, kept", 4, Set{Name: "altibase-sts", Replicas: 3, Start: 2, PodDeleting: true}, nil, podlife.VerdictReturning, "is below"},
		{"set being deleted", 1, Set{Name: "altibase-sts", Replicas: 4, Deleting: true}, nil, podlife.VerdictLeaving, "StatefulSet altibase-sts is being deleted"},
		{"end by hand", 2, Set{Name: "altibase-sts", Replicas: 4}, nil, podlife.VerdictNotDeleted, "no deletionTimestamp"},
		{"end by hand beyond the replicas", 3, Set{Name: "altibase-sts", Replicas: 3}, nil, podlife.VerdictLeaving, "a scale-down"},
		{"no credentials", 1, Set{}, fmt.Errorf("%w: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set", ErrNoCredentials), podlife.VerdictUnknown, "no in-cluster credentials"},
		{"forbidden", 1, Set{}, fmt.Errorf("reading pod altibase-sts-1: %w", describe(&statusError{Code: 403, Reason: "Forbidden", Message: "no RBAC"}, time.Second)), podlife.VerdictUnknown, "403 Forbidden"},
		{"no answer", 1, Set{}, describe(context.DeadlineExceeded, 3*time.Second), podlife.VerdictUnknown, "did not answer within 3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.ordinal, tt.set, tt.err)
			if got.Verdict != tt.want || !strings.Contains(got.Why, tt.why) {
				t.Errorf("Decide(%d, %+v, %v) = %v %q, want %v with %q", tt.ordinal, tt.set, tt.err, got.Verdict, got.Why, tt.want, tt.why)
			}
		})
	}
}

// An answer that proves the API server unusable (no answer, a refused
// token) stops the client asking; a 403 concerns one permission and does
// not.
func TestDescribeUnusable(t *testing.T) {
	for _, tt := range []struct {
		err      error
		unusable bool
		says     string
	}{
		{context.DeadlineExceeded, true, "did not answer within 2s"},
		{&statusError{Code: 401, Reason: "Unauthorized", Message: "token expired"}, true, "(401 Unauthorized): token expired"},
		{&statusError{Code: 403, Reason: "Forbidden", Message: "denied"}, false, "403 Forbidden"},
		{&statusError{Code: 404, Reason: "NotFound", Message: `pods "p" not found`}, false, `404 NotFound: pods "p" not found`},
	} {
		got := describe(tt.err, 2*time.Second)
		if unusable(got) != tt.unusable || !strings.Contains(got.Error(), tt.says) {
			t.Errorf("describe(%v) = %q (unusable %v), want %q (unusable %v)", tt.err, got, unusable(got), tt.says, tt.unusable)
		}
	}
}

// Notes are cut to what an Event holds, on a character boundary.
func TestCut(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	got := cut(long, noteLimit)
	if len(got) > noteLimit || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("cut to %d bytes: %d bytes, %q…", noteLimit, len(got), got[len(got)-10:])
	}
	if got := cut("short", noteLimit); got != "short" {
		t.Errorf("cut(short) = %q", got)
	}
}
