package parallelrun_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/phase"
)

// The status follows the project: after validate the next step is the first snapshot; with a deal
// lost in new, the reconcile that writes it back; the phases' last runs and what waits for a
// person are counted.
func TestStatusSaysTheNextStep(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	status := func(now time.Time) *parallelrun.Status {
		t.Helper()
		st, err := parallelrun.StatusOf(ctx, w.Plan, w.DB, "my plan.yaml", now)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := status(time.Now())
	if st.ParallelRun != nil || st.Next != "crmigrate parallel-run diff --plan 'my plan.yaml'" {
		t.Errorf("before the first snapshot: next %q (%s), parallel run %+v", st.Next, st.NextWhy, st.ParallelRun)
	}
	phases := map[string]parallelrun.PhaseStatus{}
	for _, p := range st.Phases {
		phases[p.Phase] = p
	}
	if phases[phase.Clean].Last == nil || phases[phase.Migrate].Last == nil || phases[phase.Validate].Last == nil || phases[phase.Cutover].Last != nil {
		t.Errorf("phases: %+v", st.Phases)
	}
	if st.Waiting.MigrateRejects == 0 {
		t.Errorf("the demo's records the new CRM refused are not counted: %+v", st.Waiting)
	}

	at := time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)
	deal := pgtest.Scan[string](t, w.New, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	pgtest.Exec(t, w.New, `DELETE FROM activities WHERE opportunity_id = `+deal, `DELETE FROM opportunities WHERE id = `+deal)
	w.mustDiff(at)
	st = status(at.Add(time.Hour))
	if st.ParallelRun == nil || st.ParallelRun.Day != 1 || !strings.HasPrefix(st.Next, "crmigrate parallel-run reconcile --dry-run") {
		t.Errorf("with a deal lost in new: next %q (%s), %+v", st.Next, st.NextWhy, st.ParallelRun)
	}
	// A day later without a snapshot: the next is one.
	if st = status(at.Add(30 * time.Hour)); !strings.HasPrefix(st.Next, "crmigrate parallel-run diff") {
		t.Errorf("a day after the last snapshot: next %q", st.Next)
	}
}
