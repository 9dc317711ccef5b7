package migrate_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/state"
)

// Phases that write staging or the new CRM exclude each other, and a clean that did not pass (a
// killed one included) blocks migrate unless --force. Runs the real binary.
func TestWritersExcludeEachOtherAndAKilledCleanBlocksMigrate(t *testing.T) {
	t.Parallel()
	bin := demotest.Binary(t)
	w := newWorld(t, small(), nil)
	w.mustMigrate(migrate.Options{})
	ctx := context.Background()
	plan := filepath.Join(w.dir, "crmigrate.yaml")
	crmigrate := func(args ...string) (int, string) {
		cmd := exec.Command(bin, append(args, "--plan", plan, "--state-url", w.ctl)...)
		cmd.Env = append(os.Environ(), "T_OLD="+w.old, "T_NEW="+w.new)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}

	// Another process is cleaning (it holds the plan's writer lock on a connection of its own).
	other, err := state.Open(ctx, w.ctl)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	clean, err := other.StartRun(ctx, state.RunSpec{Plan: w.plan.Name, Phase: phase.Clean, Lock: phase.WriterLock,
		LockPhases: []string{phase.Clean, phase.Migrate, phase.Undo, phase.Reconcile, phase.Demo}})
	if err != nil {
		t.Fatal(err)
	}
	holder := "run " + strconv.FormatInt(clean.ID, 10)
	for _, args := range [][]string{{"migrate"}, {"migrate", "--dry-run"}, {"migrate", "undo", "--run", "1"}, {"clean"}} {
		code, out := crmigrate(args...)
		if code == 0 || !strings.Contains(out, holder) || !strings.Contains(out, "clean") {
			t.Errorf("crmigrate %s while clean %s runs: exit %d\n%s", strings.Join(args, " "), holder, code, out)
		}
	}
	if err := clean.Finish(ctx, state.StatusPassed, nil, nil); err != nil {
		t.Fatal(err)
	}

	// A real clean killed mid-run: its run stays "running" until migrate takes the lock and finds
	// it dead; migrate then refuses, --force overrides.
	cmd := exec.Command(bin, "clean", "--plan", plan, "--state-url", w.ctl)
	cmd.Env = append(os.Environ(), "T_OLD="+w.old, "T_NEW="+w.new)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	running := func() int64 {
		var id int64
		_ = w.db.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM crmigrate.runs WHERE phase = 'clean' AND status = 'running'`).Scan(&id)
		return id
	}
	var killed int64
	for deadline := time.Now().Add(60 * time.Second); killed == 0 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("clean ended before it could be killed: %v", err)
		default:
		}
		killed = running()
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	if killed == 0 {
		t.Fatal("clean never showed as running")
	}
	code, out := crmigrate("migrate")
	if code == 0 || !strings.Contains(out, "run "+strconv.FormatInt(killed, 10)) || !strings.Contains(out, "abandoned") {
		t.Fatalf("migrate after a killed clean: exit %d\n%s", code, out)
	}
	if code, out = crmigrate("migrate", "--force"); code != 0 || !strings.Contains(out, "--force") {
		t.Fatalf("migrate --force after a killed clean: exit %d\n%s", code, out)
	}
}

// stagingState sums up a plan's staging: per object, the golden ids with their digests and the
// members with their golden ids.
func stagingState(t *testing.T, w *world) string {
	t.Helper()
	var s string
	if err := w.db.Pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(x, ';' ORDER BY x), '') FROM (
		SELECT object || ':' || count(*) || ':' || md5(string_agg(golden_id || digest, ',' ORDER BY golden_id)) AS x FROM crmigrate.golden WHERE plan = $1 GROUP BY object
		UNION ALL
		SELECT object || ':m' || count(*) || ':' || md5(string_agg(source || source_id || golden_id, ',' ORDER BY source, source_id)) FROM crmigrate.cluster_members WHERE plan = $1 GROUP BY object) s`,
		w.plan.Name).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A clean killed while it writes staging (the real binary, SIGKILL) leaves the previous clean's
// staging whole: every object as the previous clean wrote it, or (killed after the swap) every
// object as the new one did, never a mix; and no table of the killed clean stays behind.
func TestKilledCleanLeavesStagingWhole(t *testing.T) {
	t.Parallel()
	bin := demotest.Binary(t)
	o := small()
	o.Companies, o.Contacts, o.Deals = 300, 4000, 600
	w := newWorld(t, o, nil)
	ctx := context.Background()
	plan := filepath.Join(w.dir, "crmigrate.yaml")
	before := stagingState(t, w)
	// Every company and contact changes: a clean now writes other digests for both.
	w.exec(w.old, `UPDATE accounts SET account_name = account_name || ' Group'`)
	w.exec(w.old, `UPDATE contacts SET title = coalesce(title, '') || ' II'`)

	var states []string
	midWrite := 0
	for _, k := range []int{1, 3, 5, 7} {
		cmd := exec.Command(bin, "clean", "--plan", plan, "--state-url", w.ctl)
		cmd.Env = append(os.Environ(), "T_OLD="+w.old, "T_NEW="+w.new)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill it during its k-th COPY into a staging table.
		seen, last := 0, ""
	poll:
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
			select {
			case <-exited:
				break poll
			default:
			}
			var q string
			_ = w.db.Pool.QueryRow(ctx, `SELECT coalesce(min(query), '') FROM pg_stat_activity WHERE state = 'active'
				AND query ILIKE 'copy "crmigrate".%'`).Scan(&q)
			if q != "" && q != last {
				seen++
				if seen >= k {
					_ = cmd.Process.Signal(syscall.SIGKILL)
					midWrite++
					<-exited
					break
				}
			}
			last = q
		}
		states = append(states, stagingState(t, w))
	}
	// The killed cleans' tables are rolled back with their transactions, or, killed between
	// committing them and swapping them in, dropped by the next clean.
	stray := func() int {
		var n int
		if err := w.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = 'crmigrate'::regnamespace AND relkind = 'r'
			AND NOT relispartition AND (relname LIKE 'golden\_%' OR relname LIKE 'cluster\_members\_%')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := stray(); n > 2 {
		t.Errorf("%d tables of staging left outside it by the killed cleans (at most one generation's two)", n)
	}
	if midWrite == 0 {
		t.Fatal("no clean was killed while writing staging")
	}
	if code, out := func() (int, string) {
		cmd := exec.Command(bin, "clean", "--plan", plan, "--state-url", w.ctl)
		cmd.Env = append(os.Environ(), "T_OLD="+w.old, "T_NEW="+w.new)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}(); code != 0 && code != 3 {
		t.Fatalf("clean: exit %d\n%s", code, out)
	}
	if n := stray(); n != 0 {
		t.Errorf("%d tables of staging left outside it after a clean that passed", n)
	}
	after := stagingState(t, w)
	if before == after {
		t.Fatal("the changed data staged the same as before: the test shows nothing")
	}
	for i, s := range states {
		if s != before && s != after {
			t.Errorf("after kill %d staging is a mix:\n%s\nwant the previous clean's\n%s\nor the new one's\n%s", i+1, s, before, after)
		}
	}
	t.Logf("killed %d cleans while they wrote staging", midWrite)
}
