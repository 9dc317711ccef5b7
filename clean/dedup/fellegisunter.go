package dedup

import (
	"math"
	"slices"
)

// Model is a Fellegi-Sunter model learned without hand-made labels at
// every Run. For compared field f and agreement level l (disagree,
// partial, close, exact), M[f][l] = P(level l | same entity) and U[f][l] =
// P(level l | different entities); Prior = P(same entity) for two records
// drawn at random. U comes from random record pairs; M from the pairs that
// share the exact key (known matches), or by EM on the candidate pairs for
// fields they cannot inform; Prior by EM on the candidate pairs. A pair's
// score is the posterior match probability
//
//	P(match | γ) = 1 / (1 + exp(-(logit(Prior) + E(γ))))
//
// where the evidence E(γ) = Σ_f Scale[f]·ln(M[f][γf]/U[f][γf]) over the
// fields present on both sides, or less when the pair agrees exactly on an
// anchor (see Anchor and evidence). Weights[f][l] holds
// Scale[f]·ln(M/U), the evidence each level adds in nats.
type Model struct {
	Fields  []string    `json:"fields"`  // compared field names, in Compare order
	Methods []string    `json:"methods"` // comparison method per compared field
	Levels  []string    `json:"levels"`  // level names: disagree, partial, close, exact
	M       [][]float64 `json:"m"`
	U       [][]float64 `json:"u"`
	Weights [][]float64 `json:"weights"`
	// Scale is the multiplier of each field's evidence: the plan weights
	// divided by their mean, at most MaxWeightScale; all 1 without weights.
	Scale []float64 `json:"scale"`
	// KeyField marks the compared fields that hold the exact key itself:
	// the known matches (which agree on it by construction) do not inform
	// their M.
	KeyField []bool `json:"key_field,omitempty"`
	// Anchors hold, for the compared fields on which unrelated records
	// often agree (a company's website, a city), the non-match levels of
	// the other fields given exact agreement on that one (see Anchor).
	Anchors     []Anchor `json:"anchors,omitempty"`
	Prior       float64  `json:"prior"`
	Iterations  int      `json:"iterations"`
	Converged   bool     `json:"converged"`
	Pairs       int64    `json:"pairs"`        // candidate pairs the model was fitted on
	Patterns    int      `json:"patterns"`     // distinct comparison vectors among them
	KnownPairs  int      `json:"known_pairs"`  // pairs sharing the exact key that informed M
	RandomPairs int      `json:"random_pairs"` // random record pairs that estimated U
}

// Anchor is what agreeing on one field (the anchor) tells about the
// others among unrelated records: colleagues share the company's website
// and its switchboard number, people of one country share common names.
// U[g][l] is P(level l on field g | equal values on the anchor, different
// entities), measured on random pairs of records that share the anchor's
// value (pairs sharing the exact key left out, the expected share of other
// true matches removed). When a pair agrees exactly on an active anchor,
// its non-match probability is also computed as Equal × Π_g U[g][γg], and
// the smallest evidence of all the ways counts (see Model.evidence). A
// field is a candidate anchor when the record pairs sharing one of its
// values outnumber the records and at most a fifth of them share the key;
// it stays active when at most modelAnchorMaxMatches of those pairs are
// estimated to be matches.
type Anchor struct {
	Field     int         `json:"field"` // compared field index
	Name      string      `json:"name"`
	U         [][]float64 `json:"u"`
	Weights   [][]float64 `json:"weights"`    // Scale[g]·ln(M[g][l]/U[g][l]); the anchor's own row is the field's
	Pairs     int         `json:"pairs"`      // record pairs sharing the value that were compared
	Shared    int64       `json:"shared"`     // record pairs that share the value, in all
	SharedKey float64     `json:"shared_key"` // fraction of the compared pairs that also shared the exact key
	// Equal is P(the anchor's values are equal) for two records drawn at
	// random: the record pairs sharing a value over all pairs. It is the
	// anchor's own non-match probability under the anchor's view.
	Equal float64 `json:"equal"`
	// Matches is the estimated fraction of true matches among the compared
	// pairs, removed from U: P(match | exact agreement on the anchor).
	Matches float64 `json:"matches"`
	// Active is false when Matches was above modelAnchorMaxMatches once EM
	// converged: the field's equal values belong to duplicates too often
	// for the pairs sharing them to stand for unrelated records, and the
	// anchor is not used (EM then runs again without it).
	Active bool `json:"active"`

	obs [][]float64 // observed level frequencies, smoothed, before removing the matches
}

