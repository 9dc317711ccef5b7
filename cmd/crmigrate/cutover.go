package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/reports"
)

// cutoverCommand is `crmigrate cutover`: the go/no-go.
func cutoverCommand() *cli.Command {
	return &cli.Command{
		Name:         "cutover",
		Usage:        "go/no-go computed from evidence, before the integrations are switched",
		OnUsageError: onUsageError,
		Subcommands: []*cli.Command{
			{
				Name:  "signoff",
				Usage: "sign the go/no-go evidence as it is now for a role of cutover.signoffs (audited); it turns stale when the evidence changes",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "role", Required: true, Usage: "the `ROLE` signing (one of the plan's cutover.signoffs)"},
					&cli.StringFlag{Name: "by", Required: true, Usage: "the `NAME` of the person signing"},
					&cli.StringFlag{Name: "note", Usage: "what they checked, or any condition (`TEXT`)"},
				}, formatFlags(reports.CutoverFormats...)...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					format, err := formatOf(c, reports.CutoverFormats...)
					if err != nil {
						return err
					}
					ws, db, err := openState(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					list, err := parallelrun.Signoff(c.Context, ws.Plan, db, c.String("role"), c.String("by"), c.String("note"), c.String("plan"))
					if errors.Is(err, parallelrun.ErrUnknownRole) {
						return usageError("%v", err)
					}
					if err != nil {
						return err
					}
					if format != "json" {
						fmt.Fprintf(c.App.Writer, "%s signed for %s the evidence %s. The checklist now:\n\n", c.String("by"), c.String("role"), list.Evidence[:12])
					}
					return reports.RenderChecklist(c.App.Writer, list, format)
				},
			},
			{
				Name:  "verify",
				Usage: "run each integration's verify action against the new CRM and record the results for the go/no-go (exit 3 when one fails)",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "integration", Usage: "only the integration `NAME`"},
				}, formatFlags("table", "json")...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
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
					if n := c.String("integration"); n != "" && !slices.ContainsFunc(p.Integrations, func(i *plans.Integration) bool { return i.Name == n }) {
						return usageError("the plan has no integration %q", n)
					}
					rn, err := phaseRunner(c, ws)
					if err != nil {
						return err
					}
					v, err := phase.Execute(c.Context, rn, phase.Verify, phase.Options{},
						func(ctx context.Context, run *phase.Run) (*cutover.Verification, error) {
							return parallelrun.VerifyIntegrations(ctx, p, rn.DB, crm.Env{Plan: p, URL: ws.SystemURL}, run.ID, c.String("integration"))
						})
					var failed *phase.CheckFailedError // a verify failed: the table says which
					if err != nil && !errors.As(err, &failed) {
						return err
					}
					if err := reports.RenderVerification(c.App.Writer, v, format); err != nil {
						return err
					}
					if v.Failures > 0 {
						return &ExitCodeError{Code: ExitFailed}
					}
					return nil
				},
			},
			{
				Name:  "execute",
				Usage: "switch the integrations one by one (switch, then verify), rolling every one back if one fails; only on GO",
				Description: "Refused unless `cutover check` says GO (--force overrides it, audited). In the switch order,\n" +
					"each integration is switched, then verified; when a switch or a verify fails, every integration\n" +
					"switched (that one included) is rolled back in reverse order and it stops. Every step is\n" +
					"journaled. Exit 0 when all are switched, 3 when refused or rolled back, 1 when a rollback failed.",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.BoolFlag{Name: "dry-run", Usage: "print the verdict and the steps in order (secrets masked); change nothing, exit 0"},
					&cli.BoolFlag{Name: "force", Usage: "switch although the go/no-go says NO-GO (audited)"},
				}, formatFlags("table", "json")...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
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
					rn, err := phaseRunner(c, ws)
					if err != nil {
						return err
					}
					dry, force := c.Bool("dry-run"), c.Bool("force")
					env := crm.Env{Plan: p, URL: ws.SystemURL}
					var e *cutover.Execution
					if dry { // whatever the verdict: no run, no lock, nothing run
						e, _, err = parallelrun.CutoverExecute(c.Context, p, rn.DB, env, 0, true, false, c.String("plan"))
					} else {
						e, err = phase.Execute(c.Context, rn, phase.Cutover, phase.Options{Force: force},
							func(ctx context.Context, run *phase.Run) (*cutover.Execution, error) {
								e, _, err := parallelrun.CutoverExecute(ctx, p, rn.DB, env, run.ID, false, force, c.String("plan"))
								return e, err
							})
					}
					if errors.Is(err, parallelrun.ErrNoGo) {
						return &ExitCodeError{Err: err, Code: ExitFailed}
					}
					var failed *phase.CheckFailedError // rolled back, or a rollback failed: the table says
					if errors.As(err, &failed) {
						err = nil
					}
					if e != nil {
						if rerr := reports.RenderExecution(c.App.Writer, e, format); rerr != nil {
							return rerr
						}
					}
					if err != nil {
						return err
					}
					switch e.Result {
					case "rolled_back":
						return &ExitCodeError{Code: ExitFailed}
					case "failed":
						return &ExitCodeError{Code: ExitError}
					}
					return nil
				},
			},
			{
				Name:         "rollback",
				Usage:        "point integrations back at the old CRM (their rollback actions), in reverse switch order; journaled",
				ArgsUsage:    "[INTEGRATION...]",
				Flags:        append([]cli.Flag{planFlag(), stateURLFlag()}, formatFlags("table", "json")...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
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
					rn, err := phaseRunner(c, ws)
					if err != nil {
						return err
					}
					e, err := phase.Execute(c.Context, rn, phase.Rollback, phase.Options{},
						func(ctx context.Context, run *phase.Run) (*cutover.Execution, error) {
							return parallelrun.CutoverRollback(ctx, p, rn.DB, crm.Env{Plan: p, URL: ws.SystemURL}, run.ID, c.Args().Slice())
						})
					var failed *phase.CheckFailedError
					if errors.As(err, &failed) && e != nil && e.Result == "rolled_back" {
						err = nil // a rollback run's Failed reads "rolled back" as not switched: it is what was asked
					}
					if errors.Is(err, parallelrun.ErrUnknownIntegration) {
						return usageError("%v", err)
					}
					if err != nil {
						return err
					}
					if err := reports.RenderExecution(c.App.Writer, e, format); err != nil {
						return err
					}
					if e.Result != "rolled_back" {
						return &ExitCodeError{Code: ExitError}
					}
					return nil
				},
			},
			{
				Name:  "check",
				Usage: "every cutover gate computed from the control database, then GO (exit 0) or NO-GO (exit 3)",
				Description: "Phases passed in order; the parallel run's length; the plan's gates (cutover.gates) on the\n" +
					"snapshots; the calendar (never_on, freeze, hours) at --at; the integrations' verifies, the\n" +
					"old CRM's snapshot and the sign-offs (not recorded by this version: they fail).",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "at", Usage: "when cutover would run (`TIME`: YYYY-MM-DDTHH:MM[:SS] in the plan's time zone, or RFC 3339); it changes only the calendar gates (default: now)"},
				}, formatFlags(reports.CutoverFormats...)...),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					format, err := formatOf(c, reports.CutoverFormats...)
					if err != nil {
						return err
					}
					ws, db, err := openState(c)
					if err != nil {
						return err
					}
					defer ws.Close()
					at, err := atOf(c, "at", ws.Plan)
					if err != nil {
						return err
					}
					list, err := parallelrun.CutoverCheck(c.Context, ws.Plan, db, at, c.String("plan"))
					if err != nil {
						return err
					}
					if err := reports.RenderChecklist(c.App.Writer, list, format); err != nil {
						return err
					}
					if list.Result != cutover.Go {
						return &ExitCodeError{Code: ExitFailed} // the verdict is printed
					}
					return nil
				},
			},
		},
	}
}

