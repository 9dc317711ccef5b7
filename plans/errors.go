package plans

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a plan file, at a line and column.
type Error struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"msg"`
	Hint string `json:"hint,omitempty"`
}

// Error formats the error as "FILE:LINE:COL: Msg; Hint".
func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Errors is every problem found in a plan file, sorted by line and column.
// Load and Parse return it as *Errors.
type Errors []*Error

// Error returns one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
}

// suggest returns the candidate closest to s when it is close enough to be a
// likely typo, else "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	ls := strings.ToLower(s)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(ls, lc)
		limit := max(2, len(c)/3)
		close := d <= limit
		if !close && len(ls) >= 3 && len(lc) >= 3 && (strings.HasPrefix(lc, ls) || strings.HasPrefix(ls, lc)) {
			close = true
			d = limit + 1 // prefer real typos over prefixes
		}
		if close && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (by rune).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// oneOf returns the hint for a bad value among valid ones: "use one of a, b,
// c", preceded by "did you mean `x`?" when bad looks like a typo of x.
func oneOf(bad string, valid []string) string {
	h := "use one of " + strings.Join(valid, ", ")
	if s := suggest(bad, valid); s != "" {
		h = fmt.Sprintf("did you mean `%s`? %s", s, h)
	}
	return h
}
