package cutover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// Steps of a cutover execution.
const (
	StepSwitch   = "switch"
	StepVerify   = "verify"
	StepRollback = "rollback"
)

// Execution is what `cutover execute` or `cutover rollback` did (or, dry, would do): its steps in
// order, and how it ended.
type Execution struct {
	Version int    `json:"version"`
	Plan    string `json:"plan"`
	RunID   int64  `json:"run_id"`
	DryRun  bool   `json:"dry_run"`
	Verdict string `json:"verdict"` // the go/no-go when it started
	Forced  bool   `json:"forced,omitempty"`
	Result  string `json:"result"` // switched, rolled_back, failed (a rollback failed: fix by hand), planned
	Steps   []Step `json:"steps"`
	Note    string `json:"note,omitempty"`
	// RollbackOnly: a `cutover rollback`, for which rolled back is success.
	RollbackOnly bool `json:"rollback_only,omitempty"`
}

// Step is one action of one integration.
type Step struct {
	Integration string `json:"integration"`
	Step        string `json:"step"`
	ActionResult
	Planned string `json:"planned,omitempty"` // a dry run: the action, secrets masked
}

// Failed says that the execution did not switch everything (the run is recorded failed).
func (e *Execution) Failed() error {
	switch e.Result {
	case "switched", "planned":
		return nil
	case "rolled_back":
		if e.RollbackOnly {
			return nil
		}
		return errors.New("a step failed: every integration switched was rolled back")
	}
	return errors.New("a step failed and a rollback did not go through: fix it by hand")
}

// Counts are the execution's figures for its run record.
func (e *Execution) Counts() map[string]int64 {
	c := map[string]int64{}
	for _, s := range e.Steps {
		c[s.Step]++
		if !s.OK && e.DryRun == false {
			c["failed"]++
		}
	}
	return c
}

// Execute switches the integrations one by one in the switch order: switch, then verify. When a
// switch or a verify fails, every integration it switched (that one included) is rolled back, in
// reverse order, and it stops. record is told every step as it ends (the journal). A dry run lists
// the steps without running them.
func Execute(ctx context.Context, p *plans.Plan, env crm.Env, runID int64, dry bool, record func(Step) error) (*Execution, error) {
	e := &Execution{Version: 1, Plan: p.Name, RunID: runID, DryRun: dry, Steps: []Step{}}
	if dry {
		e.Result = "planned"
		for _, in := range SwitchOrder(p) {
			e.Steps = append(e.Steps, planned(in.Name, StepSwitch, in.Switch))
			if in.Verify != nil {
				e.Steps = append(e.Steps, planned(in.Name, StepVerify, in.Verify))
			}
		}
		return e, nil
	}
	run := stepRunner(ctx, p, env, e, record)
	var switched []*plans.Integration
	// Rolled back even when the run was interrupted (Ctrl-C): integrations must not stay half
	// switched; the rollback has a bound of its own.
	rollbackNow := func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		return rollBack(e, switched, stepRunner(rctx, p, env, e, record))
	}
	for _, in := range SwitchOrder(p) {
		if err := ctx.Err(); err != nil {
			e.Note = "stopped before switching " + in.Name + ": " + err.Error()
			return e, rollbackNow()
		}
		switched = append(switched, in) // a failed switch may have half happened: it is rolled back too
		s, err := run(in, StepSwitch, in.Switch)
		if err == nil && s.OK && in.Verify != nil {
			s, err = run(in, StepVerify, in.Verify)
		}
		if err != nil || !s.OK {
			switch {
			case err != nil:
				e.Note = fmt.Sprintf("the journal of %s's %s could not be written (%v): every integration switched is rolled back", in.Name, s.Step, err)
			default:
				e.Note = fmt.Sprintf("the %s of %s failed (%s): every integration switched is rolled back", s.Step, in.Name, s.Detail)
			}
			return e, errors.Join(err, rollbackNow())
		}
	}
	e.Result = "switched"
	return e, nil
}

// stepRunner runs one action as a step of e, journaling it.
func stepRunner(ctx context.Context, p *plans.Plan, env crm.Env, e *Execution, record func(Step) error) func(*plans.Integration, string, *plans.Action) (Step, error) {
	return func(in *plans.Integration, step string, a *plans.Action) (Step, error) {
		s := Step{Integration: in.Name, Step: step, ActionResult: RunAction(ctx, p, env, a)}
		e.Steps = append(e.Steps, s)
		if record != nil {
			if err := record(s); err != nil {
				return s, err
			}
		}
		return s, nil
	}
}

// rollBack rolls back the integrations switched, in reverse order; the result says whether every
// rollback went through.
func rollBack(e *Execution, switched []*plans.Integration, run func(*plans.Integration, string, *plans.Action) (Step, error)) error {
	e.Result = "rolled_back"
	var errs []error
	for _, in := range slices.Backward(switched) {
		if in.Rollback == nil {
			e.Result = "failed"
			e.Note += "; " + in.Name + " has no rollback action: point it back at the old CRM by hand"
			continue
		}
		s, err := run(in, StepRollback, in.Rollback)
		if err != nil { // the journal: go on rolling back, and say so
			errs = append(errs, err)
		}
		if !s.OK {
			e.Result = "failed"
			e.Note += fmt.Sprintf("; the rollback of %s failed (%s): point it back by hand", in.Name, s.Detail)
		}
	}
	return errors.Join(errs...)
}

// Rollback rolls back integrations (names, in the reverse of the switch order; all: every one the
// plan lists) without switching anything.
func Rollback(ctx context.Context, p *plans.Plan, env crm.Env, runID int64, names []string, record func(Step) error) (*Execution, error) {
	e := &Execution{Version: 1, Plan: p.Name, RunID: runID, Steps: []Step{}, RollbackOnly: true}
	var which []*plans.Integration
	for _, in := range SwitchOrder(p) {
		if len(names) == 0 || slices.Contains(names, in.Name) {
			which = append(which, in)
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	if err := rollBack(e, which, stepRunner(rctx, p, env, e, record)); err != nil {
		return e, err
	}
	return e, nil
}

// planned describes an action without running it, secrets masked.
func planned(name, step string, a *plans.Action) Step {
	s := Step{Integration: name, Step: step, ActionResult: ActionResult{Kind: a.Kind()}}
	switch {
	case a == nil:
		s.Planned = "no action"
	case a.HTTP != nil:
		m := a.HTTP.Method
		if m == "" {
			m = "GET"
		}
		s.Planned = m + " " + hostOnly(a.HTTP.URL)
	case a.Exec != nil:
		s.Planned = commandName(a.Exec.Command)
	case a.SQL != nil:
		s.Planned = sqlHead(a.SQL)
	}
	s.Target = s.Planned
	return s
}
