package dedup

import (
	"reflect"
	"testing"
)

// clsFixture builds a clustering input from a table of pair scores; pairs
// not in the table score 0.
func clsFixture(n int, scores map[[2]uint32]float64, autoMerge float64) *clsInput {
	in := &clsInput{n: n, root: make([]uint32, n), review: 0.8, rejected: map[uint64]bool{}, maxSample: clsMaxSample}
	for i := range in.root {
		in.root[i] = uint32(i)
	}
	in.score = func(a, b uint32) (float64, bool) {
		if a > b {
			a, b = b, a
		}
		return scores[[2]uint32{a, b}], true
	}
	for p, s := range scores {
		if s >= autoMerge {
			in.auto = append(in.auto, clsLink{p[0], p[1], s})
		}
	}
	return in
}

func clsGroups(o *clsOutput, n int) [][]int {
	idx := map[uint32]int{}
	var out [][]int
	for i := range n {
		r := o.find(uint32(i))
		c, ok := idx[r]
		if !ok {
			c = len(out)
			idx[r] = c
			out = append(out, nil)
		}
		out[c] = append(out[c], i)
	}
	return out
}

func TestChainingGuard(t *testing.T) {
	t.Parallel()
	type testcase struct {
		name     string
		n        int
		scores   map[[2]uint32]float64
		root     map[int]int // record → exact root
		accepted [][2]uint32
		rejected [][2]uint32
		want     [][]int
		wantCuts [][2]uint32
		wantConf [][2]uint32
	}
	for _, tc := range []testcase{
		{
			name:     "A~B and B~C strong, A vs C weak: split, cut link to review",
			n:        3,
			scores:   map[[2]uint32]float64{{0, 1}: 0.99, {1, 2}: 0.97, {0, 2}: 0.30},
			want:     [][]int{{0, 1}, {2}},
			wantCuts: [][2]uint32{{1, 2}},
		},
		{
			name:     "the stronger link wins whatever the order of records",
			n:        3,
			scores:   map[[2]uint32]float64{{0, 1}: 0.95, {1, 2}: 0.99, {0, 2}: 0.30},
			want:     [][]int{{0}, {1, 2}},
			wantCuts: [][2]uint32{{0, 1}},
		},
		{
			name:   "A vs C in the review range is close enough: one cluster",
			n:      3,
			scores: map[[2]uint32]float64{{0, 1}: 0.99, {1, 2}: 0.97, {0, 2}: 0.85},
			want:   [][]int{{0, 1, 2}},
		},
		{
			name: "a long chain keeps only coherent groups",
			n:    5,
			scores: map[[2]uint32]float64{{0, 1}: 0.99, {1, 2}: 0.98, {2, 3}: 0.97, {3, 4}: 0.96,
				{0, 2}: 0.9, {1, 3}: 0.9, {2, 4}: 0.9, {0, 3}: 0.1, {1, 4}: 0.1, {0, 4}: 0.1},
			want:     [][]int{{0, 1, 2}, {3, 4}},
			wantCuts: [][2]uint32{{2, 3}},
		},
		{
			name:   "an exact group counts as one entity: one good member pair suffices",
			n:      3,
			root:   map[int]int{1: 0}, // 0 and 1 share the exact key
			scores: map[[2]uint32]float64{{0, 2}: 0.99, {1, 2}: 0.2},
			want:   [][]int{{0, 1, 2}},
		},
		{
			name:     "a rejected pair is never put in one cluster",
			n:        3,
			scores:   map[[2]uint32]float64{{0, 1}: 0.99, {1, 2}: 0.97, {0, 2}: 0.95},
			rejected: [][2]uint32{{0, 2}},
			want:     [][]int{{0, 1}, {2}},
			wantCuts: [][2]uint32{{1, 2}},
		},
		{
			name:     "accepted pairs merge whatever they score",
			n:        3,
			scores:   map[[2]uint32]float64{{0, 2}: 0.1},
			accepted: [][2]uint32{{0, 2}},
			want:     [][]int{{0, 2}, {1}},
		},
		{
			name:     "an accepted pair that would join a rejected one is a conflict",
			n:        3,
			accepted: [][2]uint32{{0, 1}, {1, 2}},
			rejected: [][2]uint32{{0, 2}},
			want:     [][]int{{0, 1}, {2}},
			wantConf: [][2]uint32{{1, 2}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := clsFixture(tc.n, tc.scores, 0.92)
			for r, root := range tc.root {
				in.root[r] = uint32(root)
			}
			for _, a := range tc.accepted {
				in.accepted = append(in.accepted, clsLink{a[0], a[1], tc.scores[a]})
			}
			for _, r := range tc.rejected {
				in.rejected[uint64(r[0])<<32|uint64(r[1])] = true
				var auto []clsLink
				for _, l := range in.auto {
					if l.a != r[0] || l.b != r[1] {
						auto = append(auto, l)
					}
				}
				in.auto = auto
			}
			out := clsRun(in)
			if got := clsGroups(out, tc.n); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("clusters = %v, want %v", got, tc.want)
			}
			var cuts, conf [][2]uint32
			for _, l := range out.cuts {
				cuts = append(cuts, [2]uint32{l.a, l.b})
			}
			for _, l := range out.conflicts {
				conf = append(conf, [2]uint32{l.a, l.b})
			}
			if !reflect.DeepEqual(cuts, tc.wantCuts) {
				t.Errorf("cuts = %v, want %v", cuts, tc.wantCuts)
			}
			if !reflect.DeepEqual(conf, tc.wantConf) {
				t.Errorf("conflicts = %v, want %v", conf, tc.wantConf)
			}
		})
	}
}

// TestChainingGuardBounded: a long chain of strong links between records
// that are each only close to their neighbours must not become one cluster,
// and the guard's work stays bounded.
func TestChainingGuardBounded(t *testing.T) {
	t.Parallel()
	const n = 2000
	in := &clsInput{n: n, root: make([]uint32, n), review: 0.8, rejected: map[uint64]bool{}, maxSample: clsMaxSample}
	for i := range in.root {
		in.root[i] = uint32(i)
	}
	calls := 0
	in.score = func(a, b uint32) (float64, bool) {
		calls++
		if d := int(b) - int(a); d == 1 || d == -1 {
			return 0.99, false
		}
		if d := int(b) - int(a); d == 2 || d == -2 {
			return 0.85, true
		}
		return 0.1, true
	}
	for i := 0; i+1 < n; i++ {
		in.auto = append(in.auto, clsLink{uint32(i), uint32(i + 1), 0.99})
	}
	out := clsRun(in)
	for _, g := range clsGroups(out, n) {
		if len(g) > 3 {
			t.Fatalf("chain produced a cluster of %d", len(g))
		}
	}
	if calls > n*2*clsMaxSample {
		t.Errorf("guard made %d score calls for %d links", calls, n-1)
	}
}
