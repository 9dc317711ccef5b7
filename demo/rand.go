package demo

import "math/rand/v2"

// Stream tags: every kind of decision draws from its own stream, so adding a
// field to one table never shifts the values of another.
const (
	tagCompany uint64 = iota + 1
	tagPerson
	tagLeadPerson
	tagAccountRow
	tagContactRow
	tagLeadRow
	tagDealRow
	tagActivityRow
	tagHubContactRow
	tagHubCompanyRow
	tagUser
	tagSupport
	tagSubscription
	tagStructure
	tagNamePerm
	tagDealEntity
)

// splitmix64 is the finalizer of SplitMix64, a cheap and well-mixed 64-bit hash.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash3 mixes a seed, a tag and an index into one well-distributed value. It
// is the source of every structural decision (is row i a duplicate, which
// row does it copy, which id does a deleted record have), which must be
// computable for any index without generating the rows before it.
func hash3(seed, tag uint64, i int) uint64 {
	return splitmix64(splitmix64(seed^(tag*0xd1b54a32d192ed03)) ^ uint64(i))
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// chance reports whether the decision (tag, i) falls under rate.
func chance(seed, tag uint64, i int, rate float64) bool {
	return unit(hash3(seed, tag, i)) < rate
}

// pick returns a value in [0, n) for the decision (tag, i); n must be > 0.
func pick(seed, tag uint64, i, n int) int {
	return int(hash3(seed, tag, i) % uint64(n))
}

// stream is a reusable PCG source reseeded per entity: rng(tag, i) returns a
// generator whose sequence depends only on (seed, tag, i). Reseeding does not
// allocate. A stream must not be shared by two generators in use at once.
type stream struct {
	seed uint64
	pcg  rand.PCG
	r    *rand.Rand
}

func newStream(seed uint64) *stream {
	s := &stream{seed: seed}
	s.r = rand.New(&s.pcg)
	return s
}

func (s *stream) rng(tag uint64, i int) *rand.Rand {
	s.pcg.Seed(splitmix64(s.seed^(tag*0xd1b54a32d192ed03)), uint64(i))
	return s.r
}

// oneOf returns a random element of xs.
func oneOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted returns an index drawn with the given weights (which need not sum to 1).
func weighted(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
