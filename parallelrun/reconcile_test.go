package parallelrun_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/state"
	"github.com/crmigrate/crmigrate/validate"
)

// Reconcile applies each field's authority: a title changed in new (authority old) and a deal
// deleted in new are written again through migrate's write path, an owner changed in new
// (authority new) is left with why; the next diff shows the first two closed, and undoing the
// reconcile run brings the title's drift back.
func TestReconcileAppliesAuthority(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(plan string) string {
		return strings.Replace(plan, "  full_every: 7d\n", `  full_every: 7d
  ignore:
    - {object: contact, field: stage, reason: "the new CRM's lifecycle automation sets it"}
`, 1)
	})
	day := func(d int) time.Time { return time.Date(2031, 6, d, 9, 0, 0, 0, time.UTC) }
	people := pgtest.Scan[string](t, w.New, `SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM people
		WHERE job_title IS NOT NULL AND owner_id IS NOT NULL AND stage IS NOT NULL ORDER BY id LIMIT 3) p`)
	ids := strings.Split(people, ",")
	a, b, c := ids[0], ids[1], ids[2]
	titleOf := func(id string) string {
		return pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+id)
	}
	title, titleC := titleOf(a), titleOf(c)
	deal := pgtest.Scan[string](t, w.New, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	dealGolden := pgtest.Scan[string](t, w.New, `SELECT legacy_id FROM opportunities WHERE id = `+deal)
	pgtest.Exec(t, w.New,
		`UPDATE people SET job_title = 'Edited In New' WHERE id IN (`+a+`, `+c+`)`,                                        // authority old
		`UPDATE people SET owner_id = (SELECT max(id) FROM users WHERE id <> people.owner_id) WHERE id IN (`+a+`, `+b+`)`, // authority new
		`UPDATE people SET stage = CASE stage WHEN 'lead' THEN 'customer' ELSE 'lead' END WHERE id = `+c,                  // a known difference
		`DELETE FROM activities WHERE opportunity_id = `+deal,
		`DELETE FROM opportunities WHERE id = `+deal)
	s := w.mustDiff(day(1))
	co := objectOf(t, s, "contact")
	stage := driftOf(co, validate.FieldMismatch, "stage")
	if len(driftOf(co, validate.FieldMismatch, "title")) != 2 || len(driftOf(co, validate.FieldMismatch, "owner")) != 2 ||
		len(stage) != 1 || stage[0].State != parallelrun.StateIgnored || co.Ignored != 0 { // c has drift too: not counted ignored
		t.Fatalf("before reconcile: %+v", co.Drift)
	}
	actions := func(r *parallelrun.Reconciliation) map[string]parallelrun.Action {
		out := map[string]parallelrun.Action{}
		for _, x := range r.Actions {
			out[x.Object+"/"+x.Class+"/"+x.Field+"/"+x.Record] = x
		}
		return out
	}
	golden := func(id string) string {
		return pgtest.Scan[string](t, w.New, `SELECT legacy_id FROM people WHERE id = `+id)
	}
	// A dry run predicts and writes nothing (it is not a recorded run).
	dry, err := parallelrun.Reconcile(context.Background(), w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	f := actions(dry)
	if x := f["contact/field_mismatch/title/"+golden(a)]; x.Fix != parallelrun.FixOldToNew || !x.Applied {
		t.Errorf("title of a (its owner is new's, kept): %+v", x)
	}
	if x := f["contact/field_mismatch/title/"+golden(c)]; x.Fix != parallelrun.FixOldToNew || x.Applied || !strings.Contains(x.Why, "stage") {
		t.Errorf("title of c, whose stage is a known difference: %+v", x)
	}
	if x := f["contact/field_mismatch/owner/"+golden(b)]; x.Fix != parallelrun.FixNewToOld || x.Applied || x.Why == "" {
		t.Errorf("owner of b: %+v", x)
	}
	if dry.Migrate == nil || dry.Migrate.Updated != 1 || dry.Migrate.Inserted < 2 { // a; the deal and its activity
		t.Errorf("the dry run predicts: %+v", dry.Migrate)
	}
	if got := titleOf(a); got != "Edited In New" {
		t.Fatalf("a dry run wrote the title: %q", got)
	}

	ownerA := pgtest.Scan[int64](t, w.New, `SELECT owner_id FROM people WHERE id = `+a)
	var rec *parallelrun.Reconciliation
	w.MustRecord(t, "parallel-run.reconcile", func(ctx context.Context, runID int64) error {
		var err error
		rec, err = parallelrun.Reconcile(ctx, w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), RunID: runID})
		return err
	})
	if rec.Migrate == nil || rec.Migrate.Updated != 1 || rec.Migrate.Inserted < 2 {
		t.Fatalf("reconcile wrote: %+v", rec.Migrate)
	}
	f = actions(rec)
	if !f["contact/field_mismatch/title/"+golden(a)].Applied || f["contact/field_mismatch/title/"+golden(c)].Applied ||
		!f["deal/lost_in_new//"+dealGolden].Applied {
		t.Errorf("applied in the real run: %+v", rec.Actions)
	}
	if got := titleOf(a); got != title {
		t.Errorf("the title of a in new is %q, want old's %q", got, title)
	}
	if got := titleOf(c); got != "Edited In New" || got == titleC {
		t.Errorf("c was written: its title is %q", got)
	}
	if got := pgtest.Scan[int64](t, w.New, `SELECT owner_id FROM people WHERE id = `+a); got != ownerA {
		t.Errorf("the owner new assigned to a (%d) became %d: writing a must keep it (authority new)", ownerA, got)
	}
	// Reconcile again without a diff in between: the snapshot is stale.
	if _, err := parallelrun.Reconcile(context.Background(), w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), DryRun: true}); !errors.Is(err, parallelrun.ErrStale) {
		t.Errorf("a second reconcile on the same snapshot: %v", err)
	}
	s = w.mustDiff(day(2))
	co = objectOf(t, s, "contact")
	if len(driftOf(co, validate.FieldMismatch, "title")) != 1 || len(driftOf(co, validate.FieldMismatch, "owner")) != 2 {
		t.Errorf("after reconcile: %+v", co.Drift)
	}
	if d := objectOf(t, s, "deal"); d.LostInNew != 0 {
		t.Errorf("the deal is still lost: %+v", d.Drift)
	}

	// Undo of the reconcile run: the title as the new CRM had it before.
	w.MustRecord(t, migrate.UndoPhase, func(ctx context.Context, runID int64) error {
		_, err := migrate.Undo(ctx, w.Plan, migrate.UndoOptions{DB: w.DB, Env: w.Env(), Undo: rec.RunID, RunID: runID})
		return err
	})
	if got := titleOf(a); got != "Edited In New" {
		t.Errorf("after undo the title is %q", got)
	}
}

