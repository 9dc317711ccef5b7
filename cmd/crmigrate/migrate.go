package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/migrate"
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
	sum, err := migratePhase(c, ws, migrate.Options{DryRun: c.Bool("dry-run"), Delta: c.Bool("delta"), Workers: c.Int("workers"), ShowPII: c.Bool("show-pii")}, c.Bool("force"))
	if sum != nil {
		if rerr := reports.RenderMigrateSummary(c.App.Writer, sum, format, c.Bool("show-pii")); rerr != nil && err == nil {
			err = rerr
		}
		if sum.Rejected > 0 && !sum.DryRun && sum.RunID != 0 {
			if werr := writeRejects(c, ws, "migrate", sum.RunID); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return err
}

// migratePhase runs migrate as a recorded run (a dry run is not recorded).
func migratePhase(c *cli.Context, ws *workspace.Workspace, opts migrate.Options, force bool) (*migrate.Summary, error) {
	ctx := c.Context
	p := ws.Plan
	if err := p.RequireNew(); err != nil {
		return nil, err
	}
	db, err := ws.State(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.RequirePassed(ctx, p.Name, "clean"); err != nil {
		if !force || !errors.Is(err, state.ErrPhaseNotPassed) {
			return nil, err
		}
		fmt.Fprintf(c.App.ErrWriter, "crmigrate: %v\ncrmigrate: going on because of --force (audited)\n", err)
	}
	opts.DB, opts.Env = db, crm.Env{Plan: p, URL: ws.SystemURL}
	prog := newProgress(c.App.ErrWriter)
	opts.Progress = prog.migrate
	if opts.DryRun {
		sum, err := migrate.Run(ctx, p, opts)
		prog.done()
		return sum, err
	}
	run, err := db.StartRun(ctx, state.RunSpec{Plan: p.Name, PlanHash: p.Hash, PlanPath: p.Path, Phase: migrate.Phase, Args: redactedArgs(os.Args[1:]), Forced: force})
	if err != nil {
		return nil, err
	}
	opts.RunID = run.ID
	sum, runErr := migrate.Run(ctx, p, opts)
	prog.done()
	if sum != nil {
		sum.PeakRSSMB = peakRSSMB()
	}
	status := state.StatusPassed
	switch {
	case runErr != nil && ctx.Err() != nil:
		status = state.StatusAborted
	case runErr != nil:
		status = state.StatusFailed
	}
	var counts map[string]int64
	if sum != nil {
		counts = sum.Counts()
		if err := db.SaveReport(ctx, run.ID, sum); err != nil && runErr == nil {
			runErr, status = err, state.StatusFailed
		}
	}
	if err := run.Finish(ctx, status, counts, runErr); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil && status != state.StatusPassed {
		runErr = fmt.Errorf("%w\ncrmigrate: run %d stopped at a checkpoint; run `crmigrate migrate` again to resume", runErr, run.ID)
	}
	return sum, runErr
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
	ctx := c.Context
	p := ws.Plan
	if err := p.RequireNew(); err != nil {
		return err
	}
	db, err := ws.State(ctx)
	if err != nil {
		return err
	}
	// The undo holds migrate's lock (no migrate runs meanwhile) and is recorded as a run of its own.
	lock, err := db.StartRun(ctx, state.RunSpec{Plan: p.Name, PlanHash: p.Hash, PlanPath: p.Path, Phase: migrate.UndoPhase, LockPhase: migrate.Phase,
		Args: redactedArgs(os.Args[1:]), Forced: c.Bool("force")})
	if err != nil {
		return err
	}
	sum, runErr := migrate.Undo(ctx, p, migrate.UndoOptions{DB: db, RunID: lock.ID, Undo: c.Int64("run"), Force: c.Bool("force"), Env: crm.Env{Plan: p, URL: ws.SystemURL}})
	status := state.StatusPassed
	if runErr != nil {
		status = state.StatusFailed
	}
	var counts map[string]int64
	if sum != nil {
		counts = map[string]int64{"undone_run": sum.Undone, "deleted": sum.Deleted, "restored": sum.Restored}
	}
	if err := lock.Finish(ctx, status, counts, runErr); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		if errors.Is(runErr, migrate.ErrLaterRuns) {
			return &ExitCodeError{Err: runErr, Code: ExitFailed}
		}
		return runErr
	}
	return reports.RenderUndoSummary(c.App.Writer, sum, format)
}
