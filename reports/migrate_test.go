package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/state"
)

func migrateSummary() *migrate.Summary {
	return &migrate.Summary{RunID: 7, Read: 10, Inserted: 8, Rejected: 2,
		Objects: []*migrate.ObjectSummary{{Object: "contact", Table: "people", Read: 10, Inserted: 8, Rejected: 2, UnresolvedRefs: 1, DefaultOwner: 3, Seconds: 0.5, PerSecond: 20}},
		Samples: []migrate.Sample{{Object: "contact", Action: "inserted", GoldenID: "contact-1", Values: map[string]string{"email": "jane.doe@acme.se", "name": "Jane"}}},
		Rejects: []state.RejectRow{{Object: "contact", System: "new", SourceID: "contact-2", Reason: `duplicate key value violates unique constraint (Key (email)=(john@acme.se) already exists.)`, Raw: "old:C-2"}},
	}
}

func TestRenderMigrateSummaryMasksAndCounts(t *testing.T) {
	var b bytes.Buffer
	if err := RenderMigrateSummary(&b, migrateSummary(), "table", false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Migrate (run 7)", "INSERTED", "RECORDS / S", "people", "1 references point at records", "3 owners have no user", "j***@acme.se", "rejects/migrate-7.csv"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "jane.doe@") || strings.Contains(out, "john@acme") {
		t.Errorf("summary shows an email unmasked:\n%s", out)
	}
	b.Reset()
	if err := RenderMigrateSummary(&b, migrateSummary(), "json", false); err != nil {
		t.Fatal(err)
	}
	var back migrate.Summary
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Inserted != 8 || strings.Contains(b.String(), "john@acme") {
		t.Errorf("json: %v\n%s", err, b.String())
	}
	b.Reset()
	_ = RenderMigrateSummary(&b, migrateSummary(), "table", true)
	if !strings.Contains(b.String(), "john@acme.se") {
		t.Error("--show-pii does not show the email")
	}
	if err := RenderMigrateSummary(&b, migrateSummary(), "xml", false); err == nil {
		t.Error("unknown format accepted")
	}
}

// A run that failed or was aborted with nothing written must not read "Nothing changed".
func TestRenderMigrateSummaryOfAFailedRun(t *testing.T) {
	t.Parallel()
	s := &migrate.Summary{RunID: 9, NothingToDo: true, Status: "failed", Error: "read golden: conn closed",
		Objects: []*migrate.ObjectSummary{{Object: "company", Table: "companies"}}}
	var b bytes.Buffer
	if err := RenderMigrateSummary(&b, s, "table", false); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "Nothing changed") || strings.Contains(out, "nothing written") || !strings.Contains(out, "Run failed before it finished") {
		t.Fatalf("summary of a failed run:\n%s", out)
	}
}
