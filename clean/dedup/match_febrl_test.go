package dedup

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// febrlFields are the FEBRL columns after rec_id.
var febrlFields = []string{"given_name", "surname", "street_number", "address_1", "address_2",
	"suburb", "postcode", "state", "date_of_birth", "soc_sec_id"}

// febrlConfig is the dedup configuration documented in docs/dedup.md.
func febrlConfig(autoMerge float64) Config {
	f := func(name string) int {
		for i, n := range febrlFields {
			if n == name {
				return i
			}
		}
		panic(name)
	}
	return Config{
		Fields: febrlFields,
		Block: []string{
			"surname:soundex+postcode",
			"given_name:soundex+date_of_birth:year",
			"soc_sec_id",
			"date_of_birth",
			"given_name:prefix2+surname:prefix2",
			"street_number+address_1:prefix3",
		},
		Compare: []CompareSpec{
			{Field: f("given_name"), Method: MethodJaroWinkler},
			{Field: f("surname"), Method: MethodJaroWinkler},
			{Field: f("street_number"), Method: MethodExact},
			{Field: f("address_1"), Method: MethodJaroWinkler},
			{Field: f("address_2"), Method: MethodJaroWinkler},
			{Field: f("suburb"), Method: MethodJaroWinkler},
			{Field: f("postcode"), Method: MethodExact},
			{Field: f("state"), Method: MethodExact},
			{Field: f("date_of_birth"), Method: MethodDate},
			{Field: f("soc_sec_id"), Method: MethodLevenshtein},
		},
		AutoMerge: autoMerge,
		Review:    min(0.80, autoMerge),
	}
}

// febrlLoad reads a FEBRL CSV into records and their entity numbers.
func febrlLoad(t testing.TB, name, source string) ([]Record, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "febrl", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if len(rows) < 2 || rows[0][0] != "rec_id" || len(rows[0]) != len(febrlFields)+1 {
		t.Fatalf("%s: unexpected header %v", name, rows[0])
	}
	var recs []Record
	var ents []string
	for _, row := range rows[1:] {
		id := row[0]
		parts := strings.Split(id, "-")
		if len(parts) < 3 || parts[0] != "rec" {
			t.Fatalf("%s: bad rec_id %q", name, id)
		}
		vals := make([]string, len(febrlFields))
		for i := range febrlFields {
			vals[i] = strings.TrimSpace(row[i+1])
		}
		recs = append(recs, Record{Source: source, ID: id, Values: vals})
		ents = append(ents, parts[1])
	}
	return recs, ents
}

// febrlQuality returns pairwise precision and recall of clusters against
// the entity of each record.
func febrlQuality(clusters [][]int, ents []string) (precision, recall float64, tp, fp, fn int) {
	truth := map[string]int{}
	for _, e := range ents {
		truth[e]++
	}
	truePairs := 0
	for _, c := range truth {
		truePairs += c * (c - 1) / 2
	}
	for _, cl := range clusters {
		for i := range cl {
			for j := i + 1; j < len(cl); j++ {
				if ents[cl[i]] == ents[cl[j]] {
					tp++
				} else {
					fp++
				}
			}
		}
	}
	fn = truePairs - tp
	precision, recall = 1, 1
	if tp+fp > 0 {
		precision = float64(tp) / float64(tp+fp)
	}
	if truePairs > 0 {
		recall = float64(tp) / float64(truePairs)
	}
	return
}

func TestFEBRLDataset1(t *testing.T) {
	t.Parallel()
	recs, ents := febrlLoad(t, "dataset1.csv", "old")
	if len(recs) != 1000 {
		t.Fatalf("dataset1: %d records, want 1000", len(recs))
	}
	for _, am := range []float64{0.85, 0.92, 0.98} {
		res, err := Run(context.Background(), recs, febrlConfig(am))
		if err != nil {
			t.Fatal(err)
		}
		p, r, tp, fp, fn := febrlQuality(res.Clusters, ents)
		t.Logf("dataset1 auto_merge=%.2f: precision %.4f recall %.4f (tp %d fp %d fn %d) candidates %d review %d cuts %d prior %.4f iters %d %v",
			am, p, r, tp, fp, fn, res.Stats.CandidatePairs, len(res.Review), res.Stats.ChainCuts, res.Model.Prior, res.Model.Iterations, res.Stats.Total)
		if p < 0.99 || r < 0.99 {
			t.Errorf("dataset1 auto_merge=%.2f: precision %.4f recall %.4f, want both ≥ 0.99", am, p, r)
		}
	}
}

func TestFEBRLDataset4(t *testing.T) {
	t.Parallel()
	a, ea := febrlLoad(t, "dataset4a.csv", "old")
	b, eb := febrlLoad(t, "dataset4b.csv", "marketing")
	if len(a) != 5000 || len(b) != 5000 {
		t.Fatalf("dataset4: %d + %d records, want 5000 + 5000", len(a), len(b))
	}
	recs := append(append([]Record{}, a...), b...)
	ents := append(append([]string{}, ea...), eb...)
	for _, am := range []float64{0.85, 0.92, 0.98} {
		res, err := Run(context.Background(), recs, febrlConfig(am))
		if err != nil {
			t.Fatal(err)
		}
		p, r, tp, fp, fn := febrlQuality(res.Clusters, ents)
		t.Logf("dataset4 auto_merge=%.2f: precision %.4f recall %.4f (tp %d fp %d fn %d) candidates %d review %d cuts %d prior %.4f iters %d %v",
			am, p, r, tp, fp, fn, res.Stats.CandidatePairs, len(res.Review), res.Stats.ChainCuts, res.Model.Prior, res.Model.Iterations, res.Stats.Total)
		if p < 0.99 || r < 0.99 {
			t.Errorf("dataset4 auto_merge=%.2f: precision %.4f recall %.4f, want both ≥ 0.99", am, p, r)
		}
	}
}
