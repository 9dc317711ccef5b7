package phase

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/internal/sheet"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// Phase names, as runs are recorded in the control database.
const (
	Demo     = "demo"
	Clean    = "clean"
	Migrate  = "migrate"
	Undo     = "migrate.undo"
	Validate = "validate"
	// ValidateSome is a validation of some objects only (--object): recorded, but never the
	// evidence a later phase requires, which is a validation of every object.
	ValidateSome = "validate.some"
	ParallelRun  = "parallel-run"
	Reconcile    = "parallel-run.reconcile"
	Cutover      = "cutover"
	Snapshot     = "snapshot"
	Verify       = "cutover.verify"
	Rollback     = "cutover.rollback"
)

// WriterLock is the lock shared by the phases that write staging or the new CRM: they exclude each
// other per plan.
const WriterLock = "writer"

// Def declares a phase.
type Def struct {
	Name     string // as recorded in runs
	Command  string // the command that runs it, for messages
	Requires string // the phase whose last finished run must have passed first ("" for none)
	Lock     string // the advisory lock it takes: WriterLock, or its own name for a reader
	Main     bool   // a step of the main line (clean → … → cutover), listed by [Order]
}

// defs is the declared order: the main line first, then the phases beside it.
var defs = []Def{
	{Name: Clean, Command: "crmigrate clean", Lock: WriterLock, Main: true},
	{Name: Migrate, Command: "crmigrate migrate", Requires: Clean, Lock: WriterLock, Main: true},
	{Name: Validate, Command: "crmigrate validate", Requires: Migrate, Lock: Validate, Main: true},
	{Name: ParallelRun, Command: "crmigrate parallel-run diff", Requires: Validate, Lock: ParallelRun, Main: true},
	{Name: Cutover, Command: "crmigrate cutover execute", Requires: ParallelRun, Lock: Cutover, Main: true},
	{Name: Undo, Command: "crmigrate migrate undo", Lock: WriterLock},
	{Name: ValidateSome, Command: "crmigrate validate --object", Requires: Migrate, Lock: Validate},
	{Name: Reconcile, Command: "crmigrate parallel-run reconcile", Requires: Validate, Lock: WriterLock},
	{Name: Demo, Command: "crmigrate demo", Lock: WriterLock},
	{Name: Snapshot, Command: "crmigrate snapshot", Lock: Snapshot},
	{Name: Verify, Command: "crmigrate cutover verify", Lock: Verify},
	{Name: Rollback, Command: "crmigrate cutover rollback", Lock: Cutover},
}

// Order is the main line of phases, in the order a migration runs them.
func Order() []Def {
	var out []Def
	for _, d := range defs {
		if d.Main {
			out = append(out, d)
		}
	}
	return out
}

