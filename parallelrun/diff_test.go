package parallelrun_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/validate"
)

// world is the demo migrated and validated: where a parallel run starts.
type world struct {
	*demotest.World
	t     *testing.T
	cache string // where its snapshots keep their reads (incremental, each checked against a full read)
}

func newWorld(t *testing.T, edit func(string) string) *world {
	t.Helper()
	opts := demo.DefaultOptions()
	opts.Companies, opts.Contacts, opts.Deals = 40, 200, 80
	w := &world{World: demotest.Staged(t, opts, edit), t: t, cache: t.TempDir()}
	w.validate()
	return w
}

func (w *world) validate() {
	w.t.Helper()
	w.MustRecord(w.t, "validate", func(ctx context.Context, runID int64) error {
		_, err := validate.Run(ctx, w.Plan, validate.Options{DB: w.DB, Env: w.Env()})
		return err
	})
}

// diff takes a snapshot as of at, as a recorded parallel-run run.
func (w *world) diff(at time.Time) (*parallelrun.Snapshot, error) {
	w.t.Helper()
	var snap *parallelrun.Snapshot
	err := w.Record(w.t, "parallel-run", func(ctx context.Context, runID int64) error {
		var err error
		snap, err = parallelrun.Diff(ctx, w.Plan, parallelrun.Options{DB: w.DB, Env: w.Env(), RunID: runID, AsOf: at, Limit: -1,
			CacheDir: w.cache, Verify: true})
		return err
	})
	return snap, err
}

