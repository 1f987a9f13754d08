package main

import "github.com/aku-project/aku/podlife"

// planJSON is the plan of aku -p ... --dry-run in JSON, the "plan" field of
// a record of type "plan" (docs/json.md, where every field is described).
// Field names are stable; fields are only added. Lists are [] when empty,
// never null.
type planJSON struct {
	Action  string `json:"action"`
	Pod     string `json:"pod"`
	Ordinal int    `json:"ordinal"`
	Path    string `json:"path"`
	Why     string `json:"why"`
	// Leaving is the Kubernetes verdict of an end with
	// AKU_REPLICATION_RESET_AT_END = 2.
	Leaving      string      `json:"leaving,omitempty"`
	Statements   int         `json:"statements"`
	CriticalPath int         `json:"criticalPath"`
	Steps        []stepJSON  `json:"steps"`
	Guards       []guardJSON `json:"guards"`
	Warnings     []string    `json:"warnings"`
	Notes        []string    `json:"notes"`
	Busy         []string    `json:"busy"`
	Kept         []string    `json:"kept"`
	// Failure is set when the run, after its steps, fails with a master
	// or slave failure.
	Failure *failureJSON `json:"failure,omitempty"`
	// Deadline is set for an end with a deadline.
	Deadline *deadlineJSON `json:"deadline,omitempty"`
}

// deadlineJSON is podlife.DeadlineShare in milliseconds.
type deadlineJSON struct {
	LeftMsec           int64 `json:"leftMsec"`
	ReservedMsec       int64 `json:"reservedMsec"`
	ReservedStatements int   `json:"reservedStatements"`
	FlushWindowMsec    int64 `json:"flushWindowMsec"`
}

type stepJSON struct {
	ID          int    `json:"id"`
	Kind        string `json:"kind"`
	Server      *int   `json:"server"` // null: this pod, no server (files, waits)
	Host        string `json:"host,omitempty"`
	Statement   string `json:"statement,omitempty"`
	Verb        string `json:"verb,omitempty"`
	Replication string `json:"replication,omitempty"`
	Phase       string `json:"phase,omitempty"`
	Why         string `json:"why"`
	After       []int  `json:"after"`
	Optional    bool   `json:"optional"`
	// KeepsOnFailure: a failure of this step keeps every restart point
	// (the steps listing it in ifOk are skipped).
	KeepsOnFailure bool   `json:"keepsOnFailure"`
	IfOK           []int  `json:"ifOk"`
	Warning        string `json:"warning,omitempty"`
	WaitMsec       *int64 `json:"waitMsec,omitempty"` // kind "wait"
	Value          *int64 `json:"value,omitempty"`    // kind "save REPLICATION_DDL_ENABLE"
}

type guardJSON struct {
	From  int        `json:"from"`
	To    int        `json:"to"`
	Steps []stepJSON `json:"steps"`
}

type failureJSON struct {
	ExitCode int      `json:"exitCode"`
	Message  string   `json:"message"`
	Objects  []string `json:"objects"`
}

func newPlanJSON(p *podlife.Plan) planJSON {
	out := planJSON{
		Action:       string(p.Action),
		Pod:          p.Pod,
		Ordinal:      p.Ordinal,
		Path:         string(p.Path),
		Why:          p.Why,
		Leaving:      p.Leaving,
		Statements:   p.Statements(),
		CriticalPath: p.CriticalPath(),
		Steps:        newStepsJSON(p.Steps),
		Guards:       []guardJSON{},
		Warnings:     nonNil(p.Warnings),
		Notes:        nonNil(p.Notes),
		Busy:         []string{},
		Kept:         nonNil(p.Kept),
	}
	for _, v := range p.Busy {
		out.Busy = append(out.Busy, v.Host)
	}
	for _, g := range p.Guards {
		out.Guards = append(out.Guards, guardJSON{From: g.From, To: g.To, Steps: newStepsJSON(g.Steps)})
	}
	if d := p.Deadline; d != nil {
		out.Deadline = &deadlineJSON{LeftMsec: d.Left.Milliseconds(), ReservedMsec: d.Reserved.Milliseconds(),
			ReservedStatements: d.ReservedStatements, FlushWindowMsec: d.FlushWindow.Milliseconds()}
	}
	if f := p.Failure; f != nil {
		out.Failure = &failureJSON{ExitCode: exitCode(f), Message: f.Message, Objects: nonNil(f.Objects)}
	}
	return out
}

func newStepsJSON(steps []podlife.Step) []stepJSON {
	out := []stepJSON{}
	for _, s := range steps {
		j := stepJSON{
			ID:          s.ID,
			Kind:        string(s.Kind),
			Host:        s.Host,
			Statement:   s.Statement,
			Replication: s.Replication,
			Phase:       string(s.Phase),
			Why:         s.Why,
			After:       append([]int{}, s.After...),
			Optional:    s.Optional,
			Verb:        string(s.Verb),

			KeepsOnFailure: s.KeepsOnFailure,
			IfOK:           append([]int{}, s.IfOK...),
			Warning:        s.Warning,
		}
		if s.Server != podlife.Local {
			server := s.Server
			j.Server = &server
		}
		switch s.Kind {
		case podlife.StepWait:
			ms := s.Wait.Milliseconds()
			j.WaitMsec = &ms
		case podlife.StepSaveDDL:
			v := s.Value
			j.Value = &v
		}
		out = append(out, j)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
