package dedup

import (
	"cmp"
	"slices"
)

// clsMaxSample bounds the work of one guard check: at most this many units
// per side, and this many members per unit, are compared.
const clsMaxSample = 32

// clsMembersPerUnit bounds the members of one unit tried in a guard check.
const clsMembersPerUnit = 4

// clsLink is a scored pair of records, a < b.
type clsLink struct {
	a, b  uint32
	score float64
}

// clsInput is what the clustering stage needs.
type clsInput struct {
	n         int
	root      []uint32 // exact-key root per record (itself when alone)
	accepted  []clsLink
	auto      []clsLink // links with score ≥ AutoMerge, not rejected
	review    float64
	rejected  map[uint64]bool
	maxSample int
	// score returns the posterior of any pair, and whether it had to be
	// compared now (it was not a candidate pair).
	score func(a, b uint32) (float64, bool)
}

// clsOutput is the clustering: a union-find over records plus the links
// used, cut and in conflict.
type clsOutput struct {
	parent           []uint32
	autoUsed         []clsLink // auto links inside final clusters (joining or redundant)
	acceptedUsed     []clsLink
	cuts             []clsLink // auto links held back by the guard
	conflicts        []clsLink // accepted links that would join a rejected pair
	guardComparisons int64
	acceptedLinks    int
	autoLinks        int
	chainCuts        int
}

func (o *clsOutput) find(x uint32) uint32 {
	for o.parent[x] != x {
		o.parent[x] = o.parent[o.parent[x]]
		x = o.parent[x]
	}
	return x
}

// clsRun builds the clusters.
//
// Units are groups that are never split: records sharing the exact key,
// joined further by accepted review decisions. Auto links are then taken
// from the strongest down (ties by record index); a link joins the two
// clusters it touches only if the result stays coherent:
//   - no rejected pair ends up inside one cluster, and
//   - every unit of one side has, with every unit of the other side, some
//     pair of members that scores at least Review when compared directly
//     (complete linkage at the review threshold; for large clusters a
//     deterministic sample of clsMaxSample units per side and
//     clsMembersPerUnit members per unit is checked).
//
// A link that fails the check is cut and goes to review with reason
// "chain". So A~B and B~C strong but A vs C below Review gives {A,B} (or
// {B,C}, whichever link is stronger) and C (or A) alone with the cut link in
// review.
func clsRun(in *clsInput) *clsOutput {
	n := in.n
	o := &clsOutput{parent: make([]uint32, n)}
	// units[r] lists the unit representatives of the cluster rooted at r;
	// members[u] lists the records of unit u (nil: the unit is just u).
	units := make([][]uint32, n)
	members := make([][]uint32, n)
	size := make([]uint32, n)
	for i := range n {
		o.parent[i] = uint32(i)
		size[i] = 1
	}
	for i := range n {
		if r := in.root[i]; r != uint32(i) {
			if members[r] == nil {
				members[r] = []uint32{r}
			}
			members[r] = append(members[r], uint32(i))
			o.parent[i] = r
			size[r]++
		}
	}
	unitOf := func(u uint32) []uint32 {
		if members[u] == nil {
			return []uint32{u}
		}
		return members[u]
	}
	unitsOf := func(r uint32) []uint32 {
		if units[r] == nil {
			return []uint32{r}
		}
		return units[r]
	}
	rejBy := map[uint32][]uint32{}
	for k := range in.rejected {
		a, b := uint32(k>>32), uint32(k)
		rejBy[a] = append(rejBy[a], b)
		rejBy[b] = append(rejBy[b], a)
	}
	for _, v := range rejBy {
		slices.Sort(v)
	}
	// conflict reports whether joining clusters ra and rb would put a
	// rejected pair in one cluster.
	conflict := func(ra, rb uint32) bool {
		if len(rejBy) == 0 {
			return false
		}
		if size[ra] > size[rb] {
			ra, rb = rb, ra
		}
		for _, u := range unitsOf(ra) {
			for _, x := range unitOf(u) {
				for _, y := range rejBy[x] {
					if o.find(y) == rb {
						return true
					}
				}
			}
		}
		return false
	}
	union := func(ra, rb uint32) uint32 {
		if size[ra] < size[rb] || (size[ra] == size[rb] && rb < ra) {
			ra, rb = rb, ra
		}
		o.parent[rb] = ra
		size[ra] += size[rb]
		units[ra] = append(unitsOf(ra), unitsOf(rb)...)
		units[rb] = nil
		return ra
	}

	// Accepted decisions merge units.
	acc := slices.Clone(in.accepted)
	slices.SortFunc(acc, func(x, y clsLink) int {
		return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	for _, l := range acc {
		ra, rb := o.find(l.a), o.find(l.b)
		if ra == rb {
			o.acceptedUsed = append(o.acceptedUsed, l)
			continue
		}
		if conflict(ra, rb) {
			o.conflicts = append(o.conflicts, l)
			continue
		}
		// Both sides are single units here: merge them into one unit.
		ua, ub := unitOf(ra), unitOf(rb)
		r := union(ra, rb)
		members[r] = append(slices.Clone(ua), ub...)
		if r == ra {
			members[rb] = nil
		} else {
			members[ra] = nil
		}
		units[r] = nil
		o.acceptedUsed = append(o.acceptedUsed, l)
		o.acceptedLinks++
	}

	// sample returns at most k elements of s spread evenly, in order.
	sample := func(s []uint32, k int) []uint32 {
		if len(s) <= k {
			return s
		}
		out := make([]uint32, k)
		for i := range k {
			out[i] = s[i*len(s)/k]
		}
		return out
	}
	coherent := func(ra, rb uint32) bool {
		for _, p := range sample(unitsOf(ra), in.maxSample) {
			for _, q := range sample(unitsOf(rb), in.maxSample) {
				ok := false
			pairs:
				for _, x := range sample(unitOf(p), clsMembersPerUnit) {
					for _, y := range sample(unitOf(q), clsMembersPerUnit) {
						s, fresh := in.score(x, y)
						if fresh {
							o.guardComparisons++
						}
						if s >= in.review {
							ok = true
							break pairs
						}
					}
				}
				if !ok {
					return false
				}
			}
		}
		return true
	}

	auto := slices.Clone(in.auto)
	slices.SortFunc(auto, func(x, y clsLink) int {
		return cmp.Or(cmp.Compare(y.score, x.score), cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	for _, l := range auto {
		ra, rb := o.find(l.a), o.find(l.b)
		if ra == rb {
			o.autoUsed = append(o.autoUsed, l)
			continue
		}
		if conflict(ra, rb) || !coherent(ra, rb) {
			o.cuts = append(o.cuts, l)
			o.chainCuts++
			continue
		}
		union(ra, rb)
		o.autoUsed = append(o.autoUsed, l)
		o.autoLinks++
	}
	return o
}
