package dedup

import (
	"math"
	"math/rand/v2"
	"testing"
)

// modelSample draws comparison vectors for k fields from level distributions.
func modelSample(rng *rand.Rand, dist [][]float64) uint64 {
	var code uint64
	for f, d := range dist {
		x, l := rng.Float64(), 0
		for l < len(d)-1 && x >= d[l] {
			x -= d[l]
			l++
		}
		code |= uint64(l+1) << (modelBitsPerFld * f)
	}
	return code
}

func modelHist(codes []uint64) []modelPattern {
	h := map[uint64]int64{}
	for _, c := range codes {
		h[c]++
	}
	return modelHistogram([]map[uint64]int64{h})
}

// TestEMRecoversParameters: vectors drawn from a known model give back its
// m and prior; u stays the given one.
func TestEMRecoversParameters(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	m := [][]float64{{0.05, 0.05, 0.2, 0.7}, {0.1, 0.1, 0.1, 0.7}, {0.02, 0.03, 0.05, 0.9}}
	u := [][]float64{{0.8, 0.1, 0.05, 0.05}, {0.7, 0.2, 0.05, 0.05}, {0.95, 0.02, 0.02, 0.01}}
	var codes []uint64
	for range 2000 {
		codes = append(codes, modelSample(rng, m))
	}
	for range 18000 {
		codes = append(codes, modelSample(rng, u))
	}
	// The pairs were drawn without looking at their vectors, so they stand
	// for the whole population: λ = 2000 / 20000.
	mdl := modelFit(modelInput{hist: modelHist(codes), u: u, scale: []float64{1, 1, 1}, totalPairs: float64(len(codes))})
	if !mdl.Converged {
		t.Errorf("EM did not converge in %d iterations", mdl.Iterations)
	}
	if math.Abs(mdl.Prior-0.1)/0.1 > 0.1 {
		t.Errorf("prior %.5f, want 0.1 ± 10%%", mdl.Prior)
	}
	for f := range m {
		for l := range matchNumLevels {
			if d := math.Abs(mdl.M[f][l] - m[f][l]); d > 0.04 {
				t.Errorf("m[%d][%d] = %.3f, want %.3f", f, l, mdl.M[f][l], m[f][l])
			}
			if d := math.Abs(mdl.U[f][l] - u[f][l]); d > 0.002 {
				t.Errorf("u[%d][%d] = %.3f changed from %.3f", f, l, mdl.U[f][l], u[f][l])
			}
		}
	}
	// Weights follow m/u, and a missing field adds nothing.
	if w := mdl.Weights[2][3]; math.Abs(w-math.Log(mdl.M[2][3]/mdl.U[2][3])) > 1e-12 || w <= 0 {
		t.Errorf("weight %v", w)
	}
	if got, want := mdl.Posterior([]int{LevelMissing, LevelMissing, LevelMissing}), mdl.Prior; math.Abs(got-want) > 1e-12 {
		t.Errorf("all-missing posterior %v, want the prior %v", got, want)
	}
}

// TestEMBlockedFieldAgreement: every candidate pair agrees on the blocked
// field 0, as blocking makes them. Agreement there alone must not make a
// match, and agreement everywhere must.
func TestEMBlockedFieldAgreement(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	exact := []float64{0, 0, 0, 1}
	mRest := []float64{0.05, 0.05, 0.1, 0.8}
	uRest := []float64{0.95, 0.03, 0.015, 0.005}
	var codes []uint64
	for range 300 {
		codes = append(codes, modelSample(rng, [][]float64{exact, mRest, mRest}))
	}
	for range 30000 {
		codes = append(codes, modelSample(rng, [][]float64{exact, uRest, uRest}))
	}
	// Population u: surnames rarely agree at random.
	u := [][]float64{{0.97, 0.01, 0.01, 0.01}, uRest, uRest}
	mdl := modelFit(modelInput{hist: modelHist(codes), u: u, scale: []float64{1, 1, 1}, totalPairs: 5e6})
	onlyBlocked := mdl.Posterior([]int{LevelExact, LevelDisagree, LevelDisagree})
	all := mdl.Posterior([]int{LevelExact, LevelExact, LevelExact})
	t.Logf("prior %.2e, only blocked field %.4f, all fields %.4f", mdl.Prior, onlyBlocked, all)
	if onlyBlocked > 0.01 {
		t.Errorf("agreeing only on the blocked field scores %.4f", onlyBlocked)
	}
	if all < 0.99 {
		t.Errorf("agreeing on every field scores %.4f", all)
	}
	if mdl.Weights[0][3] <= 0 {
		t.Errorf("agreement on the blocked field counts against a match: %v", mdl.Weights[0])
	}
}

