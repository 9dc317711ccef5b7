package phase_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// report is a phase's result in these tests.
type report struct {
	N      int64  `json:"n"`
	Broken string `json:"broken,omitempty"` // a failed check of its own
}

func (r *report) Counts() map[string]int64 { return map[string]int64{"n": r.N} }

func (r *report) Failed() error {
	if r.Broken != "" {
		return errors.New(r.Broken)
	}
	return nil
}

func newRunner(t *testing.T) *phase.Runner {
	t.Helper()
	rn, _ := newRunnerURL(t)
	return rn
}

// newRunnerURL is newRunner with its control database's URL, for a second "process".
func newRunnerURL(t *testing.T) (*phase.Runner, string) {
	t.Helper()
	url := pgtest.NewDB(t)
	db, err := state.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return &phase.Runner{DB: db, Plan: &plans.Plan{Name: "acme", Hash: "h", Path: "/x/crmigrate.yaml"}, Args: []string{"test"}}, url
}

func ok(n int64) func(context.Context, *phase.Run) (*report, error) {
	return func(context.Context, *phase.Run) (*report, error) { return &report{N: n}, nil }
}

func lastRun(t *testing.T, rn *phase.Runner, name string) state.RunRecord {
	t.Helper()
	runs, err := rn.DB.Runs(context.Background(), rn.Plan.Name, name, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs of %s: %v, %v", name, runs, err)
	}
	return runs[0]
}

func TestOrderIsDeclared(t *testing.T) {
	t.Parallel()
	var names []string
	for _, d := range phase.Order() {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, " → "); got != "clean → migrate → validate → parallel-run → cutover" {
		t.Fatalf("order: %s", got)
	}
	for i, d := range phase.Order() {
		if i > 0 && d.Requires != phase.Order()[i-1].Name {
			t.Errorf("%s requires %q, want the phase before it", d.Name, d.Requires)
		}
	}
	for _, w := range []string{phase.Clean, phase.Migrate, phase.Undo, phase.Reconcile, phase.Demo} {
		if d, _ := phase.Lookup(w); d.Lock != phase.WriterLock {
			t.Errorf("%s takes lock %q, want the writer lock", w, d.Lock)
		}
	}
	for _, r := range []string{phase.Validate, phase.ParallelRun} {
		if d, _ := phase.Lookup(r); d.Lock == phase.WriterLock {
			t.Errorf("%s only reads but takes the writer lock", r)
		}
	}
}

func TestPrerequisiteForceAndStatuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRunner(t)
	var notes []string
	rn.Notify = func(m string) { notes = append(notes, m) }

	// migrate before any clean: refused, nothing recorded.
	called := false
	_, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{}, func(context.Context, *phase.Run) (*report, error) {
		called = true
		return &report{}, nil
	})
	if !errors.Is(err, phase.ErrNotPassed) || !strings.Contains(err.Error(), "crmigrate clean") || called {
		t.Fatalf("migrate before clean: err %v, body called %v", err, called)
	}
	if runs, _ := rn.DB.Runs(ctx, "acme", phase.Migrate, 0); len(runs) != 0 {
		t.Fatalf("a refused run was recorded: %+v", runs)
	}

	// A clean whose own check fails: failed, with its counts and report, and a CheckFailedError.
	res, err := phase.Execute(ctx, rn, phase.Clean, phase.Options{}, func(context.Context, *phase.Run) (*report, error) {
		return &report{N: 7, Broken: "reject rate 40% over 5%"}, nil
	})
	var cf *phase.CheckFailedError
	if !errors.As(err, &cf) || res == nil || res.N != 7 {
		t.Fatalf("failed check: %v, %+v", err, res)
	}
	if r := lastRun(t, rn, phase.Clean); r.Status != state.StatusFailed || r.Counts["n"] != 7 || !strings.Contains(r.Error, "reject rate") {
		t.Fatalf("clean run: %+v", r)
	}
	if _, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{}, ok(1)); !errors.Is(err, phase.ErrNotPassed) || !strings.Contains(err.Error(), "ended failed") {
		t.Fatalf("migrate after a failed clean: %v", err)
	}
	// --force: goes on, told and recorded.
	if _, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{Force: true}, ok(3)); err != nil {
		t.Fatal(err)
	}
	if r := lastRun(t, rn, phase.Migrate); r.Status != state.StatusPassed || !r.Forced || r.Counts["n"] != 3 {
		t.Fatalf("forced migrate: %+v", r)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "--force") {
		t.Fatalf("notes: %q", notes)
	}
	log, _ := rn.DB.AuditLog(ctx, "acme", 0)
	forced := false
	for _, e := range log {
		forced = forced || e.Action == "migrate.force"
	}
	if !forced {
		t.Fatal("the override is not in the audit log")
	}

	// A body error: failed, StoppedError.
	_, err = phase.Execute(ctx, rn, phase.Clean, phase.Options{}, func(context.Context, *phase.Run) (*report, error) {
		return nil, errors.New("source gone")
	})
	var st *phase.StoppedError
	if !errors.As(err, &st) || st.Status != state.StatusFailed || lastRun(t, rn, phase.Clean).Status != state.StatusFailed {
		t.Fatalf("body error: %v", err)
	}
	// A clean that passed lets migrate run without --force; the report is saved.
	if _, err := phase.Execute(ctx, rn, phase.Clean, phase.Options{}, ok(5)); err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{}, func(_ context.Context, r *phase.Run) (*report, error) {
		id = r.ID
		return &report{N: 9}, nil
	}); err != nil {
		t.Fatal(err)
	}
	var saved report
	if found, err := rn.DB.LoadReport(ctx, id, &saved); err != nil || !found || saved.N != 9 {
		t.Fatalf("saved report: %+v, %v", saved, err)
	}
	// A dry run checks the prerequisite but records nothing.
	before, _ := rn.DB.Runs(ctx, "acme", "", 0)
	if _, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{DryRun: true}, func(_ context.Context, r *phase.Run) (*report, error) {
		if r.ID != 0 {
			t.Errorf("dry run has run id %d", r.ID)
		}
		return &report{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if after, _ := rn.DB.Runs(ctx, "acme", "", 0); len(after) != len(before) {
		t.Fatalf("a dry run was recorded: %d runs, was %d", len(after), len(before))
	}
}

// Ctrl-C cancels the context: every phase records its run aborted, with the counts it had.
func TestCtrlCRecordsAbortedInEveryPhase(t *testing.T) {
	t.Parallel()
	rn := newRunner(t)
	for _, name := range []string{phase.Demo, phase.Clean, phase.Migrate, phase.Undo} {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := phase.Execute(ctx, rn, name, phase.Options{Force: true}, func(ctx context.Context, _ *phase.Run) (*report, error) {
			cancel() // Ctrl-C while the body works
			<-ctx.Done()
			return &report{N: 2}, ctx.Err()
		})
		var st *phase.StoppedError
		if !errors.As(err, &st) || st.Status != state.StatusAborted || !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", name, err)
		}
		if r := lastRun(t, rn, name); r.Status != state.StatusAborted || r.Counts["n"] != 2 || r.EndedAt == nil {
			t.Fatalf("%s run after Ctrl-C: %+v", name, r)
		}
	}
}

