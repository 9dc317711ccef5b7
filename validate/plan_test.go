package validate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	_ "github.com/crmigrate/crmigrate/crm/csvfile"
	_ "github.com/crmigrate/crmigrate/crm/postgres"
	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
	"github.com/crmigrate/crmigrate/validate"
)

// world is the demo's old CRM, cleaned and migrated into its new CRM.
type world struct {
	t        *testing.T
	plan     *plans.Plan
	db       *state.DB
	old, new string
	d        *demotest.World // runs clean and migrate
}

func newWorld(t *testing.T) *world {
	t.Helper()
	opts := demo.DefaultOptions()
	opts.Companies, opts.Contacts, opts.Deals = 60, 300, 120
	d := demotest.Staged(t, opts, nil)
	return &world{t: t, old: d.Old, new: d.New, plan: d.Plan, db: d.DB, d: d}
}

func (w *world) env() crm.Env { return crm.Env{Plan: w.plan} }

func (w *world) clean()   { w.t.Helper(); w.d.Clean(w.t) }
func (w *world) migrate() { w.t.Helper(); w.d.Migrate(w.t) }

func (w *world) exec(url string, sqls ...string) {
	w.t.Helper()
	pgtest.Exec(w.t, url, sqls...)
}

func (w *world) one(url, q string) string {
	w.t.Helper()
	return pgtest.Scan[string](w.t, url, q)
}

func (w *world) validate() *validate.Result {
	w.t.Helper()
	res, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Limit: -1})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

func object(t *testing.T, res *validate.Result, name string) validate.ObjectResult {
	t.Helper()
	for _, o := range res.Objects {
		if o.Object == name {
			return o
		}
	}
	t.Fatalf("no object %s in the result", name)
	return validate.ObjectResult{}
}

func driftOf(o validate.ObjectResult, class string) []validate.Drift {
	var out []validate.Drift
	for _, d := range o.Drift {
		if d.Class == class {
			out = append(out, d)
		}
	}
	return out
}

func check(t *testing.T, res *validate.Result, name, limit string) validate.CheckResult {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name && c.Limit == limit {
			return c
		}
	}
	t.Fatalf("no check %s %s", name, limit)
	return validate.CheckResult{}
}

