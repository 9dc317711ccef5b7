package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/reports"
)

// demoDay is one simulated day as the demo reports it.
type demoDay struct {
	demo.SimDay
	Snapshot   int64  `json:"snapshot"` // the parallel-run run
	Summary    string `json:"summary"`
	Reconciled int64  `json:"reconciled,omitempty"`
}

// runDemoDays simulates n days of the parallel run after the demo's migrate: each day both CRMs
// change, the old-to-new sync runs (migrate --delta), the day's faults are injected, and a
// snapshot is taken as of the day's evening; the first of the last seven days resolves the faults.
// The days and their ground truth are written to truth/parallel-run.json.
func runDemoDays(c *cli.Context, ws *workspace.Workspace, oldURL, newURL string, opts demo.Options, n int) ([]demoDay, error) {
	ctx := c.Context
	say := func(format string, args ...any) { fmt.Fprintf(c.App.ErrWriter, format+"\n", args...) }
	loc := ws.Plan.Location
	if loc == nil {
		loc = time.UTC
	}
	oldConn, err := pgx.Connect(ctx, oldURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the old CRM: %w", err)
	}
	defer oldConn.Close(context.WithoutCancel(ctx))
	newConn, err := pgx.Connect(ctx, newURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the new CRM: %w", err)
	}
	defer newConn.Close(context.WithoutCancel(ctx))
	sim := &demo.Sim{Old: oldConn, New: newConn, Loc: loc, Opts: opts}
	days := demo.ParallelDays(n, time.Now(), loc)
	out := make([]demoDay, 0, n)
	y, m, d := days[0].Sync.In(loc).Date()
	since := time.Date(y, m, d, 0, 0, 0, 0, loc) // the first day's changes
	for _, day := range days {
		dd := demoDay{SimDay: day}
		if day.Fix {
			// The faults are resolved: reconcile the last snapshot's drift, merge the integration's
			// duplicates in new, and add the known difference to the plan.
			rn, err := phaseRunner(c, ws)
			if err != nil {
				return out, err
			}
			rec, err := phase.Execute(ctx, rn, phase.Reconcile, phase.Options{},
				func(ctx context.Context, run *phase.Run) (*parallelrun.Reconciliation, error) {
					return parallelrun.Reconcile(ctx, ws.Plan, parallelrun.ReconcileOptions{DB: rn.DB, Env: crm.Env{Plan: ws.Plan, URL: ws.SystemURL}, RunID: run.ID})
				})
			if err != nil {
				return out, fmt.Errorf("day %d: reconcile: %w", day.N, err)
			}
			dd.Reconciled = rec.Applied
			if err := sim.Merge(ctx); err != nil {
				return out, err
			}
			if err := addKnownDifference(ws); err != nil {
				return out, err
			}
		}
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("the simulation stopped before day %d: %w", day.N, err)
		}
		rn, err := phaseRunner(c, ws)
		if err != nil {
			return out, err
		}
		sim.Lone = map[string][]string{}
		for table, object := range map[string]string{"contacts": "contact", "accounts": "company", "opportunities": "deal"} {
			if sim.Lone[table], err = rn.DB.SingleMembers(ctx, ws.Plan.Name, object, plans.SystemOld); err != nil {
				return out, err
			}
		}
		if err := sim.BeforeSync(ctx, day); err != nil {
			return out, err
		}
		started := time.Now()
		if _, err := migratePhase(c, ws, migrate.Options{Delta: true, Since: since}, false); err != nil {
			return out, fmt.Errorf("day %d: the sync: %w", day.N, err)
		}
		// The sync ran at the day's sync time: what it wrote carries that time in new.
		if err := sim.StampSync(ctx, day, started); err != nil {
			return out, err
		}
		since = day.Sync.Add(-time.Duration(ws.Plan.ParallelRun.Overlap))
		if err := sim.AfterSync(ctx, day); err != nil {
			return out, err
		}
		if rn, err = phaseRunner(c, ws); err != nil {
			return out, err
		}
		p := ws.Plan
		snap, err := phase.Execute(ctx, rn, phase.ParallelRun, phase.Options{},
			func(ctx context.Context, run *phase.Run) (*parallelrun.Snapshot, error) {
				return parallelrun.Diff(ctx, p, parallelrun.Options{DB: rn.DB, Env: crm.Env{Plan: p, URL: ws.SystemURL}, RunID: run.ID, CacheDir: ws.CacheDir(),
					AsOf: day.AsOf, Dedup: day.Dedup, Limit: -1, Verify: c.Bool("verify")})
			})
		var checkFailed *phase.CheckFailedError
		if err != nil && !errors.As(err, &checkFailed) {
			return out, fmt.Errorf("day %d: the snapshot: %w", day.N, err)
		}
		dd.Snapshot, dd.Summary = snap.RunID, reports.SnapshotLine(p, snap)
		say("crmigrate demo: day %d of %d (%s)%s: %s", day.N, n, day.Date, faultNote(day), dd.Summary)
		out = append(out, dd)
	}
	path := filepath.Join(ws.Plan.Dir, "truth", "parallel-run.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return out, err
	}
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return reports.WriteJSON(w, days) }); err != nil {
		return out, fmt.Errorf("write the parallel run's ground truth: %w", err)
	}
	return out, nil
}

func faultNote(day demo.SimDay) string {
	switch {
	case day.Fix:
		return ", faults resolved"
	case len(day.Faults) > 0:
		return ", faults: " + strings.Join(day.Faults, ", ")
	}
	return ""
}

// addKnownDifference adds the simulation's known difference to the demo's plan file, and loads it.
func addKnownDifference(ws *workspace.Workspace) error {
	path := ws.Plan.Path
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	k := demo.IgnoredField
	rule := fmt.Sprintf("  ignore:\n    - {object: %s, field: %s, reason: %q}\n", k.Object, k.Field, k.Reason)
	text := string(raw)
	if strings.Contains(text, rule) {
		return nil
	}
	at := strings.Index(text, "\nparallel_run:\n")
	if at < 0 {
		return errors.New("the demo's plan has no parallel_run section (a bug)")
	}
	end := strings.Index(text[at+1:], "\n\n")
	if end < 0 {
		end = len(text) - at - 1
	}
	cut := at + 1 + end + 1
	text = text[:cut] + rule + text[cut:]
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, text); return err }); err != nil {
		return err
	}
	p, err := plans.Load(path)
	if err != nil {
		return fmt.Errorf("the demo's plan with its known difference does not load (a bug): %w", err)
	}
	ws.Plan = p
	return nil
}
