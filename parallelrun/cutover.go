package parallelrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// CutoverCheck gathers the go/no-go's evidence from the control database (the phases' runs, the
// parallel run's snapshots and drift, what waits for a person) and evaluates the checklist for a
// cutover at at (package cutover decides; this package reads what the snapshots hold). planArg
// is the plan as the user names it, for the commands the checklist suggests.
func CutoverCheck(ctx context.Context, p *plans.Plan, db *state.DB, at time.Time, planArg string) (*cutover.Checklist, error) {
	in := cutover.CheckInput{At: at, Plan: shellQuote(planArg)}
	if r, err := db.LastPassed(ctx, p.Name, phase.Clean); err != nil {
		return nil, err
	} else if r != nil {
		in.Phases.Clean = r.ID
	}
	m, v, err := db.ValidatedSinceFullMigrate(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	in.Phases.Migrate, in.Phases.Validate = m, v
	snaps, err := db.Snapshots(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	days := map[int]bool{}
	for _, s := range snaps {
		days[s.Day] = true
	}
	in.Days = len(days)
	if len(snaps) > 0 {
		rep, err := Parity(ctx, p, ParityOptions{DB: db})
		if err != nil {
			return nil, err
		}
		in.Gates = rep.Gates
	} else {
		ev := cutover.Evidence{}
		if err := checksEvidence(ctx, db, p, &ev); err != nil {
			return nil, err
		}
		w, err := db.WaitingOf(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		ev.OpenReviews, ev.Rejects = w.Reviews+w.AuthorityReviews, w.CleanRejects+w.MigrateRejects
		in.Gates = cutover.EvaluateGates(p, ev)
	}
	in.Now = time.Now()
	if run, err := db.LastPassed(ctx, p.Name, phase.Snapshot); err != nil {
		return nil, err
	} else if run != nil {
		var m cutover.Manifest
		if found, err := db.LoadReport(ctx, run.ID, &m); err != nil {
			return nil, err
		} else if found {
			in.Snapshot = &m
		}
	}
	verified, err := db.LastVerifies(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	in.Verified = map[string]cutover.Verified{}
	for name, v := range verified {
		var r cutover.ActionResult
		_ = json.Unmarshal(v.Result, &r)
		in.Verified[name] = cutover.Verified{OK: v.OK, At: v.At, RunID: v.RunID, Detail: r.Detail}
	}
	signed, err := db.Signoffs(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	in.Signed = map[string]cutover.Signed{}
	for role, s := range signed {
		in.Signed[role] = cutover.Signed{By: s.SignedBy, Evidence: s.Evidence, At: s.SignedAt}
	}
	return cutover.Check(p, in), nil
}

// Signoff records a role's sign-off of the go/no-go evidence as it is now (the checklist's
// evidence digest); it returns the checklist signed.
func Signoff(ctx context.Context, p *plans.Plan, db *state.DB, role, by, note, planArg string) (*cutover.Checklist, error) {
	if !slices.Contains(p.Cutover.Signoffs, role) {
		return nil, fmt.Errorf("%w: %q is not a role of cutover.signoffs (%s)", ErrUnknownRole, role, strings.Join(p.Cutover.Signoffs, ", "))
	}
	list, err := CutoverCheck(ctx, p, db, time.Now(), planArg)
	if err != nil {
		return nil, err
	}
	if _, err := db.RecordSignoff(ctx, p.Name, state.Signoff{Role: role, SignedBy: by, Note: note, Evidence: list.Evidence}); err != nil {
		return nil, err
	}
	return CutoverCheck(ctx, p, db, time.Now(), planArg)
}

// ErrUnknownRole is returned for a sign-off of a role the plan does not list.
var ErrUnknownRole = errors.New("unknown sign-off role")

// VerifyIntegrations runs the integrations' verify actions (only one: only) in run runID and
// records each result for the go/no-go.
func VerifyIntegrations(ctx context.Context, p *plans.Plan, db *state.DB, env crm.Env, runID int64, only string) (*cutover.Verification, error) {
	return cutover.Verify(ctx, p, env, runID, only, func(r cutover.VerifyResult) error {
		return db.RecordVerify(ctx, p.Name, runID, r.Integration, r.OK, r)
	})
}

// ErrUnknownIntegration is returned for an integration the plan does not list.
var ErrUnknownIntegration = errors.New("the plan has no integration")

// ErrNoGo is returned when cutover execute is refused: the go/no-go says NO-GO.
var ErrNoGo = errors.New("NO-GO")

// CutoverExecute switches the integrations (cutover.Execute) when the go/no-go says GO (or when
// forced, which the caller audits), journaling every step. A dry run lists the steps whatever the
// verdict.
func CutoverExecute(ctx context.Context, p *plans.Plan, db *state.DB, env crm.Env, runID int64, dry, force bool, planArg string) (*cutover.Execution, *cutover.Checklist, error) {
	list, err := CutoverCheck(ctx, p, db, time.Now(), planArg)
	if err != nil {
		return nil, nil, err
	}
	if list.Result != cutover.Go && !force && !dry {
		var failing []string
		for _, it := range list.Items {
			if it.Result != cutover.Pass {
				failing = append(failing, it.Gate)
			}
		}
		return nil, list, fmt.Errorf("%w: %s (see `crmigrate cutover check`; --force overrides, audited)", ErrNoGo, strings.Join(failing, "; "))
	}
	if list.Result != cutover.Go && force && !dry {
		var failing []string
		for _, it := range list.Items {
			if it.Result != cutover.Pass {
				failing = append(failing, it.Gate)
			}
		}
		if err := db.Audit(ctx, state.Entry{Plan: p.Name, RunID: runID, Action: "cutover.execute.forced",
			Detail: map[string]any{"verdict": list.Result, "evidence": list.Evidence, "failing": failing}}); err != nil {
			return nil, list, err
		}
	}
	e, err := cutover.Execute(ctx, p, env, runID, dry, func(s cutover.Step) error {
		return db.RecordStep(ctx, p.Name, runID, s.Integration, s.Step, s.OK, s)
	})
	if e != nil {
		e.Verdict, e.Forced = list.Result, force && list.Result != cutover.Go
	}
	return e, list, err
}

// CutoverRollback rolls back integrations (names; none: all), journaling every step.
func CutoverRollback(ctx context.Context, p *plans.Plan, db *state.DB, env crm.Env, runID int64, names []string) (*cutover.Execution, error) {
	for _, n := range names {
		if !slices.ContainsFunc(p.Integrations, func(i *plans.Integration) bool { return i.Name == n }) {
			return nil, fmt.Errorf("%w %q", ErrUnknownIntegration, n)
		}
	}
	return cutover.Rollback(ctx, p, env, runID, names, func(s cutover.Step) error {
		return db.RecordStep(ctx, p.Name, runID, s.Integration, s.Step, s.OK, s)
	})
}