// Right after migrate, validate passes: every record missing in new is one the new CRM refused,
// with its reason; merged records count once; formats do not make differences; no reference is
// broken; the staged golden records are exactly what is expected.
func TestValidateAfterMigratePasses(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.validate()
	if res.Result != "passed" || res.Failed() != nil {
		t.Fatalf("result %s: %v\n%+v", res.Result, res.Failed(), res.Checks)
	}
	ctx := context.Background()
	for _, o := range res.Objects {
		staged, err := w.db.CountGolden(ctx, w.plan.Name, o.Object, nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.Old != staged {
			t.Errorf("%s: %d expected records, %d golden records staged", o.Object, o.Old, staged)
		}
		if o.LostInNew != 0 || o.MissingInOld != 0 || o.BrokenRefs != 0 || o.DuplicatesInNew != 0 {
			t.Errorf("%s: lost %d, missing in old %d, broken refs %d, duplicates %d: %+v", o.Object, o.LostInNew, o.MissingInOld, o.BrokenRefs, o.DuplicatesInNew, o.Drift)
		}
		for _, d := range driftOf(o, validate.RefusedInNew) {
			if d.Reason == "" {
				t.Errorf("%s: refused without a reason: %+v", o.Object, d)
			}
		}
		// Columns the new CRM fills itself (created_at of the companies only the marketing export
		// has) are not differences.
		if o.Mismatched != 0 {
			t.Errorf("%s: %d mismatched right after migrate: %+v", o.Object, o.Mismatched, driftOf(o, validate.FieldMismatch))
		}
		if o.Matched != o.MatchedBy["crosswalk"] {
			t.Errorf("%s: matched %v", o.Object, o.MatchedBy)
		}
	}
	c := object(t, res, "contact")
	if c.RefusedInNew == 0 || c.MissingInNew != c.RefusedInNew {
		t.Errorf("contacts: %d missing, %d refused (the demo's dirt is refused)", c.MissingInNew, c.RefusedInNew)
	}
	// A second validation of the same state gives the same result.
	again := w.validate()
	again.Seconds, res.Seconds = 0, 0
	if a, b := object(t, again, "deal"), object(t, res, "deal"); a.Identical != b.Identical || len(a.Drift) != len(b.Drift) {
		t.Errorf("not deterministic: %+v / %+v", a, b)
	}
}

// Validate does not trust migrate's records: a deleted deal, an edited value, a lost or wrong
// reference, a record created on either side, and an emptied table are each found and classified.
func TestValidateFindsWhatMigrateGotWrong(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Representation only: the same phone written another way, the same amount at another scale.
	phone := w.one(w.new, `SELECT phone FROM people WHERE phone LIKE '+46%' ORDER BY id LIMIT 1`)
	w.exec(w.new, `UPDATE people SET phone = '0' || substr(phone, 4, 2) || ' ' || substr(phone, 6) WHERE phone = '`+phone+`'`)
	// An email in capitals, an empty title where there was none (NULL), a time written in another
	// zone: the same values.
	w.exec(w.new, `UPDATE people SET email = upper(email) WHERE id = (SELECT min(id) FROM people WHERE email IS NOT NULL)`,
		`UPDATE people SET job_title = '' WHERE id = (SELECT min(id) FROM people WHERE job_title IS NULL)`,
		`UPDATE people SET created_at = (created_at AT TIME ZONE 'UTC')::text::timestamp AT TIME ZONE 'UTC' WHERE id = (SELECT max(id) FROM people)`)
	res := w.validate()
	if c := object(t, res, "contact"); c.Mismatched != 0 {
		t.Fatalf("a phone, an email, an empty value or a time written another way is a difference: %+v", driftOf(c, validate.FieldMismatch))
	}

	deal := w.one(w.new, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	person := w.one(w.new, `SELECT id::text FROM people WHERE company_id IS NOT NULL ORDER BY id LIMIT 1`)
	other := w.one(w.new, `SELECT id::text FROM companies WHERE id <> (SELECT company_id FROM people WHERE id = `+person+`) ORDER BY id LIMIT 1`)
	lost := w.one(w.new, `SELECT id::text FROM people WHERE company_id IS NOT NULL AND id <> `+person+` ORDER BY id LIMIT 1`)
	w.exec(w.new,
		`DELETE FROM activities WHERE opportunity_id = `+deal,
		`DELETE FROM opportunities WHERE id = `+deal,
		`UPDATE people SET job_title = 'Chief Everything', company_id = `+other+` WHERE id = `+person,
		`UPDATE people SET company_id = NULL WHERE id = `+lost,
		`INSERT INTO companies (name, domain_name) VALUES ('Made In New AB', 'made-in-new.example')`)
	w.exec(w.old, `INSERT INTO accounts (account_id, account_name, website) VALUES (999999, 'Created Later AB', 'created-later.example')`)
	res = w.validate()

	d := object(t, res, "deal")
	lostDeals := driftOf(d, validate.LostInNew)
	if len(lostDeals) != 1 || d.LostInNew != 1 || !strings.Contains(lostDeals[0].Reason, "id "+deal+" in new") {
		t.Errorf("deleted deal: %+v", lostDeals)
	}
	if c := check(t, res, "deals-present", "max_lost_in_new"); c.Result != "fail" {
		t.Errorf("deals-present: %+v", c)
	}
	if !errors.Is(res.Failed(), validate.ErrChecksFailed) || res.Result != "failed" {
		t.Errorf("result %s, %v", res.Result, res.Failed())
	}
	c := object(t, res, "contact")
	if c.Fields["title"] != 1 {
		t.Errorf("edited title: fields %v", c.Fields)
	}
	var wrong, gone bool
	for _, b := range driftOf(c, validate.BrokenRef) {
		wrong = wrong || b.NewID == person && strings.Contains(b.Reason, "wrong company")
		gone = gone || b.NewID == lost && strings.Contains(b.Reason, "reference lost")
	}
	if !wrong || !gone || c.BrokenRefs != 2 {
		t.Errorf("broken refs %d: %+v", c.BrokenRefs, driftOf(c, validate.BrokenRef))
	}
	co := object(t, res, "company")
	if co.MissingInOld != 1 || co.LostInNew != 1 {
		t.Errorf("companies: missing in old %d, lost in new %d: %+v", co.MissingInOld, co.LostInNew, co.Drift)
	}
	for _, x := range driftOf(co, validate.LostInNew) {
		if x.Key != "created-later.example" || x.Reason != "never written to the new CRM" {
			t.Errorf("created in old: %+v", x)
		}
	}

	samePasses(t, w, res)

	// An emptied target: every record is missing in new, and none of it was refused.
	w.exec(w.new, `TRUNCATE activities, opportunities, people, companies CASCADE`)
	res = w.validate()
	for _, o := range res.Objects {
		if o.New != 0 || o.Matched != 0 || o.MissingInNew != o.Old || o.LostInNew+o.RefusedInNew != o.Old {
			t.Errorf("%s after TRUNCATE: %+v", o.Object, o)
		}
	}
	if c := check(t, res, "companies-present", "max_missing_in_new"); c.Result != "fail" {
		t.Errorf("companies-present after TRUNCATE: %+v", c)
	}
}

// samePasses checks that within a small memory budget, where each object takes several passes
// (one hash partition of its golden records each), the result is the same.
func samePasses(t *testing.T, w *world, res *validate.Result) {
	t.Helper()
	for _, passes := range []int{3, 7} {
		split, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Limit: -1, Passes: passes})
		if err != nil {
			t.Fatal(err)
		}
		if a, b := comparable(res), comparable(split); a != b {
			t.Errorf("%d passes give another result:\n%s\none pass:\n%s", passes, b, a)
		}
	}
	// With a limit, the drift rows listed are the same, in the same order.
	one, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	three, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Limit: 3, Passes: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range one.Objects {
		if a, b := fmt.Sprintf("%+v %v", one.Objects[i].Drift, one.Objects[i].DriftTruncated), fmt.Sprintf("%+v %v", three.Objects[i].Drift, three.Objects[i].DriftTruncated); a != b {
			t.Errorf("%s: the first 3 drift rows differ with 3 passes:\n%s\n%s", one.Objects[i].Object, b, a)
		}
	}
	// A budget too small for the objects makes the passes.
	small, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Limit: -1, MemoryBudget: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for _, o := range small.Objects {
		most = max(most, o.Passes)
	}
	if comparable(small) != comparable(res) || most < 2 {
		t.Errorf("a 64 KiB budget: at most %d passes, same result %v", most, comparable(small) == comparable(res))
	}
}

