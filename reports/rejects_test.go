package reports

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// Rejects group by reason with their values left out; the field is found by the constraint's
// name or by the record's value, and the value shown is the record's; emails and phone numbers
// are masked, dates are not.
func TestGroupRejects(t *testing.T) {
	dir := t.TempDir()
	if _, err := demo.WriteFiles(dir, demo.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	p, err := plans.Load(filepath.Join(dir, "crmigrate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	deal := p.Object("deal")
	vals := func(field, v string) []string {
		out := make([]string, len(deal.Fields))
		out[deal.FieldIndex(field)] = v
		return out
	}
	rows := []state.RejectRow{
		{Object: "deal", System: "new", SourceID: "d1", Reason: `invalid input syntax for type numeric: "TBD"`},
		{Object: "deal", System: "new", SourceID: "d2", Reason: `invalid input syntax for type numeric: "n/a"`},
		{Object: "deal", System: "new", SourceID: "d3", Reason: `new row for relation "opportunities" violates check constraint "opportunities_stage_check"`},
		{Object: "deal", System: "new", SourceID: "d4", Reason: `date/time field value out of range: "2023-02-30"`},
		{Object: "contact", System: "old", Line: 12, Reason: `email: not an email: "jane.doe@@example.org"`},
		{Object: "contact", System: "new", SourceID: "c1", Reason: `duplicate key value violates unique constraint "people_email_key" (Key (email)=(anna.berg@acme.se) already exists.)`},
		{Object: "contact", System: "new", SourceID: "c2", Reason: `duplicate key value violates unique constraint "people_email_key" (Key (email)=(bo.ek@acme.se) already exists.)`},
	}
	golden := map[string][]string{"d1": vals("amount", "TBD"), "d2": vals("amount", "n/a"), "d3": vals("stage", "On hold"),
		"d4": vals("close_date", "2023-02-30")}
	groups := GroupRejects(p, rows, golden)
	by := map[string]RejectGroup{}
	for _, g := range groups {
		by[g.Object+" "+g.System+" "+g.Field] = g
	}
	if len(groups) != 5 || groups[0].Count != 2 || by["deal new amount"].Count != 2 || strings.Join(by["deal new amount"].Values, ",") != "TBD,n/a" ||
		by["deal new amount"].Reason != `invalid input syntax for type numeric: "…"` {
		t.Fatalf("groups: %+v", groups)
	}
	if g := by["deal new stage"]; g.Count != 1 || g.Values[0] != "On hold" {
		t.Errorf("check constraint: %+v", g)
	}
	if g := by["contact new email"]; g.Count != 2 || !strings.Contains(g.Reason, "=(…)") || strings.Join(g.Values, ",") != "anna.berg@acme.se,bo.ek@acme.se" {
		t.Errorf("unique violations, one group whatever the key: %+v", g)
	}
	if g := by["contact old email"]; g.Field != "email" || g.Example[0] != "old:12" {
		t.Errorf("a reason naming its field: %+v (%+v)", g, groups)
	}
	var b bytes.Buffer
	if err := RenderRejectGroups(&b, groups, "md", false); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.Contains(out, "jane.doe") || !strings.Contains(out, "2023-02-30") || !strings.Contains(out, "7, in 5 groups") ||
		strings.Contains(out, "anna.berg") {
		t.Errorf("rendered:\n%s", out)
	}
}
