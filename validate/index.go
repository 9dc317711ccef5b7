package validate

import (
	"cmp"
	"math/bits"
	"slices"
)

// hashIndex maps 64-bit hashes to int32 values in a sorted slice: 16 bytes an entry, nothing
// for the garbage collector to scan. Entries are added, then the index is sealed (sorted; of
// entries with one hash the last added wins, as in a map) before it is read. A directory of
// where each range of hashes starts (2 bytes or less an entry) makes a lookup one or two cache
// lines instead of a binary search's twenty: hashes are uniform.
type hashIndex struct {
	e      []hashEntry
	dir    directory
	sealed bool
}

type hashEntry struct {
	h   uint64
	v   int32
	seq uint32 // order of addition (in what would be padding): the last added wins
}

func (x *hashIndex) add(h uint64, v int32) {
	x.e, x.sealed = append(x.e, hashEntry{h, v, uint32(len(x.e))}), false
}

func (x *hashIndex) len() int { return len(x.e) }

func (x *hashIndex) seal() {
	if x.sealed {
		return
	}
	slices.SortFunc(x.e, func(a, b hashEntry) int { return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.seq, b.seq)) })
	out := x.e[:0]
	for i, e := range x.e {
		if i+1 < len(x.e) && x.e[i+1].h == e.h {
			continue // a later entry with the same hash wins
		}
		out = append(out, e)
	}
	x.e, x.sealed = slices.Clip(out), true
	x.dir.build(len(x.e), func(i int) uint64 { return x.e[i].h })
}

// keep drops the entries fn refuses, of a sealed index.
func (x *hashIndex) keep(fn func(hashEntry) bool) {
	out := x.e[:0]
	for _, e := range x.e {
		if fn(e) {
			out = append(out, e)
		}
	}
	x.e = out
	x.dir.build(len(x.e), func(i int) uint64 { return x.e[i].h })
}

// get finds h; the index must be sealed (get is then safe from several goroutines).
func (x *hashIndex) get(h uint64) (int32, bool) {
	lo, hi := x.dir.span(h, len(x.e))
	for i := lo; i < hi; i++ {
		if e := x.e[i]; e.h >= h {
			if e.h == h {
				return e.v, true
			}
			break
		}
	}
	return -1, false
}

// hashSet is a set of 64-bit hashes in a sorted slice, sealed like hashIndex before it is read.
type hashSet struct {
	h      []uint64
	dir    directory
	sealed bool
}

func (s *hashSet) add(h uint64) { s.h, s.sealed = append(s.h, h), false }

func (s *hashSet) seal() {
	if !s.sealed {
		slices.Sort(s.h)
		s.h, s.sealed = slices.Clip(slices.Compact(s.h)), true
		s.dir.build(len(s.h), func(i int) uint64 { return s.h[i] })
	}
}

// has finds h; the set must be sealed.
func (s *hashSet) has(h uint64) bool {
	lo, hi := s.dir.span(h, len(s.h))
	for i := lo; i < hi; i++ {
		if v := s.h[i]; v >= h {
			return v == h
		}
	}
	return false
}

// directory says where in a sorted slice of hashes each range of their top bits starts.
type directory struct {
	start []uint32 // start[b]: the first position whose hash's top bits are ≥ b; len 2^k + 1
	shift uint     // 64 - k
}

// build indexes n sorted hashes (at(i) the i-th): about one range for every two to four of them.
func (d *directory) build(n int, at func(i int) uint64) {
	if n < 8 {
		d.start, d.shift = nil, 0
		return
	}
	k := bits.Len(uint(n)) - 2
	d.shift = uint(64 - k)
	if cap(d.start) >= 1<<k+1 {
		d.start = d.start[:1<<k+1]
	} else {
		d.start = make([]uint32, 1<<k+1)
	}
	b := 0
	for i := range n {
		for top := int(at(i) >> d.shift); b <= top; b++ {
			d.start[b] = uint32(i)
		}
	}
	for ; b < len(d.start); b++ {
		d.start[b] = uint32(n)
	}
}

// span is where h can be among n hashes: [lo, hi).
func (d *directory) span(h uint64, n int) (int, int) {
	if d.start == nil {
		return 0, n
	}
	b := h >> d.shift
	return int(d.start[b]), int(d.start[b+1])
}

// bytes is what the directory holds.
func (d *directory) bytes() int64 { return int64(cap(d.start)) * 4 }