// EM settings. The Dirichlet pseudo-counts pull each field's estimates
// towards a prior mean with the weight of modelStrength pairs: enough to keep
// unseen levels away from 0 and tiny inputs sensible, negligible once there
// are thousands of pairs. M is kept in [modelClampLo, modelClampHi], so one
// disagreeing field can cost a true match at most ln(1/modelClampLo) ≈ 6.9
// nats; U may go down to modelUClampLo, so a level that unrelated records
// almost never reach (a shared phone number) can carry the evidence the
// random pairs show, which is not capped at 6.9 nats.
const (
	modelStrength   = 10.0
	modelClampLo    = 0.001
	modelClampHi    = 0.999
	modelUClampLo   = 1e-6
	modelMaxIter    = 500
	modelTolerance  = 1e-7
	modelBitsPerFld = 3
	modelMaxFields  = 64 / modelBitsPerFld
)

// modelMPrior is the prior mean of M (disagree, partial, close, exact): true
// duplicates mostly agree. modelMPriorKey is the prior mean of M for a field
// that holds the exact key: duplicates found by fuzzy matching do not share
// the key, so they mostly differ on it, and a difference is weak evidence
// until the data says otherwise. modelUDefault is the default U before random
// pairs are seen: unrelated records mostly disagree.
var (
	modelMPrior    = []float64{0.05, 0.05, 0.15, 0.75}
	modelMPriorKey = []float64{0.85, 0.05, 0.05, 0.05}
	modelUDefault  = []float64{0.85, 0.08, 0.04, 0.03}
)

// modelPattern is one distinct comparison vector and how many pairs have it.
type modelPattern struct {
	code  uint64
	count int64
}

// modelLevel returns the level of field f in a pattern code.
func modelLevel(code uint64, f int) uint8 {
	return uint8(code>>(modelBitsPerFld*f)) & (1<<modelBitsPerFld - 1)
}

// modelHistogram turns per-chunk counts into a sorted slice (sorted so that the
// floating-point sums of EM do not depend on map order).
func modelHistogram(parts []map[uint64]int64) []modelPattern {
	total := map[uint64]int64{}
	for _, p := range parts {
		for c, n := range p {
			total[c] += n
		}
	}
	out := make([]modelPattern, 0, len(total))
	for c, n := range total {
		out = append(out, modelPattern{c, n})
	}
	slices.SortFunc(out, func(a, b modelPattern) int {
		switch {
		case a.code < b.code:
			return -1
		case a.code > b.code:
			return 1
		}
		return 0
	})
	return out
}

// modelUFromRandom estimates the prior mean of U per field from comparison
// vectors of random record pairs, blended with modelUDefault with the weight of
// modelStrength pairs (so a handful of random pairs cannot make U extreme).
func modelUFromRandom(random []modelPattern, k int) [][]float64 {
	u := make([][]float64, k)
	for f := range k {
		var cnt [matchNumLevels]float64
		var tot float64
		for _, p := range random {
			if l := modelLevel(p.code, f); l != LevelMissing {
				cnt[l-1] += float64(p.count)
				tot += float64(p.count)
			}
		}
		u[f] = make([]float64, matchNumLevels)
		for l := range matchNumLevels {
			u[f][l] = (cnt[l] + modelStrength*modelUDefault[l]) / (tot + modelStrength)
		}
	}
	return u
}

// modelAnchorIn is a candidate anchor: the comparison vectors of random
// record pairs that agree exactly on field (see matchPlan.anchorSample).
type modelAnchorIn struct {
	field     int
	hist      []modelPattern
	shared    int64   // record pairs sharing a value of the field
	sharedKey float64 // fraction of the sampled pairs that shared the exact key
}

// modelAnchorStrength is the weight, in pairs, of the population U in the
// smoothed conditional U of an anchor.
const modelAnchorStrength = 50.0

// modelAnchorMaxSharedKey is the largest fraction of key-sharing pairs among
// the pairs that share a field's value for the field to be an anchor: a
// field whose equal values are mostly the same entity (a phone number, an
// id) identifies, it does not give context, and the pairs that share it are
// not a sample of unrelated records.
const modelAnchorMaxSharedKey = 0.2

// modelAnchorMaxMatches is the largest estimated share of true matches among
// the record pairs sharing an anchor's value for the anchor to be used.
const modelAnchorMaxMatches = 0.05