// most_recent: the side changed last is right (the demo's companies' support fields).
func TestReconcileMostRecent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ids := strings.Split(pgtest.Scan[string](t, w.New, `SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM companies
		WHERE legacy_id IS NOT NULL ORDER BY id LIMIT 2) c`), ",")
	// Company 0 changed in new after old (new is right); company 1 "changed" in new long ago.
	pgtest.Exec(t, w.New,
		`UPDATE companies SET support_open_tickets = 97, updated_at = '2030-01-01 00:00+00' WHERE id = `+ids[0],
		`UPDATE companies SET support_open_tickets = 98, updated_at = '2001-01-01 00:00+00' WHERE id = `+ids[1])
	w.mustDiff(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	var rec *parallelrun.Reconciliation
	w.MustRecord(t, "parallel-run.reconcile", func(ctx context.Context, runID int64) error {
		var err error
		rec, err = parallelrun.Reconcile(ctx, w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), RunID: runID, Object: "company"})
		return err
	})
	fixes := map[string]parallelrun.Action{}
	for _, a := range rec.Actions {
		if a.Field == "support_open_tickets" {
			fixes[a.Record] = a
		}
	}
	golden := func(id string) string {
		return pgtest.Scan[string](t, w.New, `SELECT legacy_id FROM companies WHERE id = `+id)
	}
	if a := fixes[golden(ids[0])]; a.Authority != "most_recent" || a.Fix != parallelrun.FixNewToOld || a.Applied {
		t.Errorf("changed last in new: %+v", a)
	}
	if a := fixes[golden(ids[1])]; a.Fix != parallelrun.FixOldToNew || !a.Applied {
		t.Errorf("changed last in old: %+v", a)
	}
	if n := pgtest.Scan[int64](t, w.New, `SELECT support_open_tickets FROM companies WHERE id = `+ids[0]); n != 97 {
		t.Errorf("new's newer value was overwritten: %d", n)
	}
	if n := pgtest.Scan[int64](t, w.New, `SELECT coalesce(support_open_tickets, -1) FROM companies WHERE id = `+ids[1]); n == 98 {
		t.Error("old's newer value was not written")
	}
}