// TestEMScale: a plan weight multiplies the learned evidence and does not
// change what is learned.
func TestEMScale(t *testing.T) {
	t.Parallel()
	u := [][]float64{{0.9, 0.05, 0.03, 0.02}}
	hist := []modelPattern{{uint64(LevelExact), 100}, {uint64(LevelDisagree), 900}}
	a := modelFit(modelInput{hist: hist, u: u, scale: []float64{1}, totalPairs: 1e5})
	b := modelFit(modelInput{hist: hist, u: u, scale: []float64{2}, totalPairs: 1e5})
	if a.M[0][3] != b.M[0][3] || a.Prior != b.Prior {
		t.Errorf("scale changed learning: %v %v vs %v %v", a.M[0], a.Prior, b.M[0], b.Prior)
	}
	if math.Abs(b.Weights[0][3]-2*a.Weights[0][3]) > 1e-12 {
		t.Errorf("weights %v vs %v, want twice", b.Weights[0], a.Weights[0])
	}
}

// TestEMKnownMatches: most candidate pairs are look-alikes that agree on two
// common fields (namesakes) and nothing else; the true matches among the
// candidates are few. Known matches (pairs sharing the key) join EM as
// certain matches: M stays what matches look like, λ is found, and the
// look-alikes stay non-matches. A key field takes nothing from them.
func TestEMKnownMatches(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	mTrue := [][]float64{{0.02, 0.03, 0.05, 0.9}, {0.02, 0.03, 0.05, 0.9}, {0.2, 0.0, 0.1, 0.7}}
	lookAlike := [][]float64{{0, 0, 0, 1}, {0, 0, 0, 1}, {1, 0, 0, 0}}
	u := [][]float64{{0.97, 0.01, 0.01, 0.01}, {0.97, 0.01, 0.01, 0.01}, {0.9999, 0.00005, 0.00003, 0.00002}}
	var cand, known []uint64
	for range 200 {
		cand = append(cand, modelSample(rng, mTrue))
	}
	for range 20000 {
		cand = append(cand, modelSample(rng, lookAlike))
	}
	for range 5000 {
		known = append(known, modelSample(rng, mTrue))
	}
	plain := modelFit(modelInput{hist: modelHist(cand), u: u, scale: []float64{1, 1, 1}, totalPairs: 1e9})
	t.Logf("without known matches: look-alike posterior %.4f, prior %.3g",
		plain.Posterior([]int{LevelExact, LevelExact, LevelDisagree}), plain.Prior)
	mdl := modelFit(modelInput{hist: modelHist(cand), known: modelHist(known), u: u, scale: []float64{1, 1, 1}, totalPairs: 1e9})
	for f := range mTrue {
		for l := range matchNumLevels {
			if d := math.Abs(mdl.M[f][l] - mTrue[f][l]); d > 0.02 {
				t.Errorf("m[%d][%d] = %.3f, want %.3f", f, l, mdl.M[f][l], mTrue[f][l])
			}
		}
	}
	if mdl.KnownPairs != 5000 {
		t.Errorf("known pairs %d, want 5000", mdl.KnownPairs)
	}
	if p := mdl.Posterior([]int{LevelExact, LevelExact, LevelDisagree}); p > 0.05 {
		t.Errorf("look-alike posterior %.4f, want < 0.05 (prior %.3g)", p, mdl.Prior)
	}
	if p := mdl.Posterior([]int{LevelExact, LevelExact, LevelExact}); p < 0.95 {
		t.Errorf("full agreement posterior %.4f, want ≥ 0.95", p)
	}
	// λ is about the 200 true matches among 10⁹ pairs.
	if mdl.Prior < 1e-7 || mdl.Prior > 1e-6 {
		t.Errorf("prior %.3g, want about 2e-7", mdl.Prior)
	}
	// A key field takes nothing from the known matches.
	mdl = modelFit(modelInput{hist: modelHist(cand), known: modelHist(known), keyField: []bool{false, false, true}, u: u,
		scale: []float64{1, 1, 1}, totalPairs: 1e9})
	if mdl.KeyField == nil || !mdl.KeyField[2] || math.Abs(mdl.M[2][3]-mTrue[2][3]) < 0.05 {
		t.Errorf("key field m %v learned from the known matches", mdl.M[2])
	}
}

