package main

import (
	"encoding/csv"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/validate"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "compare old and new: identity mode compares one table on two PostgreSQL databases, row by row",
		Description: "Identity mode (no plan needed): --old-url, --new-url, --table and --key compare the raw values of every\n" +
			"column the two tables share, matched by the key column; each side is read once with COPY, ordered by\n" +
			"the key. Exit 0 when the tables hold the same rows, 3 when they differ. See docs/validate.md.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "old-url", EnvVars: []string{"CRMIGRATE_OLD_URL"}, Usage: "PostgreSQL URL of the old side (identity mode)"},
			&cli.StringFlag{Name: "new-url", EnvVars: []string{"CRMIGRATE_NEW_URL"}, Usage: "PostgreSQL URL of the new side (identity mode)"},
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
	spec := validate.TableSpec{OldURL: c.String("old-url"), NewURL: c.String("new-url"), Table: c.String("table"), Key: c.String("key"), Limit: c.Int("limit")}
	var missing []string
	for _, f := range [][2]string{{"old-url", spec.OldURL}, {"new-url", spec.NewURL}, {"table", spec.Table}, {"key", spec.Key}} {
		if f[1] == "" {
			missing = append(missing, "--"+f[0])
		}
	}
	if len(missing) > 0 {
		return usageError("validate compares a table on two databases: give %s (e.g. `crmigrate validate --old-url URL --new-url URL --table contacts --key id`)",
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
