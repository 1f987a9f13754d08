package manager

// Retry is what aku run does after a start that ended with an exit code.
type Retry int

// The answers to a failed start (docs/run.md, "Start").
const (
	// RetryDone: the start completed (exit 0), or had already (the marker:
	// exit 6). Nothing more to do.
	RetryDone Retry = iota
	// RetryBackoff: another try can cure it (a peer busy or unreachable, a
	// statement that failed or timed out ...): try again after a growing
	// pause.
	RetryBackoff
	// RetryOperator: another try cannot cure it (aku.conf, the
	// environment, a master or slave failure, a refused unsafe step, an
	// untrusted file ...): log it and keep serving, unready, until an
	// operator fixes it and runs aku -p start by hand.
	RetryOperator
)

// Outcome is how cmd/aku classifies a lifecycle run's error: its exit
// code, the code's name (the outcome label of the metrics) and, for a
// start, what to do next.
type Outcome struct {
	Code  int
	Name  string
	Retry Retry
}