// comparable renders a result without its timings, passes and drift order.
func comparable(r *validate.Result) string {
	var b strings.Builder
	for _, o := range r.Objects {
		o.Seconds, o.Passes = validate.Timing{}, 0
		drift := o.Drift
		o.Drift = nil
		fmt.Fprintf(&b, "%+v\n", o)
		lines := make([]string, len(drift))
		for i, d := range drift {
			lines[i] = fmt.Sprintf("%+v", d)
		}
		slices.Sort(lines)
		b.WriteString(strings.Join(lines, "\n"))
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%+v %s\n", r.Checks, r.Result)
	return b.String()
}

// A value changed in old after migrate is expected in new: validate reads the sources, not
// staging.
func TestValidateReadsTheCurrentSources(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.exec(w.old, `UPDATE contacts SET title = 'Head of Validation', modified_at = '2031-02-03 04:05:06' WHERE contact_id = (SELECT min(contact_id) FROM contacts WHERE email LIKE '%@%.%')`)
	res := w.validate()
	samePasses(t, w, res)
	c := object(t, res, "contact")
	ds := driftOf(c, validate.FieldMismatch)
	if c.Mismatched != 1 || len(ds) != 1 || ds[0].Field != "title" || ds[0].Old != "Head of Validation" || ds[0].MatchedBy != "crosswalk" {
		t.Fatalf("title changed in old: %d mismatched: %+v", c.Mismatched, ds)
	}
	// Each side's change time comes with the drift row (the parallel run's grace window reads it);
	// the old CRM writes local times (the plan's time zone, Europe/Stockholm).
	if ds[0].OldChanged != "2031-02-03T03:05:06Z" || ds[0].NewChanged == "" || ds[0].NewChanged >= ds[0].OldChanged {
		t.Errorf("change times: old %q, new %q", ds[0].OldChanged, ds[0].NewChanged)
	}

	// A company created on both sides after migrate (by an integration) is matched by its key.
	w.exec(w.old, `INSERT INTO accounts (account_id, account_name, website) VALUES (999998, 'Both Sides AB', 'https://www.both-sides.example/')`)
	w.exec(w.new, `INSERT INTO companies (name, domain_name, owner_id) VALUES ('Both Sides AB', 'both-sides.example', (SELECT id FROM users WHERE email = 'revops@nordlys.example'))`)
	res = w.validate()
	samePasses(t, w, res)
	co := object(t, res, "company")
	if co.MatchedBy["key"] != 1 || co.MissingInNew != 0 || co.MissingInOld != 0 || co.Identical != co.Matched {
		t.Fatalf("created on both sides: %+v", co)
	}

	// A deal the new CRM refused, entered again in old under another id with the same subscription:
	// two records in old with one key.
	var opp string
	if err := w.db.Pool.QueryRow(context.Background(), `SELECT m.source_id FROM crmigrate.rejects r
		JOIN crmigrate.golden g ON g.plan = r.plan AND g.object = r.object AND g.golden_id = r.source_id AND g.canonical_key <> ''
		JOIN crmigrate.cluster_members m ON m.plan = r.plan AND m.object = r.object AND m.golden_id = r.source_id
		WHERE r.plan = $1 AND r.object = 'deal' AND r.phase = 'migrate' ORDER BY 1 LIMIT 1`, w.plan.Name).Scan(&opp); err != nil {
		t.Fatal(err)
	}
	w.exec(w.old, `INSERT INTO opportunities (opp_id, name, subscription_id, stage, amount, modified_at)
		SELECT opp_id || '-again', name, subscription_id, 'Prospecting', '100', now() FROM opportunities WHERE opp_id = '`+opp+`'`)
	res = w.validate()
	samePasses(t, w, res)
	if d := object(t, res, "deal"); d.DuplicatesInOld != 1 || len(driftOf(d, validate.DuplicateInOld)) != 1 {
		t.Fatalf("a refused deal entered again in old: %d duplicates in old: %+v", d.DuplicatesInOld, driftOf(d, validate.DuplicateInOld))
	}

	// A company deleted in new and created again there (another id, the same values) is matched by
	// its key, not lost and extra.
	w.exec(w.new, `UPDATE companies SET id = (SELECT max(id) + 1000 FROM companies) WHERE id = (SELECT min(c.id) FROM companies c
		WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.company_id = c.id) AND NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.company_id = c.id))`)
	res = w.validate()
	samePasses(t, w, res)
	co = object(t, res, "company")
	if co.MatchedBy["key"] != 2 || co.MissingInNew != 0 || co.MissingInOld != 0 || co.Identical != co.Matched {
		t.Fatalf("re-created in new: %+v", co)
	}
}

// A new CRM that only takes CSV imports: validate reads the import files migrate wrote, and a
// row removed from one is lost in new.
func TestValidateReadsACSVTarget(t *testing.T) {
	t.Parallel()
	opts := demo.DefaultOptions()
	opts.Companies, opts.Contacts, opts.Deals = 40, 200, 10
	d := demotest.CSVTarget(t, opts)
	w := &world{t: t, old: d.Old, plan: d.Plan, db: d.DB, d: d}
	dir := d.Dir
	w.clean()
	w.migrate()
	res := w.validate()
	samePasses(t, w, res)
	for _, o := range res.Objects {
		if o.New == 0 || o.LostInNew != 0 || o.MissingInOld != 0 || o.Mismatched != 0 || o.BrokenRefs != 0 || o.Matched+o.RefusedInNew != o.Old {
			t.Errorf("%s: %+v", o.Object, o)
		}
	}
	file := filepath.Join(dir, "import", "contacts.csv")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(file, []byte(lines[0]+strings.Join(lines[2:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := object(t, w.validate(), "contact"); c.LostInNew != 1 {
		t.Errorf("a row removed from the import file: lost %d: %+v", c.LostInNew, c.Drift)
	}

	// A second row with the same email (under another id): a duplicate in new, the first row still
	// matched and identical.
	_, row, _ := strings.Cut(lines[2], ",")
	if err := os.WriteFile(file, []byte(lines[0]+strings.Join(lines[2:], "")+"dup-1,"+row), 0o644); err != nil {
		t.Fatal(err)
	}
	res = w.validate()
	samePasses(t, w, res)
	c := object(t, res, "contact")
	dups := driftOf(c, validate.DuplicateInNew)
	if c.DuplicatesInNew != 1 || len(dups) != 1 || dups[0].NewID != "dup-1" || c.MissingInOld != 0 || c.Mismatched != 0 {
		t.Errorf("a duplicate row: %d duplicates, %d missing in old: %+v", c.DuplicatesInNew, c.MissingInOld, c.Drift)
	}
}

// A migrate (or clean) that changes the crosswalk while validation reads makes validation fail
// rather than report on a mix of two states.
func TestValidateRefusesAStateThatChangedMeanwhile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	once := false
	_, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Progress: func(object, side string) {
		if !once && object == "contact" {
			once = true
			if _, err := w.db.Pool.Exec(context.Background(), `UPDATE crmigrate.crosswalk SET updated_at = now() + interval '1 minute'
				WHERE golden_id = (SELECT min(golden_id) FROM crmigrate.crosswalk)`); err != nil {
				t.Error(err)
			}
		}
	}})
	if !errors.Is(err, validate.ErrChanged) || !strings.Contains(err.Error(), "run validate again") {
		t.Fatalf("validation across a crosswalk change: %v", err)
	}
	if _, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env()}); err != nil {
		t.Fatalf("validation of a quiet state: %v", err)
	}
}

