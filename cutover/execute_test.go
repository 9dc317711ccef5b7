package cutover

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// Switching with real commands that leave marks: all switched in order; a verify that fails rolls
// back every integration switched, that one included, in reverse order; a missing rollback is a
// failure to fix by hand; a dry run runs nothing.
func TestExecute(t *testing.T) {
	dir := t.TempDir()
	p := &plans.Plan{Name: "p", Dir: dir}
	act := func(script string) *plans.Action {
		return &plans.Action{Exec: &plans.ExecAction{Command: []string{"sh", "-c", script}}}
	}
	mark := func(s string) *plans.Action { return act("echo " + s + " >> log") }
	integ := func(name string, order int, verifyOK bool) *plans.Integration {
		v := mark("verify-" + name)
		if !verifyOK {
			v = act("echo verify-" + name + " >> log; exit 1")
		}
		return &plans.Integration{Name: name, Order: order, Switch: mark("switch-" + name), Verify: v, Rollback: mark("rollback-" + name)}
	}
	log := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.Remove(filepath.Join(dir, "log"))
		return strings.Join(strings.Fields(string(b)), " ")
	}
	ctx := context.Background()
	var journal []string
	rec := func(s Step) error { journal = append(journal, s.Integration+":"+s.Step); return nil }

	p.Integrations = []*plans.Integration{integ("billing", 2, true), integ("marketing", 1, true)}
	e, err := Execute(ctx, p, crm.Env{Plan: p}, 1, false, rec)
	if err != nil || e.Result != "switched" || log() != "switch-marketing verify-marketing switch-billing verify-billing" || len(journal) != 4 {
		t.Fatalf("all good: %v %+v %v", err, e, journal)
	}

	p.Integrations = []*plans.Integration{integ("marketing", 1, true), integ("billing", 2, false), integ("chat", 3, true)}
	e, err = Execute(ctx, p, crm.Env{Plan: p}, 2, false, nil)
	if got := log(); err != nil || e.Result != "rolled_back" ||
		got != "switch-marketing verify-marketing switch-billing verify-billing rollback-billing rollback-marketing" || !strings.Contains(e.Note, "verify of billing failed") {
		t.Fatalf("a failing verify: %v %+v, log %q", err, e, got)
	}

	p.Integrations[0].Rollback = nil
	e, _ = Execute(ctx, p, crm.Env{Plan: p}, 3, false, nil)
	log()
	if e.Result != "failed" || !strings.Contains(e.Note, "marketing has no rollback action") {
		t.Errorf("a missing rollback: %+v", e)
	}

	e, _ = Execute(ctx, p, crm.Env{Plan: p}, 0, true, nil)
	if got := log(); e.Result != "planned" || len(e.Steps) != 6 || got != "" || e.Steps[0].Planned == "" {
		t.Errorf("a dry run: %+v, log %q", e, got)
	}

	e, err = Rollback(ctx, p, crm.Env{Plan: p}, 4, []string{"chat", "billing"}, nil)
	if got := log(); err != nil || got != "rollback-chat rollback-billing" || e.Result != "rolled_back" {
		t.Errorf("a rollback of two: %v %+v, log %q", err, e, got)
	}
}
