package cutover

import (
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/plans"
)

// Each gate passes on the evidence that satisfies it and fails, saying why, on the rest: too few
// days, a low day, an object missing from the snapshot, a validate that failed with or without
// its checks.
func TestEvaluateGates(t *testing.T) {
	p := &plans.Plan{Objects: []*plans.Object{{Name: "contact", Mappings: []*plans.Mapping{{System: plans.SystemNew}}},
		{Name: "deal", Mappings: []*plans.Mapping{{System: plans.SystemNew}}}}}
	p.Cutover.Gates = []*plans.Gate{
		{Kind: plans.GateParity, Object: "contact", Min: 0.99, Days: 2},
		{Kind: plans.GateMaxDrift, Object: "deal", Max: 1},
		{Kind: plans.GateChecks},
		{Kind: plans.GateParity, Min: 0.95, Days: 1}, // every object
	}
	day := func(n int, contact, deal float64, drift int64, objects ...string) Day {
		d := Day{Day: n, Date: "2031-01-0" + string(rune('0'+n)), RunID: int64(10 + n), Objects: map[string]ObjectDay{}}
		for _, o := range objects {
			d.Objects[o] = map[string]ObjectDay{"contact": {Parity: contact}, "deal": {Parity: deal, Drifted: drift}}[o]
		}
		return d
	}
	results := func(ev Evidence) string {
		var s []string
		for _, g := range EvaluateGates(p, ev) {
			s = append(s, g.Result)
		}
		return strings.Join(s, " ")
	}
	ok := Evidence{Days: []Day{day(1, 0.98, 1, 0, "contact", "deal"), day(2, 0.995, 1, 1, "contact", "deal"), day(3, 0.999, 0.96, 0, "contact", "deal")},
		Checks: map[string]string{"a": "pass"}, ValidateRun: 5, ValidateStatus: "passed"}
	if got := results(ok); got != "pass pass pass pass" {
		t.Errorf("all met: %s %+v", got, EvaluateGates(p, ok))
	}
	low := ok
	low.Days = ok.Days[:2] // day 1 below 99 % is within the last 2 days
	if got := results(low); got != "fail pass pass pass" {
		t.Errorf("a low day: %s", got)
	}
	few := ok
	few.Days = ok.Days[:1]
	if g := EvaluateGates(p, few)[0]; g.Result != Fail || !strings.Contains(g.Observed, "1 day(s) of snapshots, 2 needed") {
		t.Errorf("too few days: %+v", g)
	}
	missing := ok
	missing.Days = append(ok.Days[:2:2], day(3, 1, 0, 0, "contact"))
	if g := EvaluateGates(p, missing)[1]; g.Result != Fail || !strings.Contains(g.Observed, "no evidence") {
		t.Errorf("deal missing from the last snapshot: %+v", g)
	}
	for _, c := range []struct {
		ev   Evidence
		want string
	}{
		{Evidence{}, "no validate run yet"},
		{Evidence{Checks: map[string]string{}, ValidateRun: 7, ValidateStatus: "failed"}, "run 7) ended failed"},
		{Evidence{Checks: map[string]string{"b": "fail"}, CheckFailed: []string{"b"}, ValidateRun: 7, ValidateStatus: "failed"}, "failed: b"},
	} {
		if g := EvaluateGates(p, c.ev)[2]; g.Result != Fail || !strings.Contains(g.Observed, c.want) {
			t.Errorf("checks gate on %+v: %+v", c.ev, g)
		}
	}
}
