package parallelrun_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/parallelrun"
)

// The go/no-go from the control database: the demo's phases pass; a sign-off holds for the
// evidence it signed and turns stale with the next snapshot that changes it; a role the plan does
// not list cannot sign.
func TestCutoverCheckAndSignoffs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	at := time.Date(2031, 3, 4, 9, 0, 0, 0, time.UTC) // a Tuesday
	w.mustDiff(at.Add(-time.Hour))
	check := func() *cutover.Checklist {
		t.Helper()
		c, err := parallelrun.CutoverCheck(ctx, w.Plan, w.DB, at, "plan.yaml")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	item := func(c *cutover.Checklist, group string) cutover.Item {
		for _, it := range c.Items {
			if it.Group == group {
				return it
			}
		}
		t.Fatalf("no %s item", group)
		return cutover.Item{}
	}
	c := check()
	if c.Result != cutover.NoGo || item(c, "phases").Result != cutover.Pass || item(c, "parallel run").Result != cutover.Fail ||
		item(c, "sign-offs").Result != cutover.Fail || len(c.Evidence) != 64 {
		t.Fatalf("the demo after one snapshot: %+v", c)
	}
	if _, err := parallelrun.Signoff(ctx, w.Plan, w.DB, "ceo", "Eve", "", "plan.yaml"); !errors.Is(err, parallelrun.ErrUnknownRole) {
		t.Errorf("an unknown role signed: %v", err)
	}
	for _, role := range w.Plan.Cutover.Signoffs {
		if _, err := parallelrun.Signoff(ctx, w.Plan, w.DB, role, "Ann Signer", "checked the report", "plan.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	if it := item(check(), "sign-offs"); it.Result != cutover.Pass || !strings.Contains(it.Observed, "Ann Signer") {
		t.Errorf("all signed: %+v", it)
	}
	// A deal lost in new: the next snapshot changes the evidence, the sign-offs are stale.
	deal := pgtest.Scan[string](t, w.New, `SELECT id::text FROM opportunities ORDER BY id LIMIT 1`)
	pgtest.Exec(t, w.New, `DELETE FROM activities WHERE opportunity_id = `+deal, `DELETE FROM opportunities WHERE id = `+deal)
	w.mustDiff(at.Add(-30 * time.Minute))
	if it := item(check(), "sign-offs"); it.Result != cutover.Stale || !strings.Contains(it.Observed, "stale") {
		t.Errorf("after the evidence changed: %+v", it)
	}
}
