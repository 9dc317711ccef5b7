package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/validate"
)

// reportCommand is `crmigrate report`: reports made from what the control database holds.
func reportCommand() *cli.Command {
	return &cli.Command{
		Name:         "report",
		Usage:        "reports made from the stored runs and snapshots (they never read the CRMs)",
		OnUsageError: onUsageError,
		Subcommands: []*cli.Command{
			{
				Name:  "parity",
				Usage: "the daily parity report of the parallel run: headline, gates, objects, trend, what to do",
				Description: "Made from the stored snapshots and drift history (docs/report-schema.md describes its JSON).\n" +
					"--out-dir DIR writes every day's report as dated files (parity-DATE.html, .md, .json) and an index.html\n" +
					"listing the days, so that the folder can be shared as it is; days already written are kept,\n" +
					"the last one (and the one asked for) written again.",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.IntFlag{Name: "day", Usage: "the parallel-run day `N` (default: the last)"},
					&cli.StringFlag{Name: "date", Usage: "or the day of `DATE` (YYYY-MM-DD in the plan's time zone)"},
					&cli.StringFlag{Name: "out", Usage: "write the report to `FILE` instead of stdout"},
					&cli.StringFlag{Name: "out-dir", Usage: "write every day's report into `DIR` with an index.html"},
					&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked"},
				}, formatFlags(reports.ParityFormats...)...),
				OnUsageError: onUsageError,
				Action:       runParityReport,
			},
			{
				Name:  "cutover",
				Usage: "the go/no-go checklist (as of now) with the journal of the integrations' switches and rollbacks",
				Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
					&cli.StringFlag{Name: "at", Usage: "when cutover would run (`TIME`, as cutover check's --at; default: now)"},
					&cli.StringFlag{Name: "out", Usage: "write the report to `FILE` instead of stdout"},
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
					steps, err := db.CutoverSteps(c.Context, ws.Plan.Name)
					if err != nil {
						return err
					}
					r := &reports.CutoverReport{Checklist: list, Journal: steps}
					if out := c.String("out"); out != "" {
						return atomicfile.Write(out, 0o644, func(w io.Writer) error { return reports.RenderCutoverReport(w, r, format) })
					}
					return reports.RenderCutoverReport(c.App.Writer, r, format)
				},
			},
			runReportCommand("migration", phase.Migrate, "a migrate run's summary (default: the last) and its rejects grouped by reason, with the values that caused them", reports.MigrateFormats),
			runReportCommand("clean", phase.Clean, "a clean run's summary (default: the last) and its rejects grouped by reason, with the values that caused them", reports.CleanFormats),
			runReportCommand("validation", phase.Validate, "a validate run's result (default: the last) and its rejects", reports.ValidateFormats),
		},
	}
}

func runParityReport(c *cli.Context) error {
	format, err := formatOf(c, reports.ParityFormats...)
	if err != nil {
		return err
	}
	if c.IsSet("day") && c.IsSet("date") {
		return usageError("give --day or --date, not both")
	}
	if c.IsSet("out") && c.IsSet("out-dir") {
		return usageError("give --out or --out-dir, not both")
	}
	ws, db, err := openState(c)
	if err != nil {
		return err
	}
	defer ws.Close()
	p := ws.Plan
	r, err := parallelrun.Parity(c.Context, p, parallelrun.ParityOptions{DB: db, Day: c.Int("day"), Date: c.String("date")})
	if errors.Is(err, parallelrun.ErrNoSnapshot) {
		return &ExitCodeError{Err: err, Code: ExitUsage}
	}
	if err != nil {
		return err
	}
	showPII := c.Bool("show-pii")
	if dir := c.String("out-dir"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		// The folder lists every day of the run, whatever day was asked for.
		full := r
		if c.IsSet("day") || c.IsSet("date") {
			if full, err = parallelrun.Parity(c.Context, p, parallelrun.ParityOptions{DB: db}); err != nil {
				return err
			}
		}
		written := 0
		for _, t := range full.Trend {
			name := filepath.Join(dir, "parity-"+t.Date)
			// A day's files are written again when it got a later snapshot since, or when asked for.
			if t.Day != r.Day && t.Day != full.Day && reportRunOf(name+".json") == t.RunID {
				continue
			}
			day := r
			switch t.Day {
			case r.Day:
			case full.Day:
				day = full
			default:
				if day, err = parallelrun.Parity(c.Context, p, parallelrun.ParityOptions{DB: db, Day: t.Day}); err != nil {
					return err
				}
			}
			for _, f := range []string{"html", "md", "json"} {
				if err := atomicfile.Write(name+"."+f, 0o644, func(w io.Writer) error { return reports.RenderParity(w, p, day, f, showPII) }); err != nil {
					return fmt.Errorf("write %s.%s: %w", name, f, err)
				}
			}
			written++
		}
		if err := atomicfile.Write(filepath.Join(dir, "index.html"), 0o644, func(w io.Writer) error { return parityIndex(w, full) }); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, "index.html"), err)
		}
		fmt.Fprintf(c.App.Writer, "wrote the reports of %d of the %d days, and index.html, in %s\n", written, len(full.Trend), dir)
		return nil
	}
	if out := c.String("out"); out != "" {
		return atomicfile.Write(out, 0o644, func(w io.Writer) error { return reports.RenderParity(w, p, r, format, showPII) })
	}
	return reports.RenderParity(c.App.Writer, p, r, format, showPII)
}

