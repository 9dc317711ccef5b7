package clean

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPackValues(t *testing.T) {
	long := strings.Repeat("x", 70000) // past 16-bit offsets
	for _, vals := range [][]string{
		{""},
		{"a"},
		{"", "", ""},
		{"anna", "", "+46701234567", "C-12"},
		{"é", long, "", "last"},
	} {
		p := packValues(vals)
		for i, v := range vals {
			if got := packedValue(p, i, len(vals)); got != v {
				t.Fatalf("%d values: value %d is %.20q, want %.20q", len(vals), i, got, v)
			}
		}
		if got := unpackValues(p, len(vals)-1, nil); !slices.Equal(got, vals[:len(vals)-1]) {
			t.Fatalf("unpack %q", got)
		}
	}
}

func TestRecStore(t *testing.T) {
	st := newRecStore(2, 0)
	for i := range 1000 {
		r := record{data: packValues([]string{fmt.Sprintf("k%d", i%10), fmt.Sprintf("v%d", i), fmt.Sprintf("id%d", i)}), src: int16(i % 2), line: int64(i)}
		match := ""
		if i%3 == 0 {
			r.flags |= recKey
			match = packValues([]string{fmt.Sprintf("k%d", i%10), "", ""})
		}
		if i%5 == 0 {
			r.setUpdated(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).Add(time.Duration(i) * time.Hour))
		}
		st.add(r, match)
	}
	// Force hash collisions: every id lands in the exact map too.
	st.refs.more = map[refKey]int32{{1, "extra"}: 7}
	for i := range 1000 {
		j, ok := st.find(i%2, fmt.Sprintf("id%d", i))
		if !ok || j != i {
			t.Fatalf("find id%d: %d %v", i, j, ok)
		}
		if got, want := st.val(i, 1), fmt.Sprintf("v%d", i); got != want {
			t.Fatalf("val %q, want %q", got, want)
		}
		wantValue, wantKey := fmt.Sprintf("v%d", i), ""
		if i%3 == 0 {
			wantValue, wantKey = "", fmt.Sprintf("k%d", i%10)
		}
		if st.Value(i, 1) != wantValue || st.Key(i) != wantKey || st.Value(i, 5) != "" {
			t.Fatalf("record %d: value %q key %q", i, st.Value(i, 1), st.Key(i))
		}
		if u := st.recs[i].updated(); (i%5 == 0) == u.IsZero() || (i%5 == 0 && !u.Equal(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).Add(time.Duration(i)*time.Hour))) {
			t.Fatalf("record %d updated %v", i, u)
		}
	}
	if _, ok := st.find(0, "id1"); ok {
		t.Fatal("id1 is in system 1, found in system 0")
	}
	if j, ok := st.find(1, "extra"); !ok || j != 7 {
		t.Fatal("the exact map is not consulted")
	}
	var set refSet
	set.add(1, "a")
	set.add(1, "a")
	set.add(0, "c")
	set.seal()
	if !set.has(1, "a") || set.has(0, "a") || set.has(1, "b") {
		t.Fatal("refSet")
	}
}
