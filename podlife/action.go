package podlife

import (
	"fmt"
	"strings"
)

// Action is a lifecycle command: aku -p start|end|clean|release
// (docs/behaviour.md, "Command line").
type Action string

// The actions.
const (
	ActionStart Action = "start"
	ActionEnd   Action = "end"
	ActionClean Action = "clean"
	// ActionRelease stops and resets this pod's pairs with the gone peers
	// of Input.Release (docs/behaviour.md, "Stale peers").
	ActionRelease Action = "release"
)

// Actions are the actions, in the order the help screen lists them.
var Actions = []Action{ActionStart, ActionEnd, ActionClean, ActionRelease}

// vendorSpellings are words of the original's help screen that name an
// action by another word: it lists `-p [start | stop | clean]`, and the
// action is end.
var vendorSpellings = map[string]Action{"stop": ActionEnd}

// ParseAction accepts start, end, clean and release. Anything else is an error that
// suggests the action meant, where one is near: the vendor's spelling
// (stop), another case (START) or a typo of one letter (strt, ends) or of
// two swapped (strat).
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionStart, ActionEnd, ActionClean, ActionRelease:
		return a, nil
	}
	if a, ok := suggestAction(s); ok {
		return "", fmt.Errorf("unknown action %q: did you mean %s?", s, a)
	}
	return "", fmt.Errorf("unknown action %q: want start, end, clean or release", s)
}

// suggestAction returns the action s most likely stands for.
func suggestAction(s string) (Action, bool) {
	lower := strings.ToLower(s)
	if a, ok := vendorSpellings[lower]; ok {
		return a, true
	}
	for _, a := range Actions {
		if editDistance(lower, string(a)) <= 1 {
			return a, true
		}
	}
	return "", false
}

// editDistance is the number of edits that turn a into b, an edit being
// one byte inserted, deleted or replaced, or two adjacent bytes swapped
// (the optimal string alignment distance; actions are ASCII).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
