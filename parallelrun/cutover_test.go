package parallelrun_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/parallelrun"
)

// The go/no-go from the control database: the demo's phases pass; a sign-off holds for the
// evidence it signed and turns stale with the next snapshot that changes it; a role the plan does
// not list cannot sign.
func TestCutoverCheckAndSignoffs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	at := time.Date(2031, 3, 4, 9, 0, 0, 0, time.UTC) // a Tuesday
	w.mustDiff(at.Add(-time.Hour))
	check := func() *cutover.Checklist {
		t.Helper()
		c, err := parallelrun.CutoverCheck(ctx, w.Plan, w.DB, at, "plan.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	item := func(c *cutover.Checklist, group string) cutover.Item {
		for _, it := range c.Items {
			if it.Group == group {
				return it
			}
		}
		t.Fatalf("no %s item", group)
		return cutover.Item{}
	}
	c := check()
	if c.Result != cutover.NoGo || item(c, "phases").Result != cutover.Pass || item(c, "parallel run").Result != cutover.Fail ||
		item(c, "sign-offs").Result != cutover.Fail || len(c.Evidence) != 64 {
		t.Fatalf("the demo after one snapshot: %+v", c)
	}
	if it := item(c, "snapshot"); it.Result != cutover.Fail || it.Observed != "none taken" {
		t.Errorf("before a snapshot: %+v", it)
	}
	// A snapshot of the CRMs: every mapped object of every system, with rows and checksums.
	dir := t.TempDir()
	var m *cutover.Manifest
	w.MustRecord(t, "snapshot", func(ctx context.Context, runID int64) error {
		var err error
		if m, err = cutover.TakeSnapshot(ctx, w.Plan, w.Env(), dir, runID); err != nil {
			return err
		}
		return w.DB.SaveReport(ctx, runID, m)
	})
	contacts := pgtest.Scan[int64](t, w.New, `SELECT count(*) FROM people`)
	var found bool
	for _, f := range m.Files {
		raw, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(raw)) != f.Bytes {
			t.Errorf("%s: checksum or size differ from the manifest", f.Path)
		}
		if f.System == "new" && f.Object == "contact" {
			found = f.Rows == contacts && strings.Count(string(raw), "\n") >= int(contacts)+1
		}
	}
	if !found || len(m.Files) < 8 {
		t.Errorf("manifest: %+v (new contacts %d)", m.Files, contacts)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Error(err)
	}
	if _, err := cutover.TakeSnapshot(ctx, w.Plan, w.Env(), dir, 0); err == nil {
		t.Error("a second snapshot into the same folder")
	}
	if it := item(check(), "snapshot"); it.Result != cutover.Pass {
		t.Errorf("after a snapshot: %+v", it)
	}
	if _, err := parallelrun.Signoff(ctx, w.Plan, w.DB, "ceo", "Eve", "", "plan.yaml"); !errors.Is(err, parallelrun.ErrUnknownRole) {
		t.Errorf("an unknown role signed: %v", err)
	}
	for _, role := range w.Plan.Cutover.Signoffs {
		if _, err := parallelrun.Signoff(ctx, w.Plan, w.DB, role, "Ann Signer", "checked the report", "plan.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	if it := item(check(), "sign-offs"); it.Result != cutover.Pass || !strings.Contains(it.Observed, "Ann Signer") {
		t.Errorf("all signed: %+v", it)
	}
	// A deal lost in new: the next snapshot changes the evidence, the sign-offs are stale.
	deal := pgtest.Scan[string](t, w.New, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	pgtest.Exec(t, w.New, `DELETE FROM activities WHERE opportunity_id = `+deal, `DELETE FROM opportunities WHERE id = `+deal)
	w.mustDiff(at.Add(-30 * time.Minute))
	if it := item(check(), "sign-offs"); it.Result != cutover.Stale || !strings.Contains(it.Observed, "stale") {
		t.Errorf("after the evidence changed: %+v", it)
	}

	// NO-GO refuses to switch; forced, it switches (the demo's actions succeed), journaled and audited.
	var refused error
	w.Record(t, "cutover", func(ctx context.Context, runID int64) error {
		_, _, refused = parallelrun.CutoverExecute(ctx, w.Plan, w.DB, w.Env(), runID, false, false, "plan.yaml")
		return refused
	})
	if !errors.Is(refused, parallelrun.ErrNoGo) {
		t.Fatalf("execute on NO-GO: %v", refused)
	}
	var e *cutover.Execution
	w.MustRecord(t, "cutover", func(ctx context.Context, runID int64) error {
		var err error
		e, _, err = parallelrun.CutoverExecute(ctx, w.Plan, w.DB, w.Env(), runID, false, true, "plan.yaml")
		return err
	})
	steps := pgtest.Scan[int64](t, w.StateURL, `SELECT count(*) FROM crmigrate.cutover_steps WHERE ok`)
	forced := pgtest.Scan[int64](t, w.StateURL, `SELECT count(*) FROM crmigrate.audit_log WHERE action = 'cutover.execute.forced'`)
	if e.Result != "switched" || !e.Forced || steps != int64(2*len(w.Plan.Integrations)) || forced != 1 {
		t.Errorf("forced execute: %s forced %v, %d steps journaled, %d audit entries", e.Result, e.Forced, steps, forced)
	}
}
