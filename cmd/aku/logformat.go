package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/podlife"
)

// console is the standard output of aku -p. In text it carries the
// original's banners and log lines and the plan of a dry run as
// podlife formats it; in JSON, one JSON record per line (docs/json.md):
// the banners, the log lines, the plan and the error that ends the run, so
// that stdout carries JSON objects only.
type console struct {
	w    io.Writer
	json bool
	// log receives podlife's log lines: the original's layout, or JSON
	// records of type "log".
	log *slog.Logger
	// rec writes the JSON records that are not log lines (nil in text).
	rec *slog.Logger
}

// The JSON record types, the value of every record's recordKeyType
// (docs/json.md).
const (
	recordKeyType = "type"
	recordLog     = "log"
	recordBanner  = "banner"
	recordPlan    = "plan"
	recordError   = "error"
)

func newConsole(w io.Writer, json bool) *console {
	if !json {
		return &console{w: w, log: slog.New(newOrderedHandler(newAkuHandler(w, os.Getpid())))}
	}
	// Two handlers (log lines name their source, the other records have
	// none) write whole lines through one lock, stamped by one clock.
	w = &lockedWriter{w: w}
	log := newOrderedHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{AddSource: true, Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			return relativeSource(groups, dropPlaceholders(groups, a))
		}}))
	return &console{
		w:    w,
		json: true,
		log:  slog.New(log).With(recordKeyType, recordLog),
		rec:  slog.New(log.sibling(slog.NewJSONHandler(w, nil))),
	}
}

// dropPlaceholders drops the pod and replication fields that hold "-", the
// text layout's word for none: in JSON such a field is absent.
func dropPlaceholders(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == podlife.LogKeyPod || a.Key == podlife.LogKeyReplication) && a.Value.String() == "-" {
		return slog.Attr{}
	}
	return a
}

// banner prints one of the original's banner lines; failed
// makes a JSON record an ERROR.
func (c *console) banner(line string, failed bool) {
	if !c.json {
		fmt.Fprintln(c.w, line)
		return
	}
	level := slog.LevelInfo
	if failed {
		level = slog.LevelError
	}
	c.rec.Log(context.Background(), level, line, recordKeyType, recordBanner)
}

// plan prints the plan of a dry run.
func (c *console) plan(p *podlife.Plan) error {
	if !c.json {
		return p.Format(c.w)
	}
	c.rec.Info(fmt.Sprintf("aku -p %s on %s (ordinal %d): %s", p.Action, p.Pod, p.Ordinal, p.Path),
		recordKeyType, recordPlan, "plan", newPlanJSON(p))
	return nil
}

// fail prints, in JSON, the error that ends the run and its exit code;
// in text the error goes to stderr (run).
func (c *console) fail(err error, code int) {
	c.rec.Error(err.Error(), recordKeyType, recordError, "exitCode", code)
}

// lockedWriter serialises the writes of several handlers to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// akuHandler is a slog.Handler rendering the original aku's console layout
//
//	[AKU][2006/01/02 15:04:05.000000][tid] [LEVEL][func:line][pod][replication] message
//
// The original prints its thread id; goroutines have none, so the process id
// stands in (constant per run, which is what log readers group by). Fields
// other than pod and replication (podlife.LogKeyPod, LogKeyReplication,
// lifted into the layout's own fields) follow the message as key=value.
type akuHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	tid   int
	attrs []slog.Attr // from WithAttrs, group prefixes already applied
	group string      // dotted prefix from WithGroup
}

func newAkuHandler(w io.Writer, tid int) *akuHandler {
	return &akuHandler{mu: new(sync.Mutex), w: w, tid: tid}
}

// Enabled reports INFO and above: the original prints no debug lines.
func (h *akuHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// WithAttrs returns a handler that adds attrs to every record.
func (h *akuHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), prefixed(h.group, attrs)...)
	return &c
}

// WithGroup returns a handler that qualifies later keys with name.
func (h *akuHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

func prefixed(group string, attrs []slog.Attr) []slog.Attr {
	if group == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: group + a.Key, Value: a.Value}
	}
	return out
}

// Handle writes one line.
func (h *akuHandler) Handle(_ context.Context, r slog.Record) error {
	pod, repl := "-", "-"
	var extra []slog.Attr
	take := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		switch a.Key {
		case podlife.LogKeyPod:
			pod = a.Value.String()
		case podlife.LogKeyReplication:
			repl = a.Value.String()
		default:
			if a.Key != "" {
				extra = append(extra, a)
			}
		}
	}
	for _, a := range h.attrs {
		take(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		for _, p := range prefixed(h.group, []slog.Attr{a}) {
			take(p)
		}
		return true
	})

	var b bytes.Buffer
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	fmt.Fprintf(&b, "[AKU][%s][%d] [%s][%s][%s][%s] %s",
		t.Format("2006/01/02 15:04:05.000000"), h.tid, levelName(r.Level), location(r.PC), oneLine(pod), oneLine(repl), oneLine(r.Message))
	for _, a := range extra {
		appendAttr(&b, a)
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b.Bytes())
	return err
}

func appendAttr(b *bytes.Buffer, a slog.Attr) {
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			appendAttr(b, slog.Attr{Key: a.Key + "." + g.Key, Value: g.Value.Resolve()})
		}
		return
	}
	v := oneLine(a.Value.String())
	if v == "" || strings.ContainsAny(v, " \t\"=") {
		v = fmt.Sprintf("%q", v)
	}
	fmt.Fprintf(b, " %s=%s", a.Key, v)
}

// levelName spells levels as the original does (INFO, ERROR ...).
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

// location is the original's "code information" field, function:line of
// the logging call, e.g. "execute:212" (docs/behaviour.md, "Log lines":
// line numbers are not stable across versions, as in the original).
func location(pc uintptr) string {
	if pc == 0 {
		return "-:0"
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	name := f.Function
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		name = "-"
	}
	return fmt.Sprintf("%s:%d", name, f.Line)
}

// oneLine joins the lines of s with single spaces: a log entry is one line
// (docs/behaviour.md, "Log lines"), but driver messages can span several (psqlODBC ends its error
// texts with a newline).
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// sourceRoot is the module's directory as the compiler recorded it in this
// binary: the build machine's absolute path, or the module path with
// -trimpath. Both end with "/".
var sourceRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return strings.TrimSuffix(file, "cmd/aku/logformat.go")
}()

// relativeSource makes the file of the JSON log's "source" relative to the
// module (podlife/execute.go), so that log lines name no path of the build
// machine, with or without -trimpath.
func relativeSource(groups []string, a slog.Attr) slog.Attr {
	src, ok := a.Value.Any().(*slog.Source)
	if a.Key != slog.SourceKey || len(groups) > 0 || !ok || src == nil {
		return a
	}
	rel := *src
	rel.File = modulePath(sourceRoot, src.File)
	return slog.Any(a.Key, &rel)
}

// modulePath is file relative to root; a file elsewhere (a dependency's)
// keeps only its directory's name and its own.
func modulePath(root, file string) string {
	if strings.HasSuffix(root, "/") && strings.HasPrefix(file, root) {
		return file[len(root):]
	}
	return path.Join(path.Base(path.Dir(file)), path.Base(file))
}
