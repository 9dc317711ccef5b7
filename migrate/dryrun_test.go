package migrate_test

import (
	"fmt"
	"testing"

	"github.com/crmigrate/crmigrate/migrate"
)

// dryFigures is what a dry run must predict of the real run: per object, the rows inserted,
// updated, unchanged and refused, the references that do not resolve, and archived/deleted ones.
func dryFigures(s *migrate.Summary) string {
	out := ""
	for _, o := range s.Objects {
		out += fmt.Sprintf("%s: insert %d, update %d, unchanged %d, refused %d, unresolved refs %d, archive %d, delete %d\n",
			o.Object, o.Inserted, o.Updated, o.Unchanged, o.Rejected, o.UnresolvedRefs, o.Archived, o.Deleted)
	}
	return out
}

// The dry run's figures are the real run's: into an empty new CRM (references to rows the dry run
// only pretended to insert resolve), and into one emptied behind migrate's back.
func TestDryRunPredictsTheRealRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	dry := w.mustMigrate(migrate.Options{DryRun: true})
	real := w.mustMigrate(migrate.Options{})
	if got, want := dryFigures(dry), dryFigures(real); got != want {
		t.Fatalf("dry run into an empty CRM:\n%s\nreal run:\n%s", got, want)
	}
	w.exec(w.new, `TRUNCATE activities, opportunities, people, companies CASCADE`)
	dry = w.mustMigrate(migrate.Options{DryRun: true})
	real = w.mustMigrate(migrate.Options{})
	if got, want := dryFigures(dry), dryFigures(real); got != want || dry.Missing != real.Missing {
		t.Fatalf("dry run into an emptied CRM (missing %d):\n%s\nreal run (missing %d):\n%s", dry.Missing, got, real.Missing, want)
	}
}

// A delta dry run predicts the delta run: changed records with their new values, a record new in
// old, and records deleted there (the dry run re-cleans them without touching staging).
func TestDeltaDryRunPredictsTheDeltaRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	w.mustMigrate(migrate.Options{})
	w.exec(w.old,
		`UPDATE contacts SET title = 'Head of Dry Runs', modified_at = now() + interval '1 day' WHERE contact_id IN (SELECT contact_id FROM contacts ORDER BY contact_id LIMIT 3)`,
		`INSERT INTO accounts (account_id, account_name, website, country, modified_at, created_at) VALUES (990002, 'Dryrun Deltaworks', 'https://dryrun-deltaworks.example', 'SE', now() + interval '1 day', now())`,
		`DELETE FROM activities WHERE activity_id = (SELECT min(activity_id) FROM activities)`)
	dry := w.mustMigrate(migrate.Options{Delta: true, DryRun: true})
	if n := w.count(w.new, `SELECT count(*) FROM people WHERE job_title = 'Head of Dry Runs'`); n != 0 {
		t.Fatalf("the dry run wrote %d rows", n)
	}
	real := w.mustMigrate(migrate.Options{Delta: true})
	if got, want := dryFigures(dry), dryFigures(real); got != want {
		t.Fatalf("delta dry run:\n%s\ndelta run:\n%s", got, want)
	}
	if real.Inserted == 0 || real.Updated == 0 || real.Archived == 0 {
		t.Fatalf("the delta run did not insert, update and archive: %s", dryFigures(real))
	}
	shown := false
	for _, s := range dry.Samples {
		for _, v := range s.Values {
			shown = shown || v == "Head of Dry Runs"
		}
	}
	if !shown {
		t.Errorf("the dry run's samples do not show the new value: %+v", dry.Samples)
	}
}
