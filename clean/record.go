package clean

import (
	"hash/maphash"
	"slices"
	"strings"
	"time"
)

// record is one source record after normalization. Its values and its id are packed into one
// string (see packValues): one allocation per record instead of one per value, and no pointer to
// scan but the string's. An object's records take 40 bytes each plus their packed values.
type record struct {
	data  string // the values in field order, then the id, packed
	line  int64
	sec   int64 // last update, Unix seconds (when hasUpdated)
	nsec  int32
	src   int16 // index into the plan's systems
	flags uint8
}

const (
	recUpdated uint8 = 1 << iota // sec and nsec hold the last update
	recKey                       // the key field's value is the record's exact key
	recMatch                     // some value is invalid: the store's match map has the values to match on
)

func (r *record) updated() time.Time {
	if r.flags&recUpdated == 0 {
		return time.Time{}
	}
	return time.Unix(r.sec, int64(r.nsec)).UTC()
}

func (r *record) setUpdated(t time.Time) {
	if t.IsZero() {
		return
	}
	r.sec, r.nsec = t.Unix(), int32(t.Nanosecond())
	r.flags |= recUpdated
}

// packValues packs vals into one string: a width byte w (2 or 4), the end offset of each value
// in the data in w bytes (little endian), then the values back to back.
func packValues(vals []string) string {
	total := 0
	for _, v := range vals {
		total += len(v)
	}
	w := 2
	if total > 0xffff {
		w = 4
	}
	var b strings.Builder
	b.Grow(1 + w*len(vals) + total)
	b.WriteByte(byte(w))
	end := 0
	for _, v := range vals {
		end += len(v)
		b.WriteByte(byte(end))
		b.WriteByte(byte(end >> 8))
		if w == 4 {
			b.WriteByte(byte(end >> 16))
			b.WriteByte(byte(end >> 24))
		}
	}
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String()
}

// packedValue returns value i of a string packed by packValues from n values.
func packedValue(p string, i, n int) string {
	if p[0] == 2 {
		base := 1 + 2*n
		end := int(p[1+2*i]) | int(p[2+2*i])<<8
		start := 0
		if i > 0 {
			start = int(p[2*i-1]) | int(p[2*i])<<8
		}
		return p[base+start : base+end]
	}
	base := 1 + 4*n
	at := func(j int) int {
		o := 1 + 4*j
		return int(p[o]) | int(p[o+1])<<8 | int(p[o+2])<<16 | int(p[o+3])<<24
	}
	start := 0
	if i > 0 {
		start = at(i - 1)
	}
	return p[base+start : base+at(i)]
}

// recStore holds the normalized records of one object; it is the dedup engine's input too.
type recStore struct {
	k      int // fields per record; the id is packed after them
	keyIdx int // the key field, -1 if none
	recs   []record
	refs   refIndex
	// match holds, for the records with an invalid value (flag recMatch), their values with the
	// invalid ones blanked, packed like data; the dedup engine reads those.
	match map[int32]string
	// invalid holds, for the same records, which values are invalid (bit f for field f; objects
	// of at most 64 fields): the merge prefers valid values without normalizing them again. It
	// stays when match is released.
	invalid map[int32]uint64
}

func newRecStore(k, keyIdx int) *recStore {
	return &recStore{k: k, keyIdx: keyIdx, refs: newRefIndex(), match: map[int32]string{}, invalid: map[int32]uint64{}}
}

func (s *recStore) Len() int { return len(s.recs) }

// val returns field f of record i.
func (s *recStore) val(i, f int) string { return packedValue(s.recs[i].data, f, s.k+1) }

// id returns the source id of record i.
func (s *recStore) id(i int) string { return packedValue(s.recs[i].data, s.k, s.k+1) }

// vals unpacks record i's values into buf (its capacity reused).
func (s *recStore) vals(i int, buf []string) []string {
	buf = buf[:0]
	for f := range s.k {
		buf = append(buf, s.val(i, f))
	}
	return buf
}

// Len, Key and Value are the dedup engine's view (dedup.Input): invalid values blanked.
func (s *recStore) Key(i int) string {
	if s.recs[i].flags&recKey == 0 {
		return ""
	}
	return s.val(i, s.keyIdx)
}