// Reconcile writes a record only when it overwrites nothing it should not: an owner (authority
// new) that new has emptied would be filled from old, and drift outside --class would be fixed
// unasked; both keep the record from being written.
func TestReconcileLeavesWhatItWouldOverwrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ids := strings.Split(pgtest.Scan[string](t, w.New, `SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM people
		WHERE job_title IS NOT NULL AND owner_id IS NOT NULL AND company_id IS NOT NULL ORDER BY id LIMIT 2) p`), ",")
	d, e := ids[0], ids[1]
	pgtest.Exec(t, w.New,
		`UPDATE people SET job_title = 'Edited In New', owner_id = NULL WHERE id = `+d,
		`UPDATE people SET job_title = 'Edited In New', company_id = (SELECT max(id) FROM companies WHERE id <> people.company_id) WHERE id = `+e)
	w.mustDiff(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	golden := func(id string) string {
		return pgtest.Scan[string](t, w.New, `SELECT legacy_id FROM people WHERE id = `+id)
	}
	rec, err := parallelrun.Reconcile(context.Background(), w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), DryRun: true, Class: "broken_ref"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rec.Actions {
		if a.Record == golden(e) && (a.Applied || !strings.Contains(a.Why, "outside --class")) {
			t.Errorf("e's broken reference with its title outside --class: %+v", a)
		}
	}
	rec, err = parallelrun.Reconcile(context.Background(), w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rec.Actions {
		switch {
		case a.Record == golden(d) && a.Field == "title" && (a.Applied || !strings.Contains(a.Why, "owner")):
			t.Errorf("d's title with its owner emptied in new: %+v", a)
		case a.Record == golden(e) && !a.Applied:
			t.Errorf("e without a filter: %+v", a)
		}
	}
}

// A record changed in new after the snapshot is not written on the snapshot's word.
func TestReconcileSkipsRecordsChangedSinceTheSnapshot(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ids := strings.Split(pgtest.Scan[string](t, w.New, `SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM people
		WHERE job_title IS NOT NULL ORDER BY id LIMIT 2) p`), ",")
	pgtest.Exec(t, w.New, `UPDATE people SET job_title = 'Edited In New', updated_at = '2030-01-01 00:00+00' WHERE id IN (`+ids[0]+`, `+ids[1]+`)`)
	w.mustDiff(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	// Someone edits the first again in new after the snapshot.
	pgtest.Exec(t, w.New, `UPDATE people SET job_title = 'Edited Again', updated_at = '2030-06-01 00:00+00' WHERE id = `+ids[0])
	var rec *parallelrun.Reconciliation
	w.MustRecord(t, "parallel-run.reconcile", func(ctx context.Context, runID int64) error {
		var err error
		rec, err = parallelrun.Reconcile(ctx, w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), RunID: runID})
		return err
	})
	golden := func(id string) string {
		return pgtest.Scan[string](t, w.New, `SELECT legacy_id FROM people WHERE id = `+id)
	}
	for _, a := range rec.Actions {
		switch {
		case a.Record == golden(ids[0]) && (a.Applied || !strings.Contains(a.Why, "since the snapshot")):
			t.Errorf("changed since the snapshot: %+v", a)
		case a.Record == golden(ids[1]) && !a.Applied:
			t.Errorf("unchanged since the snapshot: %+v", a)
		}
	}
	if got := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+ids[0]); got != "Edited Again" {
		t.Errorf("the later edit was overwritten: %q", got)
	}
	if got := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+ids[1]); got == "Edited In New" {
		t.Error("the other record was not written")
	}
}

