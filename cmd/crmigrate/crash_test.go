package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A crash of the private server (kill -9 of the postmaster) empties staging, which is unlogged:
// migrate must refuse to run on what is left, never pass with data missing; a new clean repairs it.
func TestServerCrashLosesStagingAndMigrateRefuses(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	if code, _, stderr := run(t, "demo", "--dir", demoDir, "--companies", "30", "--contacts", "150", "--deals", "40", "--seed", "11"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "db", "start", "--plan", plan); code != 0 {
		t.Fatalf("db start: exit %d\n%s", code, stderr)
	}
	code, stdout, _ := run(t, "db", "status", "--plan", plan, "--json")
	var st struct {
		PID int `json:"postmaster_pid"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || st.PID == 0 {
		t.Fatalf("db status: exit %d: %s", code, stdout)
	}
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); syscall.Kill(st.PID, 0) == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}

	// The next command brings the server back through crash recovery; staging is gone.
	code, stdout, stderr := run(t, "migrate", "--plan", plan)
	if code != ExitError || !strings.Contains(stderr, "staging was lost (server crash)") || !strings.Contains(stderr, "crmigrate clean") {
		t.Fatalf("migrate after a server crash: exit %d (want 1)\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "migrate", "--plan", plan, "--force"); code != ExitError || !strings.Contains(stderr, "staging was lost") {
		t.Fatalf("migrate --force on lost staging must refuse too: exit %d\n%s", code, stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "migrate" || runs[0].Status != "failed" {
		t.Fatalf("the refused migrate is recorded as %+v, want failed", runs[0])
	}
	if code, _, stderr := run(t, "clean", "--plan", plan); code != 0 {
		t.Fatalf("clean: exit %d\n%s", code, stderr)
	}
	if code, stdout, stderr := run(t, "migrate", "--plan", plan); code != 0 || !strings.Contains(stdout, "Nothing changed since the last run") {
		t.Fatalf("migrate after a new clean: exit %d\n%s%s", code, stdout, stderr)
	}
}