func (w *world) mustDiff(at time.Time) *parallelrun.Snapshot {
	w.t.Helper()
	s, err := w.diff(at)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func objectOf(t *testing.T, s *parallelrun.Snapshot, name string) parallelrun.Object {
	t.Helper()
	for _, o := range s.Objects {
		if o.Object == name {
			return o
		}
	}
	t.Fatalf("no object %s in the snapshot", name)
	return parallelrun.Object{}
}

func driftOf(o parallelrun.Object, class, field string) []parallelrun.Drift {
	var out []parallelrun.Drift
	for _, d := range o.Drift {
		if d.Class == class && d.Field == field {
			out = append(out, d)
		}
	}
	return out
}

// The drift history across days: a change in new is in flight within the grace window, drift
// after it, keeps its first sighting, is ignored while a known-difference rule holds, counts again
// when the rule expires, and closes when the values agree again; critical drift is marked; days
// follow the calendar in the plan's time zone.
func TestDiffKeepsTheDriftHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(plan string) string {
		return strings.Replace(plan, "  full_every: 7d\n", `  full_every: 7d
  ignore:
    - {object: contact, field: title, reason: "the new CRM's enrichment rewrites titles", until: "2031-03-04"}
  critical:
    - {object: deal, class: missing_in_new}
`, 1)
	})
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d, h, m int) time.Time { return time.Date(2031, 3, d, h, m, 0, 0, stockholm) }

	s1 := w.mustDiff(day(1, 23, 0))
	if s1.Day != 1 || s1.Incremental || s1.Result != "passed" {
		t.Fatalf("day 1: day %d, incremental %v, result %s", s1.Day, s1.Incremental, s1.Result)
	}
	deal := objectOf(t, s1, "deal")
	if deal.RefusedInNew == 0 || deal.Critical != deal.RefusedInNew {
		t.Errorf("refused deals are critical drift: %d refused, %d critical", deal.RefusedInNew, deal.Critical)
	}
	if s1.Opened == 0 || s1.Closed != 0 {
		t.Errorf("day 1 opened %d, closed %d", s1.Opened, s1.Closed)
	}
	if d := deal.Drift[0]; !d.Critical || d.State != parallelrun.StateDrift || d.FirstDay != 1 || d.AgeDays != 0 {
		t.Errorf("critical drift first: %+v", d)
	}

	// Day 3 (no snapshot on day 2): an integration changes a person's email in new at 10:00.
	person := pgtest.Scan[string](t, w.New, `SELECT id::text FROM people WHERE email LIKE '%@%' ORDER BY id LIMIT 1`)
	pgtest.Exec(t, w.New, `UPDATE people SET email = 'changed.'||email, updated_at = '2031-03-03 10:00:00+01' WHERE id = `+person)
	s := w.mustDiff(day(3, 10, 5))
	c := objectOf(t, s, "contact")
	if !s.Incremental {
		t.Errorf("day 3 is not an incremental snapshot")
	}
	if s.Day != 3 || c.InFlight != 1 || c.Mismatched != 0 || len(driftOf(c, validate.FieldMismatch, "email")) != 1 {
		t.Fatalf("within the grace window: day %d, in flight %d, mismatched %d, %+v", s.Day, c.InFlight, c.Mismatched, c.Drift)
	}
	if d := driftOf(c, validate.FieldMismatch, "email")[0]; d.State != parallelrun.StateInFlight {
		t.Errorf("in flight: %+v", d)
	}
	s = w.mustDiff(day(3, 10, 16))
	c = objectOf(t, s, "contact")
	ds := driftOf(c, validate.FieldMismatch, "email")
	if s.Day != 3 || c.InFlight != 0 || c.Mismatched != 1 || c.Fields["email"] != 1 || len(ds) != 1 || ds[0].State != parallelrun.StateDrift {
		t.Fatalf("after the grace window: day %d, in flight %d, mismatched %d, %+v", s.Day, c.InFlight, c.Mismatched, ds)
	}
	if !ds[0].FirstSeen.Equal(day(3, 10, 5)) || ds[0].FirstDay != 3 {
		t.Errorf("first seen %s (day %d), want the snapshot that first saw it", ds[0].FirstSeen, ds[0].FirstDay)
	}
	if s.Opened != 0 || s.Closed != 0 {
		t.Errorf("the same drift again: opened %d, closed %d", s.Opened, s.Closed)
	}
	if co := objectOf(t, s, "contact"); co.Parity >= objectOf(t, s1, "contact").Parity {
		t.Errorf("drift lowers parity: %v, day 1 %v", co.Parity, objectOf(t, s1, "contact").Parity)
	}

	// A known difference: a title rewritten in new is counted apart until the rule's date.
	pgtest.Exec(t, w.New, `UPDATE people SET job_title = 'Chief Enrichment Officer', updated_at = '2031-03-01 08:00:00+01'
		WHERE id = (SELECT min(id) FROM people WHERE id <> `+person+`)`)
	s = w.mustDiff(day(4, 9, 0))
	c = objectOf(t, s, "contact")
	if c.Ignored != 1 || c.Fields["title"] != 0 || c.Mismatched != 1 || len(s.Warnings) != 0 {
		t.Fatalf("known difference: ignored %d, fields %v, mismatched %d, warnings %v", c.Ignored, c.Fields, c.Mismatched, s.Warnings)
	}
	if d := driftOf(c, validate.FieldMismatch, "title"); len(d) != 1 || d[0].State != parallelrun.StateIgnored || !strings.Contains(d[0].Rule, "enrichment") {
		t.Errorf("ignored drift: %+v", d)
	}
	s = w.mustDiff(day(5, 9, 0)) // the rule held until the 4th
	c = objectOf(t, s, "contact")
	if c.Ignored != 0 || c.Fields["title"] != 1 || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "expired on 2031-03-04") {
		t.Fatalf("expired rule: ignored %d, fields %v, warnings %v", c.Ignored, c.Fields, s.Warnings)
	}
	if d := driftOf(c, validate.FieldMismatch, "title"); len(d) != 1 || d[0].FirstDay != 4 || d[0].AgeDays != 1 {
		t.Errorf("the title's drift was first seen on day 4: %+v", d)
	}

	// Fixed: the email agrees again; its drift closes, the title's stays open.
	pgtest.Exec(t, w.New, `UPDATE people SET email = substr(email, 9) WHERE id = `+person)
	s = w.mustDiff(day(6, 9, 0))
	if s.Closed != 1 || len(s.ClosedDrift) != 1 || s.ClosedDrift[0].Field != "email" || s.ClosedDrift[0].ClosedAt == nil ||
		!s.ClosedDrift[0].ClosedAt.Equal(day(6, 9, 0)) {
		t.Fatalf("closed: %d %+v", s.Closed, s.ClosedDrift)
	}
	if c = objectOf(t, s, "contact"); c.Mismatched != 1 || c.Fields["title"] != 1 {
		t.Errorf("still open: mismatched %d, %v", c.Mismatched, c.Fields)
	}
	if s.Day != 6 {
		t.Errorf("day %d, want 6", s.Day)
	}

	// Snapshots go forward; a full migrate needs a validate before the next snapshot.
	if _, err := w.diff(day(5, 9, 0)); !errors.Is(err, parallelrun.ErrBackwards) {
		t.Errorf("a snapshot before the last one: %v", err)
	}
	w.Migrate(t)
	if _, err := w.diff(day(7, 9, 0)); !errors.Is(err, parallelrun.ErrNotValidated) {
		t.Errorf("after a full migrate, before validate: %v", err)
	}
	snaps, err := w.DB.Snapshots(context.Background(), w.Plan.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 6 {
		t.Errorf("%d snapshots recorded, want 6 (refused ones are not)", len(snaps))
	}
}