// Two golden records whose crosswalk entries name the same record in new: it is matched once,
// with the last in golden id order, in one pass or many; the other finds its own record in new by
// its key.
func TestValidateSharedIDInNewIsMatchedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if _, err := w.db.Pool.Exec(context.Background(), `UPDATE crmigrate.crosswalk SET new_id = (SELECT new_id FROM crmigrate.crosswalk
		WHERE object = 'company' AND status = 'active' ORDER BY golden_id DESC LIMIT 1)
		WHERE object = 'company' AND golden_id = (SELECT min(golden_id) FROM crmigrate.crosswalk WHERE object = 'company' AND status = 'active')`); err != nil {
		t.Fatal(err)
	}
	res := w.validate()
	samePasses(t, w, res)
	co := object(t, res, "company")
	if co.MatchedBy["key"] != 1 || co.LostInNew != 0 || co.MissingInOld != 0 || co.Identical != co.Matched {
		t.Fatalf("a shared id in new: matched %v, lost %d, missing in old %d: %+v", co.MatchedBy, co.LostInNew, co.MissingInOld, co.Drift)
	}
}

// A known difference of the parallel run (parallel_run.ignore) is left out of validate's
// comparison when asked (the validate phase asks), and listed; an expired rule no longer counts.
func TestValidateLeavesOutKnownDifferences(t *testing.T) {
	t.Parallel()
	opts := demo.DefaultOptions()
	opts.Companies, opts.Contacts, opts.Deals = 20, 80, 20
	d := demotest.Staged(t, opts, func(plan string) string {
		return strings.Replace(plan, "  full_every: 7d\n", `  full_every: 7d
  ignore:
    - {object: contact, field: title, reason: "enriched by the new CRM"}
    - {object: contact, field: phone, reason: "an old rule", until: "2020-01-01"}
    - {object: contact, field: email, reason: "until tonight", until: "`+todayIn(t, "Europe/Stockholm")+`"}
`, 1)
	})
	pgtest.Exec(t, d.New, `UPDATE people SET job_title = 'Enriched' WHERE id = (SELECT min(id) FROM people)`)
	run := func(skip bool) validate.ObjectResult {
		t.Helper()
		res, err := validate.Run(context.Background(), d.Plan, validate.Options{DB: d.DB, Env: d.Env(), SkipKnown: skip})
		if err != nil {
			t.Fatal(err)
		}
		return object(t, res, "contact")
	}
	if c := run(true); c.Fields["title"] != 0 || c.Known["title"] != "enriched by the new CRM" || c.Known["phone"] != "" ||
		c.Known["email"] != "until tonight" { // a rule holds through its until date
		t.Errorf("with known differences left out: fields %v, known %v", c.Fields, c.Known)
	}
	if c := run(false); c.Fields["title"] != 1 || c.Known != nil {
		t.Errorf("comparing everything: fields %v, known %v", c.Fields, c.Known)
	}
}

// todayIn is today's date in a time zone (the demo plan's).
func todayIn(t *testing.T, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Now().In(loc).Format(time.DateOnly)
}
