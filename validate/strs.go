package validate

import "unsafe"

// strs is a table of strings kept in 1 MiB chunks, with 8 bytes of offsets an entry: millions of
// strings the garbage collector need not scan, and no more memory than they take (a buffer grown
// by doubling would hold up to twice that). Entries are set in any order; setting one again
// stores its new value (the old bytes stay). A string returned by get shares the table's memory:
// clone it to keep it past the table.
type strs struct {
	chunks [][]byte // chunk c holds the offsets [c<<chunkBits, (c+1)<<chunkBits)
	big    []string // values too long for a chunk; their entries' sizes have bigFlag set
	start  []uint32 // offset, or index in big
	size   []uint32
	bytes  int64 // in chunks and big
}

const (
	chunkBits = 20
	chunkLen  = 1 << chunkBits
	bigFlag   = 1 << 31
)

func newStrs(n int) *strs { return &strs{start: make([]uint32, n), size: make([]uint32, n)} }

func (t *strs) len() int { return len(t.start) }

// add appends an entry.
func (t *strs) add(s string) {
	t.start, t.size = append(t.start, 0), append(t.size, 0)
	t.set(len(t.start)-1, s)
}

func (t *strs) set(i int, s string) {
	switch {
	case s == "":
		t.start[i], t.size[i] = 0, 0
	case len(s) > chunkLen/16:
		t.start[i], t.size[i] = uint32(len(t.big)), bigFlag
		t.big = append(t.big, s)
		t.bytes += int64(len(s))
	default:
		c := len(t.chunks) - 1
		if c < 0 || len(t.chunks[c])+len(s) > chunkLen {
			if len(t.chunks) == 1<<(32-chunkBits) {
				panic("validate: a string table outgrew 4 GiB; run validate with a smaller --memory (more passes)")
			}
			t.chunks = append(t.chunks, make([]byte, 0, chunkLen))
			t.bytes += chunkLen
			c++
		}
		t.start[i], t.size[i] = uint32(c<<chunkBits+len(t.chunks[c])), uint32(len(s))
		t.chunks[c] = append(t.chunks[c], s...)
	}
}

func (t *strs) get(i int) string {
	n := t.size[i]
	switch {
	case n == 0:
		return ""
	case n == bigFlag:
		return t.big[t.start[i]]
	}
	at := t.start[i]
	return unsafe.String(&t.chunks[at>>chunkBits][at&(chunkLen-1)], n)
}

// memory is about what the table holds, in bytes.
func (t *strs) memory() int64 { return t.bytes + int64(cap(t.start)+cap(t.size))*4 }
