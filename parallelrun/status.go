package parallelrun

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// StatusVersion is the version of the status's JSON.
const StatusVersion = 1

// Status is where a migration project stands: each phase's last run, the parallel run's day and
// headline, what waits for a person, the cutover gates, and the next step as a command line. It
// lives with the parallel run (not the phase runner, which this package imports) because its
// headline is the parity report's.
type Status struct {
	Version     int                  `json:"version"`
	Plan        string               `json:"plan"`
	Phases      []PhaseStatus        `json:"phases"`
	ParallelRun *ParallelRunStatus   `json:"parallel_run"` // nil before the first snapshot
	Waiting     state.Waiting        `json:"waiting"`
	Gates       []cutover.GateResult `json:"gates"`
	Next        string               `json:"next"`     // the command to run next
	NextWhy     string               `json:"next_why"` // why
}

// PhaseStatus is a phase's last finished run (nil: never run) and any run under way.
type PhaseStatus struct {
	Phase   string           `json:"phase"`
	Last    *state.RunRecord `json:"last"`
	Age     string           `json:"age,omitempty"` // how long ago the last run ended
	Running bool             `json:"running"`
}

// ParallelRunStatus is the parallel run at a glance.
type ParallelRunStatus struct {
	Day       int       `json:"day"`
	MinDays   int       `json:"min_days"`
	MaxDays   int       `json:"max_days"`
	Snapshots int       `json:"snapshots"`
	LastAsOf  time.Time `json:"last_as_of"`
	Parity    float64   `json:"parity"`
	Headline  string    `json:"headline"`
	Actions   int       `json:"actions"` // kinds of open difference (see the parity report's actions)
}

// StatusOf computes the project's status; planArg is the plan as the user names it (for the next
// command line). now is when ages are counted to.
func StatusOf(ctx context.Context, p *plans.Plan, db *state.DB, planArg string, now time.Time) (*Status, error) {
	st := &Status{Version: StatusVersion, Plan: p.Name, Phases: []PhaseStatus{}, Gates: []cutover.GateResult{}}
	last := map[string]*state.RunRecord{}
	for _, ph := range []string{phase.Clean, phase.Migrate, phase.Validate, phase.ParallelRun, phase.Reconcile, phase.Cutover} {
		ps := PhaseStatus{Phase: ph}
		r, err := db.LastFinished(ctx, p.Name, ph)
		if err != nil {
			return nil, err
		}
		ps.Last, last[ph] = r, r
		if r != nil && r.EndedAt != nil {
			ps.Age = ago(now.Sub(*r.EndedAt))
		}
		runs, err := db.Runs(ctx, p.Name, ph, 1)
		if err != nil {
			return nil, err
		}
		ps.Running = len(runs) > 0 && runs[0].Status == state.StatusRunning
		st.Phases = append(st.Phases, ps)
	}
	var err error
	if st.Waiting, err = db.WaitingOf(ctx, p.Name); err != nil {
		return nil, err
	}
	snaps, err := db.Snapshots(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	var rep *ParityReport
	if len(snaps) > 0 {
		if rep, err = Parity(ctx, p, ParityOptions{DB: db}); err != nil {
			return nil, err
		}
		st.Gates = rep.Gates
		st.ParallelRun = &ParallelRunStatus{Day: rep.Day, MinDays: rep.MinDays, MaxDays: rep.MaxDays, Snapshots: len(snaps),
			LastAsOf: rep.AsOf, Parity: rep.Parity, Headline: rep.Headline.Summary, Actions: len(rep.Actions)}
	} else {
		st.Gates = cutover.EvaluateGates(p, cutover.Evidence{})
	}
	st.Next, st.NextWhy = nextStep(ctx, p, db, st, last, rep, planArg, now)
	return st, nil
}

func passed(r *state.RunRecord) bool { return r != nil && r.Status == state.StatusPassed }

// nextStep is the command a consultant runs next, and why.
func nextStep(ctx context.Context, p *plans.Plan, db *state.DB, st *Status, last map[string]*state.RunRecord, rep *ParityReport, plan string, now time.Time) (string, string) {
	cmd := func(args string) string { return "crmigrate " + args + " --plan " + shellQuote(plan) }
	clean, mig, val := last[phase.Clean], last[phase.Migrate], last[phase.Validate]
	switch {
	case !passed(clean):
		why := "no clean has passed yet: it reads the old CRM and the exports, finds duplicates and stages golden records"
		if clean != nil {
			why = fmt.Sprintf("the last clean (run %d) ended %s: run it again", clean.ID, clean.Status)
		}
		return cmd("clean"), why
	case st.Waiting.Reviews > 0 && (!passed(mig) || mig.ID < clean.ID):
		return cmd("review list"), fmt.Sprintf("%d pairs of possible duplicates wait for a decision before the migrate (then clean again)", st.Waiting.Reviews)
	case !passed(mig) || mig.ID < clean.ID:
		return cmd("migrate"), "the golden records of the last clean are not in the new CRM yet"
	}
	m, v, err := db.ValidatedSinceFullMigrate(ctx, p.Name)
	if err == nil && (v == 0 || m > v) {
		why := "no validate has passed since the last full migrate: the parallel run needs one"
		if val != nil && val.Status != state.StatusPassed {
			why = fmt.Sprintf("the last validate (run %d) ended %s: see `crmigrate runs show %d`, fix, validate again", val.ID, val.Status, val.ID)
		}
		return cmd("validate"), why
	}
	if rep == nil {
		return cmd("parallel-run diff"), "the parallel run has no snapshot yet: take the first (day 1), then one every parallel_run.every"
	}
	every := time.Duration(p.ParallelRun.Every)
	if every > 0 && now.Sub(rep.AsOf) > every {
		return cmd("parallel-run diff"), fmt.Sprintf("the last snapshot is %s old (parallel_run.every is %s); or keep `crmigrate parallel-run watch` running", ago(now.Sub(rep.AsOf)), every)
	}
	if st.Waiting.AuthorityReviews > 0 {
		return cmd("parallel-run review list"), fmt.Sprintf("%d differences wait for a person to say which side is right", st.Waiting.AuthorityReviews)
	}
	for _, a := range rep.Actions {
		if a.Fix == FixOldToNew || a.Fix == FixCreateNew {
			return cmd("parallel-run reconcile --dry-run"), fmt.Sprintf("%d open differences of %s (%s) are old's to fix in new: see what reconcile would write", a.Count, a.Object, a.Class)
		}
	}
	failing := 0
	for _, g := range rep.Gates {
		if g.Result != cutover.Pass {
			failing++
		}
	}
	if rep.Day < rep.MinDays {
		return cmd("parallel-run watch"), fmt.Sprintf("day %d of at least %d: keep the parallel run going and read `crmigrate report parity` each morning", rep.Day, rep.MinDays)
	}
	if failing > 0 {
		return cmd("report parity"), fmt.Sprintf("%d of %d cutover gates fail: the report says what is left and whose it is", failing, len(rep.Gates))
	}
	return cmd("report parity"), "the parallel run has lasted its minimum and every gate passes: cutover (sign-offs and the integration switches) comes next; it is not built in this version"
}

// ago says how long ago, roughly.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// shellQuote quotes a path for a command line when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '-' || r == '_') {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
