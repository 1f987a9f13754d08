package altisim

import "time"

// LoggedStatement is one entry of a server's statement log: what ran, for
// whom, when and how it ended. Tests assert statement order with it, and the
// critical-path benchmark sums durations from it.
type LoggedStatement struct {
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	Session  int64         `json:"session"`
	SQL      string        `json:"sql"`
	// Err is the statement's error text ("" on success) and Code its
	// Altibase code when it was an *Error.
	Err  string `json:"err,omitempty"`
	Code uint32 `json:"code,omitempty"`
}

// maxStatementLog bounds the log; when it is full the older half is
// discarded (one copy per 50 000 statements, not one per statement).
const maxStatementLog = 100000