// TestAnchorDiscountsSharedContext: colleagues share a company (field 0)
// and often its switchboard number (field 1), which random pairs almost
// never share. Agreeing on both is one piece of evidence, not two: with the
// company as an anchor, colleagues with different names (field 2) are not a
// match, while the same person at one company still scores high.
func TestAnchorDiscountsSharedContext(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	m := [][]float64{{0.02, 0.01, 0.01, 0.96}, {0.4, 0.01, 0.01, 0.58}, {0.01, 0.01, 0.03, 0.95}}
	u := [][]float64{{0.9999, 0.00001, 0.00001, 0.00008}, {0.99999, 0.000002, 0.000002, 0.000006}, {0.97, 0.01, 0.01, 0.01}}
	colleague := [][]float64{{0, 0, 0, 1}, {0.7, 0, 0, 0.3}, {0.985, 0.005, 0.005, 0.005}}
	var cand, known, shared []uint64
	for range 3000 {
		cand = append(cand, modelSample(rng, m))
	}
	for range 30000 {
		cand = append(cand, modelSample(rng, colleague))
	}
	for range 3000 {
		known = append(known, modelSample(rng, m))
	}
	for range 20000 {
		shared = append(shared, modelSample(rng, colleague))
	}
	const total = 2e9 // record pairs: about 63 000 records
	in := modelInput{hist: modelHist(cand), known: modelHist(known), u: u, scale: []float64{1, 1, 1}, totalPairs: total}
	plain := modelFit(in)
	in.anchors = []modelAnchorIn{{field: 0, hist: modelHist(shared), shared: int64(0.00008 * total), sharedKey: 0.05}}
	anchored := modelFit(in)
	if len(anchored.Anchors) != 1 || !anchored.Anchors[0].Active {
		t.Fatalf("anchors %+v, want the company active", anchored.Anchors)
	}
	colleagues := []int{LevelExact, LevelExact, LevelDisagree}
	same := []int{LevelExact, LevelExact, LevelExact}
	t.Logf("colleagues: plain %.4f anchored %.4f; same person: plain %.4f anchored %.4f",
		plain.Posterior(colleagues), anchored.Posterior(colleagues), plain.Posterior(same), anchored.Posterior(same))
	if p := plain.Posterior(colleagues); p < 0.5 {
		t.Errorf("without the anchor, colleagues score %.4f; the test needs them to look alike", p)
	}
	if p := anchored.Posterior(colleagues); p > 0.05 {
		t.Errorf("with the company anchor, colleagues score %.4f, want < 0.05", p)
	}
	if p := anchored.Posterior(same); p < 0.8 {
		t.Errorf("with the company anchor, the same person scores %.4f, want ≥ 0.8", p)
	}
	// Shared by duplicates rather than by unrelated records: not an anchor.
	in.anchors[0].sharedKey = 0.5
	if mdl := modelFit(in); len(mdl.Anchors) != 0 {
		t.Errorf("a field shared mostly by key duplicates became an anchor")
	}
}

// TestWeightScales: plan weights are relative, averaging 1, capped.
func TestWeightScales(t *testing.T) {
	t.Parallel()
	cs := func(ws ...float64) []CompareSpec {
		var out []CompareSpec
		for _, w := range ws {
			out = append(out, CompareSpec{Weight: w})
		}
		return out
	}
	for _, tc := range []struct {
		in   []CompareSpec
		want []float64
	}{
		{cs(0, 0, 0), []float64{1, 1, 1}},
		{cs(2, 2, 2), []float64{1, 1, 1}},
		{cs(2, 3, 4, 2, 1), []float64{0.8333, 1.25, 1.6667, 0.8333, 0.4167}},
		{cs(2, 0, 0, 0), []float64{1.6, 0.8, 0.8, 0.8}},
		{cs(100, 1, 1, 1, 1), []float64{MaxWeightScale, 1.0 / 20.8, 1.0 / 20.8, 1.0 / 20.8, 1.0 / 20.8}},
	} {
		got := matchScales(tc.in)
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-3 {
				t.Errorf("scales of %v = %v, want %v", tc.in, got, tc.want)
				break
			}
		}
	}
}
