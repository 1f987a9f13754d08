package kube

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Event is one outcome aku records on its pod, which kubectl describe pod
// lists (docs/behaviour.md, "Kubernetes").
type Event struct {
	// Warning marks a failure; otherwise the Event is Normal.
	Warning bool
	// Action is what aku did ("Start", "End"); Reason the outcome in one
	// UpperCamelCase word ("Started", "EndFailed").
	Action, Reason string
	// Note says it for people; cut to the 1024 bytes an Event holds.
	Note string
}

// reportingController names aku as the Events' source.
const reportingController = "aku"

// noteLimit is the most an Event's note may hold.
const noteLimit = 1024

// Event records e on this pod through events.k8s.io/v1: one create, sent
// before Event returns (a short-lived aku run cannot wait for the
// asynchronous delivery of client-go's record package). It reads the pod
// first when no earlier call did, for the UID that ties the Event to this
// pod rather than to an earlier pod of the same name.
func (c *Client) Event(ctx context.Context, e Event) error {
	c.mu.Lock()
	uid := c.uid
	c.mu.Unlock()
	if uid == "" {
		pod, err := c.getPod(ctx)
		if err != nil {
			return fmt.Errorf("recording event %s: %w", e.Reason, err)
		}
		uid = string(pod.UID)
	}
	typ := corev1.EventTypeNormal
	if e.Warning {
		typ = corev1.EventTypeWarning
	}
	now := time.Now()
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", c.pod, now.UnixNano()), Namespace: c.namespace},
		EventTime:  metav1.NewMicroTime(now),
		Regarding: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: c.namespace, Name: c.pod, UID: types.UID(uid),
		},
		Type:                typ,
		Action:              e.Action,
		Reason:              e.Reason,
		Note:                cut(e.Note, noteLimit),
		ReportingController: reportingController,
		ReportingInstance:   c.pod,
	}
	return c.call(ctx, "recording event "+e.Reason+" on pod "+c.pod, func(ctx context.Context) error {
		return c.events.Post().Namespace(c.namespace).Resource("events").
			Param("fieldManager", fieldManager).Body(ev).Do(ctx).Into(&eventsv1.Event{})
	})
}

// cut shortens s to at most n bytes, on a character boundary, marking the
// cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	s = s[:n-len(mark)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + mark
}
