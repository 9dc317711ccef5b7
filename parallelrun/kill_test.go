package parallelrun_test

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/internal/pgtest"
)

// A diff killed with SIGKILL at any point leaves its snapshot whole or absent, never half: the
// history's open drift is always exactly what the last recorded snapshot left, every drift was
// opened by a recorded snapshot, and the next diff runs normally.
func TestKilledDiffLeavesNoHalfSnapshot(t *testing.T) {
	t.Parallel()
	bin := demotest.Binary(t)
	w := newWorld(t, nil)
	ctx := context.Background()
	check := func(when string) int {
		t.Helper()
		var snaps, stale, orphans int
		if err := w.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM crmigrate.pr_snapshots),
			(SELECT count(*) FROM crmigrate.pr_drift WHERE closed_at IS NULL AND last_run <> coalesce(
				(SELECT run_id FROM crmigrate.pr_snapshots ORDER BY as_of DESC, run_id DESC LIMIT 1), -1)),
			(SELECT count(*) FROM crmigrate.pr_drift d WHERE NOT EXISTS (SELECT 1 FROM crmigrate.pr_snapshots s WHERE s.run_id = d.first_run)
				OR d.closed_run IS NOT NULL AND NOT EXISTS (SELECT 1 FROM crmigrate.pr_snapshots s WHERE s.run_id = d.closed_run))`).
			Scan(&snaps, &stale, &orphans); err != nil {
			t.Fatal(err)
		}
		if stale != 0 || orphans != 0 {
			t.Fatalf("%s: %d open drift rows not left by the last snapshot, %d rows of unrecorded snapshots", when, stale, orphans)
		}
		return snaps
	}
	// An uninterrupted diff first, to know how long one takes; then kills spread over that time.
	start := time.Now()
	if err := w.Command(bin, "parallel-run", "diff", "--as-of", "2025-03-31 09:00").Run(); err != nil {
		t.Fatalf("diff: %v", err)
	}
	took := time.Since(start)
	recorded := check("after the first diff")
	for i := range 10 {
		delay := took * time.Duration(i+4) / 10 // from 40 % of the way to a little after its end
		// Each day something else differs, so that every snapshot opens and closes drift.
		pgtest.Exec(t, w.New, fmt.Sprintf(`UPDATE people SET job_title = 'Day %d', updated_at = now() WHERE id = (SELECT min(id) + %d FROM people)`, i, i))
		cmd := w.Command(bin, "parallel-run", "diff", "--as-of", fmt.Sprintf("2025-04-%02d 09:00", i+1))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
		n := check(fmt.Sprintf("killed after %s", delay))
		if n != recorded && n != recorded+1 {
			t.Fatalf("%d snapshots after %d", n, recorded)
		}
		recorded = n
	}
	// The next diff, uninterrupted, is recorded and agrees with the history; incremental on the
	// files the killed ones left, it finds what a full read finds, and leaves no temporary file.
	// (exit 3: the changed titles fail the plan's max_mismatched check)
	if err := w.Command(bin, "parallel-run", "diff", "--as-of", "2025-04-20 09:00", "--verify").Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("diff after the kills: %v", err)
		}
	}
	if n := check("after the kills"); n != recorded+1 {
		t.Fatalf("%d snapshots, want %d", n, recorded+1)
	}
	cache := filepath.Join(w.Dir, ".crmigrate", "parallel-run", url.PathEscape(w.Plan.Name))
	if files, _ := filepath.Glob(filepath.Join(cache, "*")); len(files) == 0 {
		t.Errorf("no cached reads in %s", cache)
	}
	if tmp, _ := filepath.Glob(filepath.Join(cache, "*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	t.Logf("a diff takes %s; %d of the 10 killed ones had recorded their snapshot", took, recorded-1)
}

// A reconcile killed with SIGKILL at any point and run again ends as one that was not killed:
// every drift it fixes is closed by the next diff, and nothing is written twice (as many deals and
// people in new as before they were damaged).
func TestKilledReconcileEndsAsAnUninterruptedOne(t *testing.T) {
	t.Parallel()
	bin := demotest.Binary(t)
	w := newWorld(t, nil)
	people := pgtest.Scan[int64](t, w.New, `SELECT count(*) FROM people`)
	deals := pgtest.Scan[int64](t, w.New, `SELECT count(*) FROM opportunities`)
	// Damage in new that reconcile repairs: titles edited (authority old), deals and their
	// activities deleted.
	pgtest.Exec(t, w.New, `UPDATE people SET job_title = 'Damaged', updated_at = '2025-06-15 12:00+00' WHERE id % 3 = 0`,
		`DELETE FROM activities WHERE opportunity_id IN (SELECT id FROM opportunities WHERE id % 4 = 0)`,
		`DELETE FROM opportunities WHERE id % 4 = 0`)
	diff := func(day string) {
		t.Helper()
		err := w.Command(bin, "parallel-run", "diff", "--as-of", day).Run()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 3) {
			t.Fatalf("diff: %v", err)
		}
	}
	diff("2025-07-01 09:00")
	day := 1
	start := time.Now()
	if err := w.Command(bin, "parallel-run", "reconcile", "--dry-run").Run(); err != nil {
		t.Fatalf("reconcile --dry-run: %v", err)
	}
	took := time.Since(start)
	for i := range 5 {
		if i > 0 { // a fresh snapshot: the last reconcile may have finished, and wrote since
			day++
			diff(fmt.Sprintf("2025-07-%02d 09:00", day))
		}
		cmd := w.Command(bin, "parallel-run", "reconcile")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil { // it ran to its end: it must have succeeded
				t.Fatalf("reconcile %d, not killed: %v", i, err)
			}
		case <-time.After(took * time.Duration(i+2) / 6):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
	}
	// The kills landed while reconciles were writing: some journaled writes of runs that never
	// finished (abandoned), whose work the next runs completed.
	var killedWrites int64
	if err := w.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM crmigrate.journal j JOIN crmigrate.runs r ON r.id = j.run_id
		WHERE r.phase = 'parallel-run.reconcile' AND r.status IN ('running', 'abandoned')`).Scan(&killedWrites); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes journaled by killed reconciles (the kills are spread over a run; 0 means they all landed outside the writes)", killedWrites)
	diff("2025-07-10 09:00")
	if out, err := w.Command(bin, "parallel-run", "reconcile").CombinedOutput(); err != nil {
		t.Fatalf("reconcile after the kills: %v\n%s", err, out)
	}
	diff("2025-07-11 09:00")
	if n := pgtest.Scan[int64](t, w.New, `SELECT count(*) FROM people WHERE job_title = 'Damaged'`); n != 0 {
		t.Errorf("%d titles still damaged", n)
	}
	if p, d := pgtest.Scan[int64](t, w.New, `SELECT count(*) FROM people`), pgtest.Scan[int64](t, w.New, `SELECT count(*) FROM opportunities`); p != people || d != deals {
		t.Errorf("%d people and %d deals in new, want %d and %d", p, d, people, deals)
	}
	var open int64
	if err := w.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM crmigrate.pr_drift WHERE closed_at IS NULL
		AND state = 'drift' AND (class = 'lost_in_new' OR class = 'field_mismatch' AND field = 'title')`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d title or lost drift rows still open after reconcile", open)
	}
}
