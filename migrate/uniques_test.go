package migrate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/migrate"
)

// Two uninterrupted migrates of the same staging write the same new CRM, byte for byte, however
// the parallel batches race: records sharing a value the new CRM allows once (placeholder emails
// such as "n/a") are settled by golden id before anything is written, and the rejects say who won.
func TestRecordsSharingAUniqueValueAreSettledTheSameWayEveryRun(t *testing.T) {
	t.Parallel()
	manyWriters := func(plan string) string { return plan + "\nmigrate: {batch_size: 15, workers: 4}\n" }
	a := newWorld(t, small(), manyWriters)
	b := newWorld(t, small(), manyWriters)
	for _, w := range []*world{a, b} { // placeholder emails on people spread over several batches
		w.exec(w.old, `UPDATE contacts SET email = 'n/a' WHERE contact_id IN (SELECT contact_id FROM contacts ORDER BY contact_id LIMIT 40)`)
		w.clean()
	}
	sa := a.mustMigrate(migrate.Options{})
	sb := b.mustMigrate(migrate.Options{})
	if got, want := dumpNew(t, b.new), dumpNew(t, a.new); got != want {
		t.Fatalf("two migrates of the same staging differ:\n%s", firstDiff(got, want))
	}
	rejects, err := a.db.Rejects(context.Background(), a.plan.Name, sa.RunID)
	if err != nil {
		t.Fatal(err)
	}
	settled := 0
	for _, r := range rejects {
		if strings.Contains(r.Reason, "the lowest golden id is written") {
			settled++
			if !strings.Contains(r.Reason, "contact-") || !strings.Contains(r.Reason, "email") {
				t.Errorf("the reject does not name the winner and the column: %q", r.Reason)
			}
		}
		if strings.Contains(r.Reason, "people_email_key") {
			t.Errorf("a duplicate email reached the database: %q", r.Reason)
		}
	}
	if settled == 0 {
		t.Fatalf("no record lost to another with the same email; rejects: %+v", rejects)
	}
	if sa.Rejected != sb.Rejected || sa.Inserted != sb.Inserted {
		t.Fatalf("counts differ: %d/%d inserted, %d/%d rejected", sa.Inserted, sb.Inserted, sa.Rejected, sb.Rejected)
	}
	// The next run settles them the same way: nothing changes.
	if again := a.mustMigrate(migrate.Options{}); !again.NothingToDo || again.Rejected != sa.Rejected {
		t.Fatalf("a re-run: %+v", again)
	}
}
