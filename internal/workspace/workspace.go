// Package workspace ties a plan to the places it needs: the private PostgreSQL cluster in
// `.crmigrate/` beside the plan, the databases its `local:` systems name, and the control database.
// Every command that takes --plan opens one Workspace and closes it when done; the cluster is
// started lazily, only when something needs it.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/crmigrate/crmigrate/internal/pglocal"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// ControlDB is the name of the control database in the private cluster.
const ControlDB = "crmigrate"

// Options say which plan and which control database.
type Options struct {
	PlanPath string // --plan
	StateURL string // --state-url / CRMIGRATE_STATE_URL; overrides the plan's state.url
	// Keep leaves the private cluster running when this process ends (demo --keep, db start).
	Keep bool
	Log  io.Writer // notices for the user (stderr); may be nil
	// LookupEnv resolves the plan's ${VAR} references; nil means os.LookupEnv. Tests set it to give
	// each run its own variables without touching the process environment.
	LookupEnv func(string) (string, bool)
}

// Workspace is one command's view of a plan and its databases.
type Workspace struct {
	Plan *plans.Plan
	// Home is the private cluster's folder, `.crmigrate/` beside the plan.
	Home string

	opts   Options
	handle *pglocal.Handle
	state  *state.DB
}

// HomeFor returns the private cluster's folder for a plan file.
func HomeFor(planPath string) string {
	abs, err := filepath.Abs(planPath)
	if err != nil {
		abs = planPath
	}
	return filepath.Join(filepath.Dir(abs), ".crmigrate")
}

// Open loads and validates the plan. Plan errors come back as plans.Errors.
func Open(opts Options) (*Workspace, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	p, err := plans.LoadWith(opts.PlanPath, lookup)
	if err != nil {
		return nil, err
	}
	return &Workspace{Plan: p, Home: HomeFor(p.Path), opts: opts}, nil
}

// Local starts or joins the private cluster (once per Workspace).
func (w *Workspace) Local(ctx context.Context) (*pglocal.Handle, error) {
	if w.handle != nil {
		return w.handle, nil
	}
	h, err := pglocal.Acquire(ctx, pglocal.Options{Home: w.Home, Keep: w.opts.Keep, Log: w.opts.Log})
	if err != nil {
		return nil, err
	}
	w.handle = h
	return h, nil
}

// SystemURL returns the connection URL of a postgres system: for `local:DB` the private cluster is
// started and the database created if needed. The URL may hold a password: print state.Redact(url).
func (w *Workspace) SystemURL(ctx context.Context, s *plans.System) (string, error) {
	if s.Kind != plans.KindPostgres {
		return "", fmt.Errorf("system %s is a %s system, not postgres", s.Name, s.Kind)
	}
	db, ok := s.LocalDB()
	if !ok {
		return s.URL, nil
	}
	h, err := w.Local(ctx)
	if err != nil {
		return "", fmt.Errorf("system %s: %w", s.Name, err)
	}
	if err := h.EnsureDatabase(ctx, db); err != nil {
		return "", fmt.Errorf("system %s: %w", s.Name, err)
	}
	return h.URL(db), nil
}

// StateURL returns the control database's URL: --state-url or CRMIGRATE_STATE_URL, else the plan's
// state.url, else the database `crmigrate` in the private cluster (started if needed).
func (w *Workspace) StateURL(ctx context.Context) (string, error) {
	if w.opts.StateURL != "" {
		return w.opts.StateURL, nil
	}
	if w.Plan != nil && w.Plan.State.URL != "" {
		return w.Plan.State.URL, nil
	}
	h, err := w.Local(ctx)
	if err != nil {
		return "", fmt.Errorf("control database: %w", err)
	}
	if err := h.EnsureDatabase(ctx, ControlDB); err != nil {
		return "", fmt.Errorf("control database: %w", err)
	}
	return h.URL(ControlDB), nil
}

// State opens the control database (applying migrations) once per Workspace.
func (w *Workspace) State(ctx context.Context) (*state.DB, error) {
	if w.state != nil {
		return w.state, nil
	}
	url, err := w.StateURL(ctx)
	if err != nil {
		return nil, err
	}
	db, err := state.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	w.state = db
	return db, nil
}

// Reconnect lets a long-running command survive a private cluster that went away (a crash, a
// reboot): when the cluster no longer answers, the control database is closed and the cluster
// released, so that the next State or SystemURL starts it again (on a new port) and connects anew.
// It says whether it did so.
func (w *Workspace) Reconnect(ctx context.Context) bool {
	if w.handle == nil || w.handle.Alive(ctx) {
		return false
	}
	if w.state != nil {
		w.state.Close()
		w.state = nil
	}
	_ = w.handle.Release()
	w.handle = nil
	return true
}

// Close closes the control database and releases the private cluster (which stops when no other
// crmigrate process uses it, unless kept).
func (w *Workspace) Close() error {
	if w == nil {
		return nil
	}
	if w.state != nil {
		w.state.Close()
		w.state = nil
	}
	var err error
	if w.handle != nil {
		err = w.handle.Release()
		w.handle = nil
	}
	return err
}

// ErrNoPlan means the plan file does not exist.
var ErrNoPlan = errors.New("plan file not found")

// CheckPlanExists gives a helpful error for a missing plan file.
func CheckPlanExists(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s; pass --plan FILE, set CRMIGRATE_PLAN, or run `crmigrate demo` to get an example", ErrNoPlan, path)
	}
	return nil
}

// CacheDir is where the parallel run keeps its reads of the plan's systems between snapshots
// (incremental snapshots): a cache, rebuilt by a full snapshot when missing.
func (w *Workspace) CacheDir() string {
	return filepath.Join(w.Home, "parallel-run", url.PathEscape(w.Plan.Name))
}
