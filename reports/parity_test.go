package reports

import (
	"strings"
	"testing"
)

// A table fitted to a terminal wraps its widest columns at spaces until it fits, but never a
// word; a table that fits is left as it is.
func TestFitCells(t *testing.T) {
	header := []string{"object", "action"}
	rows := [][]string{{"contact", "fix the integration that writes it in new, then run reconcile"}, {"deal", "reconcile"}}
	h, out := fitCells(40, header, rows)
	if h[0] != "object" || out[1][1] != "reconcile" {
		t.Fatalf("cells that fit changed: %q %q", h, out)
	}
	for _, line := range strings.Split(out[0][1], "\n") {
		if n := len(line); n > 40-3*2-1-len("contact") {
			t.Errorf("line %q is %d wide", line, n)
		}
	}
	if strings.Join(strings.Fields(out[0][1]), " ") != rows[0][1] {
		t.Errorf("wrapping changed the text: %q", out[0][1])
	}
	if _, out := fitCells(200, header, rows); out[0][1] != rows[0][1] {
		t.Errorf("a wide terminal wrapped %q", out[0][1])
	}
	if _, out := fitCells(10, header, [][]string{{"a", "unbreakable-word"}}); out[0][1] != "unbreakable-word" {
		t.Errorf("a word was broken: %q", out[0][1])
	}
}
