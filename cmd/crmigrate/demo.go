package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/validate"
)

func demoCommand() *cli.Command {
	def := demo.DefaultOptions()
	return &cli.Command{
		Name:  "demo",
		Usage: "generate a realistic messy old CRM and an empty new one in a private PostgreSQL, with an example plan, CSV exports and ground truth; check the plan, profile the old CRM, clean, migrate and validate",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "crmigrate-demo", EnvVars: []string{"CRMIGRATE_DEMO_DIR"}, Usage: "write the demo project into `DIR`"},
			&cli.IntFlag{Name: "companies", Value: def.Companies, Usage: "number of companies in the old CRM"},
			&cli.IntFlag{Name: "contacts", Value: def.Contacts, Usage: "number of people (contacts and leads) in the old CRM"},
			&cli.IntFlag{Name: "deals", Value: def.Deals, Usage: "number of opportunities in the old CRM"},
			&cli.Uint64Flag{Name: "seed", Value: def.Seed, Usage: "random seed; the same seed gives the same data"},
			&cli.BoolFlag{Name: "keep", Usage: "leave the private PostgreSQL running and print the connection URLs"},
			&cli.BoolFlag{Name: "show-pii", Usage: "show emails and phone numbers unmasked in the profile"},
			&cli.BoolFlag{Name: "migrate", Value: true, Usage: "migrate the golden records into the new CRM after clean (--migrate=false stops after clean)"},
			&cli.BoolFlag{Name: "validate", Value: true, Usage: "validate old against new after migrate (--validate=false stops after migrate)"},
			&cli.IntFlag{Name: "days", Usage: "then simulate `N` days of the parallel run ending today: both CRMs change, the daily sync, injected faults, a snapshot a day (docs/parallel-run.md)"},
			&cli.BoolFlag{Name: "verify", Usage: "with --days: after each incremental snapshot read everything again, and stop if a full read differs"},
		}, formatFlags("table", "json")...),
		OnUsageError: onUsageError,
		Action:       runDemo,
	}
}

// demoResult is what `crmigrate demo --json` prints.
type demoResult struct {
	Dir       string              `json:"dir"`
	Plan      string              `json:"plan"`
	Options   demo.Options        `json:"options"`
	Generated *demo.Summary       `json:"generated"`
	Files     *demo.Summary       `json:"files"`
	Connected []crm.SystemCheck   `json:"connected"`
	Map       *plans.Map          `json:"map"`
	Profile   *demo.ProfileResult `json:"profile"`
	Clean     *clean.Summary      `json:"clean"`
	Migrate   *migrate.Summary    `json:"migrate,omitempty"`
	Validate  *validate.Result    `json:"validate,omitempty"`
	Days      []demoDay           `json:"days,omitempty"`
	Final     *validate.Result    `json:"final_validate,omitempty"`
	URLs      map[string]string   `json:"urls,omitempty"`
	Seconds   float64             `json:"seconds"`
}

