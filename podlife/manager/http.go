package manager

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aku-project/aku/podlife/health"
)

// Handler is aku run's HTTP endpoints (docs/run.md, "Endpoints"). Each
// answers from the last check: 200 yes, 503 no, 500 an internal error;
// GET has a short body (the probe's one line; JSON on /status), HEAD
// none; other methods get 405.
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/livez", m.verdict(m.live))
	mux.Handle("/startupz", m.verdict(func(_ *http.Request, s *snapshot) (health.Verdict, int) {
		if s == nil {
			return notYet("not started")
		}
		return health.StartupOf(s.obs.Self, m.cfg.Health.MarkerPath, s.obs.At), 0
	}))
	mux.Handle("/readyz", m.verdict(func(r *http.Request, s *snapshot) (health.Verdict, int) {
		maxGap, bad := maxGapOf(r)
		switch {
		case bad != "":
			return health.Verdict{Line: bad}, http.StatusBadRequest
		case s == nil:
			return notYet("not ready")
		}
		return health.ReadyOf(m.cfg.Health, s.obs, maxGap), 0
	}))
	for _, role := range []string{"master", "slave", "writable"} {
		mux.Handle("/role/"+role, m.verdict(func(r *http.Request, s *snapshot) (health.Verdict, int) {
			maxGap, bad := maxGapOf(r)
			switch {
			case bad != "":
				return health.Verdict{Line: bad}, http.StatusBadRequest
			case s == nil:
				return notYet("not " + role)
			}
			return health.RoleOf(m.cfg.Health, s.obs, role, maxGap), 0
		}))
	}
	mux.Handle("/status", m.status())
	mux.Handle("/metrics", onlyGet(promhttp.HandlerFor(m.metrics.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})))
	return mux
}

// live is /livez: aku run and its check loop run (within three check
// intervals), the server it started has not died, and no start is stuck
// (aku probe live on the last check).
func (m *Manager) live(_ *http.Request, s *snapshot) (health.Verdict, int) {
	m.mu.Lock()
	dead := m.dead
	m.mu.Unlock()
	if dead != "" {
		return health.Verdict{Line: "not alive: " + dead}, 0
	}
	if ok, why := m.check.alive(time.Now()); !ok {
		return health.Verdict{Line: why}, 0
	}
	if s == nil {
		return health.Verdict{OK: true, Line: "alive: aku run's first check runs"}, 0
	}
	return health.LiveOf(s.obs.Self.Start, s.obs.At), 0
}

// notYet is the answer before the first check ended.
func notYet(prefix string) (health.Verdict, int) {
	return health.Verdict{Line: prefix + ": aku run's first check has not ended yet"}, 0
}

// maxGapOf reads ?max-gap=BYTES (-1 when absent); bad says what is wrong
// with it.
func maxGapOf(r *http.Request) (int64, string) {
	v := r.URL.Query().Get("max-gap")
	if v == "" {
		return -1, ""
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return -1, "max-gap " + strconv.Quote(v) + ": want a number of bytes, 0 or more"
	}
	return n, ""
}

// verdict serves a probe: its line, with 200 when it passes and 503 when
// not, unless answer gives a code of its own.
func (m *Manager) verdict(answer func(*http.Request, *snapshot) (health.Verdict, int)) http.Handler {
	return onlyGet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, code := answer(r, m.check.snapshot())
		if code == 0 {
			code = http.StatusServiceUnavailable
			if v.OK {
				code = http.StatusOK
			}
		}
		reply(w, r, code, "text/plain; charset=utf-8", []byte(v.Line+"\n"))
	}))
}

// status serves /status: aku status --output json of the last check, 200
// whatever its health says (the JSON does), 503 before the first check.
func (m *Manager) status() http.Handler {
	return onlyGet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.check.snapshot()
		if s == nil {
			v, _ := notYet("no status")
			reply(w, r, http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte(v.Line+"\n"))
			return
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s.report); err != nil {
			reply(w, r, http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("encoding the status: "+err.Error()+"\n"))
			return
		}
		reply(w, r, http.StatusOK, "application/json", b.Bytes())
	}))
}

// reply writes code and, for GET, body.
func reply(w http.ResponseWriter, r *http.Request, code int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// onlyGet answers methods other than GET and HEAD with 405.
func onlyGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}
