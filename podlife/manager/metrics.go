package manager

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/aku-project/aku/podlife"
	"github.com/aku-project/aku/podlife/health"
)

// SenderStates are the values of altibase_replication_state's state
// label: the SENDER column of aku status (docs/status.md), "none" when no
// sender runs.
var SenderStates = []string{"none", "STOP", "RUN", "RETRY", "FAILBACK", "SYNC", "IDLE"}

// metrics is aku run's Prometheus registry (docs/metrics.md): its own
// counters and gauges, and a collector that reads the last check.
type metrics struct {
	reg          *prometheus.Registry
	runs         *prometheus.CounterVec
	lastRun      *prometheus.GaugeVec
	lastDuration *prometheus.GaugeVec
	startRetries prometheus.Counter
	released     *prometheus.CounterVec
	// all are the collectors of reg.
	all []prometheus.Collector
}

func newMetrics(m *Manager) *metrics {
	x := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aku_lifecycle_runs_total",
			Help: "Lifecycle runs of aku run, by action and outcome (the exit code's name)."}, []string{"action", "outcome"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "aku_lifecycle_last_timestamp_seconds",
			Help: "When the last lifecycle run of the action began (Unix time)."}, []string{"action"}),
		lastDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "aku_lifecycle_last_duration_seconds",
			Help: "How long the last lifecycle run of the action took."}, []string{"action"}),
		startRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "aku_start_retries_total",
			Help: "Tries of the start after the first one."}),
		released: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "aku_peer_released_total",
			Help: "Releases of this pod's pairs toward a stale peer."}, []string{"peer"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "aku_build_info",
		Help: "Always 1: the aku version and the Go version it was built with."}, []string{"version", "goversion"})
	build.WithLabelValues(m.cfg.Version, runtime.Version()).Set(1)
	x.all = []prometheus.Collector{x.runs, x.lastRun, x.lastDuration, x.startRetries, x.released, build,
		&checkCollector{m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	x.reg.MustRegister(x.all...)
	return x
}

// lifecycle records one lifecycle run.
func (x *metrics) lifecycle(action podlife.Action, begin time.Time, took time.Duration, outcome string) {
	x.runs.WithLabelValues(string(action), outcome).Inc()
	x.lastRun.WithLabelValues(string(action)).Set(float64(begin.UnixNano()) / 1e9)
	x.lastDuration.WithLabelValues(string(action)).Set(took.Seconds())
}

// The metrics read from the last check. A value the check could not read
// is left out, never exported as 0.
var (
	pairLabels    = []string{"replication", "group", "peer"}
	descState     = prometheus.NewDesc("altibase_replication_state", "1 for the state of the replication's sender on this pod (V$REPSENDER.STATUS, none without a sender), 0 for the others.", append(append([]string{}, pairLabels...), "state"), nil)
	descStarted   = prometheus.NewDesc("altibase_replication_started", "1 when the replication is started on this pod (IS_STARTED).", pairLabels, nil)
	descXSN       = prometheus.NewDesc("altibase_replication_restart_xsn", "The replication's restart point on this pod (XSN); -1 when reset or never started.", pairLabels, nil)
	descSender    = prometheus.NewDesc("altibase_replication_sender_up", "1 when a sender thread runs for the replication (V$REPSENDER).", pairLabels, nil)
	descReceiver  = prometheus.NewDesc("altibase_replication_receiver_up", "1 when the peer's sender is connected to this pod's receiver (V$REPRECEIVER).", pairLabels, nil)
	descNetError  = prometheus.NewDesc("altibase_replication_sender_net_error_flag", "V$REPSENDER.NET_ERROR_FLAG of the replication's sender.", pairLabels, nil)
	descGap       = prometheus.NewDesc("altibase_replication_gap_size_bytes", "V$REPGAP.REP_GAP_SIZE: bytes of log after the sender's restart point.", pairLabels, nil)
	descGivenUp   = prometheus.NewDesc("aku_replication_given_up_timestamp_seconds", "GIVE_UP_TIME of SYS_REPLICATIONS_ (Unix time).", pairLabels, nil)
	descCompleted = prometheus.NewDesc("aku_start_completed", "1 when this pod's start completed (the marker exists).", nil, nil)
	descAdmin     = prometheus.NewDesc("altibase_admin_mode", "ADMIN_MODE of this pod's server.", nil, nil)
	descLogFile   = prometheus.NewDesc("altibase_logfile_current", "V$LFG.CUR_WRITE_LF_NO: the log file this pod's server writes.", nil, nil)
	descCheckOK   = prometheus.NewDesc("aku_check_last_success_timestamp_seconds", "When a check last read this pod's server (Unix time).", nil, nil)
	descCheckTook = prometheus.NewDesc("aku_check_duration_seconds", "How long the last check took.", nil, nil)
	descPeerGone  = prometheus.NewDesc("aku_peer_unresolved_seconds", "How long the peer's name has not resolved (NXDOMAIN).", []string{"peer"}, nil)
)

// checkCollector exports the last check.
type checkCollector struct{ m *Manager }

// Describe sends every descriptor of the check's metrics.
func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descStarted, descXSN, descSender, descReceiver, descNetError, descGap, descGivenUp,
		descCompleted, descAdmin, descLogFile, descCheckOK, descCheckTook, descPeerGone} {
		ch <- d
	}
}

