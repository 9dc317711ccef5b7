package dedup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSoundex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Robert", "R163"},
		{"Rupert", "R163"},
		{"Rubin", "R150"},
		{"Ashcraft", "A261"},
		{"Ashcroft", "A261"},
		{"Tymczak", "T522"},
		{"Pfister", "P236"},
		{"Honeyman", "H555"},
		{"Lee", "L000"},
		{"Gutierrez", "G362"},
		{"Jackson", "J250"},
		{"o'brien", "O165"},
		{"Müller", "M460"},
		{"", ""},
		{"1234", ""},
	} {
		if got := Soundex(tc.in); got != tc.want {
			t.Errorf("Soundex(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMetaphone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Thomas", "0MS"}, // TH is always θ (written 0) in the original rules
		{"Thompson", "0MPSN"},
		{"Smith", "SM0"},
		{"Knight", "NT"},
		{"Wright", "RT"},
		{"Phillip", "FLP"},
		{"Xavier", "SFR"},
		{"Aebersold", "EBRSLT"},
		{"White", "WT"},
		{"Schmidt", "SKMTT"},
		{"Cecilia", "SSL"},
		{"Dodge", "TJ"},
		{"Science", "SNS"},
		{"Lamb", "LM"},
		{"", ""},
	} {
		if got := Metaphone(tc.in); got != tc.want {
			t.Errorf("Metaphone(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Spelling variants share a code.
	for _, p := range [][2]string{{"Stephen", "Stefen"}, {"Catherine", "Kathryn"}, {"Smith", "Smyth"}} {
		if a, b := Metaphone(p[0]), Metaphone(p[1]); a != b {
			t.Errorf("Metaphone(%q) = %q, Metaphone(%q) = %q, want equal", p[0], a, p[1], b)
		}
	}
}

func TestParseBlockSpec(t *testing.T) {
	t.Parallel()
	fields := []string{"email", "first_name", "last_name", "company", "phone", "birth"}
	type testcase struct {
		spec    string
		want    string // parts rendered, joined by +
		wantErr string
	}
	for _, tc := range []testcase{
		{spec: "email", want: "email"},
		{spec: "last_name:prefix3+company", want: "last_name:prefix3+company"},
		{spec: " last_name : soundex + phone:digits ", want: "last_name:soundex+phone:digits"},
		{spec: "first_name:metaphone+birth:year", want: "first_name:metaphone+birth:year"},
		{spec: "company:exact", want: "company"},
		{spec: "last_name:prefix20", want: "last_name:prefix20"},
		{spec: "", wantErr: "empty"},
		{spec: "email+", wantErr: "empty part"},
		{spec: "nmae", wantErr: `unknown field "nmae"`},
		{spec: "last_name:prefix0", wantErr: "invalid transform"},
		{spec: "last_name:prefix21", wantErr: "invalid transform"},
		{spec: "last_name:prefix03", wantErr: "invalid transform"},
		{spec: "last_name:prefix", wantErr: "invalid transform"},
		{spec: "last_name:suffix3", wantErr: `unknown transform "suffix3"`},
		{spec: "last_name:", wantErr: "empty transform"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			bs, err := ParseBlockSpec(tc.spec, fields)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseBlockSpec(%q) error = %v, want one containing %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, p := range bs.Parts {
				parts = append(parts, p.String())
				if fields[p.Field] != p.Name {
					t.Errorf("part %v: field index %d is %q", p, p.Field, fields[p.Field])
				}
			}
			if got := strings.Join(parts, "+"); got != tc.want {
				t.Errorf("parsed %q as %q, want %q", tc.spec, got, tc.want)
			}
		})
	}
	// Every problem of a config is reported at once.
	_, err := matchCompile(Config{Fields: fields, Block: []string{"nope", "email:bogus"},
		Compare: []CompareSpec{{Field: 0, Method: "fuzzy"}, {Field: 9, Method: "exact"}}, AutoMerge: 0.5, Review: 0.9})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{`"nope"`, `"bogus"`, `"fuzzy"`, "field index 9", "above auto_merge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("config error %q does not mention %s", err, want)
		}
	}
}

func TestBlockKeys(t *testing.T) {
	t.Parallel()
	fields := []string{"first", "last", "phone", "dob"}
	vals := []string{"jürgen", "o'connor", "+46 70-123 45 67", "1980-05-17"}
	for _, tc := range []struct {
		spec, want string
		ok         bool
	}{
		{"first:prefix2", "ju", true},
		{"first:prefix20", "jurgen", true},
		{"first", "jurgen", true},
		{"last:prefix3", "o'c", true},
		{"last:soundex", "O256", true},
		{"last:metaphone", "OKNR", true},
		{"phone:digits", "46701234567", true},
		{"dob:year", "1980", true},
		{"first:prefix1+dob:year", "j\x1f1980", true},
		{"first:year", "", false}, // no digits: no key
	} {
		bs, err := ParseBlockSpec(tc.spec, fields)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := blkKey(nil, &bs, vals)
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("key %s = %q, %v; want %q, %v", tc.spec, got, ok, tc.want, tc.ok)
		}
	}
	// Case and accents do not count in exact and prefix keys.
	bs, _ := ParseBlockSpec("last:prefix4+first", fields)
	a, _ := blkKey(nil, &bs, []string{"Jürgen", "Straße", "", ""})
	b, _ := blkKey(nil, &bs, []string{"JURGEN", "strasse", "", ""})
	if string(a) != string(b) || string(a) != "stra\x1fjurgen" {
		t.Errorf("folded keys %q, %q", a, b)
	}
	// An empty component means no key for the spec.
	bs, _ = ParseBlockSpec("first+last", fields)
	if _, ok := blkKey(nil, &bs, []string{"ann", "", "", ""}); ok {
		t.Error("key with an empty component")
	}
}

