package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// parallel-run diff as a user runs it: after the demo, a snapshot per day with its JSON, exit 3
// when a check fails on the drift, usage errors for a bad --as-of, and snapshots that go forward.
func TestParallelRunDiffCommand(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	fresh := filepath.Join(dir, "fresh")
	if code, _, stderr := run(t, "demo", "--dir", fresh, "--companies", "10", "--contacts", "40", "--deals", "10", "--seed", "5", "--validate=false"); code != 0 {
		t.Fatalf("demo --validate=false: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "parallel-run", "diff", "--plan", filepath.Join(fresh, "crmigrate.yaml")); code == 0 || !strings.Contains(stderr, "validate") {
		t.Errorf("diff before validate: exit %d\n%s", code, stderr)
	}

	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	if code, _, stderr := run(t, "demo", "--dir", demoDir, "--companies", "30", "--contacts", "150", "--deals", "40", "--seed", "11"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "parallel-run", "diff", "--plan", plan, "--as-of", "yesterday"); code != ExitUsage || !strings.Contains(stderr, "--as-of") {
		t.Errorf("a bad --as-of: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "parallel-run", "diff", "--plan", plan, "--as-of", "2099-01-01"); code != ExitUsage || !strings.Contains(stderr, "future") {
		t.Errorf("an --as-of in the future: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := run(t, "parallel-run", "diff", "--plan", plan, "--as-of", "2025-09-01", "--json")
	var snap struct {
		Version     int    `json:"version"`
		Result      string `json:"result"`
		Day         int    `json:"day"`
		AsOf        string `json:"as_of"`
		Incremental *bool  `json:"incremental"`
		Opened      int64  `json:"opened"`
		Objects     []struct {
			Object       string `json:"object"`
			MissingInNew int64  `json:"missing_in_new"`
			InFlight     *int64 `json:"in_flight"`
			Ignored      *int64 `json:"ignored"`
			Drift        []struct {
				Class     string `json:"class"`
				Key       string `json:"key"`
				State     string `json:"state"`
				FirstSeen string `json:"first_seen"`
			} `json:"drift"`
		} `json:"objects"`
		Checks []struct{ Name, Result string } `json:"checks"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &snap) != nil || snap.Version != 1 || snap.Result != "passed" || snap.Day != 1 ||
		snap.Incremental == nil || *snap.Incremental || len(snap.Objects) != 4 || len(snap.Checks) == 0 || snap.Opened == 0 {
		t.Fatalf("diff --json: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.HasPrefix(snap.AsOf, "2025-09-01T21:59:59Z") { // the date's last second in Europe/Stockholm (CEST)
		t.Errorf("as_of %s", snap.AsOf)
	}
	for _, o := range snap.Objects {
		if o.InFlight == nil || o.Ignored == nil {
			t.Errorf("%s: no in_flight or ignored", o.Object)
		}
		for _, d := range o.Drift {
			if d.State != "drift" || d.FirstSeen == "" || strings.Contains(d.Key, "@") && !strings.Contains(d.Key, "***") {
				t.Errorf("%s drift %+v (emails are masked without --show-pii)", o.Object, d)
			}
		}
	}

	// A deal deleted from the new CRM: drift the checks fail on, the next day.
	deleteADeal(t, plan)
	code, stdout, stderr = run(t, "parallel-run", "diff", "--plan", plan, "--as-of", "2025-09-02 09:00")
	if code != ExitFailed || !strings.Contains(stdout, "day 2") || !strings.Contains(stdout, "lost_in_new") || !strings.Contains(stdout, "2 opened") /* the deal and its activity */ {
		t.Fatalf("diff after deleting a deal: exit %d (want 3)\n%s%s", code, stdout, stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "parallel-run" || runs[0].Status != "failed" {
		t.Errorf("the snapshot is recorded as %+v", runs[0])
	}
	if code, _, stderr := run(t, "parallel-run", "diff", "--plan", plan, "--as-of", "2025-09-01"); code != ExitError || !strings.Contains(stderr, "forward") {
		t.Errorf("a snapshot before the last one: exit %d\n%s", code, stderr)
	}

	// Reconcile writes the deal and its activity again (authority old); the next snapshot passes.
	code, stdout, stderr = run(t, "parallel-run", "reconcile", "--plan", plan, "--dry-run")
	if code != 0 || !strings.Contains(stdout, "Dry run: would reconcile") || !strings.Contains(stdout, "create_in_new") {
		t.Fatalf("reconcile --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "parallel-run", "reconcile", "--plan", plan)
	if code != 0 || !strings.Contains(stdout, "2 inserted") || !strings.Contains(stdout, "migrate undo --run") {
		t.Fatalf("reconcile: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "parallel-run", "diff", "--plan", plan, "--as-of", "2025-09-03 09:00")
	if code != 0 || !strings.Contains(stdout, "2 closed") {
		t.Fatalf("diff after reconcile: exit %d\n%s%s", code, stdout, stderr)
	}
}

// watch takes a snapshot every --every and survives a crash of the private server between two:
// the snapshot that finds no server brings it back and is taken.
func TestParallelRunWatchSurvivesAServerCrash(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	if code, _, stderr := run(t, "demo", "--dir", demoDir, "--companies", "20", "--contacts", "80", "--deals", "20", "--seed", "3"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := run(t, "parallel-run", "watch", "--plan", plan, "--every", "3s", "--ticks", "3")
		done <- result{code, stdout, stderr}
	}()
	// After the first snapshot, kill -9 the postmaster.
	snapshots := func() int {
		n := 0
		for _, r := range listRuns(t, plan) {
			if r.Phase == "parallel-run" && r.Status == "passed" {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(60 * time.Second); snapshots() < 1; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no first snapshot within a minute")
		}
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
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("watch did not end")
	}
	if r.code != 0 || strings.Count(r.stdout, "PASSED") != 3 || !strings.Contains(r.stderr, "went away") {
		t.Fatalf("watch (exit 0, 3 snapshots, the server restarted): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := snapshots(); n != 3 {
		t.Errorf("%d snapshots recorded, want 3\n%s", n, r.stderr)
	}
}