// modelAnchorRounds is the most EM runs (each without the anchors the one
// before found too shared by duplicates).
const modelAnchorRounds = 3

// modelInput is what modelFit learns from.
type modelInput struct {
	anchors []modelAnchorIn // candidate anchors; see modelBuildAnchor
	hist    []modelPattern  // comparison vectors of the candidate pairs
	known   []modelPattern  // comparison vectors of known matches (pairs sharing the exact key)
	// keyField marks fields that hold the exact key: known matches agree on
	// them by construction, so they are left out of those fields' M.
	keyField   []bool
	u          [][]float64 // U per field (from random pairs), see modelUFromRandom
	scale      []float64   // evidence multiplier per field
	totalPairs float64     // record pairs in the population, n(n-1)/2
}

// modelFit learns the model.
//
// U is fixed to in.u, estimated from random record pairs: almost all of
// them are different entities, so agreement rates among them are the
// non-match rates of the population. Keeping U fixed is what stops EM from
// mistaking the agreement that blocking itself induces (every pair of a
// surname block agrees on surname) for evidence of a match.
//
// M is learned by EM on the histogram of the candidate pairs together with
// the known matches (in.known: pairs sharing the exact key), which join
// every M-step as pairs of match probability 1 (a semi-supervised EM; they
// are left out for the fields that hold the key, on which they agree by
// construction). M starts from the known matches' level frequencies. The
// known matches keep M anchored on what duplicates look like, which stops
// EM from taking a large group of look-alikes among the candidates
// (namesakes, colleagues) for the matches; the candidates keep it from
// assuming that duplicates without a shared key are as clean as those with
// one.
//
// λ = P(match) for two records drawn at random is learned by EM on the
// candidate pairs (matches outside them are taken to be negligible, which
// is what blocking is designed for). The anchors' conditional U is updated
// with λ and M at every iteration; anchors found shared mostly by
// duplicates are switched off and EM runs again (at most modelAnchorRounds
// runs). The scale does not take part in learning.
func modelFit(in modelInput) *Model {
	k := len(in.u)
	mdl := &Model{
		Levels: slices.Clone(matchLevelNames),
		M:      make([][]float64, k),
		U:      make([][]float64, k),
		Scale:  slices.Clone(in.scale),
	}
	if slices.Contains(in.keyField, true) {
		mdl.KeyField = slices.Clone(in.keyField)
	}
	for f := range k {
		mdl.U[f] = modelNormalizeU(in.u[f])
	}
	for _, a := range in.anchors {
		if an, ok := modelBuildAnchor(a, mdl.U, in.totalPairs); ok {
			mdl.Anchors = append(mdl.Anchors, an)
		}
	}
	// Known-match counts per field and level (the fixed part of the M-step).
	known := make([][]float64, k)
	for f := range k {
		known[f] = make([]float64, matchNumLevels)
	}
	for _, p := range in.known {
		mdl.KnownPairs += int(p.count)
		for f := range k {
			if f < len(in.keyField) && in.keyField[f] {
				continue
			}
			if l := modelLevel(p.code, f); l != LevelMissing {
				known[f][l-1] += float64(p.count)
			}
		}
	}
	hist := in.hist
	for _, p := range hist {
		mdl.Pairs += p.count
	}
	mdl.Patterns = len(hist)
	totalPairs := max(in.totalPairs, float64(mdl.Pairs), 1)
	// Start with M from the known matches and λ as if a tenth of the
	// candidate pairs were matches.
	prior := make([][]float64, k)
	for f := range k {
		prior[f] = modelMPrior
		if f < len(in.keyField) && in.keyField[f] {
			prior[f] = modelMPriorKey
		}
		mdl.M[f] = slices.Clone(prior[f])
		var t float64
		for l := range matchNumLevels {
			t += known[f][l]
		}
		if t > 0 {
			mdl.M[f] = modelNormalize(known[f], t, prior[f])
		}
	}
	mdl.Prior = modelClampPrior(0.1 * float64(max(mdl.Pairs, 1)) / totalPairs)
	mc := make([][]float64, k)
	logM := make([][]float64, k)
	logU := make([][]float64, k)
	for f := range k {
		mc[f] = make([]float64, matchNumLevels)
		logM[f] = make([]float64, matchNumLevels)
		logU[f] = make([]float64, matchNumLevels)
		for l := range matchNumLevels {
			logU[f][l] = math.Log(mdl.U[f][l])
		}
	}
	for i := range mdl.Anchors {
		mdl.Anchors[i].Active = true
	}
	// EM learns from the evidence as measured; the plan's scale only
	// weighs it when pairs are scored.
	ones := make([]float64, k)
	for f := range ones {
		ones[f] = 1
	}
	// EM, then again without the anchors that turned out to be shared
	// mostly by duplicates (at most modelAnchorRounds times).
	for round := 0; ; round++ {
		mdl.Converged = false
		for range modelMaxIter {
			for f := range k {
				for l := range matchNumLevels {
					logM[f][l] = math.Log(mdl.M[f][l])
					mc[f][l] = known[f][l]
				}
			}
			mdl.setWeights(logM, logU, ones)
			lodds := math.Log(mdl.Prior / (1 - mdl.Prior))
			var sumG float64
			for _, p := range hist {
				x := lodds + mdl.evidence(p.code)
				gm := float64(p.count) / (1 + math.Exp(-x))
				sumG += gm
				for f := range k {
					if l := modelLevel(p.code, f); l != LevelMissing {
						mc[f][l-1] += gm
					}
				}
			}
			delta := 0.0
			for f := range k {
				var tm float64
				for l := range matchNumLevels {
					tm += mc[f][l]
				}
				nm := modelNormalize(mc[f], tm, prior[f])
				for l := range matchNumLevels {
					delta = max(delta, math.Abs(nm[l]-mdl.M[f][l]))
				}
				mdl.M[f] = nm
			}
			// Jeffreys-style smoothing of λ: half a match in one extra pair.
			p := modelClampPrior((sumG + 0.5) / (totalPairs + 1))
			delta = max(delta, math.Abs(p-mdl.Prior)/mdl.Prior)
			mdl.Prior = p
			mdl.Iterations++
			if delta < modelTolerance {
				mdl.Converged = true
				break
			}
		}
		changed := false
		for i := range mdl.Anchors {
			if a := &mdl.Anchors[i]; a.Active && a.Matches > modelAnchorMaxMatches {
				a.Active, changed = false, true
			}
		}
		if !changed || round+1 >= modelAnchorRounds {
			break
		}
	}
	for f := range k {
		for l := range matchNumLevels {
			logM[f][l] = math.Log(mdl.M[f][l])
		}
	}
	mdl.setWeights(logM, logU, mdl.Scale)
	return mdl
}

