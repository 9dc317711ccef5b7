package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMigrateCommand runs the migrate commands as a user would on the demo project.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	code, stdout, stderr := run(t, "demo", "--dir", demoDir, "--companies", "40", "--contacts", "200", "--deals", "80", "--seed", "3")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Migrate (run ") || !strings.Contains(stdout, "Inserted ") {
		t.Fatalf("the demo does not show the migrate summary:\n%s", stdout)
	}
	plan := filepath.Join(demoDir, "crmigrate.yaml")

	// Nothing changed since the demo's run: nothing is written, and it says so.
	code, stdout, stderr = run(t, "migrate", "--plan", plan)
	if code != 0 || !strings.Contains(stdout, "Nothing changed since the last run") {
		t.Fatalf("second migrate: exit %d\n%s%s", code, stdout, stderr)
	}
	// The rejects are written beside the plan with their reasons.
	matches, _ := filepath.Glob(filepath.Join(demoDir, "rejects", "migrate-*.csv"))
	if len(matches) == 0 {
		t.Error("no rejects/migrate-RUN.csv")
	} else if b, _ := os.ReadFile(matches[0]); !strings.Contains(string(b), "violates") {
		t.Errorf("rejects file without reasons:\n%.300s", b)
	}

	// A dry run in JSON: counts and masked samples, nothing written, not recorded as a run.
	code, stdout, _ = run(t, "migrate", "--plan", plan, "--dry-run", "--json")
	var dry struct {
		DryRun    bool  `json:"dry_run"`
		Unchanged int64 `json:"unchanged"`
		RunID     int64 `json:"run_id"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &dry) != nil || !dry.DryRun || dry.Unchanged == 0 || dry.RunID != 0 {
		t.Fatalf("dry run: exit %d\n%s", code, stdout)
	}

	// Undo of the demo's migrate run empties the new CRM's tables; a second undo has nothing to do.
	code, stdout, _ = run(t, "runs", "--plan", plan, "--json")
	var runs []struct {
		ID     int64  `json:"id"`
		Phase  string `json:"phase"`
		Counts map[string]int64
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &runs) != nil {
		t.Fatalf("runs: exit %d\n%s", code, stdout)
	}
	var first int64
	for _, r := range runs {
		if r.Phase == "migrate" && r.Counts["inserted"] > 0 {
			first = r.ID
		}
	}
	if first == 0 {
		t.Fatalf("no migrate run that inserted rows in %s", stdout)
	}
	id := strconv.FormatInt(first, 10)
	code, stdout, stderr = run(t, "migrate", "undo", "--plan", plan, "--run", id)
	if code != 0 || !strings.Contains(stdout, "Deleted ") {
		t.Fatalf("undo: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = run(t, "migrate", "undo", "--plan", plan, "--run", id)
	if code != 1 || !strings.Contains(stderr, "nothing left to undo") {
		t.Fatalf("second undo: exit %d\n%s", code, stderr)
	}
	// Migrating again writes everything again.
	code, stdout, _ = run(t, "migrate", "--plan", plan, "--json")
	var again struct {
		Inserted int64 `json:"inserted"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &again) != nil || again.Inserted == 0 {
		t.Fatalf("migrate after undo: exit %d\n%.500s", code, stdout)
	}

	// A plan whose clean never ran is refused; --force goes on and is audited.
	raw, _ := os.ReadFile(plan)
	other := filepath.Join(demoDir, "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(string(raw), "name: nordlys-crm-move", "name: never-cleaned", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "migrate", "--plan", other)
	if code != 1 || !strings.Contains(stderr, "clean has never run") || !strings.Contains(stderr, "--force") {
		t.Fatalf("migrate before clean: exit %d\n%s", code, stderr)
	}
	code, _, stderr = run(t, "migrate", "--plan", other, "--force")
	if code != 0 || !strings.Contains(stderr, "--force (audited)") {
		t.Fatalf("migrate --force: exit %d\n%s", code, stderr)
	}
	code, stdout, _ = run(t, "runs", "--plan", other, "--json")
	if code != 0 || !strings.Contains(stdout, `"forced": true`) {
		t.Errorf("the forced run is not recorded as forced:\n%s", stdout)
	}
	// Usage errors exit 2.
	if code, _, _ := run(t, "migrate", "undo", "--plan", plan); code != 2 {
		t.Errorf("undo without --run: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "migrate", "--plan", plan, "sideways"); code != 2 {
		t.Errorf("migrate with an argument: exit %d, want 2", code)
	}
}