// An integration that creates a duplicate in the new CRM: the dedup pass (the first snapshot's,
// then one a week, or --dedup) names it as duplicate_in_new; between passes it stays open as the
// last pass left it, and a later pass that finds it gone closes it.
func TestDiffFindsDuplicatesCreatedInNew(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	day := func(d int) time.Time { return time.Date(2031, 5, d, 9, 0, 0, 0, time.UTC) }
	diff := func(at time.Time, dedup bool) *parallelrun.Snapshot {
		t.Helper()
		var snap *parallelrun.Snapshot
		w.MustRecord(t, "parallel-run", func(ctx context.Context, runID int64) error {
			var err error
			snap, err = parallelrun.Diff(ctx, w.Plan, parallelrun.Options{DB: w.DB, Env: w.Env(), RunID: runID, AsOf: at, Limit: -1, Dedup: dedup,
				CacheDir: w.cache, Verify: true})
			return err
		})
		return snap
	}
	dups := func(s *parallelrun.Snapshot) []parallelrun.Drift {
		var out []parallelrun.Drift
		for _, d := range objectOf(t, s, "contact").Drift {
			if d.Class == validate.DuplicateInNew {
				out = append(out, d)
			}
		}
		return out
	}
	s := diff(day(1), false)
	if !s.Dedup || len(dups(s)) != 0 {
		t.Fatalf("the first snapshot runs the dedup rules and finds no duplicate right after migrate: dedup %v, %+v", s.Dedup, dups(s))
	}
	// The same person again, under another email address (the integration's spelling).
	orig := pgtest.Scan[string](t, w.New, `SELECT id::text FROM people WHERE phone IS NOT NULL AND company_id IS NOT NULL
		AND first_name IS NOT NULL AND last_name IS NOT NULL ORDER BY id LIMIT 1`)
	dup := pgtest.Scan[string](t, w.New, `INSERT INTO people (first_name, last_name, email, phone, mobile, job_title, company_id, owner_id, stage)
		SELECT first_name, last_name, 'integration.' || coalesce(email, 'x@example.com'), phone, mobile, job_title, company_id, owner_id, stage
		FROM people WHERE id = `+orig+` RETURNING id::text`)
	if s = diff(day(2), false); s.Dedup || len(dups(s)) != 0 {
		t.Fatalf("no dedup pass on day 2: dedup %v, %+v", s.Dedup, dups(s))
	}
	s = diff(day(3), true)
	ds := dups(s)
	if !s.Dedup || len(ds) != 1 || ds[0].NewID != dup || ds[0].Found != validate.FoundByDedup || !strings.Contains(ds[0].Reason, "same entity as record "+orig+" in new") {
		t.Fatalf("--dedup on day 3: dedup %v, %+v", s.Dedup, ds)
	}
	if c := objectOf(t, s, "contact"); c.DuplicatesInNew != 1 {
		t.Errorf("duplicates_in_new %d, want 1", c.DuplicatesInNew)
	}
	// Between passes the duplicate stays open as found, even once deleted.
	s = diff(day(4), false)
	if ds = dups(s); s.Dedup || len(ds) != 1 || ds[0].FirstDay != 3 || objectOf(t, s, "contact").DuplicatesInNew != 1 {
		t.Fatalf("day 4: dedup %v, %+v", s.Dedup, ds)
	}
	pgtest.Exec(t, w.New, `DELETE FROM people WHERE id = `+dup)
	if s = diff(day(5), false); len(dups(s)) != 1 {
		t.Fatalf("day 5, deleted, no pass: %+v", dups(s))
	}
	// A week after the last pass, the next snapshot runs one: the duplicate is gone.
	s = diff(day(10), false)
	if !s.Dedup || len(dups(s)) != 0 {
		t.Fatalf("day 10: dedup %v, %+v", s.Dedup, dups(s))
	}
	closed := false
	for _, d := range s.ClosedDrift {
		closed = closed || d.Class == validate.DuplicateInNew && d.NewID == dup
	}
	if !closed {
		t.Errorf("the duplicate's drift is not closed: %+v", s.ClosedDrift)
	}
}