// authority review: a person decides. Reconcile writes nothing for it and puts it in the authority
// reviews; decided old, the next reconcile writes old's value to new and the next diff shows it
// closed; a decision holds only for the values it was made on.
func TestReconcileLeavesReviewToAPerson(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(plan string) string {
		return strings.Replace(plan, "title: {type: text, old: title, new: job_title, merge: non_empty}",
			"title: {type: text, old: title, new: job_title, merge: non_empty, authority: review}", 1)
	})
	ctx := context.Background()
	person := pgtest.Scan[string](t, w.New, `SELECT id::text FROM people WHERE job_title IS NOT NULL ORDER BY id LIMIT 1`)
	title := pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+person)
	pgtest.Exec(t, w.New, `UPDATE people SET job_title = 'Edited In New', updated_at = now() WHERE id = `+person)
	day := func(d int) time.Time { return time.Date(2031, 1, d, 0, 0, 0, 0, time.UTC) }
	w.mustDiff(day(1))
	reconcile := func() parallelrun.Action {
		t.Helper()
		var rec *parallelrun.Reconciliation
		w.MustRecord(t, "parallel-run.reconcile", func(ctx context.Context, runID int64) error {
			var err error
			rec, err = parallelrun.Reconcile(ctx, w.Plan, parallelrun.ReconcileOptions{DB: w.DB, Env: w.Env(), RunID: runID, Object: "contact"})
			return err
		})
		for _, a := range rec.Actions {
			if a.Field == "title" {
				return a
			}
		}
		t.Fatalf("no title drift among %+v", rec.Actions)
		return parallelrun.Action{}
	}
	jobTitle := func() string { return pgtest.Scan[string](t, w.New, `SELECT job_title FROM people WHERE id = `+person) }
	a := reconcile()
	if a.Authority != "review" || a.Fix != parallelrun.FixReview || a.Applied || !strings.Contains(a.Why, "person") || a.Review == 0 {
		t.Errorf("title under authority review: %+v", a)
	}
	if got := jobTitle(); got != "Edited In New" {
		t.Errorf("reconcile wrote a field under review: %q", got)
	}
	revs, err := w.DB.AuthorityReviews(ctx, w.Plan.Name, state.AuthorityPending, "")
	if err != nil || len(revs) != 1 || revs[0].ID != a.Review || revs[0].Field != "title" || revs[0].New != "Edited In New" || revs[0].Old != title {
		t.Fatalf("pending reviews: %v %+v", err, revs)
	}
	if err := w.DB.DecideAuthorityReviews(ctx, w.Plan.Name, []int64{a.Review, 999999}, state.AuthorityOld); !errors.Is(err, state.ErrNoSuchReview) {
		t.Fatalf("deciding an unknown review: %v", err)
	}

	// Decided new: nothing is written (writing old is not enabled), the record is listed for old.
	if err := w.DB.DecideAuthorityReviews(ctx, w.Plan.Name, []int64{a.Review}, state.AuthorityNew); err != nil {
		t.Fatal(err)
	}
	w.mustDiff(day(2))
	if a := reconcile(); a.Fix != parallelrun.FixNewToOld || a.Decided != state.AuthorityNew || a.Applied || jobTitle() != "Edited In New" {
		t.Errorf("decided new: %+v, job title %q", a, jobTitle())
	}

	// New changes again: the decision was made on other values, the review is pending again.
	pgtest.Exec(t, w.New, `UPDATE people SET job_title = 'Edited Twice', updated_at = now() WHERE id = `+person)
	w.mustDiff(day(3))
	if a := reconcile(); a.Fix != parallelrun.FixReview || a.Applied {
		t.Errorf("after new changed again: %+v", a)
	}
	if revs, err := w.DB.AuthorityReviews(ctx, w.Plan.Name, state.AuthorityPending, "contact"); err != nil || len(revs) != 1 || revs[0].New != "Edited Twice" {
		t.Fatalf("pending again: %v %+v", err, revs)
	}

	// Decided old: the next reconcile writes old's value, and the next diff shows the drift closed.
	if err := w.DB.DecideAuthorityReviews(ctx, w.Plan.Name, []int64{a.Review}, state.AuthorityOld); err != nil {
		t.Fatal(err)
	}
	w.mustDiff(day(4))
	if a := reconcile(); a.Fix != parallelrun.FixOldToNew || a.Decided != state.AuthorityOld || !a.Applied {
		t.Errorf("decided old: %+v", a)
	}
	if got := jobTitle(); got != title {
		t.Errorf("job title after the decided reconcile: %q, want old's %q", got, title)
	}
	s := w.mustDiff(day(5))
	if d := driftOf(objectOf(t, s, "contact"), validate.FieldMismatch, "title"); len(d) != 0 {
		t.Errorf("title drift after the decided reconcile: %+v", d)
	}
}
