package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pgerr"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/reports"
)

func parallelRunCommand() *cli.Command {
	return &cli.Command{
		Name:  "parallel-run",
		Usage: "the daily comparison of old and new while both run: consistency snapshots with drift history",
		Description: "Old and new run side by side for 30–60 days. Every day (or every few minutes), `parallel-run diff`\n" +
			"compares them through the plan's mapping, as validate does, and keeps the drift it finds: since when\n" +
			"each difference exists, and when it went away. See docs/parallel-run.md.",
		OnUsageError: onUsageError,
		Subcommands: []*cli.Command{
			reconcileCommand(),
			parallelReviewCommand(),
			{
				Name:  "diff",
				Usage: "take one consistency snapshot of old against new, and record it as the parallel run's day",
				Description: "Needs a validate that passed after the last full migrate (--force to run anyway, audited).\n" +
					"Differences changed on either side within parallel_run.grace are in flight, not drift; differences\n" +
					"of a field that parallel_run.ignore names are counted apart; parallel_run.critical marks drift to\n" +
					"list first. Exit 3 when a fail-severity check fails on the drift.",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "as-of", Usage: "label the snapshot with `TIME` and use it as now for the grace window (RFC 3339, or YYYY-MM-DD[ HH:MM[:SS]] in the plan's time zone; a date alone is its last second); the CRMs are read as they are"},
					&cli.BoolFlag{Name: "full", Usage: "read every record again (a snapshot otherwise reads what changed since the last one; a full pass runs by itself once every parallel_run.full_every)"},
					&cli.BoolFlag{Name: "dedup", Usage: "run the plan's dedup rules against the new CRM now (they run by themselves once every parallel_run.full_every)"},
					&cli.BoolFlag{Name: "verify", Usage: "after an incremental snapshot, read everything again and fail (exit 1) if a full read differs"},
					&cli.BoolFlag{Name: "force", Usage: "take the snapshot even without a validate that passed since the last full migrate (audited)"},
					&cli.IntFlag{Name: "memory", Value: 1024, Usage: "memory budget in `MiB` (as validate's)"},
					&cli.IntFlag{Name: "limit", Value: 100, Usage: "list at most `N` drift rows per object (the history keeps them all; 0: all)"},
					&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked"},
				}, formatFlags(reports.ValidateFormats...)...),
				OnUsageError: onUsageError,
				Action:       runParallelDiff,
			},
			{
				Name:  "watch",
				Usage: "take a snapshot now and then every --every (default parallel_run.every) until stopped",
				Description: "Snapshots never overlap (a diff of the plan by another process is refused, and the tick\n" +
					"reports it). When the control database or a CRM goes away, the snapshot is tried again with a\n" +
					"doubling wait until its next tick; other errors are reported and the next tick runs. Ctrl-C lets\n" +
					"a running snapshot finish, then stops (a second Ctrl-C aborts it; it is then not recorded).\n" +
					"Prints one line per snapshot; the snapshots themselves are in the control database.",
				Flags: []cli.Flag{planFlag(), stateURLFlag(),
					&cli.DurationFlag{Name: "every", Usage: "time between the starts of two snapshots (default: the plan's parallel_run.every)"},
					&cli.BoolFlag{Name: "force", Usage: "take snapshots even without a validate that passed since the last full migrate (audited)"},
					&cli.IntFlag{Name: "memory", Value: 1024, Usage: "memory budget in `MiB` (as validate's)"},
					&cli.IntFlag{Name: "limit", Value: 100, Usage: "keep at most `N` drift rows per object in each snapshot's JSON (the history keeps them all; 0: all)"},
					&cli.IntFlag{Name: "ticks", Usage: "stop after `N` snapshots (0: until stopped)"},
				},
				OnUsageError: onUsageError,
				Action:       runParallelWatch,
			},
		},
	}
}

// snapshotFlags checks the flags that diff and watch share.
func snapshotFlags(c *cli.Context) error {
	if c.Int("limit") < 0 {
		return usageError("--limit must be 0 or more")
	}
	if c.Int("memory") < 64 {
		return usageError("--memory must be at least 64 (MiB)")
	}
	return nil
}

