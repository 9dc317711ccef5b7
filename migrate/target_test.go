package migrate_test

import (
	"testing"

	"github.com/crmigrate/crmigrate/migrate"
)

// A new CRM emptied behind migrate's back (a refreshed sandbox) is written again, and the run says
// so; without --verify only missing rows are found, with it rows changed in place too.
func TestEmptiedTargetIsWrittenAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	first := w.mustMigrate(migrate.Options{})
	before := dumpNew(t, w.new)
	written := first.Inserted

	w.exec(w.new, `TRUNCATE activities, opportunities, people, companies CASCADE`)
	dry := w.mustMigrate(migrate.Options{DryRun: true})
	// (A dry run rolls every batch back, so the rows referring to companies it would write again
	// cannot be tried for real: it counts companies, which refer to nothing, exactly.)
	if dry.Missing != written || dry.NothingToDo || dry.Objects[0].Object != "company" || dry.Objects[0].Inserted != dry.Objects[0].Missing {
		t.Fatalf("dry run after the target was emptied: missing %d (want %d), companies %+v", dry.Missing, written, *dry.Objects[0])
	}
	again := w.mustMigrate(migrate.Options{})
	if again.Missing != written || again.Inserted != written || again.NothingToDo {
		t.Fatalf("migrate after the target was emptied: missing %d, inserted %d, nothing to do %v; want %d written again",
			again.Missing, again.Inserted, again.NothingToDo, written)
	}
	if after := dumpNew(t, w.new); after != before {
		t.Fatal("the new CRM written again differs from the first migrate's")
	}
	if third := w.mustMigrate(migrate.Options{}); !third.NothingToDo || third.Missing != 0 {
		t.Fatalf("third run: %+v", third)
	}

	// Rows present but changed in place: the cheap check cannot see them; --verify does.
	w.exec(w.new, `UPDATE companies SET name = 'tampered' WHERE id IN (SELECT id FROM companies ORDER BY legacy_id LIMIT 3)`)
	if plain := w.mustMigrate(migrate.Options{}); !plain.NothingToDo {
		t.Fatalf("a plain run after an edit in place: %+v", plain)
	}
	verified := w.mustMigrate(migrate.Options{Verify: true})
	if !verified.Verified || verified.Differed != 3 || verified.Updated != 3 {
		t.Fatalf("--verify: verified %v, differed %d, updated %d; want 3", verified.Verified, verified.Differed, verified.Updated)
	}
	if after := dumpNew(t, w.new); after != before {
		t.Fatal("--verify did not put back what migrate wrote")
	}
}
