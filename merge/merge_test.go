package merge

import (
	"reflect"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
)

func TestMergeRules(t *testing.T) {
	f := func(name, typ, merge string) *plans.Field { return &plans.Field{Name: name, Type: typ, Merge: merge} }
	fields := []*plans.Field{
		f("name", "text", "longest"),
		f("phone", "phone", "most_recent"),
		f("stage", "enum", "prefer:marketing"),
		f("amount", "money", "sum"),
		f("score", "number", "max"),
		f("title", "text", "non_empty"),
		f("country", "text", "review"),
		f("closed", "date", "max"),
	}
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	members := []Member{
		{Source: "old", SourceIdx: 0, ID: "1", Updated: t1, Vals: []string{"Acme", "+46701234567", "customer", "100.50 EUR", "9", "", "SE", "2024-03-01"}},
		{Source: "marketing", SourceIdx: 2, ID: "m9", Updated: t2, Vals: []string{"Acme Aktiebolag", "", "lead", "20.25 EUR", "10", "CTO", "FR", "2023-12-31"}},
		{Source: "old", SourceIdx: 0, ID: "2", Updated: t1.Add(-time.Hour), Vals: []string{"ACME", "+46709999999", "", "", "", "CEO", "", ""}},
	}
	got := Cluster(fields, members, nil)
	want := []string{"Acme Aktiebolag", "+46701234567", "lead", "120.75 EUR", "10", "CEO", "FR", "2024-03-01"}
	if !reflect.DeepEqual(got.Vals, want) {
		t.Fatalf("Cluster values\n got %q\nwant %q", got.Vals, want)
	}
	wantProv := []string{"marketing:m9", "old:1", "marketing:m9", "marketing:m9+old:1", "marketing:m9", "old:2", "marketing:m9", "old:1"}
	if !reflect.DeepEqual(got.Provenance, wantProv) {
		t.Fatalf("provenance\n got %q\nwant %q", got.Provenance, wantProv)
	}
	if !reflect.DeepEqual(got.Conflicts, []string{"country"}) {
		t.Fatalf("conflicts %q", got.Conflicts)
	}
	if !got.Updated.Equal(t2) {
		t.Fatalf("updated %v", got.Updated)
	}
	// Mixed currencies are not summed: the most recent amount wins.
	members[0].Vals[3] = "100.00 USD"
	if got := Cluster(fields, members, nil); got.Vals[3] != "20.25 EUR" {
		t.Fatalf("mixed currency sum gave %q", got.Vals[3])
	}
	// Merging must not depend on member order.
	rev := []Member{members[2], members[1], members[0]}
	if a, b := Cluster(fields, members, nil), Cluster(fields, rev, nil); !reflect.DeepEqual(a, b) {
		t.Fatalf("order changes the merge:\n%+v\n%+v", a, b)
	}
}

// Survivorship picks among valid values first, for every rule: an invalid value (kept raw by
// clean, such as the placeholder email "n/a") wins only when no member has a valid one.
func TestMergePrefersValidValuesUnderEveryRule(t *testing.T) {
	t.Parallel()
	norm := normalize.New(normalize.Options{Region: "SE"})
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type testcase struct {
		rule, typ  string
		newer, old string // the newer member's value is invalid
		want       string
	}
	for _, tc := range []testcase{
		{"most_recent", "email", "n/a", "ursula.neumann@example.com", "ursula.neumann@example.com"},
		{"longest", "email", "not an email at all, sorry", "u@example.com", "u@example.com"},
		{"non_empty", "phone", "call me", "+46701234567", "+46701234567"},
		{"prefer:marketing", "email", "n/a", "u@example.com", "u@example.com"},
		{"max", "date", "someday", "2024-03-01", "2024-03-01"},
		{"sum", "money", "lots EUR", "10.00 EUR", "10.00 EUR"},
		{"review", "email", "n/a", "u@example.com", "u@example.com"},
		// No valid value at all: the invalid one is kept rather than nothing.
		{"most_recent", "email", "n/a", "", "n/a"},
	} {
		t.Run(tc.rule+"/"+tc.want, func(t *testing.T) {
			fields := []*plans.Field{{Name: "v", Type: tc.typ, Merge: tc.rule}}
			members := []Member{
				{Source: "marketing", SourceIdx: 1, ID: "m", Updated: t1.Add(time.Hour), Vals: []string{tc.newer}},
				{Source: "old", SourceIdx: 0, ID: "o", Updated: t1, Vals: []string{tc.old}},
			}
			got := Cluster(fields, members, ValidatorFor(norm, fields))
			if got.Vals[0] != tc.want {
				t.Fatalf("%s over %q and %q kept %q, want %q", tc.rule, tc.newer, tc.old, got.Vals[0], tc.want)
			}
			if tc.rule == "review" && len(got.Conflicts) != 0 {
				t.Errorf("an invalid value counted as a conflict: %q", got.Conflicts)
			}
			// Without a validator (nil), the rules see every value as they did before.
			if tc.rule == "most_recent" && tc.old != "" {
				if got := Cluster(fields, members, nil); got.Vals[0] != tc.newer {
					t.Errorf("nil validator: %q", got.Vals[0])
				}
			}
		})
	}
}

// A member that says which of its values are invalid (as found when they were normalized) is
// taken at its word; the validator is asked only about members that do not say.
func TestMemberInvalidOverridesTheValidator(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	fields := []*plans.Field{{Name: "v", Type: "text", Merge: "most_recent"}}
	asked := 0
	valid := func(f int, v string) bool { asked++; return true }
	members := []Member{
		{Source: "old", ID: "new", Updated: t1.Add(time.Hour), Vals: []string{"newer"}, Invalid: []bool{true}},
		{Source: "old", ID: "old", Updated: t1, Vals: []string{"older"}, Invalid: []bool{false}},
	}
	if got := Cluster(fields, members, valid); got.Vals[0] != "older" || asked != 0 {
		t.Fatalf("kept %q, validator asked %d times", got.Vals[0], asked)
	}
	members[1].Invalid = nil
	if got := Cluster(fields, members, valid); got.Vals[0] != "older" || asked == 0 {
		t.Fatalf("kept %q, validator asked %d times", got.Vals[0], asked)
	}
}
