package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// orderedHandler stamps each record with the time it is written, under one
// lock shared by every handler derived from it, so that the lines of a run
// whose steps log from several goroutines appear in time order: a record
// created before another but written after it would otherwise carry the
// earlier time on the later line (docs/behaviour.md, "Log lines").
type orderedHandler struct {
	inner slog.Handler
	mu    *sync.Mutex
	last  *time.Time
}

func newOrderedHandler(inner slog.Handler) *orderedHandler {
	return &orderedHandler{inner: inner, mu: new(sync.Mutex), last: new(time.Time)}
}

// Enabled defers to the wrapped handler.
func (h *orderedHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle writes r through the wrapped handler, stamped with the current
// time, never earlier than the line written before it.
func (h *orderedHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := time.Now()
	if t.Before(*h.last) {
		t = *h.last
	}
	*h.last = t
	r.Time = t
	return h.inner.Handle(ctx, r)
}

// sibling returns a handler writing through inner that shares this one's
// lock and clock, for records of another shape in the same stream.
func (h *orderedHandler) sibling(inner slog.Handler) *orderedHandler {
	return &orderedHandler{inner: inner, mu: h.mu, last: h.last}
}

// WithAttrs returns a handler sharing this one's lock and clock.
func (h *orderedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &orderedHandler{inner: h.inner.WithAttrs(attrs), mu: h.mu, last: h.last}
}

// WithGroup returns a handler sharing this one's lock and clock.
func (h *orderedHandler) WithGroup(name string) slog.Handler {
	return &orderedHandler{inner: h.inner.WithGroup(name), mu: h.mu, last: h.last}
}