// modelBuildAnchor turns a candidate anchor into an Anchor, or reports false
// when the field does not qualify: fewer shared pairs than records (an
// identifier, not a context), too few sampled pairs, or too many of them
// sharing the exact key.
func modelBuildAnchor(a modelAnchorIn, u [][]float64, totalPairs float64) (Anchor, bool) {
	var sampled int64
	for _, p := range a.hist {
		sampled += p.count
	}
	n := math.Sqrt(2 * totalPairs) // records, from n(n-1)/2 pairs
	if sampled < 100 || float64(a.shared) < n || a.sharedKey > modelAnchorMaxSharedKey {
		return Anchor{}, false
	}
	k := len(u)
	an := Anchor{Field: a.field, U: make([][]float64, k), obs: make([][]float64, k), Pairs: int(sampled), Shared: a.shared, SharedKey: a.sharedKey}
	// How often unrelated records share the anchor's value is known
	// exactly: the pairs in its groups over all pairs.
	an.Equal = modelClampPrior(float64(a.shared) / max(totalPairs, 1))
	for g := range k {
		var cnt [matchNumLevels]float64
		var tot float64
		for _, p := range a.hist {
			if l := modelLevel(p.code, g); l != LevelMissing {
				cnt[l-1] += float64(p.count)
				tot += float64(p.count)
			}
		}
		row := make([]float64, matchNumLevels)
		for l := range matchNumLevels {
			row[l] = (cnt[l] + modelAnchorStrength*u[g][l]) / (tot + modelAnchorStrength)
		}
		an.obs[g] = row
		an.U[g] = modelNormalizeU(row)
	}
	return an, true
}

