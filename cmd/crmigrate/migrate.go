package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/state"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "load the golden records into the new CRM: idempotent upserts, id crosswalk, checkpoints, undo",
		Description: "Loads companies, contacts, deals and activities (dependency order) from the clean phase's staging into the\n" +
			"new CRM, remapping references through the crosswalk and owners to the new CRM's users. Every write is journaled\n" +
			"with a before-image; a run that is killed resumes from its checkpoint when started again; a run with nothing\n" +
			"changed writes nothing. Refuses to run unless the last clean passed (--force overrides, audited).",
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.BoolFlag{Name: "dry-run", Usage: "count what would be inserted, updated, left unchanged and refused, with a few masked samples; write nothing"},
			&cli.BoolFlag{Name: "delta", Usage: "only records changed in the sources since the last successful migrate (re-cleaned), and records deleted in old (the object's on_delete)"},
			&cli.IntFlag{Name: "workers", EnvVars: []string{"CRMIGRATE_WORKERS"}, Usage: "parallel writers (default: the plan's migrate.workers)"},
			&cli.BoolFlag{Name: "verify", Usage: "compare every row of the new CRM with what migrate writes, not only that it is there; rows that differ are written again"},
			&cli.BoolFlag{Name: "force", Usage: "run even though the last clean did not pass (written to the audit log)"},
			&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked in samples and rejects"},
		}, formatFlags("table", "json")...),
		OnUsageError: onUsageError,
		Action:       runMigrate,
		Subcommands: []*cli.Command{{
			Name:      "undo",
			Usage:     "delete what a migrate run inserted and restore what it changed, from its journal",
			ArgsUsage: " ",
			Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
				&cli.Int64Flag{Name: "run", Usage: "the migrate run `ID` to undo (crmigrate runs lists them)"},
				&cli.BoolFlag{Name: "force", Usage: "undo even when later runs changed the same records (written to the audit log)"},
			}, formatFlags("table", "json")...),
			OnUsageError: onUsageError,
			Action:       runUndo,
		}},
	}
}

func runMigrate(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usageError("unknown argument %q; did you mean `crmigrate migrate undo --run ID`?", c.Args().First())
	}
	format, err := formatOf(c, "table", "json")
	if err != nil {
		return err
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	sum, err := migratePhase(c, ws, migrate.Options{DryRun: c.Bool("dry-run"), Delta: c.Bool("delta"), Verify: c.Bool("verify"), Workers: c.Int("workers"), ShowPII: c.Bool("show-pii")}, c.Bool("force"))
	if sum != nil {
		if rerr := reports.RenderMigrateSummary(c.App.Writer, sum, format, c.Bool("show-pii")); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// migratePhase runs migrate as a recorded run (a dry run is not recorded).
func migratePhase(c *cli.Context, ws *workspace.Workspace, opts migrate.Options, force bool) (*migrate.Summary, error) {
	p := ws.Plan
	if err := p.RequireNew(); err != nil {
		return nil, err
	}
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return nil, err
	}
	opts.DB, opts.Env = rn.DB, crm.Env{Plan: p, URL: ws.SystemURL}
	sum, err := phase.Execute(c.Context, rn, phase.Migrate, phase.Options{Force: force, DryRun: opts.DryRun},
		func(ctx context.Context, run *phase.Run) (*migrate.Summary, error) {
			prog := newProgress(c.App.ErrWriter)
			opts.Progress, opts.RunID = prog.migrate, run.ID
			sum, err := migrate.Run(ctx, p, opts)
			prog.done()
			if sum != nil && !opts.DryRun {
				sum.PeakRSSMB = peakRSSMB()
			}
			return sum, err
		})
	var stopped *phase.StoppedError
	if errors.As(err, &stopped) && !errors.Is(err, state.ErrStagingLost) {
		err = fmt.Errorf("%w\ncrmigrate: run %d stopped at a checkpoint; run `crmigrate migrate` again to resume", err, stopped.RunID)
	}
	return sum, err
}

func runUndo(c *cli.Context) error {
	if c.Int64("run") <= 0 {
		return usageError("give the migrate run to undo with --run ID (`crmigrate runs --plan PLAN` lists them)")
	}
	format, err := formatOf(c, "table", "json")
	if err != nil {
		return err
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	p := ws.Plan
	if err := p.RequireNew(); err != nil {
		return err
	}
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return err
	}
	undo, force := c.Int64("run"), c.Bool("force")
	// The undo is a run of its own; it holds the plan's writer lock, so no clean or migrate runs meanwhile.
	sum, err := phase.Execute(c.Context, rn, phase.Undo, phase.Options{Force: force},
		func(ctx context.Context, run *phase.Run) (*migrate.UndoSummary, error) {
			fmt.Fprintf(c.App.ErrWriter, "crmigrate: undoing migrate run %d (undo run %d)\n", undo, run.ID)
			return migrate.Undo(ctx, p, migrate.UndoOptions{DB: rn.DB, RunID: run.ID, Undo: undo, Force: force, Env: crm.Env{Plan: p, URL: ws.SystemURL}})
		})
	if err != nil {
		if errors.Is(err, migrate.ErrLaterRuns) || errors.Is(err, migrate.ErrBlocked) {
			return &ExitCodeError{Err: err, Code: ExitFailed}
		}
		return err
	}
	return reports.RenderUndoSummary(c.App.Writer, sum, format)
}
