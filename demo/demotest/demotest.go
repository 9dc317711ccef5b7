// Package demotest sets up the demo's old and new CRMs in fresh test databases, with the demo's
// plan pointed at them: the world the tests of clean, migrate and validate start from.
package demotest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/plans"
)

// World is the demo's CRMs and plan, made by New.
type World struct {
	Dir      string // the demo's files: the plan, its CSV exports
	Plan     *plans.Plan
	Old, New string // the CRMs' database URLs
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