// The phases that write staging or the new CRM exclude each other; readers run beside them.
func TestWritersExcludeEachOtherReadersDoNot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRunner(t)
	_, err := phase.Execute(ctx, rn, phase.Clean, phase.Options{}, func(ctx context.Context, clean *phase.Run) (*report, error) {
		for _, w := range []string{phase.Migrate, phase.Undo, phase.Clean, phase.Demo} {
			_, err := phase.Execute(ctx, rn, w, phase.Options{Force: true}, ok(1))
			var locked *state.LockedError
			if !errors.As(err, &locked) || locked.Holder == nil || locked.Holder.ID != clean.ID {
				t.Errorf("%s during clean: want a LockedError naming run %d, got %v", w, clean.ID, err)
			}
		}
		if _, err := phase.Execute(ctx, rn, phase.Validate, phase.Options{Force: true}, ok(1)); err != nil {
			t.Errorf("validate beside clean: %v", err)
		}
		return &report{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestProgressListsTheMainLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRunner(t)
	if _, err := phase.Execute(ctx, rn, phase.Clean, phase.Options{}, ok(1)); err != nil {
		t.Fatal(err)
	}
	steps, err := phase.Progress(ctx, rn.DB, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 5 || steps[0].Last == nil || steps[0].Last.Status != state.StatusPassed || steps[1].Last != nil {
		t.Fatalf("progress: %+v", steps)
	}
}

// rejecting is a report of a run that refused records.
type rejecting struct {
	Rejected int64
	File     string
}

func (r *rejecting) SetRejectsFile(path string) { r.File = path }

func (r *rejecting) Counts() map[string]int64 { return map[string]int64{"rejected": r.Rejected} }

// The rejects of a run go to rejects/PHASE-RUN.csv beside the plan, cells neutralized for a
// spreadsheet; a run whose rejects file cannot be written fails.
func TestRejectsFileIsPartOfTheRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRunner(t)
	rn.Plan.Dir = t.TempDir()
	var notes []string
	rn.Notify = func(m string) { notes = append(notes, m) }
	refuse := func(ctx context.Context, run *phase.Run) (*rejecting, error) {
		err := rn.DB.WriteRejects(ctx, "acme", run.ID, run.Phase, []state.RejectRow{
			{Object: "contact", System: "old", Line: 7, SourceID: "c7", Reason: "no id", Raw: "=HYPERLINK(\"http://evil.example\")"},
			{Object: "contact", System: "old", Line: 9, SourceID: "c9", Reason: "bad", Raw: "plain"}})
		return &rejecting{Rejected: 2}, err
	}
	if _, err := phase.Execute(ctx, rn, phase.Clean, phase.Options{}, refuse); err != nil {
		t.Fatal(err)
	}
	id := lastRun(t, rn, phase.Clean).ID
	path := phase.RejectsPath(rn.Plan, phase.Clean, id)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, "contact,old,7,c7,no id,\"'=HYPERLINK(\"\"http://evil.example\"\")\"") || !strings.Contains(got, "contact,old,9,c9,bad,plain") {
		t.Fatalf("rejects file:\n%s", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "2 rejected records") || !strings.Contains(notes[0], path) {
		t.Fatalf("notes: %q", notes)
	}
	// The same records refused again: no identical copy; the report names the earlier file.
	res, err := phase.Execute(ctx, rn, phase.Clean, phase.Options{}, refuse)
	if err != nil {
		t.Fatal(err)
	}
	second := lastRun(t, rn, phase.Clean).ID
	if _, err := os.Stat(phase.RejectsPath(rn.Plan, phase.Clean, second)); !os.IsNotExist(err) {
		t.Fatalf("an identical rejects file was written again (%v)", err)
	}
	if want := filepath.Join("rejects", filepath.Base(path)); res.File != want || !strings.Contains(notes[1], "the same as") {
		t.Fatalf("second run: file %q (want %q), notes %q", res.File, want, notes)
	}

	// rejects/ cannot be made (here a file stands in its way; a read-only disk does the same).
	rn.Plan.Dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(rn.Plan.Dir, "rejects"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = phase.Execute(ctx, rn, phase.Clean, phase.Options{}, refuse)
	var st *phase.StoppedError
	if !errors.As(err, &st) || !strings.Contains(err.Error(), "rejects file") {
		t.Fatalf("unwritable rejects file: %v", err)
	}
	if r := lastRun(t, rn, phase.Clean); r.Status != state.StatusFailed || !strings.Contains(r.Error, "rejects file") {
		t.Fatalf("a clean whose rejects file could not be written is recorded %s (%q), want failed", r.Status, r.Error)
	}
	if _, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{}, ok(1)); !errors.Is(err, phase.ErrNotPassed) {
		t.Fatalf("migrate after that clean: %v", err)
	}
}

// outcome is a report that shows how its run ended.
type outcome struct {
	Status, Error string
}

func (o *outcome) Counts() map[string]int64 { return nil }
func (o *outcome) SetOutcome(status string, err error) {
	o.Status = status
	if err != nil {
		o.Error = err.Error()
	}
}

func TestReportIsToldHowItsRunEnded(t *testing.T) {
	t.Parallel()
	rn := newRunner(t)
	res, _ := phase.Execute(context.Background(), rn, phase.Clean, phase.Options{}, func(context.Context, *phase.Run) (*outcome, error) {
		return &outcome{}, errors.New("disk full")
	})
	if res.Status != state.StatusFailed || res.Error != "disk full" {
		t.Fatalf("report of a failed run: %+v", res)
	}
	var saved outcome
	if found, err := rn.DB.LoadReport(context.Background(), lastRun(t, rn, phase.Clean).ID, &saved); err != nil || !found || saved.Status != state.StatusFailed {
		t.Fatalf("saved report: %+v (%v)", saved, err)
	}
	res, _ = phase.Execute(context.Background(), rn, phase.Clean, phase.Options{}, func(context.Context, *phase.Run) (*outcome, error) {
		return &outcome{}, nil
	})
	if res.Status != state.StatusPassed {
		t.Fatalf("report of a passed run: %+v", res)
	}
}

// A reader's prerequisite that runs now, or was killed, is not taken for the last one that passed.
func TestPrerequisiteRunningOrKilledIsNotPassed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn, url := newRunnerURL(t)
	if _, err := phase.Execute(ctx, rn, phase.Migrate, phase.Options{Force: true}, ok(1)); err != nil {
		t.Fatal(err)
	}
	// Another process migrates now.
	other, err := state.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.StartRun(ctx, state.RunSpec{Plan: "acme", Phase: phase.Migrate, Lock: phase.WriterLock, LockPhases: []string{phase.Migrate}}); err != nil {
		t.Fatal(err)
	}
	if _, err := phase.Execute(ctx, rn, phase.Validate, phase.Options{}, ok(1)); !errors.Is(err, phase.ErrNotPassed) || !strings.Contains(err.Error(), "running now") {
		t.Fatalf("validate while migrate runs: %v", err)
	}
	// That process dies (kill -9): its session ends without ending the run.
	if _, err := rn.DB.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	var err2 error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, err2 = phase.Execute(ctx, rn, phase.Validate, phase.Options{}, ok(1))
		if !strings.Contains(fmt.Sprint(err2), "running now") {
			break
		}
	}
	if !errors.Is(err2, phase.ErrNotPassed) || !strings.Contains(err2.Error(), "abandoned") {
		t.Fatalf("validate after migrate was killed: %v", err2)
	}
}
