package dedup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var matchContactFields = []string{"email", "first_name", "last_name", "company", "phone", "city"}

func matchContactConfig() Config {
	return Config{
		Fields: matchContactFields,
		Block:  []string{"last_name:soundex+first_name:prefix2", "phone:digits", "last_name:prefix3+company"},
		Compare: []CompareSpec{
			{Field: 1, Method: MethodJaroWinkler},
			{Field: 2, Method: MethodJaroWinkler},
			{Field: 3, Method: MethodTokenSet},
			{Field: 4, Method: MethodExact},
			{Field: 5, Method: MethodJaroWinkler},
		},
		AutoMerge: 0.92,
		Review:    0.80,
	}
}

func TestIdenticalRecordsTwoSources(t *testing.T) {
	t.Parallel()
	vals := []string{"", "anna", "lindqvist", "acme ab", "+46701234567", "stockholm"}
	recs := []Record{
		{Source: "old", ID: "1", Values: vals},
		{Source: "marketing", ID: "m-9", Values: append([]string(nil), vals...)},
	}
	res, err := Run(context.Background(), recs, matchContactConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Clusters, [][]int{{0, 1}}) {
		t.Fatalf("clusters = %v, want one cluster [[0 1]] (score %v, model %+v)", res.Clusters, res.Score, res.Model)
	}
	for i, d := range res.Decision {
		if d != DecisionAuto || res.Score[i] < 0.92 {
			t.Errorf("record %d: %s %.3f, want auto ≥ 0.92", i, d, res.Score[i])
		}
	}
	// The same pair among unrelated records.
	recs = append(recs, matchGenContacts(500, 0, 7)...)
	res, err = Run(context.Background(), recs, matchContactConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Clusters[0]; !reflect.DeepEqual(got, []int{0, 1}) {
		t.Errorf("first cluster = %v, want [0 1]", got)
	}
}

func TestDedupExactStage(t *testing.T) {
	t.Parallel()
	recs := []Record{
		{Source: "old", ID: "1", Key: "a@x.com", Values: []string{"a@x.com", "ann", "berg", "", "", ""}},
		{Source: "old", ID: "2", Key: "", Values: []string{"", "zed", "quist", "", "", ""}},
		{Source: "mkt", ID: "3", Key: "a@x.com", Values: []string{"a@x.com", "annie", "bergman", "", "", ""}},
		{Source: "mkt", ID: "4", Key: "b@x.com", Values: []string{"b@x.com", "bo", "ek", "", "", ""}},
	}
	cfg := Config{Fields: matchContactFields} // no blocking: exact only
	res, err := Run(context.Background(), recs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{0, 2}, {1}, {3}}; !reflect.DeepEqual(res.Clusters, want) {
		t.Fatalf("clusters = %v, want %v", res.Clusters, want)
	}
	wantDec := []Decision{DecisionExact, DecisionSingle, DecisionExact, DecisionSingle}
	wantScore := []float64{1, 0, 1, 0}
	if !reflect.DeepEqual(res.Decision, wantDec) || !reflect.DeepEqual(res.Score, wantScore) {
		t.Errorf("decisions %v scores %v, want %v %v", res.Decision, res.Score, wantDec, wantScore)
	}
	if res.Stats.ExactLinks != 1 || res.Model != nil {
		t.Errorf("exact links %d model %v", res.Stats.ExactLinks, res.Model)
	}
	// Records in one exact cluster are not compared again.
	cfg = matchContactConfig()
	cfg.Block = []string{"email"}
	res, err = Run(context.Background(), recs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.CandidatePairs != 0 {
		t.Errorf("%d candidate pairs inside exact clusters, want 0", res.Stats.CandidatePairs)
	}
}

// matchGenContacts makes n unrelated contacts and dups near-duplicates of the
// first ones (one or two planted typos or missing values), deterministically.
func matchGenContacts(n, dups int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 99))
	// Vocabularies large enough that unrelated people rarely share a full
	// name, built from syllables so the test needs no data files.
	var firsts, lasts, comps, cities []string
	for _, a := range []string{"an", "er", "ma", "jo", "ka", "la", "so", "el", "pe", "ni", "em", "ol", "id", "sa", "da", "ju", "os", "ha", "vi", "li"} {
		for _, m := range []string{"", "l", "r", "n", "s"} {
			for _, b := range []string{"na", "rik", "ria", "han", "rin", "ssa", "fie", "va", "lle", "der"} {
				firsts = append(firsts, a+m+b)
			}
		}
	}
	onsets := []string{"", "b", "br", "d", "dr", "f", "fr", "g", "gr", "k", "kr", "l", "m", "n", "p",
		"pr", "r", "s", "sk", "st", "t", "tr", "v", "w", "h", "j", "ch", "sh", "z", "bl"}
	for _, a := range []string{"anders", "johan", "karl", "nils", "erik", "lars", "ols", "pers", "svens", "gustaf",
		"petter", "jons", "jans", "hans", "bengt", "lind", "berg", "lund", "holm", "sand", "fors", "wall", "eng", "dan", "ny"} {
		for _, m := range onsets { // onsets vary the Soundex code
			for _, b := range []string{"son", "sson", "berg", "qvist", "gren", "strom", "man", "ling", "dahl", "ek", "blad", "ander"} {
				lasts = append(lasts, m+a+b)
			}
		}
	}
	for _, a := range []string{"acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "cyberdyne", "soylent",
		"tyrell", "vandelay", "wonka", "gringotts", "oceanic", "nakatomi", "dunder", "massive", "monarch", "aperture", "black mesa"} {
		for _, m := range []string{"", "nordic", "global", "north", "west", "east", "south", "euro", "digital", "green", "blue", "red", "solar", "smart", "first"} {
			for _, b := range []string{"ab", "gmbh", "industries", "systems", "logistics", "consulting", "labs", "group", "trading", "bank"} {
				comps = append(comps, strings.TrimSpace(a+" "+m)+" "+b)
			}
		}
	}
	for _, a := range []string{"stock", "gote", "mal", "upp", "lin", "ore", "hel", "vas", "jon", "nor", "sunds", "kal"} {
		for _, b := range []string{"holm", "borg", "mo", "sala", "koping", "bro", "vik"} {
			cities = append(cities, a+b)
		}
	}
	typo := func(s string) string {
		if len(s) < 3 {
			return s
		}
		r := []byte(s)
		i := 1 + rng.IntN(len(r)-2)
		switch rng.IntN(3) {
		case 0:
			r[i], r[i+1] = r[i+1], r[i]
		case 1:
			r[i] = byte('a' + rng.IntN(26))
		default:
			r = append(r[:i], r[i+1:]...)
		}
		return string(r)
	}
	out := make([]Record, 0, n+dups)
	for i := range n {
		f, l := firsts[rng.IntN(len(firsts))], lasts[rng.IntN(len(lasts))]
		out = append(out, Record{Source: "old", ID: fmt.Sprint("o", i), Values: []string{
			fmt.Sprintf("%s.%s%d@example.com", f, l, i), f, l, comps[rng.IntN(len(comps))],
			fmt.Sprintf("+467%08d", rng.IntN(100000000)), cities[rng.IntN(len(cities))],
		}})
	}
	for i := range dups {
		src := out[i%n]
		v := append([]string(nil), src.Values...)
		v[0] = "" // the marketing export has no email
		for range 1 + rng.IntN(2) {
			f := 1 + rng.IntN(5)
			switch rng.IntN(4) {
			case 0:
				v[f] = ""
			default:
				v[f] = typo(v[f])
			}
		}
		out = append(out, Record{Source: "marketing", ID: fmt.Sprint("m", i), Values: v})
	}
	return out
}

