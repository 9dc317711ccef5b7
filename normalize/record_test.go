package normalize

import (
	"slices"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

func recTestObject(key string) *plans.Object {
	return &plans.Object{Name: "companies", Key: key, Fields: []*plans.Field{
		{Name: "name", Type: plans.TypeText, Required: true},
		{Name: "domain", Type: plans.TypeDomain},
		{Name: "phone", Type: plans.TypePhone},
		{Name: "country", Type: plans.TypeText},
	}}
}

func TestRecord(t *testing.T) {
	n := New(Options{Region: "SE", Location: time.UTC})
	obj := recTestObject("domain")
	for _, tc := range []struct {
		name string
		in   crm.Record
		want Record
	}{
		{"normalized, phone in the record's country", crm.Record{ID: "1", Values: []string{" Acme  AB", "https://www.Acme.fr/x", "06 12 34 56 78", "France"}, UpdatedAt: "2024-03-05 14:30:00"},
			Record{Vals: []string{"Acme AB", "acme.fr", "+33612345678", "France"}, Key: "acme.fr", Updated: time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)}},
		{"invalid value kept, no key", crm.Record{ID: "2", Values: []string{"Beta", "n/a", "", ""}},
			Record{Vals: []string{"Beta", "n/a", "", ""}}},
		{"free-mail domain is no key", crm.Record{ID: "3", Values: []string{"Gamma", "gmail.com", "", ""}},
			Record{Vals: []string{"Gamma", "gmail.com", "", ""}}},
		{"required field empty", crm.Record{ID: "4", Values: []string{"  ", "acme.se", "", ""}, UpdatedAt: "2024-03-05"},
			Record{Reject: "required field name is empty"}},
		{"NUL removed", crm.Record{ID: "5", Values: []string{"De\x00lta", "", "", ""}},
			Record{Vals: []string{"Delta", "", "", ""}}},
	} {
		got := n.Record(obj, tc.in)
		if !slices.Equal(got.Vals, tc.want.Vals) || got.Key != tc.want.Key || !got.Updated.Equal(tc.want.Updated) || got.Reject != tc.want.Reject {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestValues(t *testing.T) {
	n := New(Options{Region: "SE"})
	obj := recTestObject("domain")
	l := LayoutOf(obj)
	if l != (Layout{Country: 3, Key: 1}) {
		t.Fatalf("layout %+v", l)
	}
	if l := LayoutOf(recTestObject("")); l.Key != -1 {
		t.Fatalf("no key: layout %+v", l)
	}
	var counts Counts
	var sc Scratch
	v := n.Values(obj, l, crm.Record{Values: []string{"Acme AB", "n/a", "070-123 45 67", ""}}, &counts, &sc)
	if want := []string{"Acme AB", "n/a", "+46701234567", ""}; !slices.Equal(v.Vals, want) {
		t.Errorf("vals %q, want %q", v.Vals, want)
	}
	if want := []string{"Acme AB", "", "+46701234567", ""}; !slices.Equal(v.Match, want) {
		t.Errorf("match %q, want %q", v.Match, want)
	}
	if v.Key {
		t.Error("an invalid domain is a key")
	}
	text, domain, phone := slices.Index(Types[:], plans.TypeText), slices.Index(Types[:], plans.TypeDomain), slices.Index(Types[:], plans.TypePhone)
	if counts[text][Unchanged] != 1 || counts[text][Empty] != 1 || counts[domain][Invalid] != 1 || counts[phone][Normalized] != 1 {
		t.Errorf("counts %v", counts)
	}
	// Canonical input reuses the scratch buffers: Values allocates nothing of its own (a domain
	// would: Domain allocates).
	in := crm.Record{Values: []string{"Acme AB", "", "+46701234567", "SE"}}
	if a := testing.AllocsPerRun(100, func() { n.Values(obj, l, in, &counts, &sc) }); a != 0 {
		t.Errorf("Values allocates %v times a canonical record", a)
	}
}

func TestDigest(t *testing.T) {
	// Staged digests are compared across runs and versions: the function must not change.
	if got, want := Digest([]string{"Acme AB", "", "acme.se"}), "7a1ea0125d5347d5c7627340"; got != want {
		t.Fatalf("digest %q, want %q", got, want)
	}
	if Digest([]string{"a", "b"}) == Digest([]string{"ab", ""}) {
		t.Error("values run together")
	}
}

// "UK" is the United Kingdom (ISO's GB): a record's phones are read in that region.
func TestRegionOfUK(t *testing.T) {
	for in, want := range map[string]string{"UK": "GB", "uk": "GB", "GB": "GB", "United Kingdom": "GB", "se": "SE", "Narnia": ""} {
		if got := RegionOf(in); got != want {
			t.Errorf("RegionOf(%q) = %q, want %q", in, got, want)
		}
	}
	n := New(Options{Region: "SE"})
	if got, st := n.Phone("020 6494 6395", RegionOf("UK")); got != "+442064946395" || st != Normalized {
		t.Errorf("a London number of a UK record: %q %v", got, st)
	}
}
