package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/crmigrate/crmigrate/crm"
	_ "github.com/crmigrate/crmigrate/crm/csvfile"  // connector kind csv
	_ "github.com/crmigrate/crmigrate/crm/postgres" // connector kind postgres
	"github.com/crmigrate/crmigrate/internal/pglocal"
	"github.com/crmigrate/crmigrate/internal/workspace"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/reports"
	"github.com/crmigrate/crmigrate/state"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// newApp makes the command-line app; lookupEnv resolves the plan's ${VAR} references (os.LookupEnv
// but in tests).
func newApp(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cli.App {
	app := &cli.App{
		Name:    "crmigrate",
		Usage:   "move a B2B company from an old CRM to a new one: clean, migrate, validate, run in parallel, cut over",
		Version: version,
		Writer:  stdout, ErrWriter: stderr,
		HideHelpCommand: true,
		Suggest:         true,
		ExitErrHandler:  func(*cli.Context, error) {}, // Main maps errors to exit codes
		OnUsageError:    onUsageError,
		Commands: []*cli.Command{
			demoCommand(),
			planCommand(),
			cleanCommand(),
			reviewCommand(),
			migrateCommand(),
			validateCommand(),
			parallelRunCommand(),
			reportCommand(),
			statusCommand(),
			cutoverCommand(),
			snapshotCommand(),
			crosswalkCommand(),
			dbCommand(),
			runsCommand(),
		},
		Metadata: map[string]any{lookupEnvKey: lookupEnv},
	}
	// urfave/cli hands an unknown command to the app's action: it is a usage error.
	app.Action = func(c *cli.Context) error {
		if c.Args().Present() {
			return usageError("unknown command %q; run `crmigrate --help` for the list", c.Args().First())
		}
		return cli.ShowAppHelp(c)
	}
	return app
}

// cliParseMu serializes urfave/cli's setup and flag parsing, which write to the library's
// package-level help flag and help command, so that apps can run at the same time in one process
// (the tests run the CLI in parallel). A run holds it until its command's action starts.
var cliParseMu sync.Mutex

// runApp runs app with args, holding cliParseMu while the library parses them.
func runApp(ctx context.Context, app *cli.App, args []string) error {
	cliParseMu.Lock()
	var once sync.Once
	unlock := func() { once.Do(cliParseMu.Unlock) }
	defer unlock()
	var wrap func(cmds []*cli.Command)
	wrap = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			if act := cmd.Action; act != nil {
				cmd.Action = func(c *cli.Context) error { unlock(); return act(c) }
			}
			wrap(cmd.Subcommands)
		}
	}
	wrap(app.Commands) // not app.Action: it shows the help, which reads the library's state
	return app.RunContext(ctx, args)
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageError("%v; run `crmigrate %s --help`", err, strings.TrimPrefix(c.Command.FullName(), "crmigrate "))
}

// Flags shared by commands.

func planFlag() cli.Flag {
	return &cli.StringFlag{Name: "plan", Aliases: []string{"p"}, Value: "crmigrate.yaml", EnvVars: []string{"CRMIGRATE_PLAN"},
		Usage: "the plan `FILE`; paths inside it are relative to its folder"}
}

func stateURLFlag() cli.Flag {
	return &cli.StringFlag{Name: "state-url", EnvVars: []string{"CRMIGRATE_STATE_URL"},
		Usage: "PostgreSQL `URL` of the control database (default: the plan's state.url, else the private cluster in .crmigrate/ beside the plan)"}
}

func formatFlags(valid ...string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: valid[0], EnvVars: []string{"CRMIGRATE_FORMAT"},
			Usage: "output format: " + strings.Join(valid, ", ")},
		&cli.BoolFlag{Name: "json", Usage: "short for --format json"},
	}
}

func formatOf(c *cli.Context, valid ...string) (string, error) {
	f := c.String("format")
	if c.Bool("json") {
		f = "json"
	}
	for _, v := range valid {
		if f == v {
			return f, nil
		}
	}
	return "", usageError("unknown --format %q; use one of %s", f, strings.Join(valid, ", "))
}

// lookupEnvKey holds newApp's lookupEnv in the app's Metadata.
const lookupEnvKey = "lookupEnv"

// planEnv returns the function that resolves the plan's ${VAR} references.
func planEnv(c *cli.Context) func(string) (string, bool) {
	if f, ok := c.App.Metadata[lookupEnvKey].(func(string) (string, bool)); ok && f != nil {
		return f
	}
	return os.LookupEnv
}

// openState opens the plan's workspace and its control database, for commands that read or
// write the control database only; the caller closes the workspace.
func openState(c *cli.Context) (*workspace.Workspace, *state.DB, error) {
	ws, err := openWorkspace(c, false)
	if err != nil {
		return nil, nil, err
	}
	db, err := ws.State(c.Context)
	if err != nil {
		ws.Close()
		return nil, nil, err
	}
	return ws, db, nil
}

