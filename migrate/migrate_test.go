package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/crm"
	_ "github.com/crmigrate/crmigrate/crm/csvfile"
	_ "github.com/crmigrate/crmigrate/crm/postgres"
	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// world is a demo old CRM, an empty new CRM and a control database, cleaned.
type world struct {
	t        *testing.T
	dir      string
	plan     *plans.Plan
	db       *state.DB
	old, new string // URLs
	ctl      string // the control database's URL
}

func newWorld(t *testing.T, opts demo.Options, edit func(plan string) string) *world {
	t.Helper()
	ctx := context.Background()
	d := demotest.New(t, opts, edit)
	w := &world{t: t, dir: d.Dir, old: d.Old, new: d.New, plan: d.Plan}
	var err error
	w.ctl = pgtest.NewDB(t)
	if w.db, err = state.Open(ctx, w.ctl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.db.Close)
	w.clean()
	return w
}

// envOf resolves a plan's ${VAR} references from vars alone, leaving the process environment alone
// (tests run in parallel).
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func (w *world) env() crm.Env { return crm.Env{Plan: w.plan} }

func (w *world) clean() {
	w.t.Helper()
	ctx := context.Background()
	run, err := w.db.StartRun(ctx, state.RunSpec{Plan: w.plan.Name, Phase: "clean"})
	if err != nil {
		w.t.Fatal(err)
	}
	sum, err := clean.Run(ctx, w.plan, clean.Options{DB: w.db, RunID: run.ID, Env: w.env()})
	status := state.StatusPassed
	if err != nil || !sum.Passed {
		status = state.StatusFailed
	}
	if ferr := run.Finish(ctx, status, nil, err); ferr != nil {
		w.t.Fatal(ferr)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

// migrate runs migrate as a recorded run.
func (w *world) migrate(opts migrate.Options) (*migrate.Summary, error) {
	w.t.Helper()
	ctx := context.Background()
	opts.DB, opts.Env = w.db, w.env()
	if opts.DryRun {
		return migrate.Run(ctx, w.plan, opts)
	}
	run, err := w.db.StartRun(ctx, state.RunSpec{Plan: w.plan.Name, Phase: migrate.Phase})
	if err != nil {
		w.t.Fatal(err)
	}
	opts.RunID = run.ID
	sum, err := migrate.Run(ctx, w.plan, opts)
	status := state.StatusPassed
	if err != nil {
		status = state.StatusFailed
	}
	if ferr := run.Finish(ctx, status, nil, err); ferr != nil {
		w.t.Fatal(ferr)
	}
	return sum, err
}

func (w *world) mustMigrate(opts migrate.Options) *migrate.Summary {
	w.t.Helper()
	sum, err := w.migrate(opts)
	if err != nil {
		w.t.Fatal(err)
	}
	return sum
}

func (w *world) undo(runID int64, force bool) (*migrate.UndoSummary, error) {
	w.t.Helper()
	ctx := context.Background()
	run, err := w.db.StartRun(ctx, state.RunSpec{Plan: w.plan.Name, Phase: migrate.UndoPhase})
	if err != nil {
		w.t.Fatal(err)
	}
	sum, err := migrate.Undo(ctx, w.plan, migrate.UndoOptions{DB: w.db, RunID: run.ID, Undo: runID, Force: force, Env: w.env()})
	status := state.StatusPassed
	if err != nil {
		status = state.StatusFailed
	}
	_ = run.Finish(ctx, status, nil, err)
	return sum, err
}

func (w *world) exec(url string, sqls ...string) {
	w.t.Helper()
	pgtest.Exec(w.t, url, sqls...)
}

func (w *world) count(url, q string) int64 {
	w.t.Helper()
	return pgtest.Scan[int64](w.t, url, q)
}

// dumpNew is the new CRM's content without surrogate ids and write times: references are shown
// as the referenced row's legacy id, so two runs that wrote the same data compare equal.
func dumpNew(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var b strings.Builder
	for _, q := range []string{
		`SELECT to_jsonb(c) - 'id' - 'updated_at' - 'owner_id' || jsonb_build_object('owner', u.email, 'created_at', ` + created("c") + `) FROM companies c LEFT JOIN users u ON u.id = c.owner_id ORDER BY legacy_id`,
		`SELECT to_jsonb(p) - 'id' - 'updated_at' - 'company_id' - 'owner_id' || jsonb_build_object('company', c.legacy_id, 'owner', u.email, 'created_at', ` + created("p") + `)
		 FROM people p LEFT JOIN companies c ON c.id = p.company_id LEFT JOIN users u ON u.id = p.owner_id ORDER BY p.legacy_id`,
		`SELECT to_jsonb(o) - 'id' - 'updated_at' - 'company_id' - 'person_id' - 'owner_id' || jsonb_build_object('company', c.legacy_id, 'person', p.legacy_id, 'created_at', ` + created("o") + `)
		 FROM opportunities o LEFT JOIN companies c ON c.id = o.company_id LEFT JOIN people p ON p.id = o.person_id ORDER BY o.legacy_id`,
		`SELECT to_jsonb(a) - 'id' - 'updated_at' - 'person_id' - 'opportunity_id' || jsonb_build_object('person', p.legacy_id, 'deal', o.legacy_id)
		 FROM activities a LEFT JOIN people p ON p.id = a.person_id LEFT JOIN opportunities o ON o.id = a.opportunity_id ORDER BY a.legacy_id`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(s + "\n")
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	return b.String()
}

// created shows a created_at filled in by the column's default (now()) as "default".
func created(alias string) string {
	return "CASE WHEN " + alias + ".created_at > now() - interval '1 day' THEN 'default' ELSE " + alias + ".created_at::text END"
}

// dumpCrosswalk is the crosswalk without new ids and digests (which hold surrogate ids of the new
// CRM) and run ids. It checks that every entry points at the new CRM's row with its golden id and
// that every row there has an entry.
func dumpCrosswalk(t *testing.T, db *state.DB, plan, newURL string) string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Crosswalk(ctx, plan, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, newURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	inNew := map[string]string{} // object/golden id → id
	for obj, table := range map[string]string{"company": "companies", "contact": "people", "deal": "opportunities", "activity": "activities"} {
		r, _ := conn.Query(ctx, "SELECT legacy_id, id::text FROM "+table)
		for r.Next() {
			var g, id string
			_ = r.Scan(&g, &id)
			inNew[obj+"/"+g] = id
		}
		r.Close()
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s %s %v %s\n", r.Object, r.GoldenID, r.Key, r.OldIDs, r.Status)
		if id, ok := inNew[r.Object+"/"+r.GoldenID]; !ok || id != r.NewID {
			t.Errorf("crosswalk %s %s → %s, the new CRM has %q", r.Object, r.GoldenID, r.NewID, id)
		}
		delete(inNew, r.Object+"/"+r.GoldenID)
	}
	if len(inNew) > 0 {
		t.Errorf("%d rows of the new CRM have no crosswalk entry", len(inNew))
	}
	return b.String()
}

func small() demo.Options {
	o := demo.DefaultOptions()
	o.Companies, o.Contacts, o.Deals = 60, 300, 120
	return o
}

func TestMigrateLoadsEveryGoldenRecordOnceAndRerunWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	ctx := context.Background()
	sum := w.mustMigrate(migrate.Options{})
	golden := map[string]int64{}
	rows, err := w.db.Pool.Query(ctx, `SELECT object, count(*) FROM crmigrate.golden WHERE plan = $1 GROUP BY 1`, w.plan.Name)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o string
		var n int64
		_ = rows.Scan(&o, &n)
		golden[o] = n
	}
	tables := map[string]string{"company": "companies", "contact": "people", "deal": "opportunities", "activity": "activities"}
	for _, o := range sum.Objects {
		if o.Read != golden[o.Object] {
			t.Errorf("%s: read %d golden records, staging has %d", o.Object, o.Read, golden[o.Object])
		}
		if o.Inserted+o.Rejected != o.Read || o.Updated != 0 {
			t.Errorf("%s: first run into an empty CRM: %+v", o.Object, o)
		}
		if n := w.count(w.new, "SELECT count(*) FROM "+tables[o.Object]); n != o.Inserted {
			t.Errorf("%s: %d rows in %s, %d inserted", o.Object, n, tables[o.Object], o.Inserted)
		}
		if n := w.count(w.new, "SELECT count(*) - count(DISTINCT legacy_id) FROM "+tables[o.Object]); n != 0 {
			t.Errorf("%s: %d duplicate legacy ids", o.Object, n)
		}
	}
	// References resolve through the crosswalk: most people have a company, deals a company.
	if n := w.count(w.new, `SELECT count(*) FROM opportunities WHERE company_id IS NULL`); n > int64(float64(sum.Objects[2].Inserted)*0.2) {
		t.Errorf("%d deals without a company", n)
	}
	if n := w.count(w.new, `SELECT count(*) FROM people WHERE owner_id IS NULL`); n != 0 {
		t.Errorf("%d people without an owner: the default owner is the fallback", n)
	}
	cw, _ := w.db.Crosswalk(ctx, w.plan.Name, "")
	if int64(len(cw)) != sum.Inserted {
		t.Errorf("crosswalk has %d entries, %d rows inserted", len(cw), sum.Inserted)
	}
	before := dumpNew(t, w.new)

	again := w.mustMigrate(migrate.Options{})
	if !again.NothingToDo || again.Inserted+again.Updated != 0 {
		t.Errorf("second run with nothing changed: %+v", again)
	}
	if again.Unchanged != sum.Inserted {
		t.Errorf("second run: %d unchanged, want %d", again.Unchanged, sum.Inserted)
	}
	if after := dumpNew(t, w.new); after != before {
		t.Error("the second run changed the new CRM")
	}
}

func TestRefusedRecordsGoToRejectsAndTheRunGoesOn(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	ctx := context.Background()
	// An unknown picklist value (the new CRM's CHECK refuses it) and a negative count.
	w.exec(w.old, `UPDATE activities SET outcome = 'exploded' WHERE activity_id IN (SELECT activity_id FROM activities ORDER BY 1 LIMIT 3)`)
	w.clean()
	w.exec(w.new, `ALTER TABLE activities ADD CONSTRAINT outcome_known CHECK (outcome IN ('held', 'cancelled', 'no_show', 'connected', 'no_answer', 'voicemail'))`)
	sum := w.mustMigrate(migrate.Options{})
	var act *migrate.ObjectSummary
	for _, o := range sum.Objects {
		if o.Object == "activity" {
			act = o
		}
	}
	if act.Rejected != 3 {
		t.Fatalf("activities rejected: %d, want 3 (%+v)", act.Rejected, act)
	}
	if act.Inserted != act.Read-3 {
		t.Errorf("the rest of the batch was not written: %+v", act)
	}
	rej, err := w.db.Rejects(ctx, w.plan.Name, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var outcome int
	for _, r := range rej {
		if r.Object == "activity" && strings.Contains(r.Reason, "outcome_known") && r.SourceID != "" && strings.Contains(r.Raw, "old:") {
			outcome++
		}
		if strings.Contains(r.Reason, "Failing row") || strings.Contains(r.Reason, "@") {
			t.Errorf("a reject's reason repeats personal data: %q", r.Reason)
		}
	}
	if outcome != 3 || int64(len(rej)) != sum.Rejected {
		t.Errorf("rejects: %d with outcome_known, %d in all, %d counted", outcome, len(rej), sum.Rejected)
	}
	// The demo's own dirt is refused too: picklist values the plan does not map, impossible dates.
	if sum.Rejected <= 3 {
		t.Errorf("only %d rejects: the demo has unmapped stages and bad dates", sum.Rejected)
	}
	// Nothing changed: the rejected rows are tried again (and refused again), the rest is unchanged.
	again := w.mustMigrate(migrate.Options{})
	if again.Inserted+again.Updated != 0 || again.Rejected != sum.Rejected || !again.NothingToDo {
		t.Errorf("re-run: %+v", again)
	}
}

func TestDryRunCountsWithoutWriting(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	dry, err := w.migrate(migrate.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.count(w.new, `SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM people) + (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM activities)`); n != 0 {
		t.Fatalf("dry run wrote %d rows", n)
	}
	if cw, _ := w.db.Crosswalk(context.Background(), w.plan.Name, ""); len(cw) != 0 {
		t.Fatalf("dry run wrote %d crosswalk entries", len(cw))
	}
	if dry.Inserted == 0 || len(dry.Samples) == 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	for _, s := range dry.Samples {
		if v := s.Values["email"]; v != "" && !strings.Contains(v, "***") {
			t.Errorf("sample email not masked: %q", v)
		}
	}
	real := w.mustMigrate(migrate.Options{})
	if real.Objects[0].Inserted != dry.Objects[0].Inserted {
		t.Errorf("companies: dry run says %d inserts, the run did %d", dry.Objects[0].Inserted, real.Objects[0].Inserted)
	}
	if real.Inserted+real.Rejected != dry.Inserted+dry.Rejected {
		t.Errorf("dry run %d+%d, run %d+%d", dry.Inserted, dry.Rejected, real.Inserted, real.Rejected)
	}
}

func TestUndoRestoresTheStateBeforeTheRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	first := w.mustMigrate(migrate.Options{})
	afterFirst := dumpNew(t, w.new)
	digests := func() map[string]string {
		rows, _ := w.db.Crosswalk(context.Background(), w.plan.Name, "")
		m := map[string]string{}
		for _, r := range rows {
			m[r.Object+"/"+r.GoldenID] = r.NewID + " " + r.Digest
		}
		return m
	}
	digestsFirst := digests()
	cwFirst := dumpCrosswalk(t, w.db, w.plan.Name, w.new)
	// The old CRM changes; the second run updates those rows.
	w.exec(w.old, `UPDATE accounts SET industry = 'Quantum computing' WHERE account_id IN (SELECT account_id FROM accounts ORDER BY 1 LIMIT 5)`,
		`UPDATE contacts SET title = 'Chief Tester' WHERE contact_id IN (SELECT contact_id FROM contacts ORDER BY 1 LIMIT 7)`)
	w.clean()
	second := w.mustMigrate(migrate.Options{})
	if second.Updated == 0 || second.Inserted != 0 {
		t.Fatalf("second run: %+v", second)
	}
	// The first run cannot be undone while the second one has changed the same rows.
	if _, err := w.undo(first.RunID, false); !errors.Is(err, migrate.ErrLaterRuns) {
		t.Fatalf("undo of run 1 under run 2: %v", err)
	}
	u, err := w.undo(second.RunID, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Restored != second.Updated || u.Deleted != 0 {
		t.Errorf("undo of the second run: %+v", u)
	}
	if got := dumpNew(t, w.new); got != afterFirst {
		t.Error("undo of the second run did not restore the rows the first run wrote")
	}
	if got := dumpCrosswalk(t, w.db, w.plan.Name, w.new); got != cwFirst {
		t.Error("undo of the second run did not restore the crosswalk")
	}
	if fmt.Sprint(digests()) != fmt.Sprint(digestsFirst) {
		t.Error("undo of the second run did not restore the crosswalk's digests")
	}
	if _, err := w.undo(second.RunID, false); err == nil {
		t.Error("a second undo of the same run should say there is nothing to undo")
	}
	u, err = w.undo(first.RunID, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Deleted != first.Inserted {
		t.Errorf("undo of the first run deleted %d rows, it inserted %d", u.Deleted, first.Inserted)
	}
	if n := w.count(w.new, `SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM people) + (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM activities)`); n != 0 {
		t.Errorf("%d rows left after undoing everything", n)
	}
	// The undo is journaled: the undo runs' entries hold each row as it was before the undo.
	var n int64
	if err := w.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM crmigrate.journal WHERE action = 'undo' AND before IS NOT NULL`).Scan(&n); err != nil || n < first.Inserted {
		t.Errorf("undo journal entries with images: %d (%v)", n, err)
	}
	// Migrating again after the undo writes everything again.
	third := w.mustMigrate(migrate.Options{})
	if third.Inserted != first.Inserted {
		t.Errorf("after undo, the next run inserted %d, want %d", third.Inserted, first.Inserted)
	}
}

func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	ref := newWorld(t, small(), nil)
	ref.mustMigrate(migrate.Options{})
	// Kill every connection to the new CRM a few times while the run writes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin, err := pgx.Connect(ctx, w.new)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var dbname string
	_ = admin.QueryRow(ctx, `SELECT current_database()`).Scan(&dbname)
	killed := make(chan int, 1)
	go func() {
		n := 0
		for n < 6 && ctx.Err() == nil {
			time.Sleep(40 * time.Millisecond)
			var k int
			_ = admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`, dbname).Scan(&k)
			n += k
		}
		killed <- n
	}()
	sum, err := w.migrate(migrate.Options{Retry: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond}})
	cancel()
	n := <-killed
	if err != nil {
		t.Fatalf("run with %d killed connections: %v", n, err)
	}
	var retries int64
	for _, o := range sum.Objects {
		retries += o.Retries
	}
	t.Logf("%d connections killed, %d retries", n, retries)
	if got, want := dumpNew(t, w.new), dumpNew(t, ref.new); got != want {
		t.Errorf("the run with faults did not end in the state of an uninterrupted run:\n%s", firstDiff(got, want))
	}
	if dumpCrosswalk(t, w.db, w.plan.Name, w.new) != dumpCrosswalk(t, ref.db, ref.plan.Name, ref.new) {
		t.Error("the crosswalk differs from an uninterrupted run's")
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d (of %d and %d):\n got: %s\nwant: %s", i+1, len(g), len(w), a, b)
		}
	}
	return ""
}

