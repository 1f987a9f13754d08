package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aku-project/aku/altisim"
)

// The control path (issue 3 part 6): HTTP with JSON bodies.
//
//	GET    /faults       the installed faults ([]faultSpec)
//	POST   /faults       install one fault (a faultSpec)
//	DELETE /faults       remove every fault, the injected latency, SYNC row delay and send rate
//	PUT    /latency      {"latency":"50ms"}: per-statement latency
//	POST   /sysdba/hold  occupy the single SYSDBA slot (ERR-41041 for others)
//	DELETE /sysdba/hold  release it
//	POST   /senders/hold?replication=NAME  hold a sender (no NAME: every sender)
//	DELETE /senders/hold?replication=NAME  release it
//	PUT    /sync-delay   {"delay":"20ms"}: every row a SYNC copies takes that long
//	PUT    /send-rate    {"bytesPerSecond":1048576}: senders ship that fast (0: no limit)
//	GET    /log          the statement log ([]altisim.LoggedStatement)
//	POST   /shutdown     stop the server gracefully, as SIGTERM does
//
// Errors are answered with a 4xx/5xx status and {"error": "..."}.

// faultSpec is altisim.Fault with the code as hex digits ("6100D") and the
// delay as a Go duration ("2s"), as people type them.
type faultSpec struct {
	Pattern string `json:"pattern"`
	Action  string `json:"action"`
	Nth     int    `json:"nth,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Delay   string `json:"delay,omitempty"`
	After   bool   `json:"after,omitempty"`
}

func (s faultSpec) fault() (altisim.Fault, error) {
	f := altisim.Fault{Pattern: s.Pattern, Action: altisim.FaultAction(s.Action), Nth: s.Nth, Message: s.Message, After: s.After}
	if s.Code != "" {
		c, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(s.Code), "ERR-"), "0X"), 16, 32)
		if err != nil {
			return f, fmt.Errorf("fault code %q is not hexadecimal", s.Code)
		}
		f.Code = uint32(c)
	}
	if s.Delay != "" {
		d, err := time.ParseDuration(s.Delay)
		if err != nil {
			return f, fmt.Errorf("fault delay %q: %w", s.Delay, err)
		}
		f.Delay = d
	}
	return f, nil
}

func specOf(f altisim.Fault) faultSpec {
	s := faultSpec{Pattern: f.Pattern, Action: string(f.Action), Nth: f.Nth, Message: f.Message, After: f.After}
	if f.Code != 0 {
		s.Code = fmt.Sprintf("%05X", f.Code)
	}
	if f.Delay != 0 {
		s.Delay = f.Delay.String()
	}
	return s
}

// controller serves the control path of one engine.
type controller struct {
	engine   *altisim.Server
	shutdown func()

	mu      sync.Mutex
	release func()
	// senders are the releases of held senders by replication name ("":
	// every sender).
	senders map[string]func()
}

// controlHandler returns the control path's HTTP handler; shutdown stops
// the server gracefully.
func controlHandler(engine *altisim.Server, shutdown func()) http.Handler {
	c := &controller{engine: engine, shutdown: shutdown, senders: map[string]func(){}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		specs := []faultSpec{}
		for _, f := range engine.Faults().List() {
			specs = append(specs, specOf(f))
		}
		reply(w, http.StatusOK, specs)
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var s faultSpec
		if !decode(w, r, &s) {
			return
		}
		f, err := s.fault()
		if err == nil {
			err = engine.Faults().Add(f)
		}
		if err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		reply(w, http.StatusOK, specOf(f))
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		engine.Faults().Clear()
		reply(w, http.StatusOK, []faultSpec{})
	})
	mux.HandleFunc("PUT /latency", durationHandler("latency", engine.Faults().SetLatency))
	mux.HandleFunc("PUT /sync-delay", durationHandler("delay", engine.Faults().SetSyncRowDelay))
	mux.HandleFunc("PUT /send-rate", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			BytesPerSecond *int64 `json:"bytesPerSecond"`
		}
		if !decode(w, r, &body) {
			return
		}
		if body.BytesPerSecond == nil || *body.BytesPerSecond < 0 {
			reply(w, http.StatusBadRequest, map[string]string{"error": `want {"bytesPerSecond": a number of 0 or more}`})
			return
		}
		engine.Faults().SetSendRate(*body.BytesPerSecond)
		reply(w, http.StatusOK, map[string]int64{"bytesPerSecond": *body.BytesPerSecond})
	})
	mux.HandleFunc("POST /sysdba/hold", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if c.release == nil {
			c.release = engine.Faults().HoldSysdba()
		}
		c.mu.Unlock()
		reply(w, http.StatusOK, map[string]bool{"held": true})
	})
	mux.HandleFunc("DELETE /sysdba/hold", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if c.release != nil {
			c.release()
			c.release = nil
		}
		c.mu.Unlock()
		reply(w, http.StatusOK, map[string]bool{"held": false})
	})
	mux.HandleFunc("POST /senders/hold", func(w http.ResponseWriter, r *http.Request) {
		name := strings.ToUpper(r.URL.Query().Get("replication"))
		c.mu.Lock()
		if c.senders[name] == nil {
			c.senders[name] = engine.Faults().HoldSender(name)
		}
		c.mu.Unlock()
		reply(w, http.StatusOK, map[string]any{"replication": name, "held": true})
	})
	mux.HandleFunc("DELETE /senders/hold", func(w http.ResponseWriter, r *http.Request) {
		name := strings.ToUpper(r.URL.Query().Get("replication"))
		c.mu.Lock()
		if release := c.senders[name]; release != nil {
			release()
			delete(c.senders, name)
		}
		c.mu.Unlock()
		reply(w, http.StatusOK, map[string]any{"replication": name, "held": false})
	})
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		log := engine.StatementLog()
		if log == nil {
			log = []altisim.LoggedStatement{}
		}
		reply(w, http.StatusOK, log)
	})
	mux.HandleFunc("POST /shutdown", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]bool{"stopping": true})
		// The answer leaves before the server stops: the process may end
		// before the handler returns, and the client would read EOF.
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		shutdown()
	})
	return mux
}

// durationHandler answers a PUT of {"<key>":"<duration>"}: it passes the
// duration, 0 or more, to set and echoes it.
func durationHandler(key string, set func(time.Duration)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if !decode(w, r, &body) {
			return
		}
		v, ok := body[key]
		d, err := time.ParseDuration(v)
		if !ok || len(body) != 1 || err != nil || d < 0 {
			reply(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("%s %q: want {%q: a duration of 0 or more}", key, v, key)})
			return
		}
		set(d)
		reply(w, http.StatusOK, map[string]string{key: d.String()})
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": "decoding request: " + err.Error()})
		return false
	}
	return true
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveControl serves the control path on ln until ctx ends.
func serveControl(ctx context.Context, ln net.Listener, engine *altisim.Server, shutdown func()) error {
	hs := &http.Server{Handler: controlHandler(engine, shutdown), ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	})
	defer stop()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the control path: %w", err)
	}
	return nil
}