// atOf reads a time flag (--at): RFC 3339, or a local time or date in the plan's time zone; now
// when the flag is not given.
func atOf(c *cli.Context, name string, p *plans.Plan) (time.Time, error) {
	s := c.String(name)
	if s == "" {
		return time.Now(), nil
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	t, err := parseAsOf(s, loc)
	if err != nil {
		return t, usageError("--%s %q: %v", name, s, err)
	}
	return t, nil
}

func openWorkspace(c *cli.Context, keep bool) (*workspace.Workspace, error) {
	path := c.String("plan")
	if err := workspace.CheckPlanExists(path); err != nil {
		return nil, usageError("%v", err)
	}
	return workspace.Open(workspace.Options{PlanPath: path, StateURL: c.String("state-url"), Keep: keep, Log: c.App.ErrWriter, LookupEnv: planEnv(c)})
}

// phaseRunner runs the phases of the workspace's plan, recording the command line without
// secrets and telling stderr when --force overrides a prerequisite.
func phaseRunner(c *cli.Context, ws *workspace.Workspace) (*phase.Runner, error) {
	db, err := ws.State(c.Context)
	if err != nil {
		return nil, err
	}
	return &phase.Runner{DB: db, Plan: ws.Plan, Args: redactedArgs(os.Args[1:]), Notify: func(msg string) {
		fmt.Fprintln(c.App.ErrWriter, "crmigrate: "+strings.ReplaceAll(msg, "\n", "\ncrmigrate: "))
	}}, nil
}

// plan check / plan show

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "check a plan file and show its data-model map",
		Subcommands: []*cli.Command{
			{
				Name:  "check",
				Usage: "validate the plan file (all errors at once, as FILE:LINE:COL); --connect also checks every mapped table, file and column",
				Flags: append([]cli.Flag{planFlag(),
					&cli.BoolFlag{Name: "connect", Usage: "connect to every system and check that mapped tables, queries, files and columns exist"},
				}, formatFlags("table", "json")...),
				OnUsageError: onUsageError,
				Action:       planCheck,
			},
			{
				Name:         "show",
				Usage:        "print the data-model map: objects, fields, columns on each system, normalization, authority, merge rules, relationships, integrations",
				Flags:        append([]cli.Flag{planFlag()}, formatFlags("table", "md", "json")...),
				OnUsageError: onUsageError,
				Action:       planShow,
			},
		},
	}
}

func planCheck(c *cli.Context) error {
	format, err := formatOf(c, "table", "json")
	if err != nil {
		return err
	}
	path := c.String("plan")
	if err := workspace.CheckPlanExists(path); err != nil {
		return usageError("%v", err)
	}
	res := reports.CheckResult{File: path}
	ws, err := workspace.Open(workspace.Options{PlanPath: path, Log: c.App.ErrWriter, LookupEnv: planEnv(c)})
	var planErrs *plans.Errors
	switch {
	case errors.As(err, &planErrs):
		for _, e := range *planErrs {
			res.Errors = append(res.Errors, e.Error())
		}
	case err != nil:
		return err
	default:
		defer ws.Close()
		p := ws.Plan
		res.Plan, res.Systems, res.Objects, res.Integrations = p.Name, len(p.Systems), len(p.Objects), len(p.Integrations)
		for _, o := range p.Objects {
			res.Fields += len(o.Fields)
		}
		if c.Bool("connect") {
			checks, errs := crm.CheckMappings(c.Context, p, ws.SystemURL)
			res.Connected = checks
			for _, e := range errs {
				res.Errors = append(res.Errors, e.Error())
			}
		}
	}
	res.OK = len(res.Errors) == 0
	out := c.App.Writer
	if !res.OK && format != "json" {
		out = c.App.ErrWriter // errors go to stderr, like every other command's
	}
	if err := reports.RenderCheck(out, res, format); err != nil {
		return err
	}
	if !res.OK {
		return &ExitCodeError{Code: ExitUsage}
	}
	return nil
}

func planShow(c *cli.Context) error {
	format, err := formatOf(c, "table", "md", "json")
	if err != nil {
		return err
	}
	ws, err := openWorkspace(c, false)
	if err != nil {
		return err
	}
	defer ws.Close()
	return reports.RenderPlanMap(c.App.Writer, plans.BuildMap(ws.Plan), format)
}

// db start|stop|status|url