// parityIndex lists every day of the run with its headline numbers and its files.
func parityIndex(w io.Writer, r *parallelrun.ParityReport) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
		`<title>Parity reports: ` + html.EscapeString(r.Plan) + `</title><style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:60rem}` +
		`table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:right}` +
		`td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}</style></head><body>`)
	fmt.Fprintf(&b, "<h1>Parity reports: %s</h1><p>%s</p>", html.EscapeString(r.Plan), html.EscapeString(r.Headline.Summary))
	b.WriteString("<table><thead><tr><th>day</th><th>date</th><th>parity</th><th>drifted records</th><th>opened</th><th>closed</th><th>report</th></tr></thead><tbody>")
	for i := len(r.Trend) - 1; i >= 0; i-- {
		t := r.Trend[i]
		name := "parity-" + t.Date
		fmt.Fprintf(&b, `<tr><td>%d</td><td>%s</td><td>%.2f %%</td><td>%d</td><td>%d</td><td>%d</td><td><a href="%s.html">report</a> · <a href="%s.md">Markdown</a> · <a href="%s.json">JSON</a></td></tr>`,
			t.Day, t.Date, 100*t.Parity, t.Drifted, t.Opened, t.Closed, name, name, name)
	}
	b.WriteString("</tbody></table></body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// statusCommand is `crmigrate status`: where the project stands, and the next step.
func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "where the project stands: each phase's last run, the parallel run's day and parity, what waits for a person, the gates, and the next command to run",
		Description: "Reads the control database only. It exits 0 whatever the state: it reports, it does not judge\n" +
			"(the phases and the gates do).",
		Flags:        append([]cli.Flag{planFlag(), stateURLFlag()}, formatFlags(reports.StatusFormats...)...),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, reports.StatusFormats...)
			if err != nil {
				return err
			}
			ws, db, err := openState(c)
			if err != nil {
				return err
			}
			defer ws.Close()
			st, err := parallelrun.StatusOf(c.Context, ws.Plan, db, c.String("plan"), time.Now())
			if err != nil {
				return err
			}
			return reports.RenderStatus(c.App.Writer, st, format)
		},
	}
}

// runReportCommand is `report migration|clean|validation`: a run's stored summary and its rejects
// grouped by reason.
func runReportCommand(name, ph, usage string, formats []string) *cli.Command {
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.Int64Flag{Name: "run", Usage: "the run `ID` (default: the last finished " + ph + " run)"},
			&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked"},
		}, formatFlags(formats...)...),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, formats...)
			if err != nil {
				return err
			}
			ws, db, err := openState(c)
			if err != nil {
				return err
			}
			defer ws.Close()
			p := ws.Plan
			showPII := c.Bool("show-pii")
			var body any
			switch ph {
			case phase.Migrate:
				body = &migrate.Summary{}
			case phase.Clean:
				body = &clean.Summary{}
			default:
				body = &validate.Result{}
			}
			saved, err := phase.LoadSaved(c.Context, db, p, ph, c.Int64("run"), body)
			if errors.Is(err, phase.ErrNoRun) {
				return usageError("%v; see `crmigrate runs --plan %s --phase %s`", err, c.String("plan"), ph)
			}
			if err != nil {
				return err
			}
			run, found := saved.Run, saved.Found
			groups := reports.GroupRejects(p, saved.Rejects, saved.Golden)
			if format == "json" {
				out := map[string]any{"run": run, "report": nil, "rejects": groups}
				if found {
					out["report"] = body
				}
				if !showPII {
					if found {
						out["report"] = reports.MaskedReport(body)
					}
					var b strings.Builder
					if err := reports.RenderRejectGroups(&b, groups, "json", false); err != nil {
						return err
					}
					out["rejects"] = json.RawMessage(b.String())
				}
				return reports.WriteJSON(c.App.Writer, out)
			}
			w := c.App.Writer
			if !found {
				fmt.Fprintf(w, "%s run %d (%s) left no report.\n", ph, run.ID, run.Status)
			} else {
				switch b := body.(type) {
				case *migrate.Summary:
					err = reports.RenderMigrateSummary(w, b, format, showPII)
				case *clean.Summary:
					err = reports.RenderCleanSummary(w, b, format)
				case *validate.Result:
					err = reports.RenderValidation(w, p, b, format, showPII)
				}
				if err != nil {
					return err
				}
			}
			fmt.Fprintln(w)
			return reports.RenderRejectGroups(w, groups, format, showPII)
		},
	}
}

// reportRunOf is the snapshot a parity report file was made from (0 when there is none to read).
func reportRunOf(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var head struct {
		RunID int64 `json:"run_id"`
	}
	if json.NewDecoder(f).Decode(&head) != nil {
		return 0
	}
	return head.RunID
}
