package cutover

import (
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/plans"
)

// The checklist: phases in order, the run's length, the calendar in the plan's time zone (never on
// a Friday, not in a freeze, within hours), and what this version cannot record fails; GO only
// when every item passes.
func TestCheck(t *testing.T) {
	sthlm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	p := &plans.Plan{Name: "p", Location: sthlm}
	p.ParallelRun.MinDays = 30
	p.Cutover.NeverOn = []string{"friday", "saturday", "sunday"}
	p.Cutover.Freeze = []plans.Freeze{{From: "2026-12-20", To: "2027-01-06"}}
	p.Cutover.Hours = "08:00-16:00"
	in := CheckInput{At: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC), Phases: Phases{Clean: 2, Migrate: 3, Validate: 5}, Days: 30,
		Gates: []GateResult{{Gate: "g", Result: Pass}}, Plan: "plan.yaml"}
	item := func(c *Checklist, group, gate string) Item {
		t.Helper()
		for _, it := range c.Items {
			if it.Group == group && (gate == "" || it.Gate == gate) {
				return it
			}
		}
		t.Fatalf("no %s item in %+v", group, c.Items)
		return Item{}
	}
	c := Check(p, in)
	// Without integrations or sign-offs, this version's missing snapshot is the only failure.
	if c.Result != NoGo || item(c, "snapshot", "").Result != Fail || item(c, "phases", "").Result != Pass ||
		item(c, "integrations", "").Result != Pass || item(c, "sign-offs", "").Result != Pass {
		t.Fatalf("%+v", c)
	}
	fails := 0
	for _, it := range c.Items {
		if it.Result != Pass {
			fails++
		}
	}
	if fails != 1 {
		t.Errorf("%d failing items, want only the snapshot: %+v", fails, c.Items)
	}
	for _, k := range []struct {
		at   time.Time
		gate string
	}{
		{time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC), "not on a never_on weekday, outside freeze windows"}, // a Friday
		{time.Date(2026, 12, 22, 9, 0, 0, 0, time.UTC), "not on a never_on weekday, outside freeze windows"}, // in the freeze
		{time.Date(2026, 12, 8, 15, 30, 0, 0, time.UTC), "within cutover.hours 08:00-16:00"},                 // 16:30 in Stockholm
	} {
		in := in
		in.At = k.at
		if it := item(Check(p, in), "calendar", k.gate); it.Result != Fail || it.Todo == "" {
			t.Errorf("at %s: %+v", k.at, it)
		}
	}
	for _, ph := range []Phases{{}, {Clean: 4, Migrate: 3, Validate: 5}, {Clean: 2, Migrate: 6, Validate: 5}} {
		in := in
		in.Phases = ph
		if it := item(Check(p, in), "phases", ""); it.Result != Fail || it.Todo == "" {
			t.Errorf("phases %+v: %+v", ph, it)
		}
	}
	in.Days = 29
	if it := item(Check(p, in), "parallel run", ""); it.Result != Fail {
		t.Errorf("29 days of 30: %+v", it)
	}
}

// A sign-off holds for the evidence it signed: missing, it fails; on other evidence, it is stale;
// the calendar does not change the evidence.
func TestSignoffs(t *testing.T) {
	p := &plans.Plan{Name: "p", Location: time.UTC}
	p.Cutover.Signoffs = []string{"revops-lead", "finance"}
	in := CheckInput{At: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC), Phases: Phases{Clean: 2, Migrate: 3, Validate: 5},
		Gates: []GateResult{{Gate: "g", Result: Pass, Observed: "99.9 %"}}}
	signoff := func(c *Checklist) Item {
		for _, it := range c.Items {
			if it.Group == "sign-offs" {
				return it
			}
		}
		t.Fatal("no sign-off item")
		return Item{}
	}
	c := Check(p, in)
	if it := signoff(c); it.Result != Fail || it.Observed != "not signed: revops-lead, finance" {
		t.Errorf("nobody signed: %+v", it)
	}
	in.Signed = map[string]Signed{"revops-lead": {By: "Ann", Evidence: c.Evidence}, "finance": {By: "Bo", Evidence: c.Evidence}}
	if it := signoff(Check(p, in)); it.Result != Pass {
		t.Errorf("both signed: %+v", it)
	}
	later := in
	later.At = in.At.Add(48 * time.Hour) // another day: the same evidence
	if c2 := Check(p, later); c2.Evidence != c.Evidence || signoff(c2).Result != Pass {
		t.Errorf("the calendar changed the evidence: %+v", signoff(c2))
	}
	changed := in
	changed.Gates = []GateResult{{Gate: "g", Result: Pass, Observed: "99.8 %"}} // a new snapshot
	if it := signoff(Check(p, changed)); it.Result != Stale {
		t.Errorf("after the evidence changed: %+v", it)
	}
}