// TestCandidatesBruteForce checks blocking against a direct computation:
// every pair of records sharing a key, not in the same exact group.
func TestCandidatesBruteForce(t *testing.T) {
	t.Parallel()
	fields := []string{"first", "last", "city"}
	var recs []Record
	firsts := []string{"ann", "anna", "bob", "", "carl"}
	lasts := []string{"smith", "smyth", "jones", "", "brown", "smithe"}
	cities := []string{"oslo", "bergen", ""}
	for i := range 300 {
		recs = append(recs, Record{Values: []string{firsts[i%5], lasts[(i/5)%6], cities[(i/30)%3]}})
	}
	root := make([]uint32, len(recs))
	for i := range root {
		root[i] = uint32(i)
		if i%7 == 3 {
			root[i] = uint32(i - 3)
		}
	}
	specsRaw := []string{"last:soundex+city", "first:prefix2", "city"}
	var specs []BlockSpec
	for _, s := range specsRaw {
		bs, err := ParseBlockSpec(s, fields)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, bs)
	}
	for _, maxBlock := range []int{1000, 50} {
		res, err := blkCandidates(context.Background(), matchRecords(recs), specs, root, maxBlock, 3, func(a, b uint32) int { return int(a) - int(b) })
		if err != nil {
			t.Fatal(err)
		}
		want := map[uint64]bool{}
		for a := range recs {
			for b := a + 1; b < len(recs); b++ {
				if root[a] == root[b] {
					continue
				}
				for si := range specs {
					ka, oka := blkKey(nil, &specs[si], recs[a].Values)
					kb, okb := blkKey(nil, &specs[si], recs[b].Values)
					if oka && okb && string(ka) == string(kb) {
						want[uint64(a)<<32|uint64(b)] = true
					}
				}
			}
		}
		if !slices.IsSorted(res.pairs) {
			t.Fatal("pairs not sorted")
		}
		if len(slices.Compact(slices.Clone(res.pairs))) != len(res.pairs) {
			t.Fatal("duplicate pairs")
		}
		if maxBlock == 1000 {
			if len(res.pairs) != len(want) {
				t.Fatalf("%d pairs, want %d", len(res.pairs), len(want))
			}
			for _, p := range res.pairs {
				if !want[p] {
					t.Fatalf("unexpected pair %d-%d", p>>32, uint32(p))
				}
			}
			if len(res.oversized) != 0 {
				t.Errorf("oversized blocks reported: %v", res.oversized)
			}
			continue
		}
		// With a cap of 50, the big blocks are windowed and reported.
		if len(res.oversized) == 0 {
			t.Fatal("no oversized block reported with max 50")
		}
		for _, p := range res.pairs {
			if !want[p] {
				t.Fatalf("windowed pair %d-%d shares no key", p>>32, uint32(p))
			}
		}
		for _, o := range res.oversized {
			if o.Size <= 50 || o.Pairs > int64(o.Size*(blkWindow-1)) {
				t.Errorf("oversized report %+v", o)
			}
		}
	}
}

// TestOversizedBlock: 10,000 records sharing one blocking key finish
// quickly, the block is reported and comparisons stay bounded.
func TestOversizedBlock(t *testing.T) {
	t.Parallel()
	const n = 10000
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Source: "old", ID: fmt.Sprint(i), Values: []string{
			"se", fmt.Sprintf("name%05d", i*7919%n), fmt.Sprintf("city%d", i%97)}}
	}
	cfg := Config{
		Fields:  []string{"country", "name", "city"},
		Block:   []string{"country"},
		Compare: []CompareSpec{{Field: 1, Method: MethodJaroWinkler}, {Field: 2, Method: MethodExact}},
	}
	start := time.Now()
	res, err := Run(context.Background(), recs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("10k block: %d comparisons, %d clusters, %v", res.Stats.Comparisons, len(res.Clusters), took)
	if len(res.Oversized) != 1 || res.Oversized[0].Size != n || res.Oversized[0].Key != "se" || res.Oversized[0].Spec != "country" {
		t.Fatalf("oversized = %+v, want one block se of %d", res.Oversized, n)
	}
	if res.Stats.Comparisons >= n*50 {
		t.Errorf("%d comparisons, want < %d", res.Stats.Comparisons, n*50)
	}
	if res.Stats.Comparisons < n {
		t.Errorf("%d comparisons: the oversized block was not compared at all", res.Stats.Comparisons)
	}
	if took > 10*time.Second {
		t.Errorf("10k block took %v", took)
	}
}