// TestDeterministic: the same input gives the same result whatever the
// number of workers.
func TestDedupDeterministic(t *testing.T) {
	t.Parallel()
	recs := matchGenContacts(3000, 600, 1)
	var first *Result
	for _, w := range []int{1, 2, 7} {
		cfg := matchContactConfig()
		cfg.Workers = w
		res, err := Run(context.Background(), recs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if !reflect.DeepEqual(res.Clusters, first.Clusters) || !reflect.DeepEqual(res.Decision, first.Decision) ||
			!reflect.DeepEqual(res.Score, first.Score) || !reflect.DeepEqual(res.Review, first.Review) ||
			!reflect.DeepEqual(res.Model.M, first.Model.M) {
			t.Fatalf("workers %d: result differs from workers 1", w)
		}
	}
	for i := 1; i < len(first.Clusters); i++ {
		if first.Clusters[i-1][0] >= first.Clusters[i][0] {
			t.Fatal("clusters not ordered by smallest member")
		}
	}
	// Planted duplicates are found (a sanity check on synthetic data).
	found := 0
	cid := make([]int, len(recs))
	for c, cl := range first.Clusters {
		for _, i := range cl {
			cid[i] = c
		}
	}
	for i := range 600 {
		if cid[i] == cid[3000+i] {
			found++
		}
	}
	t.Logf("synthetic: %d/600 planted duplicates merged, %d review pairs, %d clusters", found, len(first.Review), len(first.Clusters))
	if found < 540 {
		t.Errorf("only %d of 600 planted duplicates merged", found)
	}
}

// TestChainEndToEnd builds a chain A~B~C where A and C have little in
// common: two namesakes at different companies, and a sparse record B (no
// company) that has A's phone and C's city.
func TestChainEndToEnd(t *testing.T) {
	t.Parallel()
	recs := matchGenContacts(2000, 400, 3)
	n := len(recs)
	recs = append(recs,
		Record{Source: "x", ID: "A", Values: []string{"", "ingrid", "wahlberg", "quux ab", "+46555000001", ""}},
		Record{Source: "x", ID: "B", Values: []string{"", "ingrid", "wahlberg", "", "+46555000001", "gavle"}},
		Record{Source: "x", ID: "C", Values: []string{"", "ingrid", "wahlberg", "zorg ab", "+46555000002", "gavle"}})
	a, b, c := n, n+1, n+2
	res, err := Run(context.Background(), recs, matchContactConfig())
	if err != nil {
		t.Fatal(err)
	}
	cid := make([]int, len(recs))
	for k, cl := range res.Clusters {
		for _, i := range cl {
			cid[i] = k
		}
	}
	t.Logf("A,B,C decisions %v %v %v; scores %.4f %.4f %.4f; chain cuts %d", res.Decision[a], res.Decision[b], res.Decision[c],
		res.Score[a], res.Score[b], res.Score[c], res.Stats.ChainCuts)
	if cid[a] == cid[c] {
		t.Fatalf("A and C ended in one cluster")
	}
	if cid[a] != cid[b] {
		t.Fatalf("A and B (the strongest link) are not one cluster")
	}
	found := false
	for _, rp := range res.Review {
		if rp.A == b && rp.B == c {
			found = true
			if rp.Reason != ReasonChain || rp.Score < 0.92 {
				t.Errorf("cut link in review: %+v, want reason chain and score ≥ 0.92", rp)
			}
		}
	}
	if !found {
		t.Errorf("the cut link B-C is not in review")
	}
	if res.Decision[c] != DecisionReview {
		t.Errorf("C's decision = %s, want review", res.Decision[c])
	}
}

func TestDedupDecisions(t *testing.T) {
	t.Parallel()
	recs := matchGenContacts(1000, 200, 5)
	cfg := matchContactConfig()
	base, err := Run(context.Background(), recs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cid := func(r *Result) []int {
		out := make([]int, len(recs))
		for k, cl := range r.Clusters {
			for _, i := range cl {
				out[i] = k
			}
		}
		return out
	}
	c0 := cid(base)
	// Find a merged pair and an unrelated pair.
	merged := [2]int{-1, -1}
	for i := range 200 {
		if c0[i] == c0[1000+i] && len(base.Clusters[c0[i]]) == 2 {
			merged = [2]int{i, 1000 + i}
			break
		}
	}
	if merged[0] < 0 {
		t.Fatal("no merged planted pair")
	}
	unrelated := [2]int{500, 501}
	if c0[500] == c0[501] {
		t.Fatal("unrelated records merged")
	}
	rejected := [][2]int{merged}
	var reviewPair [2]int
	if len(base.Review) > 0 {
		reviewPair = [2]int{base.Review[0].A, base.Review[0].B}
		rejected = append(rejected, reviewPair)
	}

	res, err := RunWithDecisions(context.Background(), recs, cfg, [][2]int{unrelated}, rejected)
	if err != nil {
		t.Fatal(err)
	}
	c := cid(res)
	if c[merged[0]] == c[merged[1]] {
		t.Error("rejected pair merged")
	}
	if c[unrelated[0]] != c[unrelated[1]] || res.Decision[unrelated[0]] != DecisionAccepted || res.Decision[unrelated[1]] != DecisionAccepted {
		t.Errorf("accepted pair: clusters %d %d decisions %s %s", c[unrelated[0]], c[unrelated[1]], res.Decision[unrelated[0]], res.Decision[unrelated[1]])
	}
	for _, rp := range res.Review {
		k := [2]int{rp.A, rp.B}
		if k == merged || (len(base.Review) > 0 && k == reviewPair) {
			t.Errorf("rejected pair %v queued again", k)
		}
		if rp.A >= rp.B || len(rp.FieldScores) != len(cfg.Compare) {
			t.Errorf("bad review pair %+v", rp)
		}
	}
	// Every record's decision fits its cluster.
	for i, d := range res.Decision {
		size := len(res.Clusters[c[i]])
		switch d {
		case DecisionSingle, DecisionReview:
			if size != 1 {
				t.Errorf("record %d: %s in a cluster of %d", i, d, size)
			}
		default:
			if size < 2 {
				t.Errorf("record %d: %s alone", i, d)
			}
		}
	}
	// Bad decisions are errors.
	_, err = RunWithDecisions(context.Background(), recs, cfg, [][2]int{{0, 0}}, [][2]int{{1, 9999}})
	if err == nil || !strings.Contains(err.Error(), "accepted pair [0 0]") || !strings.Contains(err.Error(), "rejected pair [1 9999]") {
		t.Errorf("bad pairs: %v", err)
	}
	_, err = RunWithDecisions(context.Background(), recs, cfg, [][2]int{{1, 2}}, [][2]int{{2, 1}})
	if err == nil || !strings.Contains(err.Error(), "both accepted and rejected") {
		t.Errorf("contradicting pairs: %v", err)
	}
}

func TestDedupErrors(t *testing.T) {
	t.Parallel()
	recs := []Record{{Source: "old", ID: "7", Values: []string{"a", "b"}}}
	_, err := Run(context.Background(), recs, matchContactConfig())
	if err == nil || !strings.Contains(err.Error(), "record 0 (old 7): 2 values, want 6") {
		t.Errorf("short record: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, matchGenContacts(50000, 0, 1), matchContactConfig())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestDedupLearnsFromKnownMatches: records sharing the exact key are known
// matches; they teach M (the key field itself excepted), and the fuzzy
// duplicates without a key are found.
func TestDedupLearnsFromKnownMatches(t *testing.T) {
	t.Parallel()
	recs := matchGenContacts(2000, 300, 11)
	for i := range recs {
		recs[i].Key = recs[i].Values[0]
	}
	// A copy of each of the first 800 contacts from another source, same
	// e-mail (so a known match), first name sometimes in capitals.
	for i := range 800 {
		v := append([]string(nil), recs[i].Values...)
		if i%3 == 0 {
			v[1] = strings.ToUpper(v[1])
		}
		recs = append(recs, Record{Source: "crm2", ID: fmt.Sprint("c", i), Key: v[0], Values: v})
	}
	cfg := matchContactConfig()
	cfg.Compare = append([]CompareSpec{{Field: 0, Method: MethodEmail}}, cfg.Compare...)
	cfg.Compare[1].Method = MethodName
	cfg.Compare[2].Method = MethodName
	res, err := Run(context.Background(), recs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Model
	if m == nil || m.KnownPairs != 800 || res.Stats.KnownPairs != 800 {
		t.Fatalf("known pairs %d (stats %d), want 800", m.KnownPairs, res.Stats.KnownPairs)
	}
	if len(m.KeyField) == 0 || !m.KeyField[0] || m.KeyField[1] {
		t.Errorf("key fields %v, want the e-mail only", m.KeyField)
	}
	// Most duplicates agree on the first name (the copies' capitals do not
	// count under the name method), some have a typo.
	if e, c := m.M[1][LevelExact-1], m.M[1][LevelClose-1]+m.M[1][LevelPartial-1]; e < 0.9 || c < 0.01 {
		t.Errorf("first-name m %v, want exact ≥ 0.9 and some close or partial", m.M[1])
	}
	// Each of the 300 marketing duplicates joins its original (and the copy).
	found := 0
	for i := range 300 {
		c := slices.IndexFunc(res.Clusters, func(c []int) bool { return slices.Contains(c, i) })
		if slices.Contains(res.Clusters[c], 2000+i) {
			found++
		}
	}
	for _, c := range res.Clusters {
		if len(c) > 3 {
			t.Errorf("cluster of %d records: %v", len(c), c)
		}
	}
	t.Logf("found %d of 300 duplicates; prior %.3g", found, m.Prior)
	if found < 285 {
		t.Errorf("found %d of 300 duplicates, want at least 285", found)
	}
}
