// Package demotest sets up the demo's old and new CRMs in fresh test databases, with the demo's
// plan pointed at them: the world the tests of clean, migrate and validate start from.
package demotest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/crm"
	_ "github.com/crmigrate/crmigrate/crm/csvfile"  // the demo's marketing export
	_ "github.com/crmigrate/crmigrate/crm/postgres" // the demo's CRMs
	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// World is the demo's CRMs and plan, made by New.
type World struct {
	Dir      string // the demo's files: the plan, its CSV exports
	Plan     *plans.Plan
	Old, New string    // the CRMs' database URLs
	DB       *state.DB // the control database (Staged)
	StateURL string    // its URL
}

// New creates the demo's old CRM and empty new CRM with opts in two new databases, writes the
// demo's files into a temporary directory and loads its plan, after edit (when not nil) changed
// its text.
func New(t *testing.T, opts demo.Options, edit func(plan string) string) *World {
	t.Helper()
	ctx := context.Background()
	w := &World{Dir: t.TempDir(), Old: pgtest.NewDB(t), New: pgtest.NewDB(t)}
	for url, create := range map[string]func(*pgx.Conn) error{
		w.Old: func(c *pgx.Conn) error { _, err := demo.CreateOldCRM(ctx, c, opts); return err },
		w.New: func(c *pgx.Conn) error { return demo.CreateNewCRM(ctx, c, opts) },
	} {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if err := create(conn); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
	}
	if _, err := demo.WriteFiles(w.Dir, opts); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.Dir, "crmigrate.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(`"local:demo_old"`, `"${T_OLD}"`, `"local:demo_new"`, `"${T_NEW}"`).Replace(string(raw))
	if edit != nil {
		text = edit(text)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"T_OLD": w.Old, "T_NEW": w.New}
	if w.Plan, err = plans.LoadWith(path, func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	return w
}

// CSVTarget is the demo's old CRM with a new CRM that only takes CSV imports
// (testdata/plans/csv-target.yaml, read as ../testdata from a package's tests), and a control
// database: neither cleaned nor migrated.
func CSVTarget(t *testing.T, opts demo.Options) *World {
	t.Helper()
	ctx := context.Background()
	w := &World{Dir: t.TempDir(), Old: pgtest.NewDB(t)}
	conn, err := pgx.Connect(ctx, w.Old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.CreateOldCRM(ctx, conn, opts); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	plan, err := os.ReadFile(filepath.Join("..", "testdata", "plans", "csv-target.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.Dir, "crmigrate.yaml")
	if err := os.WriteFile(path, plan, 0o644); err != nil {
		t.Fatal(err)
	}
	if w.Plan, err = plans.LoadWith(path, func(k string) (string, bool) { return w.Old, k == "T_OLD" }); err != nil {
		t.Fatal(err)
	}
	w.StateURL = pgtest.NewDB(t)
	if w.DB, err = state.Open(ctx, w.StateURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.DB.Close)
	return w
}

// Staged is New with a control database, cleaned and migrated as recorded runs: the world right
// after the demo's migrate.
func Staged(t *testing.T, opts demo.Options, edit func(plan string) string) *World {
	t.Helper()
	w := New(t, opts, edit)
	var err error
	w.StateURL = pgtest.NewDB(t)
	if w.DB, err = state.Open(context.Background(), w.StateURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.DB.Close)
	w.Clean(t)
	w.Migrate(t)
	return w
}

// Clean runs clean as a recorded run.
func (w *World) Clean(t *testing.T) {
	t.Helper()
	w.MustRecord(t, "clean", func(ctx context.Context, runID int64) error {
		_, err := clean.Run(ctx, w.Plan, clean.Options{DB: w.DB, RunID: runID, Env: w.Env()})
		return err
	})
}

// Migrate runs a full migrate as a recorded run.
func (w *World) Migrate(t *testing.T) {
	t.Helper()
	w.MustRecord(t, migrate.Phase, func(ctx context.Context, runID int64) error {
		_, err := migrate.Run(ctx, w.Plan, migrate.Options{DB: w.DB, Env: w.Env(), RunID: runID})
		return err
	})
}

// Command runs the real crmigrate binary (see Binary) on the world's plan and control database,
// with the plan's ${T_OLD} and ${T_NEW} set; --plan and --state-url are added after args.
func (w *World) Command(bin string, args ...string) *exec.Cmd {
	args = append(args, "--plan", filepath.Join(w.Dir, "crmigrate.yaml"), "--state-url", w.StateURL)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "T_OLD="+w.Old, "T_NEW="+w.New)
	return cmd
}

// Binary builds crmigrate for tests that run the real command (to kill it, for one).
func Binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crmigrate")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/crmigrate/crmigrate/cmd/crmigrate").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Env is the connectors' environment of the world's plan.
func (w *World) Env() crm.Env { return crm.Env{Plan: w.Plan} }

// Record runs body as a run of phase in the control database: passed when body returns nil,
// failed otherwise. It returns body's error.
func (w *World) Record(t *testing.T, phase string, body func(ctx context.Context, runID int64) error) error {
	t.Helper()
	ctx := context.Background()
	run, err := w.DB.StartRun(ctx, state.RunSpec{Plan: w.Plan.Name, Phase: phase})
	if err != nil {
		t.Fatal(err)
	}
	err = body(ctx, run.ID)
	status := state.StatusPassed
	if err != nil {
		status = state.StatusFailed
	}
	if ferr := run.Finish(ctx, status, nil, err); ferr != nil {
		t.Fatal(ferr)
	}
	return err
}

// MustRecord is Record failing the test on an error.
func (w *World) MustRecord(t *testing.T, phase string, body func(ctx context.Context, runID int64) error) {
	t.Helper()
	if err := w.Record(t, phase, body); err != nil {
		t.Fatal(err)
	}
}