// Collect sends the last check's values.
func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for peer, d := range c.m.stale.unresolved(time.Now()) {
		gauge(descPeerGone, d.Seconds(), peer)
	}
	ck := c.m.check
	ck.mu.RLock()
	s, ok := ck.last, ck.lastSuccess
	ck.mu.RUnlock()
	if !ok.IsZero() {
		gauge(descCheckOK, float64(ok.UnixNano())/1e9)
	}
	if s == nil {
		return
	}
	gauge(descCheckTook, s.duration.Seconds())
	gauge(descCompleted, b2f(s.obs.Self.Marker))
	me := s.report.Ordinal
	if me < len(s.report.Servers) {
		self := s.report.Servers[me]
		if self.AdminMode != nil {
			gauge(descAdmin, float64(*self.AdminMode))
		}
		if self.LogFile != nil {
			gauge(descLogFile, float64(*self.LogFile))
		}
	}
	for _, p := range s.report.Pairs {
		for _, sd := range p.Sides {
			if sd.Ordinal == me && sd.Read && sd.Exists != nil && *sd.Exists {
				c.side(gauge, p, sd)
			}
		}
	}
}

// side sends the metrics of this pod's side of pair p.
func (c *checkCollector) side(gauge func(*prometheus.Desc, float64, ...string), p health.Pair, sd health.Side) {
	l := []string{p.Name, p.Prefix, c.m.stale.peerName(sd.Peer)}
	state := "none"
	if sd.Sender != nil {
		state = sd.Sender.Status
	}
	for _, st := range SenderStates {
		gauge(descState, b2f(st == state), append(l, st)...)
	}
	gauge(descStarted, b2f(*sd.Started), l...)
	gauge(descXSN, float64(*sd.XSN), l...)
	gauge(descSender, b2f(sd.Sender != nil), l...)
	if sd.Receiver != nil {
		gauge(descReceiver, b2f(*sd.Receiver), l...)
	}
	if sd.Sender != nil {
		gauge(descNetError, b2f(sd.Sender.NetError), l...)
	}
	if sd.GapBytes != nil {
		gauge(descGap, float64(*sd.GapBytes), l...)
	}
	if sd.GivenUp != nil {
		if t, ok := parseGiveUp(sd.GivenUp.Time); ok {
			gauge(descGivenUp, float64(t.Unix()), l...)
		}
	}
}

// parseGiveUp reads GIVE_UP_TIME as Altibase prints a DATE (its default
// DATE_FORMAT, or ISO forms).
func parseGiveUp(s string) (time.Time, bool) {
	for _, layout := range []string{"2006/01/02 15:04:05", "2006-01-02 15:04:05", time.RFC3339, "2006/01/02", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
