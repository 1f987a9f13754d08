package podlife

import "fmt"

// Action is a lifecycle command: aku -p start|end|clean (spec §5).
type Action string

// The actions.
const (
	ActionStart Action = "start"
	ActionEnd   Action = "end"
	ActionClean Action = "clean"
)

// ParseAction accepts start, end and clean.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionStart, ActionEnd, ActionClean:
		return a, nil
	}
	return "", fmt.Errorf("unknown pod action %q: want start, end or clean", s)
}