// Lookup returns the declared phase called name.
func Lookup(name string) (Def, bool) {
	for _, d := range defs {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// lockPhases lists the phases that take lock.
func lockPhases(lock string) []string {
	var out []string
	for _, d := range defs {
		if d.Lock == lock {
			out = append(out, d.Name)
		}
	}
	return out
}

// Runner runs the phases of one plan against its control database.
type Runner struct {
	DB   *state.DB
	Plan *plans.Plan
	Args []string // the command line, without secrets, recorded with each run
	// Notify, when set, is told what the runner decided on the user's behalf (a prerequisite
	// overridden by --force).
	Notify func(msg string)
}

// Options configure one run.
type Options struct {
	// Force runs the phase although its prerequisite has not passed; the run is recorded as
	// forced and the audit log keeps it.
	Force bool
	// DryRun checks the prerequisite and holds the lock while the body runs, but records no run
	// and saves no report ([Run.ID] is 0).
	DryRun bool
}

// Run is what a phase's body knows of its run.
type Run struct {
	ID     int64  // the run's id in the control database; 0 for a dry run
	Phase  string // the phase's name
	Forced bool   // started with --force
}

// Report is a phase's result: saved as the run's JSON report, its counts stored with the run.
type Report interface {
	Counts() map[string]int64
}

// Verdict is implemented by a report whose phase has checks of its own (clean's reject rate,
// validate's checks): a non-nil Failed ends the run as failed with a [CheckFailedError].
type Verdict interface {
	Failed() error
}

// Outcomer is implemented by a report that shows how its run ended (a failed run must not read
// like a passed one): it is told the status and the error before the report is saved.
type Outcomer interface {
	SetOutcome(status string, err error)
}

// RejectsFiler is implemented by a report that names the file its rejects are in (relative to the
// plan's folder), so that it can say where to look.
type RejectsFiler interface {
	SetRejectsFile(path string)
}

// ErrNotPassed is wrapped when the phase a run depends on has not passed.
var ErrNotPassed = errors.New("the phase it depends on has not passed")

// CheckFailedError says that a run went to its end but a check of its own failed: the run is
// recorded as failed and the command exits 3.
type CheckFailedError struct {
	Phase string
	RunID int64
	Err   error
}

func (e *CheckFailedError) Error() string {
	return fmt.Sprintf("%s run %d did not pass: %v", e.Phase, e.RunID, e.Err)
}

func (e *CheckFailedError) Unwrap() error { return e.Err }

// StoppedError says that a recorded run ended failed or aborted before its end; Err is why.
type StoppedError struct {
	Phase  string
	RunID  int64
	Status string // state.StatusFailed or state.StatusAborted
	Err    error
}

func (e *StoppedError) Error() string { return e.Err.Error() }

func (e *StoppedError) Unwrap() error { return e.Err }

// Execute runs body as a run of the named phase: it takes the phase's lock, checks the
// prerequisite (see [Options.Force]), records the run, calls body, and ends the run as passed,
// failed or aborted with the report's counts, saving the report. It returns body's report (also
// when the run failed) and nil, a *CheckFailedError, a *StoppedError, or the error that kept the
// run from starting (a *state.LockedError, an error wrapping ErrNotPassed, …).
func Execute[R Report](ctx context.Context, rn *Runner, name string, opts Options, body func(context.Context, *Run) (R, error)) (R, error) {
	var zero R
	def, ok := Lookup(name)
	if !ok {
		return zero, fmt.Errorf("unknown phase %q", name)
	}
	p := rn.Plan
	spec := state.RunSpec{Plan: p.Name, PlanHash: p.Hash, PlanPath: p.Path, Phase: name, Lock: def.Lock, LockPhases: lockPhases(def.Lock),
		Args: rn.Args, Forced: opts.Force}
	lock, err := rn.DB.TakeLock(ctx, spec)
	if err != nil {
		return zero, err
	}
	defer lock.Release() // after Begin the run owns the lock and this does nothing
	if err := rn.prerequisite(ctx, def, opts.Force); err != nil {
		return zero, err
	}
	if opts.DryRun {
		return body(ctx, &Run{Phase: name, Forced: opts.Force})
	}
	run, err := lock.Begin(ctx)
	if err != nil {
		return zero, err
	}
	res, bodyErr := body(ctx, &Run{ID: run.ID, Phase: name, Forced: opts.Force})
	return finish(ctx, rn, run, res, bodyErr)
}

// finish ends run after its body returned res and bodyErr.
func finish[R Report](ctx context.Context, rn *Runner, run *state.Run, res R, bodyErr error) (R, error) {
	db := rn.DB
	// Ending the run must work after Ctrl-C: it is not cancelled with the run, and gets a deadline
	// of its own only when the run was (a large rejects file may take a while otherwise).
	endCtx, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
	if ctx.Err() != nil {
		endCtx, cancel = context.WithTimeout(endCtx, 2*time.Minute)
	}
	defer cancel()
	status, runErr := state.StatusPassed, bodyErr
	var checkErr error
	switch {
	case bodyErr != nil && ctx.Err() != nil:
		status = state.StatusAborted
	case bodyErr != nil:
		status = state.StatusFailed
	}
	var counts map[string]int64
	if !isNil(res) {
		counts = res.Counts()
		if v, ok := any(res).(Verdict); ok && bodyErr == nil {
			if checkErr = v.Failed(); checkErr != nil {
				status = state.StatusFailed
			}
		}
		if counts["rejected"] > 0 {
			path, err := rn.writeRejects(endCtx, run)
			if err != nil && runErr == nil {
				runErr, status = err, state.StatusFailed
			}
			if f, ok := any(res).(RejectsFiler); ok && err == nil {
				f.SetRejectsFile(path)
			}
		}
		if o, ok := any(res).(Outcomer); ok {
			o.SetOutcome(status, runErr)
		}
		if err := db.SaveReport(endCtx, run.ID, res); err != nil && runErr == nil {
			runErr, status = err, state.StatusFailed
		}
	}
	recorded := runErr
	if recorded == nil {
		recorded = checkErr
	}
	if err := run.Finish(endCtx, status, counts, recorded); err != nil && runErr == nil {
		runErr, status = err, state.StatusFailed
	}
	switch {
	case runErr != nil:
		return res, &StoppedError{Phase: run.Spec.Phase, RunID: run.ID, Status: status, Err: runErr}
	case checkErr != nil:
		return res, &CheckFailedError{Phase: run.Spec.Phase, RunID: run.ID, Err: checkErr}
	}
	return res, nil
}

// RejectsPath is where the rejects of a run are written for people: rejects/PHASE-RUN.csv beside
// the plan.
func RejectsPath(p *plans.Plan, phase string, runID int64) string {
	return filepath.Join(p.Dir, "rejects", fmt.Sprintf("%s-%d.csv", phase, runID))
}

// writeRejects writes the run's rejects (with those of the runs it resumed) to RejectsPath, whole
// or not at all, cells neutralized for spreadsheets, and returns the file's path relative to the
// plan's folder. When the newest earlier rejects file of the phase holds exactly the same rejects
// (records refused again, nothing new), no identical copy is written and that file's path is
// returned. A run whose rejects file cannot be written fails: the file is how people learn what
// was refused.
func (rn *Runner) writeRejects(ctx context.Context, run *state.Run) (string, error) {
	rows, err := rn.DB.Rejects(ctx, rn.Plan.Name, run.ID)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	cw := sheet.NewWriter(&buf)
	_ = cw.Write([]string{"object", "system", "line", "source_id", "reason", "raw"})
	for _, r := range rows {
		_ = cw.Write([]string{r.Object, r.System, strconv.FormatInt(r.Line, 10), r.SourceID, r.Reason, r.Raw})
	}
	if err := cw.Flush(); err != nil {
		return "", fmt.Errorf("write the rejects file: %w", err)
	}
	path := RejectsPath(rn.Plan, run.Spec.Phase, run.ID)
	if prev := previousRejects(path, run.Spec.Phase, run.ID); prev != "" {
		if old, err := os.ReadFile(prev); err == nil && bytes.Equal(old, buf.Bytes()) {
			if rn.Notify != nil {
				rn.Notify(fmt.Sprintf("%d rejected records, the same as in %s", len(rows), prev))
			}
			return rel(rn.Plan.Dir, prev), nil
		}
	}
	// The rejects hold customers' data as it was read: for the plan's owner only.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("write the rejects file: %w", err)
	}
	if err := atomicfile.Write(path, 0o600, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return "", fmt.Errorf("write the rejects file: %w", err)
	}
	if rn.Notify != nil {
		rn.Notify(fmt.Sprintf("%d rejected records, with line and reason, in %s", len(rows), path))
	}
	return rel(rn.Plan.Dir, path), nil
}

// previousRejects is the newest rejects file of phase beside path written by a run before runID,
// or "".
func previousRejects(path, phase string, runID int64) string {
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), phase+"-*.csv"))
	best, bestID := "", int64(0)
	for _, f := range files {
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), phase+"-"), ".csv"), 10, 64)
		if err == nil && id < runID && id > bestID {
			best, bestID = f, id
		}
	}
	return best
}