func dbCommand() *cli.Command {
	home := func(c *cli.Context) (string, error) {
		path := c.String("plan")
		if err := workspace.CheckPlanExists(path); err != nil {
			return "", usageError("%v", err)
		}
		return workspace.HomeFor(path), nil
	}
	return &cli.Command{
		Name:  "db",
		Usage: "manage the private PostgreSQL cluster in .crmigrate/ beside the plan",
		Subcommands: []*cli.Command{
			{
				Name:  "start",
				Usage: "start the private cluster and keep it running until `crmigrate db stop`",
				Flags: []cli.Flag{planFlag()},
				Action: func(c *cli.Context) error {
					h, err := home(c)
					if err != nil {
						return err
					}
					hd, err := pglocal.Acquire(c.Context, pglocal.Options{Home: h, Keep: true, Log: c.App.ErrWriter})
					if err != nil {
						return err
					}
					info := hd.Info()
					if err := hd.Release(); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "private PostgreSQL running on port %d (socket %s); it stays up until `crmigrate db stop`\n", info.Port, info.SocketDir)
					fmt.Fprintf(c.App.Writer, "control database: %s\n", info.URL(workspace.ControlDB))
					return nil
				},
			},
			{
				Name:  "stop",
				Usage: "stop the private cluster, even if kept",
				Flags: []cli.Flag{planFlag()},
				Action: func(c *cli.Context) error {
					h, err := home(c)
					if err != nil {
						return err
					}
					if err := pglocal.Stop(c.Context, h); err != nil {
						if errors.Is(err, pglocal.ErrNoCluster) {
							fmt.Fprintln(c.App.Writer, "no private PostgreSQL here; nothing to stop")
							return nil
						}
						return err
					}
					fmt.Fprintln(c.App.Writer, "private PostgreSQL stopped")
					return nil
				},
			},
			{
				Name:  "status",
				Usage: "say whether the private cluster runs, where it keeps its data and which databases it holds",
				Flags: append([]cli.Flag{planFlag()}, formatFlags("table", "json")...),
				Action: func(c *cli.Context) error {
					format, err := formatOf(c, "table", "json")
					if err != nil {
						return err
					}
					h, err := home(c)
					if err != nil {
						return err
					}
					info, err := pglocal.Status(h)
					if errors.Is(err, pglocal.ErrNoCluster) {
						return &ExitCodeError{Err: fmt.Errorf("no private PostgreSQL in %s yet; any command that needs it creates it, or run `crmigrate db start`", h), Code: ExitError}
					}
					if err != nil {
						return err
					}
					st := reports.DBStatus{Info: info}
					if info.Running {
						st.Databases, _ = pglocal.ListDatabases(c.Context, info.URL("postgres"))
					}
					return reports.RenderDBStatus(c.App.Writer, st, format)
				},
			},
			{
				Name:      "url",
				Usage:     "print the connection URL of a database in the running private cluster (default: the control database); it holds no password",
				ArgsUsage: "[DBNAME]",
				Flags:     []cli.Flag{planFlag()},
				Action: func(c *cli.Context) error {
					h, err := home(c)
					if err != nil {
						return err
					}
					info, err := pglocal.Status(h)
					if err != nil && !errors.Is(err, pglocal.ErrNoCluster) {
						return err
					}
					if !info.Running {
						return &ExitCodeError{Err: errors.New("the private PostgreSQL is not running; start it with `crmigrate db start` (its port changes at every start)"), Code: ExitError}
					}
					db := workspace.ControlDB
					if c.Args().Len() > 1 {
						return usageError("db url takes at most one database name")
					}
					if c.Args().Present() {
						db = c.Args().First()
					}
					fmt.Fprintln(c.App.Writer, info.URL(db))
					return nil
				},
			},
		},
	}
}

// runs

func runsCommand() *cli.Command {
	return &cli.Command{
		Name:  "runs",
		Usage: "list the plan's phase runs from the control database, newest first",
		Flags: append([]cli.Flag{planFlag(), stateURLFlag(),
			&cli.StringFlag{Name: "phase", Usage: "only runs of this phase"},
			&cli.IntFlag{Name: "limit", Value: 30, Usage: "at most this many runs"},
		}, formatFlags("table", "json")...),
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			format, err := formatOf(c, "table", "json")
			if err != nil {
				return err
			}
			ws, db, err := openState(c)
			if err != nil {
				return err
			}
			defer ws.Close()
			runs, err := db.Runs(c.Context, ws.Plan.Name, c.String("phase"), c.Int("limit"))
			if err != nil {
				return err
			}
			return reports.RenderRuns(c.App.Writer, runs, format)
		},
	}
}

// redactedArgs returns the command line with values that look like connection strings redacted,
// for the runs table.
func redactedArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, "://") || strings.Contains(a, "password=") {
			out[i] = state.Redact(a)
		} else {
			out[i] = a
		}
	}
	return out
}
