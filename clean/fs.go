package clean

import (
	"math"
	"slices"
)

// FSModel is a Fellegi-Sunter model learned without labels by EM on the
// candidate pairs of one Dedup run. For compared field f and agreement level
// l (disagree, partial, close, exact), M[f][l] = P(level l | same entity)
// and U[f][l] = P(level l | different entities); Prior = P(same entity) for
// a candidate pair. A pair's score is the posterior match probability
//
//	P(match | γ) = 1 / (1 + exp(-(logit(Prior) + Σ_f Scale[f]·ln(M[f][γf]/U[f][γf]))))
//
// where fields missing on either side add nothing. Weights[f][l] holds
// Scale[f]·ln(M/U), the evidence each level adds in nats.
type FSModel struct {
	Fields      []string    `json:"fields"`  // compared field names, in Compare order
	Methods     []string    `json:"methods"` // comparison method per compared field
	Levels      []string    `json:"levels"`  // level names: disagree, partial, close, exact
	M           [][]float64 `json:"m"`
	U           [][]float64 `json:"u"`
	Weights     [][]float64 `json:"weights"`
	Scale       []float64   `json:"scale"` // CompareSpec.Weight, 1 when learned as is
	Prior       float64     `json:"prior"`
	Iterations  int         `json:"iterations"`
	Converged   bool        `json:"converged"`
	Pairs       int64       `json:"pairs"`        // candidate pairs the model was fitted on
	Patterns    int         `json:"patterns"`     // distinct comparison vectors among them
	RandomPairs int         `json:"random_pairs"` // random record pairs that seeded U
}

// EM settings. The Dirichlet pseudo-counts pull each field's estimates
// towards a prior mean with the weight of fsStrength pairs: enough to keep
// unseen levels away from 0 and tiny inputs sensible, negligible once there
// are thousands of candidate pairs.
const (
	fsStrength   = 10.0
	fsClampLo    = 0.001
	fsClampHi    = 0.999
	fsMaxIter    = 500
	fsTolerance  = 1e-7
	fsBitsPerFld = 3
	fsMaxFields  = 64 / fsBitsPerFld
)

// fsMPrior is the prior mean of M (disagree, partial, close, exact): true
// duplicates mostly agree. fsUDefault is the default U before random pairs
// are seen: unrelated records mostly disagree.
var (
	fsMPrior   = []float64{0.05, 0.05, 0.15, 0.75}
	fsUDefault = []float64{0.85, 0.08, 0.04, 0.03}
)

// fsPattern is one distinct comparison vector and how many pairs have it.
type fsPattern struct {
	code  uint64
	count int64
}

// fsLevel returns the level of field f in a pattern code.
func fsLevel(code uint64, f int) uint8 {
	return uint8(code>>(fsBitsPerFld*f)) & (1<<fsBitsPerFld - 1)
}

