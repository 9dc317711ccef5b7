// Package cutover decides go/no-go: the plan's gates computed from evidence in the control
// database (the parallel run's snapshots, the last validation), and later the sign-offs and the
// switching of integrations.
package cutover

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/crmigrate/crmigrate/plans"
)

// Gate results.
const (
	Pass = "pass"
	Fail = "fail"
)

// Day is one parallel-run day's evidence: its last snapshot.
type Day struct {
	Day     int
	Date    string // YYYY-MM-DD in the plan's time zone
	RunID   int64
	Objects map[string]ObjectDay
}

// ObjectDay is an object's figures in a day's snapshot.
type ObjectDay struct {
	Parity   float64
	Drifted  int64 // records with drift (missing on a side, mismatched, duplicated, broken references)
	Critical int64 // open critical drift rows
	// OldestDays is how many days the oldest open difference (state drift) of the object had been
	// open (0: none older than the day; -1: none open).
	OldestDays int
}

// Evidence is what the gates are computed from.
type Evidence struct {
	Days []Day // oldest first, one per parallel-run day that has a snapshot
	// Checks is the last validate run's checks: name → result (pass, fail, warn); nil when no
	// validate ran. ValidateRun is that run.
	Checks         map[string]string
	CheckFailed    []string // fail-severity checks that failed
	ValidateRun    int64
	ValidateStatus string // passed, failed, aborted, abandoned
	// What waits for a person, and what the last clean and migrate rejected.
	OpenReviews int64
	Rejects     int64
}

// GateResult is one gate of the plan evaluated on the evidence.
type GateResult struct {
	Gate     string  `json:"gate"` // the gate as a reader says it: "parity of contact ≥ 99.5 % on each of the last 7 days"
	Kind     string  `json:"kind"`
	Object   string  `json:"object,omitempty"`
	Result   string  `json:"result"`   // pass or fail
	Observed string  `json:"observed"` // what the evidence shows
	Runs     []int64 `json:"runs"`     // the runs it was computed from
}

// EvaluateGates computes the plan's gates (cutover.gates) from the evidence, in plan order.
func EvaluateGates(p *plans.Plan, ev Evidence) []GateResult {
	out := []GateResult{}
	for _, g := range p.Cutover.Gates {
		out = append(out, evaluate(p, g, ev))
	}
	return out
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + " %" }

func objectsOf(p *plans.Plan, object string) []string {
	if object != "" {
		return []string{object}
	}
	var out []string
	for _, o := range p.Objects {
		if o.Mapping(plans.SystemNew) != nil {
			out = append(out, o.Name)
		}
	}
	return out
}

