package dedup

import (
	"context"
	"slices"
	"testing"
)

func TestNameSimilarity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64 // 0: below the partial cut-off
	}{
		{"Engström", "ENGSTRÖM", 1},
		{"Björn", "Bjorn", 1},
		{"Jean-Pierre", "jean pierre", 1},
		{"Bob", "Robert", matchNicknameSim},
		{"Robert", "bob", matchNicknameSim},
		{"Bob", "Rob", matchNicknameSim}, // two short forms of Robert
		{"Kajsa", "Katarina", matchNicknameSim},
		{"Hans", "Johannes", matchNicknameSim},
		{"Kate", "Katherine", matchNicknameSim},
		{"Anna", "Peter", 0},
		{"Bob", "William", 0},
	} {
		got := NameSimilarity(tc.a, tc.b)
		if tc.want == 0 && got >= matchPartialAt || tc.want > 0 && !matchApprox(got, tc.want, 1e-9) {
			t.Errorf("NameSimilarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	// Everything else is Jaro-Winkler on the folded names.
	if got, want := NameSimilarity("Anderssön", "anderson"), JaroWinkler("andersson", "anderson"); !matchApprox(got, want, 1e-9) {
		t.Errorf("typo: %v, want %v", got, want)
	}
}

func TestPhoneSimilarity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"+46701234567", "+46701234567", 1},
		{"+46701234567", "+46701234567;ext=12", 1},
		{"+4631123456;ext=12", "+4631123456;ext=34", 0.8},
		{"+46015777993638", "+4915777993638", 0.95}, // a German number read as Swedish
		{"+46675392691", "+33675392691", 0.95},
		{"+46701234567", "+46701234568", 0},
		{"+461234", "+331234", 0}, // too short to trust the last digits
	} {
		if got := PhoneSimilarity(tc.a, tc.b); got != tc.want {
			t.Errorf("PhoneSimilarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if got := matchPhoneSets("+4631000000\x1f+46701234567", "+46709999999\x1f+46701234567"); got != 1 {
		t.Errorf("pooled numbers sharing one: %v, want 1", got)
	}
}

func TestEmailSimilarity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"jane.doe@acme.se", "jane.doe@acme.se", 1},
		{"jane.doe@acme.se", "jane.doe@gmail.com", matchEmailLocal},
		{"jane.doe@acme.se", "john.roe@acme.se", matchEmailDomain},
		{"jane@gmail.com", "john@gmail.com", 0}, // free mail says nothing about an organisation
		{"jane.doe@acme.se", "john.roe@globex.com", 0},
		{"jane.doe", "jane.doe", 1},
		{"jane.doe", "jane.doe@acme.se", 0},
	} {
		if got := EmailSimilarity(tc.a, tc.b); got != tc.want {
			t.Errorf("EmailSimilarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestPhonePool: fields compared with the phone method are one feature, the
// record's set of numbers: a contact's mobile in a lead's phone field
// agrees, once.
func TestPhonePool(t *testing.T) {
	t.Parallel()
	fields := []string{"first_name", "last_name", "phone", "mobile"}
	cfg := Config{
		Fields: fields,
		Block:  []string{"last_name"},
		Compare: []CompareSpec{
			{Field: 0, Method: MethodName},
			{Field: 1, Method: MethodName},
			{Field: 2, Method: MethodPhone},
			{Field: 3, Method: MethodPhone},
		},
	}
	recs := []Record{
		{Source: "old", ID: "C-1", Values: []string{"Anna", "Lindqvist", "+4631000000", "+46701234567"}},
		{Source: "old", ID: "L-1", Values: []string{"anna", "LINDQVIST", "+46701234567", ""}},
	}
	p, err := matchCompile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.fields) != 3 || p.fieldName(2) != "phone+mobile" || !slices.Equal(p.specFeat, []int{0, 1, 2, 2}) {
		t.Fatalf("features %v (%s), spec→feature %v; want 3 with phone+mobile pooled", p.fields, p.fieldName(2), p.specFeat)
	}
	if err := p.prepare(context.Background(), matchRecords(recs)); err != nil {
		t.Fatal(err)
	}
	sc := &matchScratch{}
	code := p.pattern(sc, 0, 1)
	for f, want := range []uint8{LevelExact, LevelExact, LevelExact} {
		if got := modelLevel(code, f); got != want {
			t.Errorf("feature %s: level %d, want %d", p.fieldName(f), got, want)
		}
	}
	if got := p.fieldScores(sc, 0, 1); !slices.Equal(got, []float64{1, 1, 1, 1}) {
		t.Errorf("field scores %v, want one per compare spec, all 1", got)
	}
	res, err := Run(context.Background(), recs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model == nil || !slices.Equal(res.Model.Fields, []string{"first_name", "last_name", "phone+mobile"}) {
		t.Fatalf("model fields %v", res.Model)
	}
	if len(res.Clusters) != 1 {
		t.Errorf("clusters %v, want the two records in one", res.Clusters)
	}
}