// setWeights computes Weights, and each anchor's U and weights, from ln M,
// ln U and the prior. The pairs sharing an anchor's value are mostly
// unrelated records but include some true matches (the same person's
// records at one company): their expected share, P(match | the anchor
// agrees) under the current model, is removed from the observed level
// frequencies, using M as their distribution.
func (m *Model) setWeights(logM, logU [][]float64, scale []float64) {
	k := len(logM)
	if m.Weights == nil {
		m.Weights = make([][]float64, k)
		for f := range k {
			m.Weights[f] = make([]float64, matchNumLevels)
		}
	}
	for f := range k {
		for l := range matchNumLevels {
			m.Weights[f][l] = scale[f] * (logM[f][l] - logU[f][l])
		}
	}
	for i := range m.Anchors {
		a := &m.Anchors[i]
		lm := m.Prior * m.M[a.Field][LevelExact-1]
		c := lm / (lm + (1-m.Prior)*a.Equal)
		a.Matches = c
		if !a.Active {
			continue
		}
		for g := range k {
			if g == a.Field {
				continue
			}
			row := make([]float64, matchNumLevels)
			for l := range matchNumLevels {
				// At most half of what was observed is taken for matches,
				// so an overestimated prior cannot wipe out a level.
				row[l] = max(a.obs[g][l]-c*m.M[g][l], a.obs[g][l]/2) / (1 - c)
			}
			a.U[g] = modelNormalizeU(row)
		}
		if a.Weights == nil {
			a.Weights = make([][]float64, k)
			for f := range k {
				a.Weights[f] = make([]float64, matchNumLevels)
			}
		}
		for g := range k {
			for l := range matchNumLevels {
				switch {
				case g == a.Field && l == LevelExact-1:
					a.Weights[g][l] = scale[g] * (logM[g][l] - math.Log(a.Equal))
				case g == a.Field:
					a.Weights[g][l] = m.Weights[g][l]
				default:
					a.Weights[g][l] = scale[g] * (logM[g][l] - math.Log(a.U[g][l]))
				}
			}
		}
	}
}

// evidence returns the log-likelihood ratio of a pattern code: the sum of
// the field weights, or, when the pair agrees exactly on an anchor and that
// tells less, the sum under the anchor's conditional U (the smallest of
// these counts).
func (m *Model) evidence(code uint64) float64 {
	x := 0.0
	for f := range m.Weights {
		if l := modelLevel(code, f); l != LevelMissing {
			x += m.Weights[f][l-1]
		}
	}
	for i := range m.Anchors {
		a := &m.Anchors[i]
		if !a.Active || modelLevel(code, a.Field) != LevelExact {
			continue
		}
		y := 0.0
		for g := range a.Weights {
			if l := modelLevel(code, g); l != LevelMissing {
				y += a.Weights[g][l-1]
			}
		}
		x = min(x, y)
	}
	return x
}

func modelClampPrior(p float64) float64 {
	return min(max(p, 1e-15), modelClampHi)
}

// modelNormalize returns the smoothed, clamped distribution of counts c (sum
// t) with Dirichlet pseudo-counts modelStrength·prior.
func modelNormalize(c []float64, t float64, prior []float64) []float64 {
	out := make([]float64, len(c))
	var s float64
	for l := range c {
		v := (c[l] + modelStrength*prior[l]) / (t + modelStrength)
		v = min(max(v, modelClampLo), modelClampHi)
		out[l] = v
		s += v
	}
	for l := range out {
		out[l] /= s
	}
	return out
}

// modelNormalizeU returns u (already smoothed by modelUFromRandom) clamped to
// [modelUClampLo, modelClampHi] and renormalized.
func modelNormalizeU(u []float64) []float64 {
	out := make([]float64, len(u))
	var s float64
	for l, v := range u {
		out[l] = min(max(v, modelUClampLo), modelClampHi)
		s += out[l]
	}
	for l := range out {
		out[l] /= s
	}
	return out
}

// logit returns the match log-odds of a pattern code.
func (m *Model) logit(code uint64) float64 {
	return math.Log(m.Prior/(1-m.Prior)) + m.evidence(code)
}

// posterior returns the match probability of a pattern code.
func (m *Model) posterior(code uint64) float64 {
	return 1 / (1 + math.Exp(-m.logit(code)))
}

// Posterior returns the match probability of a comparison vector given as
// one level per compared field (LevelMissing … LevelExact).
func (m *Model) Posterior(levels []int) float64 {
	var code uint64
	for f, l := range levels {
		if f < modelMaxFields && l > 0 && l <= matchNumLevels {
			code |= uint64(l) << (modelBitsPerFld * f)
		}
	}
	return m.posterior(code)
}
