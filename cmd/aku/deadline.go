package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aku-project/aku/podlife"
)

// parseDeadline reads the time aku -p end has (docs/behaviour.md, "The
// deadline"): a Go duration ("25s", "1m30s") or whole seconds ("25"),
// more than 0. what names where the value came from, for the usage error.
func parseDeadline(what, value string) (time.Duration, error) {
	v := strings.TrimSpace(value)
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, serr := strconv.ParseInt(v, 10, 64)
		if serr != nil || secs > int64(time.Duration(1<<63-1)/time.Second) {
			return 0, fmt.Errorf("%w: %s %q: want a duration such as 25s or 1m30s, or whole seconds such as 25", errUsage, what, value)
		}
		d = time.Duration(secs) * time.Second
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: %s %q: want a time of more than 0", errUsage, what, value)
	}
	return d, nil
}

// endDeadline is when aku -p action must be over, counted from now: the
// --deadline flag, else AKU_END_DEADLINE, for end only; the zero time
// when neither is given. --deadline with another action is a usage
// error; AKU_END_DEADLINE, set in the pod for its preStop end, is ignored
// by the other actions.
func (o *options) endDeadline(action podlife.Action, now time.Time) (time.Time, error) {
	var what, value string
	switch {
	case o.deadlineSet && action != podlife.ActionEnd:
		return time.Time{}, fmt.Errorf("%w: --deadline goes with -p end only, not -p %s", errUsage, action)
	case action != podlife.ActionEnd:
		return time.Time{}, nil
	case o.deadlineSet:
		what, value = "--deadline", o.deadline
	case o.env.EndDeadlineSet && o.env.EndDeadline != "":
		what, value = "AKU_END_DEADLINE", o.env.EndDeadline
	default:
		return time.Time{}, nil
	}
	d, err := parseDeadline(what, value)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(d), nil
}
