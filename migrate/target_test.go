package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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

// A record deleted and created again in old with the same key gets a new golden id that takes over
// the row the old one wrote (the upsert finds it by key): the old golden record, gone from staging,
// must not take the row with it through on_delete.
func TestRecordCreatedAgainWithTheSameKeyKeepsItsRow(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), func(plan string) string {
		plan = strings.Replace(plan, "new: {table: people, id: id, updated_at: updated_at, external_id: legacy_id}", "new: {table: people, id: id, updated_at: updated_at}", 1)
		return strings.Replace(plan, "  contact:\n    key: email\n", "  contact:\n    key: email\n    on_delete: delete\n", 1)
	})
	w.mustMigrate(migrate.Options{})
	w.exec(w.old, `CREATE TABLE again AS SELECT * FROM contacts c WHERE contact_id = (SELECT min(contact_id) FROM contacts c
			WHERE email LIKE '%@%.%' AND (SELECT count(*) FROM contacts d WHERE lower(btrim(d.email)) = lower(btrim(c.email))) = 1
			AND NOT EXISTS (SELECT 1 FROM leads l WHERE lower(btrim(l.email)) = lower(btrim(c.email))))`,
		`DELETE FROM contacts WHERE contact_id = (SELECT contact_id FROM again)`,
		`UPDATE again SET contact_id = 990001, modified_at = now()`,
		`INSERT INTO contacts SELECT * FROM again`)
	var email string
	conn, err := pgx.Connect(context.Background(), w.old)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(context.Background(), `SELECT lower(btrim(email)) FROM again`).Scan(&email)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w.clean()
	// A dry run retires nothing: the crosswalk stays as it was.
	entries := func() int64 {
		var n int64
		if err := w.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM crmigrate.crosswalk`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := entries()
	w.mustMigrate(migrate.Options{DryRun: true})
	if after := entries(); after != before {
		t.Fatalf("a dry run changed the crosswalk: %d entries, %d before", after, before)
	}
	sum := w.mustMigrate(migrate.Options{})
	if entries() >= before+1 {
		t.Errorf("the record's predecessor was not retired from the crosswalk")
	}
	if n := w.count(w.new, `SELECT count(*) FROM people WHERE lower(email) = '`+email+`'`); n != 1 {
		t.Fatalf("the person created again in old is in %d rows of the new CRM, want 1 (summary %+v)", n, *sum.Objects[1])
	}
	if n := w.count(w.new, `SELECT count(*) FROM people`); n != sum.Objects[1].Inserted+sum.Objects[1].Updated+sum.Objects[1].Unchanged {
		t.Errorf("people: %d rows, the run accounts for %d", n, sum.Objects[1].Inserted+sum.Objects[1].Updated+sum.Objects[1].Unchanged)
	}
}