func rel(dir, path string) string {
	if r, err := filepath.Rel(dir, path); err == nil {
		return r
	}
	return path
}

// prerequisite returns nil when def's prerequisite passed (or there is none), an error wrapping
// ErrNotPassed that says what to do when it has not and force is false; with force it tells
// Notify and returns nil.
func (rn *Runner) prerequisite(ctx context.Context, def Def, force bool) error {
	if def.Requires == "" {
		return nil
	}
	req, _ := Lookup(def.Requires)
	if req.Lock != def.Lock {
		// The required phase takes another lock: a run of it still marked running either runs
		// now (refuse) or died (taking its lock marks it abandoned, which the check below sees).
		l, err := rn.DB.TakeLock(ctx, state.RunSpec{Plan: rn.Plan.Name, PlanHash: rn.Plan.Hash, PlanPath: rn.Plan.Path,
			Phase: req.Name, Lock: req.Lock, LockPhases: lockPhases(req.Lock)})
		var locked *state.LockedError
		switch {
		case errors.As(err, &locked) && locked.Holder != nil && locked.Holder.Phase != req.Name:
			// Another phase holds it, so no run of the required phase is running now.
		case errors.As(err, &locked):
			return fmt.Errorf("%w: %s is running now; wait for it to finish, then run `%s`", ErrNotPassed, req.Name, def.Command)
		case err != nil:
			return err
		default:
			l.Release()
		}
	}
	last, err := rn.DB.LastFinished(ctx, rn.Plan.Name, req.Name)
	if err != nil {
		return fmt.Errorf("check that %s passed: %w", req.Name, err)
	}
	var why error
	switch {
	case last == nil:
		why = fmt.Errorf("%w: %s has never run for plan %s; run `%s` first, or pass --force (audited)", ErrNotPassed, req.Name, rn.Plan.Name, req.Command)
	case last.Status != state.StatusPassed:
		why = fmt.Errorf("%w: the last %s (run %d) ended %s; fix it and run `%s` again, or pass --force (audited)",
			ErrNotPassed, req.Name, last.ID, last.Status, req.Command)
	default:
		return nil
	}
	if !force {
		return why
	}
	if rn.Notify != nil {
		rn.Notify(fmt.Sprintf("%v\ngoing on because of --force (audited)", why))
	}
	return nil
}

// isNil says whether a report is a nil interface or a nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// Step is one phase of the main line with its last finished run.
type Step struct {
	Def  Def
	Last *state.RunRecord // nil when it never ran (or only runs now)
}

// Progress lists the main line of phases with the last finished run of each, for status displays
// and for later phases that must read earlier results.
func Progress(ctx context.Context, db *state.DB, plan string) ([]Step, error) {
	var out []Step
	for _, d := range Order() {
		last, err := db.LastFinished(ctx, plan, d.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, Step{Def: d, Last: last})
	}
	return out, nil
}
