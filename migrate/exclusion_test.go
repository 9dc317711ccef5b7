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

	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/state"
)

// Phases that write staging or the new CRM exclude each other, and a clean that did not pass (a
// killed one included) blocks migrate unless --force. Runs the real binary.
func TestWritersExcludeEachOtherAndAKilledCleanBlocksMigrate(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
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