func (s *recStore) Value(i, f int) string {
	if f >= s.k {
		return ""
	}
	r := &s.recs[i]
	if r.flags&recMatch != 0 {
		return packedValue(s.match[int32(i)], f, s.k+1)
	}
	return packedValue(r.data, f, s.k+1)
}

// invalidMask returns which of record i's values are invalid; ok is false when that is not known
// (an object of more than 64 fields).
func (s *recStore) invalidMask(i int) (mask uint64, ok bool) {
	if s.recs[i].flags&recMatch == 0 {
		return 0, true
	}
	mask, ok = s.invalid[int32(i)]
	return mask, ok
}

// key returns record i's exact key, "" if none.
func (s *recStore) key(i int) string { return s.Key(i) }

// find returns the index of the record of system src with id, if any.
func (s *recStore) find(src int, id string) (int, bool) {
	i, ok := s.refs.get(src, id, func(j int32) (int, string) { return int(s.recs[j].src), s.id(int(j)) })
	return int(i), ok
}

// add appends a record and indexes it by source and id; match is its packed values to match on
// when some value is invalid, else "".
func (s *recStore) add(r record, match string) {
	i := len(s.recs)
	if match != "" {
		r.flags |= recMatch
		s.match[int32(i)] = match
		if s.k <= 64 {
			var mask uint64
			for f := range s.k {
				if packedValue(r.data, f, s.k+1) != "" && packedValue(match, f, s.k+1) == "" {
					mask |= 1 << f
				}
			}
			s.invalid[int32(i)] = mask
		}
	}
	s.recs = append(s.recs, r)
	s.refs.add(int(r.src), s.id(i), int32(i))
}

// refIndex finds records by system and id without holding strings: a map from a 64-bit hash of
// both to the record's index (12 bytes a record), and the rare ids whose hash collides with
// another's in a second map, exactly.
type refIndex struct {
	seed   maphash.Seed
	byHash map[uint64]int32
	more   map[refKey]int32
}

type refKey struct {
	src int
	id  string
}

func newRefIndex() refIndex {
	return refIndex{seed: maphash.MakeSeed(), byHash: map[uint64]int32{}}
}

func (x *refIndex) hash(src int, id string) uint64 {
	return maphash.String(x.seed, id) ^ uint64(src+1)*0x9E3779B97F4A7C15
}

// get looks a reference up; ref returns the system and id of an indexed record.
func (x *refIndex) get(src int, id string, ref func(int32) (int, string)) (int32, bool) {
	if i, ok := x.byHash[x.hash(src, id)]; ok {
		if s, d := ref(i); s == src && d == id {
			return i, true
		}
	}
	if x.more != nil {
		i, ok := x.more[refKey{src, id}]
		return i, ok
	}
	return -1, false
}

// add indexes record i; the caller has checked that the reference is not indexed yet.
func (x *refIndex) add(src int, id string, i int32) {
	h := x.hash(src, id)
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = i
		return
	}
	if x.more == nil {
		x.more = map[refKey]int32{}
	}
	x.more[refKey{src, strings.Clone(id)}] = i
}

// refSet is a set of record references (system and id) held as sorted 64-bit hashes (8 bytes a
// reference), for the pipeline's count of records whose parent is a duplicate: a false positive
// needs two different references to collide, about one chance in 10^8 with millions of records
// on both sides.
type refSet struct {
	seed   maphash.Seed
	hashes []uint64
	sorted bool
}

func (x *refSet) hash(src int, id string) uint64 {
	return maphash.String(x.seed, id) ^ uint64(src+1)*0x9E3779B97F4A7C15
}

func (x *refSet) add(src int, id string) {
	if x.hashes == nil {
		x.seed = maphash.MakeSeed()
	}
	x.hashes = append(x.hashes, x.hash(src, id))
	x.sorted = false
}

// seal sorts the set; it must be called after the last add, before has.
func (x *refSet) seal() {
	slices.Sort(x.hashes)
	x.hashes = slices.Clip(slices.Compact(x.hashes))
	x.sorted = true
}

func (x *refSet) has(src int, id string) bool {
	if len(x.hashes) == 0 {
		return false
	}
	if !x.sorted {
		panic("refSet.has before seal")
	}
	_, ok := slices.BinarySearch(x.hashes, x.hash(src, id))
	return ok
}
