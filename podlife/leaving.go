package podlife

import "fmt"

// Verdict is what Kubernetes said about why this pod ends
// (docs/behaviour.md, "end"): for good (a scale-down), to come back (a
// restart, a rolling update, an eviction, a drain), or unknown.
type Verdict int

// The verdicts. The zero value is unknown: a pod nobody asked about is
// treated as the original treats every pod.
const (
	// VerdictUnknown: Kubernetes was not asked, or did not say (no
	// credentials, 401/403, no answer in time).
	VerdictUnknown Verdict = iota
	// VerdictLeaving: this pod's ordinal is not below its StatefulSet's
	// spec.replicas, or the StatefulSet is being deleted: the pod does not
	// come back.
	VerdictLeaving
	// VerdictReturning: the pod is being deleted and the StatefulSet still
	// counts it: it is restarted, and its next start rejoins.
	VerdictReturning
	// VerdictNotDeleted: the pod is not being deleted: aku -p end was run
	// by hand (as a procedure of docs/behaviour.md does before aku -p
	// clean), or the kubelet restarts the container; such an end resets,
	// as the original's does.
	VerdictNotDeleted
)

// String is the verdict as the JSON plan shows it (docs/json.md).
func (v Verdict) String() string {
	switch v {
	case VerdictLeaving:
		return "leaving"
	case VerdictReturning:
		return "returning"
	case VerdictNotDeleted:
		return "not-deleted"
	}
	return "unknown"
}

// Leaving is what cmd/aku learned from Kubernetes before an end, for
// AKU_REPLICATION_RESET_AT_END = 2: the verdict and one sentence saying
// why (what the API answered, or why it could not be asked).
type Leaving struct {
	Verdict Verdict
	Why     string
}

// endDecision decides whether end resets this pod's pairs, and says why
// in the plan (docs/behaviour.md, "end"). The MASTER never resets. A slave
// resets with AKU_REPLICATION_RESET_AT_END = 1; with 2, unless Kubernetes
// said it comes back: a verdict that is unknown resets as 1 does (the
// original's safe choice: no peer keeps logs for a pod that may never come
// back) and is the run's one warning about it. A verdict that is known is
// a note, so the run's log says it too.
func (b *planner) endDecision() (reset bool, why string) {
	const ref = " (docs/behaviour.md, \"end\")"
	cfg, l := b.cfg, b.obs.Leaving
	switch {
	case b.me == 0:
		return false, "MASTER end: flush, stop both sides; never reset, the MASTER's restart points must survive" + ref
	case !cfg.ReplicationResetAtEnd:
		return false, "SLAVE end with AKU_REPLICATION_RESET_AT_END = 0: flush, stop both sides, keep the restart points for a rejoin" + ref
	case !cfg.ResetOnlyWhenLeaving:
		return true, "SLAVE end: flush, stop both sides, reset both sides so no pod keeps logs for this one" + ref
	}
	b.plan.Leaving = l.Verdict.String()
	switch l.Verdict {
	case VerdictLeaving:
		b.note("this pod leaves for good (%s): its replications are reset (AKU_REPLICATION_RESET_AT_END = 2)", l.Why)
		return true, fmt.Sprintf("SLAVE end, leaving for good (%s): flush, stop both sides, reset both sides so no pod keeps logs for this one%s", l.Why, ref)
	case VerdictNotDeleted:
		b.note("this pod is not being deleted (%s): its replications are reset, as with AKU_REPLICATION_RESET_AT_END = 1", l.Why)
		return true, fmt.Sprintf("SLAVE end of a pod that is not being deleted (%s): flush, stop both sides, reset both sides so no pod keeps logs for this one%s", l.Why, ref)
	case VerdictReturning:
		b.note("this pod comes back (%s): its restart points are kept, so its next start rejoins by FLUSH (AKU_REPLICATION_RESET_AT_END = 2)", l.Why)
		return false, fmt.Sprintf("SLAVE end, coming back (%s): flush, stop both sides, keep the restart points so the next start rejoins by FLUSH%s", l.Why, ref)
	}
	b.warn("AKU_REPLICATION_RESET_AT_END = 2, but Kubernetes did not say whether this pod leaves for good: %s; resetting as with AKU_REPLICATION_RESET_AT_END = 1, so the next start SYNCs afresh (docs/behaviour.md, \"end\")", l.Why)
	return true, "SLAVE end, not known to come back: flush, stop both sides, reset both sides so no pod keeps logs for this one" + ref
}