func evaluate(p *plans.Plan, g *plans.Gate, ev Evidence) GateResult {
	r := GateResult{Kind: g.Kind, Object: g.Object, Result: Fail, Runs: []int64{}}
	what := "every object"
	if g.Object != "" {
		what = g.Object
	}
	switch g.Kind {
	case plans.GateParity:
		days := max(g.Days, 1)
		r.Gate = fmt.Sprintf("parity of %s ≥ %s on each of the last %d days", what, pct(g.Min), days)
		if len(ev.Days) < days {
			r.Observed = fmt.Sprintf("%d day(s) of snapshots, %d needed", len(ev.Days), days)
			for _, d := range ev.Days {
				r.Runs = append(r.Runs, d.RunID)
			}
			return r
		}
		if len(objectsOf(p, g.Object)) == 0 {
			r.Observed = "no object of the plan is mapped to the new CRM"
			return r
		}
		low, lowAt, lowObj := 2.0, "", ""
		for _, d := range ev.Days[len(ev.Days)-days:] {
			r.Runs = append(r.Runs, d.RunID)
			for _, o := range objectsOf(p, g.Object) {
				od, ok := d.Objects[o]
				if !ok {
					od.Parity = 0 // not in the snapshot: no evidence
				}
				if od.Parity < low {
					low, lowAt, lowObj = od.Parity, d.Date, o
				}
			}
		}
		r.Observed = fmt.Sprintf("lowest %s (%s, %s)", pct(low), lowObj, lowAt)
		if low >= g.Min {
			r.Result = Pass
		}
	case plans.GateMaxDrift:
		r.Gate = fmt.Sprintf("at most %d drifted records of %s in the last snapshot", g.Max, what)
		if len(ev.Days) == 0 {
			r.Observed = "no snapshot yet"
			return r
		}
		last := ev.Days[len(ev.Days)-1]
		r.Runs = append(r.Runs, last.RunID)
		var n int64
		for _, o := range objectsOf(p, g.Object) {
			od, ok := last.Objects[o]
			if !ok {
				r.Observed = fmt.Sprintf("no evidence: the last snapshot (%s) has no %s", last.Date, o)
				return r
			}
			n += od.Drifted
		}
		r.Observed = fmt.Sprintf("%d drifted records (%s)", n, last.Date)
		if n <= int64(g.Max) {
			r.Result = Pass
		}
	case plans.GateChecks:
		r.Gate = "every fail-severity check passed in the last validate"
		switch {
		case ev.Checks == nil:
			r.Observed = "no validate run yet"
		case ev.ValidateStatus != "passed" && len(ev.CheckFailed) == 0:
			r.Observed = fmt.Sprintf("the last validate (run %d) ended %s", ev.ValidateRun, ev.ValidateStatus)
			r.Runs = append(r.Runs, ev.ValidateRun)
		case len(ev.CheckFailed) > 0:
			failed := slices.Clone(ev.CheckFailed)
			slices.Sort(failed)
			r.Observed = "failed: " + strings.Join(failed, ", ")
			r.Runs = append(r.Runs, ev.ValidateRun)
		default:
			r.Observed = fmt.Sprintf("%d check(s) evaluated, none of severity fail failed", len(ev.Checks))
			r.Result = Pass
			r.Runs = append(r.Runs, ev.ValidateRun)
		}
	case plans.GateNoCritical:
		r.Gate = "no open critical drift in the last snapshot"
		if len(ev.Days) == 0 {
			r.Observed = "no snapshot yet"
			return r
		}
		last := ev.Days[len(ev.Days)-1]
		r.Runs = append(r.Runs, last.RunID)
		var n int64
		for _, od := range last.Objects {
			n += od.Critical
		}
		r.Observed = fmt.Sprintf("%d critical drift rows (%s)", n, last.Date)
		if n == 0 {
			r.Result = Pass
		}
	case plans.GateMaxDriftAge:
		r.Gate = fmt.Sprintf("no difference of %s open longer than %d days", what, g.Days)
		if len(ev.Days) == 0 {
			r.Observed = "no snapshot yet"
			return r
		}
		last := ev.Days[len(ev.Days)-1]
		r.Runs = append(r.Runs, last.RunID)
		oldest, at := -1, ""
		for _, o := range objectsOf(p, g.Object) {
			od, ok := last.Objects[o]
			if !ok {
				r.Observed = fmt.Sprintf("no evidence: the last snapshot (%s) has no %s", last.Date, o)
				return r
			}
			if od.OldestDays > oldest {
				oldest, at = od.OldestDays, o
			}
		}
		if oldest < 0 {
			r.Observed = "no open difference"
		} else {
			r.Observed = fmt.Sprintf("the oldest open difference (%s) is %d days old", at, oldest)
		}
		if oldest <= g.Days {
			r.Result = Pass
		}
	case plans.GateMaxOpenReviews:
		r.Gate = fmt.Sprintf("at most %d decisions waiting for a person", g.Max)
		r.Observed = fmt.Sprintf("%d waiting (duplicate pairs and differences to decide)", ev.OpenReviews)
		if ev.OpenReviews <= int64(g.Max) {
			r.Result = Pass
		}
	case plans.GateMaxRejects:
		r.Gate = fmt.Sprintf("at most %d records rejected by the last clean or refused by the new CRM in the last migrate", g.Max)
		r.Observed = fmt.Sprintf("%d", ev.Rejects)
		if ev.Rejects <= int64(g.Max) {
			r.Result = Pass
		}
	default:
		r.Gate, r.Observed = g.Kind, "unknown gate kind"
	}
	return r
}
