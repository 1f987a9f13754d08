package kube

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aku-project/aku/podlife"
)

// Set is what the API server said about this pod's StatefulSet: all that
// Decide needs.
type Set struct {
	Name string
	// Replicas is spec.replicas (1 when unset, as the API defaults it),
	// Start is spec.ordinals.start (0 when unset): the set keeps the pods
	// of ordinals Start to Start+Replicas−1.
	Replicas, Start int32
	// Deleting: the StatefulSet itself is being deleted.
	Deleting bool
	// PodDeleting: this pod is being deleted (its deletionTimestamp is
	// set), as when a scale-down, a rolling update, kubectl delete pod,
	// an eviction or a drain ends it.
	PodDeleting bool
}

// Decide is the verdict for the pod of this ordinal: leaving for good when
// its StatefulSet no longer counts it (a scale-down lowered spec.replicas
// before deleting it) or is being deleted; returning when the pod is being
// deleted and the set still counts it (deleted by hand, evicted, drained
// or rolled: the set creates it again); not deleted when nothing deletes
// the pod (aku -p end by hand, a container restart); unknown when err says
// the API could not tell.
func Decide(ordinal int, set Set, err error) podlife.Leaving {
	if err != nil {
		return podlife.Leaving{Verdict: podlife.VerdictUnknown, Why: err.Error()}
	}
	last := int64(set.Start) + int64(set.Replicas) - 1
	switch {
	case set.Deleting:
		return podlife.Leaving{Verdict: podlife.VerdictLeaving, Why: fmt.Sprintf("its StatefulSet %s is being deleted", set.Name)}
	case int64(ordinal) > last || int64(ordinal) < int64(set.Start):
		return podlife.Leaving{Verdict: podlife.VerdictLeaving, Why: fmt.Sprintf("ordinal %d is not below StatefulSet %s's spec.replicas %d: a scale-down", ordinal, set.Name, set.Replicas)}
	case !set.PodDeleting:
		return podlife.Leaving{Verdict: podlife.VerdictNotDeleted, Why: "no deletionTimestamp: aku -p end run by hand, or a container restart"}
	}
	return podlife.Leaving{Verdict: podlife.VerdictReturning, Why: fmt.Sprintf("the pod is being deleted and ordinal %d is below StatefulSet %s's spec.replicas %d: a restart, the set creates the pod again", ordinal, set.Name, set.Replicas)}
}

// Leaving asks the API server whether this pod, of this ordinal, leaves
// for good: it reads the pod, finds its StatefulSet through the pod's
// ownerReferences and reads the set's spec.replicas (docs/behaviour.md,
// "end"). Every failure gives VerdictUnknown, its Why saying what failed.
func (c *Client) Leaving(ctx context.Context, ordinal int) podlife.Leaving {
	set, err := c.statefulSet(ctx)
	return Decide(ordinal, set, err)
}

// statefulSet reads this pod's StatefulSet.
func (c *Client) statefulSet(ctx context.Context) (Set, error) {
	p, err := c.getPod(ctx)
	if err != nil {
		return Set{}, err
	}
	owner := ""
	for _, ref := range p.Metadata.OwnerReferences {
		if ref.Kind == "StatefulSet" && ref.APIVersion == "apps/v1" {
			owner = ref.Name
			break
		}
	}
	if owner == "" {
		return Set{}, fmt.Errorf("pod %s in namespace %s has no StatefulSet among its ownerReferences", c.pod, c.namespace)
	}
	var sts statefulSet
	err = c.call(ctx, "reading StatefulSet "+owner, request{method: http.MethodGet, path: c.path(appsV1, "statefulsets", owner)}, &sts)
	if err != nil {
		return Set{}, err
	}
	set := Set{Name: sts.Metadata.Name, Replicas: 1, Deleting: sts.Metadata.DeletionTimestamp != nil, PodDeleting: p.Metadata.DeletionTimestamp != nil}
	if sts.Spec.Replicas != nil {
		set.Replicas = *sts.Spec.Replicas
	}
	if sts.Spec.Ordinals != nil {
		set.Start = sts.Spec.Ordinals.Start
	}
	return set, nil
}
