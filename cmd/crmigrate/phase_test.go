package main

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ctrlCOn is a stderr that presses Ctrl-C (cancels the command's context, as the first SIGINT
// does) as soon as the command prints want.
type ctrlCOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	want   string
	cancel context.CancelFunc
}

func (w *ctrlCOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.cancel()
	}
	return n, nil
}

// runInterrupted runs crmigrate in-process and presses Ctrl-C when stderr shows want.
func runInterrupted(t *testing.T, want string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &ctrlCOn{want: want, cancel: cancel}
	var out bytes.Buffer
	code := Main(ctx, append([]string{"crmigrate"}, args...), &out, stderr)
	if ctx.Err() == nil {
		t.Fatalf("crmigrate %s never printed %q; stderr:\n%s", strings.Join(args, " "), want, stderr.buf.String())
	}
	return code, stderr.buf.String()
}

type runRow struct {
	ID     int64            `json:"id"`
	Phase  string           `json:"phase"`
	Status string           `json:"status"`
	Counts map[string]int64 `json:"counts"`
}

func listRuns(t *testing.T, plan string) []runRow {
	t.Helper()
	code, stdout, stderr := run(t, "runs", "--plan", plan, "--json")
	var runs []runRow
	if code != 0 || json.Unmarshal([]byte(stdout), &runs) != nil {
		t.Fatalf("runs: exit %d\n%s%s", code, stdout, stderr)
	}
	return runs
}

// Ctrl-C during an undo and during the demo's generation ends their runs as aborted, as it does
// for clean and migrate, and the next command runs normally.
func TestCtrlCDuringUndoAndDemoRecordsAborted(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	demoArgs := []string{"demo", "--dir", demoDir, "--companies", "30", "--contacts", "150", "--deals", "40", "--seed", "5"}
	if code, _, stderr := run(t, demoArgs...); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	var migrateRun int64
	for _, r := range listRuns(t, plan) {
		if r.Phase == "migrate" && r.Status == "passed" {
			migrateRun = r.ID
		}
	}
	if migrateRun == 0 {
		t.Fatal("the demo recorded no passed migrate")
	}

	code, stderr := runInterrupted(t, "undoing migrate run", "migrate", "undo", "--plan", plan, "--run", strconv.FormatInt(migrateRun, 10))
	if code == 0 {
		t.Fatalf("an interrupted undo exited 0:\n%s", stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "migrate.undo" || runs[0].Status != "aborted" {
		t.Fatalf("after Ctrl-C during undo the newest run is %+v, want an aborted migrate.undo", runs[0])
	}

	code, stderr = runInterrupted(t, "generating the old CRM", demoArgs...)
	if code == 0 {
		t.Fatalf("an interrupted demo exited 0:\n%s", stderr)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "demo" || runs[0].Status != "aborted" {
		t.Fatalf("after Ctrl-C during the demo the newest run is %+v, want an aborted demo", runs[0])
	}
	// The lock was released: the demo runs to its end again.
	if code, _, stderr := run(t, demoArgs...); code != 0 {
		t.Fatalf("demo after the interrupted one: exit %d\n%s", code, stderr)
	}
}

// No phase lifecycle in cmd/: runs are started, checked, ended and their reports saved by package
// phase only.
func TestCommandsLeaveTheRunLifecycleToPackagePhase(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]bool{"StartRun": true, "RequirePassed": true, "TakeLock": true, "LastFinished": true, "SaveReport": true, "Begin": true}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && forbidden[sel.Sel.Name] {
				t.Errorf("%s: cmd/ calls %s; run phases through phase.Execute", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
