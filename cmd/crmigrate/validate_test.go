package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

// Identity mode from the command line: exit 0 when the tables hold the same rows, 3 when they
// differ, 2 for a usage error; the JSON has validate's shape; emails are masked unless
// --show-pii; --differences lists every difference.
func TestValidateIdentityCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	oldURL, newURL := pgtest.NewDB(t), pgtest.NewDB(t)
	for _, url := range []string{oldURL, newURL} {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, `CREATE TABLE contacts (id int PRIMARY KEY, email text, name text);
			INSERT INTO contacts SELECT g, 'user' || g || '@example.com', 'N' || g FROM generate_series(1, 50) g`); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
	}
	args := []string{"validate", "--old-url", oldURL, "--new-url", newURL, "--table", "contacts", "--key", "id"}
	if code, stdout, stderr := run(t, args...); code != 0 || !strings.Contains(stdout, "identical") {
		t.Fatalf("same tables: exit %d\n%s%s", code, stdout, stderr)
	}
	c, err := pgx.Connect(ctx, newURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `UPDATE contacts SET email = upper(email) WHERE id = 7; DELETE FROM contacts WHERE id = 9; INSERT INTO contacts VALUES (51, 'x@y.z', 'New')`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	diffs := filepath.Join(t.TempDir(), "diff.csv")
	code, stdout, stderr := run(t, append(args, "--json", "--differences", diffs)...)
	if code != ExitFailed {
		t.Fatalf("different tables: exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	var res struct {
		Result  string `json:"result"`
		Objects []struct {
			Object                       string
			Old, New, Matched, Identical int64
			MissingInNew                 int64 `json:"missing_in_new"`
			MissingInOld                 int64 `json:"missing_in_old"`
			Mismatched                   int64
			Fields                       map[string]int64
		} `json:"objects"`
		Checks      []any `json:"checks"`
		Differences []struct {
			Key, Class string
			Fields     []struct{ Field, Old, New string }
		} `json:"differences"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	o := res.Objects[0]
	if res.Result != "failed" || o.Old != 50 || o.New != 50 || o.Identical != 48 || o.MissingInNew != 1 || o.MissingInOld != 1 || o.Mismatched != 1 || o.Fields["email"] != 1 || res.Checks == nil {
		t.Fatalf("result %+v", res)
	}
	if len(res.Differences) != 3 || res.Differences[0].Key != "7" || res.Differences[0].Fields[0].Old != "u***@example.com" {
		t.Fatalf("differences %+v", res.Differences)
	}
	if strings.Contains(stdout, "user7@") {
		t.Error("an email is shown unmasked without --show-pii")
	}
	if b, err := os.ReadFile(diffs); err != nil || string(b) != "key,class,columns\n7,field_mismatch,email\n9,missing_in_new,\n51,missing_in_old,\n" {
		t.Errorf("differences file: %q %v", b, err)
	}
	if _, stdout, _ := run(t, append(args, "--show-pii", "--format", "md")...); !strings.Contains(stdout, "USER7@EXAMPLE.COM") || !strings.Contains(stdout, "| key |") {
		t.Errorf("--show-pii --format md:\n%s", stdout)
	}
	if code, _, stderr := run(t, "validate", "--old-url", oldURL, "--table", "contacts"); code != ExitUsage || !strings.Contains(stderr, "--new-url, --key") {
		t.Errorf("missing flags: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, append(args[:len(args)-1], "nope")...); code != ExitError || !strings.Contains(stderr, "not in both") || strings.Contains(stderr, "password") {
		t.Errorf("unknown key column: exit %d: %s", code, stderr)
	}
}

// Validate through the plan, as a user runs it after the demo: it passes (the new CRM's refusals
// are expected by the demo's checks), its JSON has validate's shape, and a deal deleted from the
// new CRM afterwards fails deals-present with exit 3. Before any migrate it is refused.
func TestValidatePlanCommand(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	fresh := filepath.Join(dir, "fresh")
	if code, _, stderr := run(t, "demo", "--dir", fresh, "--companies", "10", "--contacts", "40", "--deals", "10", "--seed", "5", "--migrate=false"); code != 0 {
		t.Fatalf("demo --migrate=false: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "validate", "--plan", filepath.Join(fresh, "crmigrate.yaml")); code == 0 || !strings.Contains(stderr, "migrate") {
		t.Errorf("validate before migrate: exit %d\n%s", code, stderr)
	}

	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	if code, _, stderr := run(t, "demo", "--dir", demoDir, "--companies", "30", "--contacts", "150", "--deals", "40", "--seed", "11"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "validate" || runs[0].Status != "passed" {
		t.Errorf("the demo's last run is %+v, want its validation, passed", runs[0])
	}
	if code, stdout, stderr := run(t, "validate", "--plan", plan); code != 0 || !strings.Contains(stdout, "PASSED") {
		t.Fatalf("validate after the demo: exit %d\n%s%s", code, stdout, stderr)
	}
	// A validation of one object is recorded apart: it is not the evidence of every object.
	if code, _, stderr := run(t, "validate", "--plan", plan, "--object", "deal"); code != 0 {
		t.Fatalf("validate --object deal: exit %d\n%s", code, stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "validate.some" || runs[1].Phase != "validate" {
		t.Errorf("runs after validate --object: %+v", runs[:2])
	}
	code, stdout, stderr := run(t, "validate", "--plan", plan, "--json")
	var res struct {
		Version int    `json:"version"`
		Result  string `json:"result"`
		Objects []struct {
			Object       string           `json:"object"`
			Old          int64            `json:"old"`
			New          int64            `json:"new"`
			Matched      int64            `json:"matched"`
			Identical    int64            `json:"identical"`
			MissingInNew int64            `json:"missing_in_new"`
			RefusedInNew int64            `json:"refused_in_new"`
			MissingInOld int64            `json:"missing_in_old"`
			Mismatched   int64            `json:"mismatched"`
			DupsInNew    *int64           `json:"duplicates_in_new"`
			DupsInOld    *int64           `json:"duplicates_in_old"`
			BrokenRefs   *int64           `json:"broken_refs"`
			Fields       map[string]int64 `json:"fields"`
		} `json:"objects"`
		Checks []struct {
			Name, Severity, Threshold, Result string
			Observed                          *float64
		} `json:"checks"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Version != 1 || res.Result != "passed" || len(res.Objects) != 4 || len(res.Checks) == 0 {
		t.Fatalf("validate --json: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, o := range res.Objects {
		if o.MissingInNew != o.RefusedInNew || o.DupsInNew == nil || o.DupsInOld == nil || o.BrokenRefs == nil || o.Fields == nil {
			t.Errorf("%s: %+v", o.Object, o)
		}
	}
	for _, c := range res.Checks {
		if c.Observed == nil || c.Result == "" || c.Severity == "" {
			t.Errorf("check %+v", c)
		}
	}

	deleteADeal(t, plan)
	code, stdout, stderr = run(t, "validate", "--plan", plan)
	if code != ExitFailed || !strings.Contains(stderr, "deals-present") || !strings.Contains(stdout, "lost_in_new") {
		t.Fatalf("validate after deleting a deal: exit %d (want 3)\n%s%s", code, stdout, stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "validate" || runs[0].Status != "failed" {
		t.Errorf("the failed validation is recorded as %+v", runs[0])
	}
}

// deleteADeal deletes the first deal of the demo's new CRM, and its activities.
func deleteADeal(t *testing.T, plan string) {
	t.Helper()
	if code, _, stderr := run(t, "db", "start", "--plan", plan); code != 0 {
		t.Fatalf("db start: exit %d\n%s", code, stderr)
	}
	_, url, _ := run(t, "db", "url", "--plan", plan, "demo_new")
	sqlExec(t, strings.TrimSpace(url), `DELETE FROM activities WHERE opportunity_id = (SELECT min(id) FROM opportunities)`,
		`DELETE FROM opportunities WHERE id = (SELECT min(id) FROM opportunities)`)
}
