package main

import (
	"fmt"
	"time"

	"github.com/aku-project/aku/podlife"
)

// parseDeadline reads the time aku -p end has (podlife.ParseDeadline);
// what names where the value came from, for the usage error.
func parseDeadline(what, value string) (time.Duration, error) {
	d, err := podlife.ParseDeadline(value)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q: %v", errUsage, what, value, err)
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