// snapshotCommand is `crmigrate snapshot`: the CRMs exported to a folder with checksums, the way
// back that the go/no-go asks for.
func snapshotCommand() *cli.Command {
	return &cli.Command{
		Name:  "snapshot",
		Usage: "export every mapped object of every system (the old CRM, the new, the exports) to CSV files with a manifest of rows and SHA-256",
		Description: "Default folder: snapshots/DATE-TIME/ beside the plan. The manifest (manifest.json, written last)\n" +
			"lists each file's system, object, rows, bytes and SHA-256; the run records it in the control database,\n" +
			"and `crmigrate cutover check` counts a snapshot taken within the last 24 hours as the way back.",
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.StringFlag{Name: "dir", Usage: "write the snapshot into `DIR` (it must not hold one already)"},
		}, formatFlags("table", "json")...),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
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
			dir := c.String("dir")
			if dir == "" {
				loc := p.Location
				if loc == nil {
					loc = time.UTC
				}
				dir = filepath.Join(p.Dir, "snapshots", time.Now().In(loc).Format("2006-01-02-150405"))
			}
			rn, err := phaseRunner(c, ws)
			if err != nil {
				return err
			}
			m, err := phase.Execute(c.Context, rn, phase.Snapshot, phase.Options{},
				func(ctx context.Context, run *phase.Run) (*cutover.Manifest, error) {
					return cutover.TakeSnapshot(ctx, p, crm.Env{Plan: p, URL: ws.SystemURL}, dir, run.ID)
				})
			if err != nil {
				return err
			}
			return reports.RenderManifest(c.App.Writer, m, format)
		},
	}
}

// crosswalkCommand is `crmigrate crosswalk export`: old ids → new ids, for the integrations and
// systems that stored old CRM ids and must be pointed at the new records.
func crosswalkCommand() *cli.Command {
	return &cli.Command{
		Name:         "crosswalk",
		Usage:        "the id crosswalk migrate keeps: old id → new id per object",
		OnUsageError: onUsageError,
		Subcommands: []*cli.Command{{
			Name:  "export",
			Usage: "every source record migrate wrote, with the id its record has in the new CRM (CSV, or JSON lines)",
			Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
				&cli.StringFlag{Name: "object", Usage: "only `OBJECT`"},
				&cli.BoolFlag{Name: "show-pii", Usage: "show canonical keys that are emails or phone numbers unmasked"},
			}, formatFlags(reports.CrosswalkFormats...)...),
			OnUsageError: onUsageError,
			Action: func(c *cli.Context) error {
				format := c.String("format")
				if c.Bool("json") {
					format = "json"
				}
				if format == "" || format == "table" {
					format = "csv"
				}
				ws, err := openWorkspace(c, false)
				if err != nil {
					return err
				}
				defer ws.Close()
				if o := c.String("object"); o != "" && ws.Plan.Object(o) == nil {
					return usageError("the plan has no object %q", o)
				}
				db, err := ws.State(c.Context)
				if err != nil {
					return err
				}
				cw, err := reports.NewCrosswalkWriter(c.App.Writer, format, c.Bool("show-pii"))
				if err != nil {
					return usageError("%v", err)
				}
				if err := db.EachCrosswalkID(c.Context, ws.Plan.Name, c.String("object"), cw.Write); err != nil {
					return err
				}
				return cw.Close()
			},
		}},
	}
}
