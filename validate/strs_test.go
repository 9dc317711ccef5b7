package validate

import (
	"fmt"
	"strings"
	"testing"
)

// The tables give back every value as stored: across chunk boundaries, values too long for a
// chunk, empty ones, and values set again.
func TestStrsKeepValues(t *testing.T) {
	tab := newStrs(0)
	sp, err := newSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	var want []string
	for i := range 40000 {
		v := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%97))
		switch {
		case i%5000 == 0:
			v = strings.Repeat(fmt.Sprint(i), chunkLen/4) // longer than a chunk's share
		case i%333 == 0:
			v = ""
		}
		tab.add(v)
		sp.add(v)
		want = append(want, v)
	}
	tab.set(7, "again")
	want7 := want[7]
	want[7] = "again"
	if len(tab.chunks) < 2 {
		t.Fatalf("%d chunks: the test should cross chunk boundaries", len(tab.chunks))
	}
	for i, w := range want {
		if got := tab.get(i); got != w {
			t.Fatalf("strs entry %d: %.40q, want %.40q", i, got, w)
		}
		sw := w
		if i == 7 {
			sw = want7
		}
		if got, err := sp.get(i); err != nil || got != sw {
			t.Fatalf("spill entry %d: %.40q (%v), want %.40q", i, got, err, sw)
		}
	}
	// Memory is what the values take, not twice that.
	var total int64
	for _, w := range want {
		total += int64(len(w))
	}
	if m := tab.memory(); m > total+int64(len(want))*8+3*chunkLen {
		t.Errorf("strs holds %d bytes for %d bytes of values", m, total)
	}
}
