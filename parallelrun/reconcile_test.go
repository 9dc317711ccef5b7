package parallelrun_test

import (
	"context"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/validate"
)

// Reconcile applies each field's authority: a title changed in new (authority old) and a deal
// deleted in new are written again through migrate's write path, an owner changed in new
// (authority new) is left with why; the next diff shows the first two closed, and undoing the
// reconcile run brings the title's drift back.
func TestReconcileAppliesAuthority(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	day := func(d int) time.Time { return time.Date(2031, 6, d, 9, 0, 0, 0, time.UTC) }
	person := pgtest.Scan[string](t, w.New, `SELECT id::text FROM people WHERE job_title IS NOT NULL AND owner_id IS NOT NULL ORDER BY id LIMIT 1`)
	title := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+person)
	deal := pgtest.Scan[string](t, w.New, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	pgtest.Exec(t, w.New,
		`UPDATE people SET job_title = 'Edited In New', owner_id = (SELECT max(id) FROM users WHERE id <> people.owner_id) WHERE id = `+person,
		`DELETE FROM activities WHERE opportunity_id = `+deal,
		`DELETE FROM opportunities WHERE id = `+deal)
	s := w.mustDiff(day(1))
	c := objectOf(t, s, "contact")
	if len(driftOf(c, validate.FieldMismatch, "title")) != 1 || len(driftOf(c, validate.FieldMismatch, "owner")) != 1 {
		t.Fatalf("before reconcile: %+v", c.Drift)
	}

	reconcile := func(dry bool) *parallelrun.Reconciliation {
		t.Helper()
		var rec *parallelrun.Reconciliation
		w.MustRecord(t, "parallel-run.reconcile", func(ctx context.Context, runID int64) error {
			if dry {
				runID = 0
			}
			var err error
			rec, err = parallelrun.Reconcile(ctx, w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), RunID: runID, DryRun: dry})
			return err
		})
		return rec
	}
	fixes := func(r *parallelrun.Reconciliation) map[string]parallelrun.Action {
		out := map[string]parallelrun.Action{}
		for _, a := range r.Actions {
			out[a.Object+"/"+a.Class+"/"+a.Field] = a
		}
		return out
	}
	dry := reconcile(true)
	f := fixes(dry)
	if a := f["contact/field_mismatch/title"]; a.Fix != parallelrun.FixOldToNew || !a.Applied {
		t.Errorf("title: %+v", a)
	}
	if a := f["contact/field_mismatch/owner"]; a.Fix != parallelrun.FixNewToOld || a.Applied || a.Why == "" {
		t.Errorf("owner: %+v", a)
	}
	if a := f["deal/lost_in_new/"]; a.Fix != parallelrun.FixCreateNew || !a.Applied {
		t.Errorf("deal: %+v", a)
	}
	if a := f["contact/refused_in_new/"]; a.Fix != parallelrun.FixData || a.Applied {
		t.Errorf("refused contact: %+v", a)
	}
	if got := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+person); got != "Edited In New" {
		t.Fatalf("a dry run wrote the title: %q", got)
	}

	rec := reconcile(false)
	if rec.Migrate == nil || rec.Migrate.Updated < 1 || rec.Migrate.Inserted < 2 { // the deal and its activity
		t.Fatalf("reconcile wrote: %+v", rec.Migrate)
	}
	if got := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+person); got != title {
		t.Errorf("the title in new is %q, want old's %q", got, title)
	}
	s = w.mustDiff(day(2))
	c = objectOf(t, s, "contact")
	if len(driftOf(c, validate.FieldMismatch, "title")) != 0 || len(driftOf(c, validate.FieldMismatch, "owner")) != 1 {
		t.Errorf("after reconcile: %+v", c.Drift)
	}
	if d := objectOf(t, s, "deal"); d.LostInNew != 0 {
		t.Errorf("the deal is still lost: %+v", d.Drift)
	}
	if s.Closed < 3 {
		t.Errorf("closed %d drift rows, want the title, the deal and its activity", s.Closed)
	}

	// Undo of the reconcile run: the title as the new CRM had it before.
	w.MustRecord(t, migrate.UndoPhase, func(ctx context.Context, runID int64) error {
		_, err := migrate.Undo(ctx, w.Plan, migrate.UndoOptions{DB: w.DB, Env: w.Env(), Undo: rec.RunID, RunID: runID})
		return err
	})
	if got := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+person); got != "Edited In New" {
		t.Errorf("after undo the title is %q", got)
	}
}
