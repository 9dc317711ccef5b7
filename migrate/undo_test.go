package migrate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/migrate"
)

// Undo finds what would block it before it changes anything: rows a later run added, or rows made
// in the new CRM by anyone, that refer to rows the undo would delete.
func TestUndoRefusesBeforeChangingAnythingWhenOtherRowsReferToWhatItDeletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	// A new CRM that refuses to delete a company its deals refer to (the demo's sets them to NULL).
	w.exec(w.new, `ALTER TABLE opportunities DROP CONSTRAINT opportunities_company_id_fkey,
		ADD CONSTRAINT opportunities_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE RESTRICT`)
	first := w.mustMigrate(migrate.Options{})
	// A later delta run adds a deal whose company the first run wrote.
	w.exec(w.old, `INSERT INTO opportunities (opp_id, account_id, name, amount, stage, subscription_id, modified_at, created_at)
		SELECT 'OPP-LATER-1', min(account_id), 'Later Deal', '1000 EUR', 'Prospecting', 'SUB-LATER-1', now() + interval '1 day', now() FROM accounts`)
	later := w.mustMigrate(migrate.Options{Delta: true})
	if later.Inserted == 0 {
		t.Fatalf("the later run inserted nothing: %+v", later)
	}
	before := dumpNew(t, w.new)
	_, err := w.undo(first.RunID, false)
	if !errors.Is(err, migrate.ErrBlocked) || !strings.Contains(err.Error(), "1 rows of opportunities") || !strings.Contains(err.Error(), "changed nothing") {
		t.Fatalf("undo of the first run under a later run's deal: %v", err)
	}
	if after := dumpNew(t, w.new); after != before {
		t.Fatalf("a refused undo changed the new CRM:\n%s", firstDiff(after, before))
	}
	// Undoing the later run first, then the first, empties the CRM.
	if _, err := w.undo(later.RunID, false); err != nil {
		t.Fatal(err)
	}
	// Someone logs a call in the new CRM by hand on a person the first run wrote: deleting the
	// person would delete the call with it (ON DELETE CASCADE), so the undo refuses again.
	w.exec(w.new, `INSERT INTO activities (kind, subject, person_id) SELECT 'call', 'Typed in by a rep', min(id) FROM people`)
	if _, err := w.undo(first.RunID, false); !errors.Is(err, migrate.ErrBlocked) || !strings.Contains(err.Error(), "on delete cascade") {
		t.Fatalf("undo under a row made by hand: %v", err)
	}
	w.exec(w.new, `DELETE FROM activities WHERE subject = 'Typed in by a rep'`)
	if _, err := w.undo(first.RunID, false); err != nil {
		t.Fatal(err)
	}
	if n := w.count(w.new, `SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM people) + (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM activities)`); n != 0 {
		t.Fatalf("%d rows left after undoing both runs", n)
	}
}

// Once it starts, an undo is all or nothing: a failure on the last object leaves every earlier
// object as it was, and the same undo run again (once the cause is gone) completes.
func TestUndoIsAllOrNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, small(), nil)
	first := w.mustMigrate(migrate.Options{})
	before := dumpNew(t, w.new)
	// Companies are undone last (children first); make their deletion fail.
	w.exec(w.new, `CREATE FUNCTION no_company_delete() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'companies are locked for the audit'; END$$`,
		`CREATE TRIGGER lock_companies BEFORE DELETE ON companies FOR EACH ROW EXECUTE FUNCTION no_company_delete()`)
	if _, err := w.undo(first.RunID, false); err == nil || !strings.Contains(err.Error(), "locked for the audit") {
		t.Fatalf("undo with locked companies: %v", err)
	}
	if after := dumpNew(t, w.new); after != before {
		t.Fatalf("a failed undo left the new CRM half undone:\n%s", firstDiff(after, before))
	}
	w.exec(w.new, `DROP TRIGGER lock_companies ON companies`)
	u, err := w.undo(first.RunID, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Deleted != first.Inserted {
		t.Fatalf("undo deleted %d rows, the run inserted %d", u.Deleted, first.Inserted)
	}
	if n := w.count(w.new, `SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM people) + (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM activities)`); n != 0 {
		t.Fatalf("%d rows left", n)
	}
}
