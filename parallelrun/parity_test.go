package parallelrun_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/reports"
)

var update = flag.Bool("update", false, "rewrite golden files")

// email finds an unmasked email address (masked ones keep one letter before the @: j***@…).
var email = regexp.MustCompile(`[a-z0-9._%+-]{2,}@[a-z0-9-]+\.[a-z]{2,}`)

// The parity report of three days: an integration rewrites phones in new on day 2 (named with its
// owner in what to do), a deal goes missing in new on day 3 (critical, and the deal gate fails);
// the report of each day sees only that day and the ones before. Markdown and JSON are golden
// files (masked), so that a reader's report does not change unnoticed.
func TestParityReport(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(plan string) string {
		return strings.Replace(plan, "  full_every: 7d\n", `  full_every: 7d
  critical:
    - {object: deal, class: lost_in_new, description: a deal the new CRM lost}
`, 1)
	})
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2031, 2, d, 9, 0, 0, 0, time.UTC) }
	report := func(opts parallelrun.ParityOptions) *parallelrun.ParityReport {
		t.Helper()
		opts.DB = w.DB
		r, err := parallelrun.Parity(ctx, w.Plan, opts)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := parallelrun.Parity(ctx, w.Plan, parallelrun.ParityOptions{DB: w.DB}); !errors.Is(err, parallelrun.ErrNoSnapshot) {
		t.Fatalf("before any snapshot: %v", err)
	}
	w.mustDiff(day(1))
	pgtest.Exec(t, w.New, `UPDATE people SET phone = '+46 (0)8-' || substr(md5(id::text), 1, 6), updated_at = '2031-02-01 12:00:00+00'
		WHERE id IN (SELECT id FROM people WHERE phone IS NOT NULL ORDER BY id LIMIT 3)`)
	w.mustDiff(day(2))
	deal := pgtest.Scan[string](t, w.New, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	pgtest.Exec(t, w.New, `DELETE FROM activities WHERE opportunity_id = `+deal, `DELETE FROM opportunities WHERE id = `+deal)
	w.mustDiff(day(3))

	r := report(parallelrun.ParityOptions{})
	if r.Day != 3 || r.Date != "2031-02-03" || len(r.Trend) != 3 || r.Headline.Previous == nil || r.Headline.Previous.Day != 2 {
		t.Fatalf("day 3: day %d, date %s, %d trend days, previous %+v", r.Day, r.Date, len(r.Trend), r.Headline.Previous)
	}
	if r.Headline.Critical != 1 || len(r.Critical) != 1 || r.Critical[0].Class != "lost_in_new" {
		t.Errorf("critical: %d, %+v", r.Headline.Critical, r.Critical)
	}
	var phone *parallelrun.ToDo
	for i, a := range r.Actions {
		if a.Object == "contact" && a.Field == "phone" {
			phone = &r.Actions[i]
		}
	}
	if phone == nil || phone.Count != 3 || len(phone.Integrations) != 1 || phone.Integrations[0].Name != "marketing-automation" ||
		phone.Integrations[0].Owner != "marketing-ops" || !strings.Contains(phone.Action, "marketing-automation (marketing-ops)") {
		t.Errorf("what to do about phones: %+v", phone)
	}
	gates := map[string]string{}
	for _, g := range r.Gates {
		gates[g.Kind+" "+g.Object] = g.Result
	}
	if gates["max_drift deal"] != cutover.Fail || gates["checks "] != cutover.Pass || gates["parity contact"] != cutover.Fail {
		t.Errorf("gates: %+v", r.Gates)
	}
	if r.Objects[2].Object != "deal" || r.Objects[2].SinceYesterday["lost_in_new"] != 1 || r.Objects[2].SinceDay1["lost_in_new"] != 1 {
		t.Errorf("deal's change: %+v", r.Objects[2])
	}

	over := false
	for _, m := range r.Pipeline {
		over = over || m.Object == "deal" && m.Records > m.Golden && m.Percent > 0
	}
	if !over {
		t.Errorf("the demo's duplicate deals do not overstate the pipeline: %+v", r.Pipeline)
	}

	// Day 2's report knows nothing of day 3.
	r2 := report(parallelrun.ParityOptions{Day: 2})
	if r2.Day != 2 || len(r2.Trend) != 2 || r2.Headline.Critical != 0 || r2.Ages.Open != r2.Headline.DriftRows {
		t.Errorf("day 2: %+v", r2.Headline)
	}
	if r3 := report(parallelrun.ParityOptions{Date: "2031-02-03"}); r3.RunID != r.RunID {
		t.Errorf("by date: run %d, want %d", r3.RunID, r.RunID)
	}
	if _, err := parallelrun.Parity(ctx, w.Plan, parallelrun.ParityOptions{DB: w.DB, Day: 9}); !errors.Is(err, parallelrun.ErrNoSnapshot) {
		t.Errorf("day 9: %v", err)
	}

	for _, f := range []string{"md", "json", "html", "csv"} {
		var b bytes.Buffer
		if err := reports.RenderParity(&b, w.Plan, r, f, false); err != nil {
			t.Fatal(err)
		}
		if email.MatchString(b.String()) {
			t.Errorf("an email is shown unmasked in the %s report", f)
		}
		golden(t, filepath.Join("testdata", "parity-day3."+f), b.Bytes())
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -run TestParityReport -update after checking it):\n--- got:\n%s", path, got)
	}
}