func runDemo(c *cli.Context) error {
	format, err := formatOf(c, "table", "json")
	if err != nil {
		return err
	}
	ctx := c.Context
	start := time.Now()
	opts := demo.Options{Companies: c.Int("companies"), Contacts: c.Int("contacts"), Deals: c.Int("deals"), Seed: c.Uint64("seed")}
	if opts.Companies < 1 || opts.Contacts < 1 || opts.Deals < 0 {
		return usageError("--companies and --contacts must be at least 1, --deals at least 0")
	}
	if c.Int("days") < 0 || c.Int("days") > 366 {
		return usageError("--days must be from 0 to 366")
	}
	if c.Int("days") > 0 && (!c.Bool("migrate") || !c.Bool("validate")) {
		return usageError("--days simulates the parallel run after migrate and validate: drop --migrate=false and --validate=false")
	}
	dir, err := filepath.Abs(c.String("dir"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create demo folder: %w", err)
	}
	say := func(format string, args ...any) { fmt.Fprintf(c.App.ErrWriter, format+"\n", args...) }
	res := demoResult{Dir: dir, Options: opts}

	say("crmigrate demo: writing the example plan, CSV exports and ground truth to %s", dir)
	if res.Files, err = demo.WriteFiles(dir, opts); err != nil {
		return fmt.Errorf("write demo files: %w", err)
	}
	res.Plan = filepath.Join(dir, "crmigrate.yaml")
	ws, err := workspace.Open(workspace.Options{PlanPath: res.Plan, Keep: c.Bool("keep"), Log: c.App.ErrWriter})
	if err != nil {
		return fmt.Errorf("the demo's own plan does not load (a bug): %w", err)
	}
	defer ws.Close()
	say("crmigrate demo: starting the private PostgreSQL in %s", ws.Home)
	oldURL, err := ws.SystemURL(ctx, ws.Plan.Old())
	if err != nil {
		return err
	}
	newURL, err := ws.SystemURL(ctx, ws.Plan.New())
	if err != nil {
		return err
	}
	rn, err := phaseRunner(c, ws)
	if err != nil {
		return err
	}
	// Generating the CRMs is a run of its own; it holds the plan's writer lock while it replaces them.
	_, err = phase.Execute(ctx, rn, phase.Demo, phase.Options{}, func(ctx context.Context, _ *phase.Run) (*demo.Summary, error) {
		say("crmigrate demo: generating the old CRM (%d companies, %d people, %d deals, seed %d) and the empty new CRM",
			opts.Companies, opts.Contacts, opts.Deals, opts.Seed)
		oldConn, err := pgx.Connect(ctx, oldURL)
		if err != nil {
			return nil, fmt.Errorf("connect to the old CRM: %w", err)
		}
		defer oldConn.Close(context.WithoutCancel(ctx))
		if res.Generated, err = demo.CreateOldCRM(ctx, oldConn, opts); err != nil {
			return res.Generated, err
		}
		newConn, err := pgx.Connect(ctx, newURL)
		if err != nil {
			return res.Generated, fmt.Errorf("connect to the new CRM: %w", err)
		}
		defer newConn.Close(context.WithoutCancel(ctx))
		if err := demo.CreateNewCRM(ctx, newConn, opts); err != nil {
			return res.Generated, err
		}
		say("crmigrate demo: checking the plan against both CRMs and the exports")
		checks, errs := crm.CheckMappings(ctx, ws.Plan, ws.SystemURL)
		res.Connected = checks
		if len(errs) > 0 {
			return res.Generated, fmt.Errorf("the demo plan does not match the generated data (a bug):\n%w", errs)
		}
		if res.Profile, err = demo.Profile(ctx, oldConn); err != nil {
			return res.Generated, err
		}
		return res.Generated, nil
	})
	if err != nil {
		return err
	}
	res.Map = plans.BuildMap(ws.Plan)
	say("crmigrate demo: cleaning: normalizing, finding duplicates, merging them into golden records")
	var validateErr error
	var checkFailed *phase.CheckFailedError
	if res.Clean, err = cleanPhase(c, ws, 0); err != nil && !errors.As(err, &checkFailed) {
		return err
	}
	if res.Clean.Passed && c.Bool("migrate") {
		say("crmigrate demo: migrating the golden records into the new CRM")
		if res.Migrate, err = migratePhase(c, ws, migrate.Options{}, false); err != nil {
			return err
		}
		if c.Bool("validate") {
			say("crmigrate demo: validating: old against new through the plan, and the plan's checks")
			if res.Validate, err = validatePhase(c, ws, nil, 0, false, 0); err != nil && !errors.As(err, &checkFailed) {
				return err
			}
			validateErr = err // a failed check: shown, then exit 3
		}
		if n := c.Int("days"); n > 0 && validateErr != nil {
			say("crmigrate demo: not simulating the %d days: the demo's validate did not pass (a larger or another --seed passes)", n)
		}
		if n := c.Int("days"); n > 0 && validateErr == nil && res.Validate != nil {
			say("crmigrate demo: simulating %d days of the parallel run", n)
			if res.Days, err = runDemoDays(c, ws, oldURL, newURL, opts, n); err != nil {
				return err
			}
			say("crmigrate demo: validating after the parallel run")
			if res.Final, err = validatePhase(c, ws, nil, 0, false, 0); err != nil && !errors.As(err, &checkFailed) {
				return err
			}
			validateErr = err
		}
	}
	if c.Bool("keep") {
		h, err := ws.Local(ctx)
		if err != nil {
			return err
		}
		res.URLs = map[string]string{"old": h.URL("demo_old"), "new": h.URL("demo_new"), "control": h.URL(workspace.ControlDB)}
	}
	res.Seconds = time.Since(start).Seconds()

	out := c.App.Writer
	if format == "json" {
		if err := reports.WriteJSON(out, res); err != nil {
			return err
		}
		return validateErr
	}
	fmt.Fprintf(out, "Demo project in %s (plan %s, seed %d)\n\n", dir, filepath.Base(res.Plan), opts.Seed)
	if err := reports.RenderPlanMap(out, res.Map, "table"); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := reports.RenderProfile(out, res.Profile, "table", c.Bool("show-pii")); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if err := reports.RenderCleanSummary(out, res.Clean, "table"); err != nil {
		return err
	}
	if res.Migrate != nil {
		fmt.Fprintln(out)
		if err := reports.RenderMigrateSummary(out, res.Migrate, "table", c.Bool("show-pii")); err != nil {
			return err
		}
	}
	if res.Validate != nil {
		fmt.Fprintln(out)
		if err := reports.RenderValidation(out, nil, res.Validate, "table", c.Bool("show-pii")); err != nil {
			return err
		}
	}
	if len(res.Days) > 0 {
		fmt.Fprintf(out, "\nThe parallel run, %d days (ground truth in truth/parallel-run.json):\n", len(res.Days))
		for _, d := range res.Days {
			fmt.Fprintf(out, "  %s%s\n", d.Summary, faultNote(d.SimDay))
		}
		if res.Final != nil {
			fmt.Fprintln(out)
			if err := reports.RenderValidation(out, nil, res.Final, "table", c.Bool("show-pii")); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(out, "\nDone in %.1fs. Next: crmigrate review list --plan %s\n", res.Seconds, relOrAbs(res.Plan))
	if res.URLs != nil {
		fmt.Fprintln(out, "\nThe private PostgreSQL keeps running (stop it with `crmigrate db stop --plan "+relOrAbs(res.Plan)+"`):")
		for _, k := range []string{"old", "new", "control"} {
			fmt.Fprintf(out, "  %-8s %s\n", k, res.URLs[k])
		}
	}
	return validateErr
}

func relOrAbs(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !filepath.IsAbs(r) && len(r) < len(p) {
		return r
	}
	return p
}
