package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
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
		p, err := c.getPod(ctx)
		if err != nil {
			return fmt.Errorf("recording event %s: %w", e.Reason, err)
		}
		uid = p.Metadata.UID
	}
	typ := "Normal"
	if e.Warning {
		typ = "Warning"
	}
	now := time.Now()
	body, err := json.Marshal(event{
		APIVersion: "events.k8s.io/v1", Kind: "Event",
		Metadata:  objectMeta{Name: fmt.Sprintf("%s.%x", c.pod, now.UnixNano()), Namespace: c.namespace},
		EventTime: now.UTC().Format(microTime),
		Regarding: objectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: c.namespace, Name: c.pod, UID: uid,
		},
		Type:                typ,
		Action:              e.Action,
		Reason:              e.Reason,
		Note:                cut(e.Note, noteLimit),
		ReportingController: reportingController,
		ReportingInstance:   c.pod,
	})
	if err != nil {
		return fmt.Errorf("recording event %s: %w", e.Reason, err)
	}
	return c.call(ctx, "recording event "+e.Reason+" on pod "+c.pod, request{
		method: http.MethodPost, path: c.path(eventsV1, "events", ""), query: "fieldManager=" + fieldManager,
		contentType: "application/json", body: body,
	}, nil)
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