// takeSnapshot runs parallel-run diff as a phase run, with c's flags.
func takeSnapshot(ctx context.Context, c *cli.Context, ws *workspace.Workspace, rn *phase.Runner, asOf time.Time) (*parallelrun.Snapshot, error) {
	p := ws.Plan
	limit := c.Int("limit")
	if limit == 0 {
		limit = -1
	}
	budget := int64(c.Int("memory")) << 20
	force := c.Bool("force")
	return phase.Execute(ctx, rn, phase.ParallelRun, phase.Options{Force: force},
		func(ctx context.Context, run *phase.Run) (*parallelrun.Snapshot, error) {
			if os.Getenv("GOMEMLIMIT") == "" {
				defer softMemoryLimit(budget / 4 * 3)()
			}
			prog := newProgress(c.App.ErrWriter)
			defer prog.done()
			return parallelrun.Diff(ctx, p, parallelrun.Options{DB: rn.DB, Env: crm.Env{Plan: p, URL: ws.SystemURL}, RunID: run.ID, CacheDir: ws.CacheDir(),
				AsOf: asOf, Full: c.Bool("full"), Verify: c.Bool("verify"), Dedup: c.Bool("dedup"), Force: force, Limit: limit, MemoryBudget: budget, Progress: prog.validate})
		})
}

// asOfLayouts are the forms --as-of takes in the plan's time zone.
var asOfLayouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"}

// parseAsOf reads --as-of: RFC 3339, or a local time or date in loc.
func parseAsOf(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range asOfLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t.AddDate(0, 0, 1).Add(-time.Second), nil
	}
	return time.Time{}, usageError("--as-of %q is not a time: write 2026-12-04T18:00:00+01:00, 2026-12-04 18:00 or 2026-12-04", s)
}

func runParallelDiff(c *cli.Context) error {
	format, err := formatOf(c, reports.ValidateFormats...)
	if err != nil {
		return err
	}
	if err := snapshotFlags(c); err != nil {
		return err
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	p := ws.Plan
	var asOf time.Time
	if s := c.String("as-of"); s != "" {
		loc := p.Location
		if loc == nil {
			loc = time.UTC
		}
		if asOf, err = parseAsOf(s, loc); err != nil {
			return err
		}
		if asOf.After(time.Now().Add(time.Hour)) && !c.Bool("force") {
			return usageError("--as-of %s is in the future: snapshots go forward, so none could be taken before it (pass --force if you mean it)", s)
		}
	}
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return err
	}
	snap, err := takeSnapshot(c.Context, c, ws, rn, asOf)
	var checkFailed *phase.CheckFailedError
	if err != nil && !errors.As(err, &checkFailed) {
		return err
	}
	if rerr := reports.RenderSnapshot(c.App.Writer, p, snap, format, c.Bool("show-pii")); rerr != nil {
		return rerr
	}
	return err
}