// fsHistogram turns per-chunk counts into a sorted slice (sorted so that the
// floating-point sums of EM do not depend on map order).
func fsHistogram(parts []map[uint64]int64) []fsPattern {
	total := map[uint64]int64{}
	for _, p := range parts {
		for c, n := range p {
			total[c] += n
		}
	}
	out := make([]fsPattern, 0, len(total))
	for c, n := range total {
		out = append(out, fsPattern{c, n})
	}
	slices.SortFunc(out, func(a, b fsPattern) int {
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

// fsUFromRandom estimates the prior mean of U per field from comparison
// vectors of random record pairs, blended with fsUDefault with the weight of
// fsStrength pairs (so a handful of random pairs cannot make U extreme).
func fsUFromRandom(random []fsPattern, k int) [][]float64 {
	u := make([][]float64, k)
	for f := range k {
		var cnt [matchNumLevels]float64
		var tot float64
		for _, p := range random {
			if l := fsLevel(p.code, f); l != LevelMissing {
				cnt[l-1] += float64(p.count)
				tot += float64(p.count)
			}
		}
		u[f] = make([]float64, matchNumLevels)
		for l := range matchNumLevels {
			u[f][l] = (cnt[l] + fsStrength*fsUDefault[l]) / (tot + fsStrength)
		}
	}
	return u
}

// fsFit learns the model. U is fixed to u (estimated from random record
// pairs: almost all of them are different entities, so agreement rates among
// them are the non-match rates of the population). M and the prior λ =
// P(match) for two records drawn at random are learned by EM on the pattern
// histogram of the candidate pairs; totalPairs is the number of record pairs
// in the population (matches outside the candidate pairs are taken to be
// negligible, which is what blocking is designed for). Keeping U fixed at the
// population rates is what stops EM from mistaking the agreement that
// blocking itself induces (every pair of a surname block agrees on surname)
// for evidence of a match. scale does not take part in learning.
func fsFit(hist []fsPattern, k int, u [][]float64, scale []float64, totalPairs float64) *FSModel {
	mdl := &FSModel{
		Levels: slices.Clone(matchLevelNames),
		M:      make([][]float64, k),
		U:      make([][]float64, k),
		Scale:  slices.Clone(scale),
	}
	for f := range k {
		mdl.M[f] = slices.Clone(fsMPrior)
		mdl.U[f] = fsNormalize(make([]float64, matchNumLevels), 0, u[f])
	}
	for _, p := range hist {
		mdl.Pairs += p.count
	}
	mdl.Patterns = len(hist)
	totalPairs = max(totalPairs, float64(mdl.Pairs), 1)
	// Start as if a tenth of the candidate pairs were matches.
	mdl.Prior = fsClampPrior(0.1 * float64(max(mdl.Pairs, 1)) / totalPairs)
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
	for it := 1; it <= fsMaxIter; it++ {
		for f := range k {
			for l := range matchNumLevels {
				logM[f][l] = math.Log(mdl.M[f][l])
				mc[f][l] = 0
			}
		}
		lodds := math.Log(mdl.Prior / (1 - mdl.Prior))
		var sumG float64
		for _, p := range hist {
			x := lodds
			for f := range k {
				if l := fsLevel(p.code, f); l != LevelMissing {
					x += logM[f][l-1] - logU[f][l-1]
				}
			}
			gm := float64(p.count) / (1 + math.Exp(-x))
			sumG += gm
			for f := range k {
				if l := fsLevel(p.code, f); l != LevelMissing {
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
			nm := fsNormalize(mc[f], tm, fsMPrior)
			for l := range matchNumLevels {
				delta = max(delta, math.Abs(nm[l]-mdl.M[f][l]))
			}
			mdl.M[f] = nm
		}
		// Jeffreys-style smoothing of λ: half a match in one extra pair.
		p := fsClampPrior((sumG + 0.5) / (totalPairs + 1))
		delta = max(delta, math.Abs(p-mdl.Prior)/mdl.Prior)
		mdl.Prior = p
		mdl.Iterations = it
		if delta < fsTolerance {
			mdl.Converged = true
			break
		}
	}
	mdl.Weights = make([][]float64, k)
	for f := range k {
		mdl.Weights[f] = make([]float64, matchNumLevels)
		for l := range matchNumLevels {
			mdl.Weights[f][l] = scale[f] * math.Log(mdl.M[f][l]/mdl.U[f][l])
		}
	}
	return mdl
}

func fsClampPrior(p float64) float64 {
	return min(max(p, 1e-15), fsClampHi)
}

// fsNormalize returns the smoothed, clamped distribution of counts c (sum
// t) with Dirichlet pseudo-counts fsStrength·prior.
func fsNormalize(c []float64, t float64, prior []float64) []float64 {
	out := make([]float64, len(c))
	var s float64
	for l := range c {
		v := (c[l] + fsStrength*prior[l]) / (t + fsStrength)
		v = min(max(v, fsClampLo), fsClampHi)
		out[l] = v
		s += v
	}
	for l := range out {
		out[l] /= s
	}
	return out
}

// logit returns the match log-odds of a pattern code.
func (m *FSModel) logit(code uint64) float64 {
	x := math.Log(m.Prior / (1 - m.Prior))
	for f := range m.Weights {
		if l := fsLevel(code, f); l != LevelMissing {
			x += m.Weights[f][l-1]
		}
	}
	return x
}

// posterior returns the match probability of a pattern code.
func (m *FSModel) posterior(code uint64) float64 {
	return 1 / (1 + math.Exp(-m.logit(code)))
}

// Posterior returns the match probability of a comparison vector given as
// one level per compared field (LevelMissing … LevelExact).
func (m *FSModel) Posterior(levels []int) float64 {
	var code uint64
	for f, l := range levels {
		if f < fsMaxFields && l > 0 && l <= matchNumLevels {
			code |= uint64(l) << (fsBitsPerFld * f)
		}
	}
	return m.posterior(code)
}
