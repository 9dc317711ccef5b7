package validate

import (
	"math/rand/v2"
	"testing"
)

// The sealed index and set find what a map finds, the last value added winning, at every size
// (small ones have no directory), with hashes bunched at both ends.
func TestHashIndexAgreesWithAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 100, 5000, 70000} {
		var x hashIndex
		var s hashSet
		want := map[uint64]int32{}
		keys := make([]uint64, 0, n)
		for i := range n {
			h := r.Uint64()
			switch i % 10 {
			case 0:
				h = uint64(i) // bunched at the bottom
			case 1:
				h = ^uint64(i) // and at the top
			case 2:
				if len(keys) > 0 {
					h = keys[r.IntN(len(keys))] // added again: the later value wins
				}
			}
			keys = append(keys, h)
			x.add(h, int32(i))
			s.add(h)
			want[h] = int32(i)
		}
		x.seal()
		s.seal()
		if x.len() != len(want) || len(s.h) != len(want) {
			t.Fatalf("n=%d: %d entries, %d in the set, want %d", n, x.len(), len(s.h), len(want))
		}
		for h, v := range want {
			if got, ok := x.get(h); !ok || got != v {
				t.Fatalf("n=%d: get(%x) = %d, %v; want %d", n, h, got, ok, v)
			}
			if !s.has(h) {
				t.Fatalf("n=%d: has(%x) = false", n, h)
			}
		}
		for range 1000 {
			h := r.Uint64()
			if _, in := want[h]; in {
				continue
			}
			if _, ok := x.get(h); ok || s.has(h) {
				t.Fatalf("n=%d: found %x, never added", n, h)
			}
		}
		x.keep(func(e hashEntry) bool { return e.v%2 == 0 })
		for h, v := range want {
			if _, ok := x.get(h); ok != (v%2 == 0) {
				t.Fatalf("n=%d: after keep, get(%x) found %v, value %d", n, h, ok, v)
			}
		}
	}
}