func runParallelWatch(c *cli.Context) error {
	if err := snapshotFlags(c); err != nil {
		return err
	}
	if c.Int("ticks") < 0 {
		return usageError("--ticks must be 0 or more")
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	every := time.Duration(ws.Plan.ParallelRun.Every)
	if c.IsSet("every") {
		every = c.Duration("every")
	}
	if every < time.Second {
		return usageError("--every must be at least 1s")
	}
	if _, err := phaseRunner(c, ws); err != nil {
		return err
	}
	out, errw := c.App.Writer, c.App.ErrWriter
	loc := ws.Plan.Location
	if loc == nil {
		loc = time.UTC
	}
	failed := false
	parallelrun.Watch(c.Context, parallelrun.WatchOptions{Every: every, Ticks: c.Int("ticks")},
		func(ctx context.Context) error {
			rn, err := phaseRunner(c, ws)
			if err != nil {
				return err
			}
			snap, err := takeSnapshot(ctx, c, ws, rn, time.Time{})
			if err != nil && pgerr.Transient(err) && ws.Reconnect(ctx) {
				fmt.Fprintln(errw, "crmigrate: the private PostgreSQL went away; it is started again for the next try")
			}
			var checkFailed *phase.CheckFailedError
			if snap != nil && (err == nil || errors.As(err, &checkFailed)) {
				fmt.Fprintln(out, reports.SnapshotLine(ws.Plan, snap))
				return nil
			}
			return err
		},
		func(ev parallelrun.WatchEvent) {
			switch {
			case ev.Stopped:
				fmt.Fprintln(errw, "crmigrate: watch stopped")
			case ev.Err != nil && ev.Retry > 0:
				fmt.Fprintf(errw, "crmigrate: snapshot %d: %v; trying again in %s\n", ev.Tick, ev.Err, ev.Retry)
			case ev.Err != nil:
				failed = true
				fmt.Fprintf(errw, "crmigrate: snapshot %d: %v\n", ev.Tick, ev.Err)
			}
			if !ev.Stopped && !ev.Next.IsZero() && ev.Retry == 0 {
				fmt.Fprintf(errw, "crmigrate: next snapshot at %s\n", ev.Next.In(loc).Format("2006-01-02 15:04:05 MST"))
			}
		})
	if failed && c.Int("ticks") > 0 {
		return &ExitCodeError{Code: ExitError, Err: errors.New("some snapshots failed (see above)")}
	}
	return nil
}

// driftClassNames are the classes --class takes.
var driftClassNames = []string{"missing_in_new", "refused_in_new", "lost_in_new", "missing_in_old", "field_mismatch",
	"duplicate_in_new", "duplicate_in_old", "broken_ref"}

func reconcileCommand() *cli.Command {
	return &cli.Command{
		Name:  "reconcile",
		Usage: "apply the plan's per-field authority to the open drift of the last snapshot",
		Description: "Where old is right (authority old, most_recent with old changed last, a record lost in new), the\n" +
			"record is written to new again through migrate's write path: crosswalk, journal, and undo with\n" +
			"`crmigrate migrate undo --run N`. Every other fix is listed with why it is not written (new is\n" +
			"right, a person decides, the new CRM refuses the data, duplicates to merge). Run `parallel-run diff`\n" +
			"afterwards: what was fixed shows closed. Takes the writer lock (not with migrate or clean).",
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be done and predict the writes; write nothing"},
			&cli.StringFlag{Name: "class", Usage: "only drift of `CLASS` (missing_in_new names both of its kinds)"},
			&cli.StringFlag{Name: "object", Usage: "only drift of `OBJECT`"},
			&cli.IntFlag{Name: "limit", Usage: "act on at most `N` drift rows (0: all); a record is written whole, so its other fixable drift is fixed with it"},
			&cli.BoolFlag{Name: "force", Usage: "reconcile even if the last validate did not pass, or a write came after the last snapshot (audited)"},
		}, formatFlags(reports.ValidateFormats...)...),
		OnUsageError: onUsageError,
		Action:       runReconcile,
	}
}

func runReconcile(c *cli.Context) error {
	format, err := formatOf(c, reports.ValidateFormats...)
	if err != nil {
		return err
	}
	if c.Int("limit") < 0 {
		return usageError("--limit must be 0 or more")
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	p := ws.Plan
	if o := c.String("object"); o != "" && p.Object(o) == nil {
		return usageError("the plan has no object %q", o)
	}
	if cl := c.String("class"); cl != "" && !slices.Contains(driftClassNames, cl) {
		return usageError("--class %q is not a drift class; use one of %s", cl, strings.Join(driftClassNames, ", "))
	}
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return err
	}
	dry := c.Bool("dry-run")
	rec, err := phase.Execute(c.Context, rn, phase.Reconcile, phase.Options{Force: c.Bool("force"), DryRun: dry},
		func(ctx context.Context, run *phase.Run) (*parallelrun.Reconciliation, error) {
			return parallelrun.Reconcile(ctx, p, parallelrun.ReconcileOptions{DB: rn.DB, Env: crm.Env{Plan: p, URL: ws.SystemURL},
				RunID: run.ID, DryRun: dry, Class: c.String("class"), Object: c.String("object"), Limit: c.Int("limit"), Force: c.Bool("force")})
		})
	if rerr := reports.RenderReconciliation(c.App.Writer, rec, format); rerr != nil {
		return rerr
	}
	return err
}
