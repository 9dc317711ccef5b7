package validate

import "unsafe"

// strs is a table of strings kept in one byte buffer, with 8 bytes of offsets an entry: millions
// of strings the garbage collector need not scan. Entries are set in any order; setting one again
// appends its new value (the old bytes stay). A string returned by get shares the buffer: clone
// it to keep it past the table.
type strs struct {
	buf   []byte
	start []uint32
	size  []uint32
}

func newStrs(n int) *strs { return &strs{start: make([]uint32, n), size: make([]uint32, n)} }

func (t *strs) len() int { return len(t.start) }

// add appends an entry.
func (t *strs) add(s string) {
	t.start, t.size = append(t.start, 0), append(t.size, 0)
	t.set(len(t.start)-1, s)
}

func (t *strs) set(i int, s string) {
	if s == "" {
		t.start[i], t.size[i] = 0, 0
		return
	}
	t.start[i], t.size[i] = uint32(len(t.buf)), uint32(len(s))
	t.buf = append(t.buf, s...)
}

func (t *strs) get(i int) string {
	n := t.size[i]
	if n == 0 {
		return ""
	}
	return unsafe.String(&t.buf[t.start[i]], n)
}