// A run that dies after the new CRM committed a batch but before the crosswalk recorded it leaves
// journal entries without new ids; undo finds those rows by their key.
func TestUndoFindsRowsTheCrosswalkNeverRecorded(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	first := w.mustMigrate(migrate.Options{})
	if _, err := w.db.Pool.Exec(context.Background(), `DELETE FROM crmigrate.crosswalk WHERE object = 'activity'`); err != nil {
		t.Fatal(err)
	}
	u, err := w.undo(first.RunID, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Deleted != first.Inserted {
		t.Errorf("undo deleted %d rows, the run inserted %d", u.Deleted, first.Inserted)
	}
	if n := w.count(w.new, `SELECT count(*) FROM activities`); n != 0 {
		t.Errorf("%d activities left", n)
	}
}

func TestDeltaReCleansChangesAndAppliesDeletePolicies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), func(plan string) string {
		// Deals deleted in old are deleted in new too; activities are archived (the demo's choice).
		return strings.Replace(plan, "  deal:\n    key: subscription\n", "  deal:\n    key: subscription\n    on_delete: delete\n", 1)
	})
	ctx := context.Background()
	first := w.mustMigrate(migrate.Options{})
	before := dumpNew(t, w.new)
	if _, err := w.migrate(migrate.Options{Delta: true}); err != nil {
		t.Fatal(err)
	}
	// The old CRM changes after the runs: one contact's title, a new account, a deleted deal and a
	// deleted activity.
	w.exec(w.old,
		`UPDATE contacts SET title = 'Head of Delta', modified_at = now() + interval '1 day' WHERE contact_id = (SELECT min(contact_id) FROM contacts)`,
		`INSERT INTO accounts (account_id, account_name, website, country, modified_at, created_at) VALUES (990001, 'Zyxwv Deltaworks', 'https://zyxwv-deltaworks.example', 'SE', now() + interval '1 day', now())`,
		`DELETE FROM opportunities WHERE opp_id = (SELECT min(o.opp_id) FROM opportunities o WHERE NOT EXISTS (SELECT 1 FROM opportunities x WHERE x.subscription_id = o.subscription_id AND x.opp_id <> o.opp_id))`,
		`DELETE FROM activities WHERE activity_id = (SELECT min(activity_id) FROM activities)`)
	sum, err := w.migrate(migrate.Options{Delta: true})
	if err != nil {
		t.Fatal(err)
	}
	byObj := map[string]*migrate.ObjectSummary{}
	for _, o := range sum.Objects {
		byObj[o.Object] = o
	}
	if sum.Recleaned == 0 || sum.Recleaned > 50 {
		t.Errorf("re-cleaned %d records; want the few that changed", sum.Recleaned)
	}
	if o := byObj["company"]; o.Inserted != 1 {
		t.Errorf("company: %+v", o)
	}
	if o := byObj["contact"]; o.Updated != 1 || o.Read > 5 {
		t.Errorf("contact: %+v", o)
	}
	if o := byObj["deal"]; o.DeletedInOld != 1 || o.Deleted != 1 {
		t.Errorf("deal: %+v", o)
	}
	if o := byObj["activity"]; o.DeletedInOld != 1 || o.Archived != 1 {
		t.Errorf("activity: %+v", o)
	}
	if n := w.count(w.new, `SELECT count(*) FROM people WHERE job_title = 'Head of Delta'`); n != 1 {
		t.Errorf("the changed title is in %d rows", n)
	}
	if n := w.count(w.new, `SELECT count(*) FROM activities WHERE archived_at IS NOT NULL`); n != 1 {
		t.Errorf("%d archived activities", n)
	}
	// Re-cleaning matched what a full clean does: after a clean, a full run has nothing to write.
	w.clean()
	full := w.mustMigrate(migrate.Options{})
	if full.Inserted+full.Updated != 0 {
		t.Errorf("full run after the delta wrote: %+v", full)
	}
	// Undo of the delta run puts the deleted deal back, un-archives, restores and removes. The
	// new CRM had cleared the activities' references to the deleted deal (ON DELETE SET NULL);
	// the undo marks activities for re-checking, and the next run puts the reference back.
	u, err := w.undo(sum.RunID, false)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(u.Recheck) != "[activity]" {
		t.Errorf("undo marked %v for re-checking, want [activity]", u.Recheck)
	}
	// Everything is as before the delta run, but the activities' references to the deal.
	var dealID string
	if err := w.db.Pool.QueryRow(ctx, `SELECT golden_id FROM crmigrate.journal WHERE run_id = $1 AND action = 'delete'`, sum.RunID).Scan(&dealID); err != nil {
		t.Fatal(err)
	}
	before = strings.ReplaceAll(before, `"deal": "`+dealID+`"`, `"deal": null`)
	if got := dumpNew(t, w.new); got != before {
		t.Errorf("undo of the delta run did not restore the CRM:\n%s", firstDiff(got, before))
	}
	// The deal and the activity are still deleted in old: the next delta deletes and archives them
	// again (staging no longer has them), and the new CRM has as many live activities as old.
	again, err := w.migrate(migrate.Options{Delta: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range again.Objects {
		if (o.Object == "deal" && o.Deleted != 1) || (o.Object == "activity" && o.Archived != 1) {
			t.Errorf("the delta after the undo: %+v", o)
		}
	}
	if live, old := w.count(w.new, `SELECT count(*) FROM activities WHERE archived_at IS NULL`), w.count(w.old, `SELECT count(*) FROM activities`); live != old {
		t.Errorf("%d live activities in new, %d in old", live, old)
	}
	_ = first
	_ = ctx
}

// Ctrl-C: the run stops after the batches in flight, with its checkpoint past them; the next
// run resumes and ends in the state of an uninterrupted run.
func TestInterruptedRunStopsAfterTheBatchInFlightAndResumes(t *testing.T) {
	t.Parallel()
	smallBatches := func(plan string) string { return plan + "\nmigrate: {batch_size: 25, workers: 2}\n" }
	ref := newWorld(t, small(), smallBatches)
	ref.mustMigrate(migrate.Options{})
	w := newWorld(t, small(), smallBatches)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run, err := w.db.StartRun(ctx, state.RunSpec{Plan: w.plan.Name, Phase: migrate.Phase})
	if err != nil {
		t.Fatal(err)
	}
	_, err = migrate.Run(ctx, w.plan, migrate.Options{DB: w.db, RunID: run.ID, Env: w.env(), Progress: func(e migrate.Event) {
		if e.Object == "contact" && e.Done > 0 {
			cancel()
		}
	}})
	_ = run.Finish(context.Background(), state.StatusAborted, nil, err)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	cps, _ := w.db.Checkpoints(context.Background(), run.ID)
	cp := cps["contact"]
	if cp.Done || cp.AfterID == "" {
		t.Fatalf("contact checkpoint after the interrupt: %+v", cp)
	}
	// Every contact up to the checkpoint is written and recorded; none after it is half-done.
	var written, recorded int64
	written = w.count(w.new, `SELECT count(*) FROM people`)
	_ = w.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM crmigrate.crosswalk WHERE object = 'contact'`).Scan(&recorded)
	if written != recorded || written == 0 {
		t.Errorf("after the interrupt: %d people in the new CRM, %d in the crosswalk", written, recorded)
	}
	sum := w.mustMigrate(migrate.Options{})
	if sum.ResumedFrom != run.ID {
		t.Errorf("the next run resumed from %d, want %d", sum.ResumedFrom, run.ID)
	}
	if got, want := dumpNew(t, w.new), dumpNew(t, ref.new); got != want {
		t.Errorf("after the interrupt and resume:\n%s", firstDiff(got, want))
	}
}

// The daily sync of the parallel run (a delta run) leaves a field whose authority is new as the
// new CRM has it, once it has a value there: the contact's owner (authority: new in the demo's
// plan) that the new CRM reassigned stays, while its title (authority old) follows old.
func TestDeltaLeavesFieldsTheNewCRMOwns(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	ctx := context.Background()
	w.mustMigrate(migrate.Options{})
	// Two contacts that changed in old, owner and title: one reassigned in new, one without an
	// owner in new.
	var ids [2]string
	if err := w.db.Pool.QueryRow(ctx, `SELECT min(m.source_id), max(m.source_id) FROM crmigrate.cluster_members m
		JOIN crmigrate.golden g USING (plan, object, golden_id) JOIN crmigrate.crosswalk c USING (plan, object, golden_id)
		WHERE m.object = 'contact' AND m.source = 'old' AND m.source_id LIKE 'C-%' AND g.members = 1 AND c.new_id <> ''`).Scan(&ids[0], &ids[1]); err != nil {
		t.Fatal(err)
	}
	var newIDs [2]string
	for i, id := range ids {
		if err := w.db.Pool.QueryRow(ctx, `SELECT c.new_id FROM crmigrate.crosswalk c JOIN crmigrate.cluster_members m
			ON m.plan = c.plan AND m.object = c.object AND m.golden_id = c.golden_id WHERE m.source = 'old' AND m.source_id = $1`, id).
			Scan(&newIDs[i]); err != nil {
			t.Fatal(err)
		}
	}
	w.exec(w.new,
		`UPDATE people SET owner_id = (SELECT max(id) FROM users WHERE id <> coalesce(people.owner_id, -1)) WHERE id = `+newIDs[0],
		`UPDATE people SET owner_id = NULL WHERE id = `+newIDs[1])
	reassigned := w.count(w.new, `SELECT owner_id FROM people WHERE id = `+newIDs[0])
	for i, id := range ids {
		w.exec(w.old, fmt.Sprintf(`UPDATE contacts SET title = 'Keeper %d', owner_email = (SELECT min(email) FROM users),
			modified_at = now() + interval '1 day' WHERE 'C-' || contact_id = '%s'`, i, id))
	}
	if _, err := w.migrate(migrate.Options{Delta: true}); err != nil {
		t.Fatal(err)
	}
	if n := w.count(w.new, `SELECT count(*) FROM people WHERE job_title LIKE 'Keeper %'`); n != 2 {
		t.Errorf("titles (authority old) written to %d rows, want 2", n)
	}
	if got := w.count(w.new, `SELECT owner_id FROM people WHERE id = `+newIDs[0]); got != reassigned {
		t.Errorf("the owner the new CRM assigned (%d) was overwritten with %d", reassigned, got)
	}
	if n := w.count(w.new, `SELECT count(*) FROM people WHERE owner_id IS NOT NULL AND id = `+newIDs[1]); n != 1 {
		t.Error("an owner empty in new was not written")
	}
}
