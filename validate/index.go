package validate

import (
	"cmp"
	"slices"
)

// hashIndex maps 64-bit hashes to int32 values in a sorted slice: 16 bytes an entry, nothing
// for the garbage collector to scan. Entries are added, then the index is sealed (sorted; of
// entries with one hash the last added wins, as in a map) before it is read.
type hashIndex struct {
	e      []hashEntry
	sealed bool
}

type hashEntry struct {
	h uint64
	v int32
}

func (x *hashIndex) add(h uint64, v int32) { x.e, x.sealed = append(x.e, hashEntry{h, v}), false }

func (x *hashIndex) len() int { return len(x.e) }

func (x *hashIndex) seal() {
	if x.sealed {
		return
	}
	slices.SortStableFunc(x.e, func(a, b hashEntry) int { return cmp.Compare(a.h, b.h) })
	out := x.e[:0]
	for i, e := range x.e {
		if i+1 < len(x.e) && x.e[i+1].h == e.h {
			continue // a later entry with the same hash wins
		}
		out = append(out, e)
	}
	x.e, x.sealed = slices.Clip(out), true
}

// get finds h; the index must be sealed (get is then safe from several goroutines).
func (x *hashIndex) get(h uint64) (int32, bool) {
	i, ok := slices.BinarySearchFunc(x.e, h, func(e hashEntry, h uint64) int { return cmp.Compare(e.h, h) })
	if !ok {
		return -1, false
	}
	return x.e[i].v, true
}

// hashSet is a set of 64-bit hashes in a sorted slice, sealed like hashIndex before it is read.
type hashSet struct {
	h      []uint64
	sealed bool
}

func (s *hashSet) add(h uint64) { s.h, s.sealed = append(s.h, h), false }

func (s *hashSet) seal() {
	if !s.sealed {
		slices.Sort(s.h)
		s.h, s.sealed = slices.Clip(slices.Compact(s.h)), true
	}
}

// has finds h; the set must be sealed.
func (s *hashSet) has(h uint64) bool {
	_, ok := slices.BinarySearch(s.h, h)
	return ok
}
