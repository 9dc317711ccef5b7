package main

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/validate"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "compare old and new through the plan's mapping and evaluate its checks (or, in identity mode, one table on two databases)",
		Description: "With a plan: every object the new CRM maps is compared record by record and field by field with what\n" +
			"the new CRM should hold (the current source records, merged by the plan's rules, through its mapping),\n" +
			"and the plan's checks are evaluated; exit 3 when a fail-severity check fails. Needs a passed migrate\n" +
			"(--force to run anyway).\n\n" +
			"Identity mode (no plan needed): --old-url, --new-url, --table and --key compare the raw values of every\n" +
			"column the two tables share, matched by the key column; each side is read once with COPY, ordered by\n" +
			"the key. Exit 0 when the tables hold the same rows, 3 when they differ. See docs/validate.md.",
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.StringSliceFlag{Name: "object", Usage: "validate only this `OBJECT` (repeat for more)"},
			&cli.BoolFlag{Name: "force", Usage: "validate even if the last migrate did not pass (recorded in the audit log)"},
			&cli.IntFlag{Name: "memory", Value: 1024, Usage: "memory budget in `MiB`: an object that would not fit is validated in several passes"},
			&cli.StringFlag{Name: "old-url", EnvVars: []string{"CRMIGRATE_OLD_URL"}, Usage: "PostgreSQL `URL` of the old side (identity mode)"},
			&cli.StringFlag{Name: "new-url", EnvVars: []string{"CRMIGRATE_NEW_URL"}, Usage: "PostgreSQL `URL` of the new side (identity mode)"},
			&cli.StringFlag{Name: "table", Usage: "table to compare, `NAME` or SCHEMA.NAME (identity mode)"},
			&cli.StringFlag{Name: "key", Usage: "key `COLUMN` that matches rows across the two tables (identity mode)"},
			&cli.IntFlag{Name: "limit", Value: 100, Usage: "list at most `N` differences with their values (all are counted)"},
			&cli.StringFlag{Name: "differences", Usage: "write every difference to `FILE` (CSV: key,class,columns)"},
			&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked"},
		}, formatFlags(reports.ValidateFormats...)...),
		OnUsageError: onUsageError,
		Action:       runValidate,
	}
}

func runValidate(c *cli.Context) error {
	format, err := formatOf(c, reports.ValidateFormats...)
	if err != nil {
		return err
	}
	identity := false
	for _, f := range []string{"old-url", "new-url", "table", "key"} {
		identity = identity || c.IsSet(f)
	}
	if !identity {
		return runValidatePlan(c, format)
	}
	spec := validate.TableSpec{OldURL: c.String("old-url"), NewURL: c.String("new-url"), Table: c.String("table"), Key: c.String("key"), Limit: c.Int("limit")}
	var missing []string
	for _, f := range [][2]string{{"old-url", spec.OldURL}, {"new-url", spec.NewURL}, {"table", spec.Table}, {"key", spec.Key}} {
		if f[1] == "" {
			missing = append(missing, "--"+f[0])
		}
	}
	if len(missing) > 0 {
		return usageError("identity mode compares a table on two databases: give %s too (e.g. `crmigrate validate --old-url URL --new-url URL --table contacts --key id`)",
			strings.Join(missing, ", "))
	}
	if spec.Limit < 0 {
		return usageError("--limit must be 0 or more")
	}
	if spec.Limit == 0 {
		spec.Limit = -1 // none listed
	}
	var d *validate.TableDiff
	if path := c.String("differences"); path != "" {
		err = atomicfile.Write(path, 0o600, func(f io.Writer) error {
			w := csv.NewWriter(f)
			_ = w.Write([]string{"key", "class", "columns"})
			spec.OnDifference = func(d validate.Difference) error {
				cols := make([]string, len(d.Fields))
				for i, f := range d.Fields {
					cols[i] = f.Field
				}
				return w.Write([]string{d.Key, d.Class, strings.Join(cols, " ")})
			}
			var err error
			if d, err = validate.DiffTables(c.Context, spec); err != nil {
				return err
			}
			w.Flush()
			return w.Error()
		})
	} else {
		d, err = validate.DiffTables(c.Context, spec)
	}
	if err != nil {
		return err
	}
	if err := reports.RenderTableDiff(c.App.Writer, d, format, c.Bool("show-pii")); err != nil {
		return err
	}
	if !d.Same() {
		return &ExitCodeError{Code: ExitFailed} // the result says how
	}
	return nil
}

// runValidatePlan validates through the plan, as the validate phase.
func runValidatePlan(c *cli.Context, format string) error {
	if c.Int("limit") < 0 {
		return usageError("--limit must be 0 or more")
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	limit := c.Int("limit")
	if limit == 0 {
		limit = -1
	}
	if c.Int("memory") < 64 {
		return usageError("--memory must be at least 64 (MiB)")
	}
	res, err := validatePhase(c, ws, c.StringSlice("object"), limit, c.Bool("force"), int64(c.Int("memory"))<<20)
	var checkFailed *phase.CheckFailedError
	if err != nil && !errors.As(err, &checkFailed) {
		return err
	}
	if rerr := reports.RenderValidation(c.App.Writer, ws.Plan, res, format, c.Bool("show-pii")); rerr != nil {
		return rerr
	}
	return err
}

// validatePhase runs the validate phase: a check that failed is a *phase.CheckFailedError, with
// the result.
// budget is the memory budget in bytes (0: validate's default); the Go heap's soft limit is three
// quarters of it when GOMEMLIMIT is not set (see softMemoryLimit), the rest being the collector's
// and the runtime's.
func validatePhase(c *cli.Context, ws *workspace.Workspace, objects []string, limit int, force bool, budget int64) (*validate.Result, error) {
	if budget <= 0 {
		budget = validate.DefaultMemoryBudget
	}
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return nil, err
	}
	p := ws.Plan
	name := phase.Validate
	if len(objects) > 0 {
		name = phase.ValidateSome
	}
	return phase.Execute(c.Context, rn, name, phase.Options{Force: force},
		func(ctx context.Context, run *phase.Run) (*validate.Result, error) {
			if os.Getenv("GOMEMLIMIT") == "" { // GOMEMLIMIT overrides it (GOMEMLIMIT=off for none)
				defer softMemoryLimit(budget / 4 * 3)()
			}
			prog := newProgress(c.App.ErrWriter)
			defer prog.done()
			res, err := validate.Run(ctx, p, validate.Options{DB: rn.DB, Env: crm.Env{Plan: p, URL: ws.SystemURL},
				Objects: objects, Limit: limit, Progress: prog.validate, MemoryBudget: budget, SkipKnown: true})
			if res != nil {
				res.RunID = run.ID
			}
			return res, err
		})
}
