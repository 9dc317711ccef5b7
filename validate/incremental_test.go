package validate_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/validate"
)

// An incremental validation (the cached reads, less what was deleted, plus what changed) finds
// exactly what a full read finds: after changes on both sides, in several passes, after a record
// that arrived without moving its updated_at (the cache does not add up: read in full), and from a
// damaged cache file.
func TestIncrementalReadsFindWhatAFullReadFinds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.clean()
	w.migrate()
	dir := t.TempDir()
	cached := func(incremental bool, passes int) *validate.Result {
		t.Helper()
		res, err := validate.Run(context.Background(), w.plan, validate.Options{DB: w.db, Env: w.env(), Limit: -1, Passes: passes,
			Cache: &validate.Cache{Dir: dir, Incremental: incremental, Watermark: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	same := func(step string, got *validate.Result) {
		t.Helper()
		if d := validate.Differ(got, w.validate()); d != "" {
			t.Fatalf("%s: the incremental read differs from a full one: %s", step, d)
		}
	}
	read := func(res *validate.Result, name, system string) validate.SourceRead {
		t.Helper()
		for _, r := range object(t, res, name).Reads {
			if r.System == system {
				return r
			}
		}
		t.Fatalf("%s in %s: no read", name, system)
		return validate.SourceRead{}
	}

	first := cached(true, 0) // nothing cached yet: a full read
	same("first", first)
	if r := read(first, "contact", "old"); r.Incremental || r.Why != "no cached read yet" || r.Read == 0 {
		t.Fatalf("first read of contacts: %+v", r)
	}

	// Both sides change: updates, deletes, inserts, each moving updated_at.
	w.exec(w.old,
		`UPDATE contacts SET title = 'Head of Incremental Reads', modified_at = now() WHERE contact_id IN (SELECT contact_id FROM contacts ORDER BY contact_id LIMIT 3)`,
		`DELETE FROM activities WHERE activity_id IN (SELECT activity_id FROM activities ORDER BY activity_id LIMIT 2)`,
		`INSERT INTO contacts (contact_id, first_name, last_name, email, country, modified_at)
			VALUES (990001, 'Ines', 'Incremental', 'ines.incremental@example.org', 'SE', now())`)
	w.exec(w.new,
		`UPDATE people SET job_title = 'Changed in new', updated_at = now() WHERE id IN (SELECT id FROM people ORDER BY id LIMIT 2)`,
		`DELETE FROM activities WHERE id IN (SELECT id FROM activities ORDER BY id DESC LIMIT 2)`,
		`INSERT INTO companies (name, domain_name, updated_at) VALUES ('Only In New AB', 'only-in-new.example', now())`)
	inc := cached(true, 0)
	same("after changes", inc)
	if validate.Differ(inc, first) == "" {
		t.Fatal("the changes do not show")
	}
	for _, sys := range []string{"old", "new"} {
		r := read(inc, "contact", sys)
		if !r.Incremental || r.Read == 0 || r.Reused == 0 || r.Read >= r.Reused {
			t.Errorf("contacts in %s: %+v, want an incremental read of a few records", sys, r)
		}
	}
	if r := read(inc, "contact", "marketing"); r.Incremental || r.Reused != r.Read || !strings.Contains(r.Why, "cannot list its changes") {
		t.Errorf("contacts in the CSV export: %+v, want a full read that normalizes nothing again", r)
	}

	// In three passes, with more changes.
	w.exec(w.old, `UPDATE accounts SET industry = 'Testing', modified_at = now() WHERE account_id IN (SELECT account_id FROM accounts ORDER BY account_id LIMIT 4)`)
	w.exec(w.new, `UPDATE people SET phone = '+46 8 123 456 78', updated_at = now() WHERE id IN (SELECT id FROM people ORDER BY id DESC LIMIT 3)`)
	same("in three passes", cached(true, 3))

	// A contact that arrives with an old updated_at: the cached read does not add up, and the
	// contacts of old are read in full.
	w.exec(w.old, `INSERT INTO contacts (contact_id, first_name, last_name, email, country, modified_at)
		VALUES (990002, 'Bo', 'Backdated', 'bo.backdated@example.org', 'SE', now() - interval '1 year')`)
	back := cached(true, 0)
	same("after a backdated record", back)
	if r := read(back, "contact", "old"); r.Incremental || !strings.Contains(r.Why, "did not add up") {
		t.Errorf("contacts in old after a backdated record: %+v", r)
	}
	if r := read(cached(true, 0), "contact", "old"); !r.Incremental {
		t.Errorf("the next read is not incremental again: %+v", r)
	}

	// Times far from now survive the cache (a sentinel year 9999, the epoch itself).
	w.exec(w.old, `UPDATE contacts SET modified_at = '9999-12-31 00:00:00' WHERE contact_id = (SELECT min(contact_id) FROM contacts)`,
		`UPDATE accounts SET modified_at = '1970-01-01 00:00:00' WHERE account_id = (SELECT min(account_id) FROM accounts)`)
	cached(false, 0) // cached as they are now
	same("with times far from now", cached(true, 0))

	// A damaged cache file: read in full.
	if err := os.Truncate(filepath.Join(dir, "deal.new.new"), 100); err != nil {
		t.Fatal(err)
	}
	dam := cached(true, 0)
	same("after a damaged cache file", dam)
	if r := read(dam, "deal", "new"); r.Incremental || r.Why == "" {
		t.Errorf("deals in new from a damaged cache: %+v", r)
	}
}
