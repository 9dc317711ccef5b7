package migrate_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/migrate"
)

// TestKilledRunsResumeToTheStateOfAnUninterruptedRun starts the real binary, kills it with
// SIGKILL at several points of the load, starts it again each time, and compares the new CRM and
// the crosswalk with those of an uninterrupted run. The journal must be complete too: undoing the
// final run (which adopted the killed runs' work) empties the new CRM.
func TestKilledRunsResumeToTheStateOfAnUninterruptedRun(t *testing.T) {
	t.Parallel()
	bin := demotest.Binary(t)
	smallBatches := func(plan string) string { return plan + "\nmigrate: {batch_size: 40, workers: 2}\n" }
	ref := newWorld(t, small(), smallBatches)
	refSum := ref.mustMigrate(migrate.Options{})
	w := newWorld(t, small(), smallBatches)
	ctx := context.Background()

	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "migrate", "--plan", filepath.Join(w.dir, "crmigrate.yaml"), "--state-url", w.ctl, "--json")
		cmd.Env = append(os.Environ(), "T_OLD="+w.old, "T_NEW="+w.new)
		cmd.Stdout, cmd.Stderr = &strings.Builder{}, &strings.Builder{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	written := func() int64 {
		var n int64
		_ = w.db.Pool.QueryRow(ctx, `SELECT count(*) FROM crmigrate.journal WHERE action <> 'undo'`).Scan(&n)
		return n
	}
	total := refSum.Inserted
	// Kill points: right at the start, then at growing shares of the rows journaled.
	points := []float64{0, 0.15, 0.4, 0.65, 0.9}
	kills := 0
	for _, share := range points {
		cmd := start()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(60 * time.Second)
		target := int64(share * float64(total))
		finished := false
	wait:
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				finished = true
				break wait
			default:
			}
			if written() > target {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if finished {
			t.Logf("the run finished before the kill point %.0f%%", share*100)
			continue
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		kills++
		t.Logf("killed at %.0f%%: %d of %d rows journaled", share*100, written(), total)
	}
	if kills < 3 {
		t.Fatalf("only %d kills landed mid-run", kills)
	}
	// The last start runs to the end.
	cmd := start()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v\n%s", err, cmd.Stderr)
	}
	if !strings.Contains(cmd.Stdout.(*strings.Builder).String(), `"resumed_from"`) {
		t.Errorf("the final run did not resume:\n%s", cmd.Stdout)
	}
	if got, want := dumpNew(t, w.new), dumpNew(t, ref.new); got != want {
		t.Fatalf("after %d kills the new CRM differs from an uninterrupted run's:\n%s", kills, firstDiff(got, want))
	}
	if got, want := dumpCrosswalk(t, w.db, w.plan.Name, w.new), dumpCrosswalk(t, ref.db, ref.plan.Name, ref.new); got != want {
		t.Fatalf("after %d kills the crosswalk differs from an uninterrupted run's:\n%s", kills, firstDiff(got, want))
	}
	// Once more: nothing to do.
	again := w.mustMigrate(migrate.Options{})
	if !again.NothingToDo {
		t.Errorf("a run after the resumed one wrote: %+v", again)
	}
	// The journal holds every insert of the killed runs: undoing the last run that wrote empties the CRM.
	runs, err := w.db.Runs(ctx, w.plan.Name, migrate.Phase, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.undo(runs[1].ID, false); err != nil {
		t.Fatal(err)
	}
	if n := w.count(w.new, `SELECT (SELECT count(*) FROM companies) + (SELECT count(*) FROM people) + (SELECT count(*) FROM opportunities) + (SELECT count(*) FROM activities)`); n != 0 {
		t.Errorf("%d rows left after undoing the resumed run: the journal missed them", n)
	}
}
