package dedup

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Comparison methods accepted in CompareSpec.Method.
const (
	MethodExact       = "exact"
	MethodJaroWinkler = "jaro_winkler"
	MethodLevenshtein = "levenshtein"
	MethodTokenSet    = "token_set"
	MethodNumeric     = "numeric"
	MethodDate        = "date"
	MethodName        = "name"
	MethodPhone       = "phone"
	MethodEmail       = "email"
)

// matchMethods lists the methods in the order used by error messages.
var matchMethods = []string{MethodExact, MethodJaroWinkler, MethodLevenshtein, MethodTokenSet, MethodNumeric, MethodDate, MethodName, MethodPhone, MethodEmail}

// Agreement levels of one compared field. A pair's comparison vector holds
// one level per CompareSpec. LevelMissing (either side empty) carries no
// evidence; the other levels are learned by EM. Similarity s in [0,1] maps
// to a level by fixed cut-offs: s == 1 exact, s ≥ 0.92 close, s ≥ 0.75
// partial, else disagree.
const (
	LevelMissing  = 0
	LevelDisagree = 1
	LevelPartial  = 2
	LevelClose    = 3
	LevelExact    = 4
)

// matchNumLevels is the number of levels with evidence (disagree..exact).
const matchNumLevels = 4

// Level cut-offs on the similarity scale.
const (
	matchCloseAt   = 0.92
	matchPartialAt = 0.75
)

// matchLevelNames names the levels with evidence, index = level-1.
var matchLevelNames = []string{"disagree", "partial", "close", "exact"}

// matchLevelOf maps a similarity to an agreement level (never missing).
func matchLevelOf(s float64) uint8 {
	switch {
	case s >= 1:
		return LevelExact
	case s >= matchCloseAt:
		return LevelClose
	case s >= matchPartialAt:
		return LevelPartial
	default:
		return LevelDisagree
	}
}

// matchScratch holds the reusable buffers of one comparing goroutine, so a
// comparison allocates nothing. It is not safe for concurrent use.
type matchScratch struct {
	ba, bb []byte
	ra, rb []rune
	rc     []rune
	fa, fb []bool
	row    []int
	tok    matchTokens
	ta, tb []byte
	t0     []byte
	da, db []string
}

// matchASCII reports whether s is pure ASCII.
func matchASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// matchRunes decodes s into buf (reused) and returns it.
func matchRunes[S string | []byte](buf []rune, s S) []rune {
	buf = buf[:0]
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			buf = append(buf, rune(c))
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		buf = append(buf, r)
		i += n
	}
	return buf
}

// load puts a and b in the scratch buffers: as bytes when both are ASCII
// (the common case after normalization, and cheaper), else as runes.
func (sc *matchScratch) load(a, b string) (ascii bool) {
	if matchASCII(a) && matchASCII(b) {
		sc.ba = append(sc.ba[:0], a...)
		sc.bb = append(sc.bb[:0], b...)
		return true
	}
	sc.ra = matchRunes(sc.ra, a)
	sc.rb = matchRunes(sc.rb, b)
	return false
}

// JaroWinkler returns the Jaro-Winkler similarity of a and b in [0,1]
// (rune-based, prefix scale 0.1, prefix of at most 4 runes, boost applied
// when the Jaro similarity exceeds 0.7). Two empty strings score 1.
func JaroWinkler(a, b string) float64 {
	var sc matchScratch
	return sc.jaroWinkler(a, b)
}

func (sc *matchScratch) jaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	if sc.load(a, b) {
		return matchJaroWinkler(sc, sc.ba, sc.bb)
	}
	return matchJaroWinkler(sc, sc.ra, sc.rb)
}

func matchJaroWinkler[T byte | rune](sc *matchScratch, a, b []T) float64 {
	j := matchJaro(sc, a, b)
	if j <= 0.7 {
		return j
	}
	l := 0
	for l < 4 && l < len(a) && l < len(b) && a[l] == b[l] {
		l++
	}
	return j + float64(l)*0.1*(1-j)
}

func matchJaro[T byte | rune](sc *matchScratch, a, b []T) float64 {
	la, lb := len(a), len(b)
	if la == 0 && lb == 0 {
		return 1
	}
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	if window < 0 {
		window = 0
	}
	sc.fa = matchFlags(sc.fa, la)
	sc.fb = matchFlags(sc.fb, lb)
	fa, fb := sc.fa, sc.fb
	m := 0
	for i := 0; i < la; i++ {
		lo := max(0, i-window)
		hi := min(lb, i+window+1)
		ai := a[i]
		for k := lo; k < hi; k++ {
			if !fb[k] && b[k] == ai {
				fa[i], fb[k] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, k := 0, 0
	for i := 0; i < la; i++ {
		if !fa[i] {
			continue
		}
		for !fb[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	fm := float64(m)
	return (fm/float64(la) + fm/float64(lb) + (fm-float64(t/2))/fm) / 3
}

func matchFlags(buf []bool, n int) []bool {
	if cap(buf) < n {
		buf = make([]bool, n, max(n, 32))
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// Levenshtein returns the edit distance (insertions, deletions,
// substitutions, each costing 1) between a and b, counted in runes.
func Levenshtein(a, b string) int {
	var sc matchScratch
	if sc.load(a, b) {
		return matchLevenshtein(&sc, sc.ba, sc.bb, -1)
	}
	return matchLevenshtein(&sc, sc.ra, sc.rb, -1)
}

// LevenshteinRatio returns 1 - distance/max(len(a), len(b)) in runes; two
// empty strings score 1.
func LevenshteinRatio(a, b string) float64 {
	var sc matchScratch
	return sc.levenshteinRatio(a, b)
}

func (sc *matchScratch) levenshteinRatio(a, b string) float64 {
	if a == b {
		return 1
	}
	if sc.load(a, b) {
		return matchLevenshteinRatio(sc, sc.ba, sc.bb)
	}
	return matchLevenshteinRatio(sc, sc.ra, sc.rb)
}

func matchLevenshteinRatio[T byte | rune](sc *matchScratch, a, b []T) float64 {
	l := max(len(a), len(b))
	if l == 0 {
		return 1
	}
	return 1 - float64(matchLevenshtein(sc, a, b, -1))/float64(l)
}

// levenshteinLevel returns the agreement level of the Levenshtein ratio of a
// and b without computing distances beyond what the partial cut-off allows
// (banded dynamic programming with early exit).
func (sc *matchScratch) levenshteinLevel(a, b string) uint8 {
	if sc.load(a, b) {
		return matchLevenshteinLevel(sc, sc.ba, sc.bb)
	}
	return matchLevenshteinLevel(sc, sc.ra, sc.rb)
}

func matchLevenshteinLevel[T byte | rune](sc *matchScratch, a, b []T) uint8 {
	l := max(len(a), len(b))
	if l == 0 {
		return LevelExact
	}
	bound := int(math.Floor((1 - matchPartialAt) * float64(l) * (1 + 1e-12)))
	d := matchLevenshtein(sc, a, b, bound)
	if d > bound {
		return LevelDisagree
	}
	return matchLevelOf(1 - float64(d)/float64(l))
}

// matchLevenshtein returns the edit distance of a and b. With bound ≥ 0 it
// only explores the diagonal band of width bound and returns bound+1 as soon
// as the distance is known to exceed bound.
func matchLevenshtein[T byte | rune](sc *matchScratch, a, b []T, bound int) int {
	// Common prefix and suffix do not change the distance.
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	la, lb := len(a), len(b)
	if bound >= 0 && lb-la > bound {
		return bound + 1
	}
	if la == 0 {
		return lb
	}
	if cap(sc.row) < lb+1 {
		sc.row = make([]int, lb+1, max(lb+1, 64))
	}
	row := sc.row[:lb+1]
	if bound < 0 || bound >= lb {
		for j := range row {
			row[j] = j
		}
		for i := 1; i <= la; i++ {
			diag := row[0]
			row[0] = i
			ai := a[i-1]
			for j := 1; j <= lb; j++ {
				up := row[j]
				c := diag
				if b[j-1] != ai {
					c++
				}
				if up+1 < c {
					c = up + 1
				}
				if row[j-1]+1 < c {
					c = row[j-1] + 1
				}
				row[j] = c
				diag = up
			}
		}
		return row[lb]
	}
	// Banded: cells with |i-j| > bound cannot lead to a distance ≤ bound.
	big := bound + 1
	for j := range row {
		if j <= bound {
			row[j] = j
		} else {
			row[j] = big
		}
	}
	for i := 1; i <= la; i++ {
		lo := max(1, i-bound)
		hi := min(lb, i+bound)
		var diag int
		if lo == 1 {
			diag = row[0]
			if i <= bound {
				row[0] = i
			} else {
				row[0] = big
			}
		} else {
			diag = row[lo-1]
			row[lo-1] = big
		}
		ai := a[i-1]
		rowMin := row[lo-1]
		for j := lo; j <= hi; j++ {
			up := row[j]
			c := diag
			if b[j-1] != ai {
				c++
			}
			if up+1 < c {
				c = up + 1
			}
			if row[j-1]+1 < c {
				c = row[j-1] + 1
			}
			if c > big {
				c = big
			}
			row[j] = c
			diag = up
			if c < rowMin {
				rowMin = c
			}
		}
		if hi < lb {
			row[hi+1] = big
		}
		if rowMin > bound {
			return big
		}
	}
	if row[lb] > bound {
		return big
	}
	return row[lb]
}

// matchLegalSuffixes are company-form words dropped by the token_set method
// when they stand at the start or the end of a name (dots removed, lower case).
var matchLegalSuffixes = map[string]bool{
	"ab": true, "aktiebolag": true, "aktiebolaget": true, "hb": true, "kb": true,
	"as": true, "asa": true, "aps": true, "oy": true, "oyj": true, "ehf": true, "hf": true,
	"sa": true, "sas": true, "sasu": true, "sarl": true, "eurl": true, "sca": true, "snc": true,
	"gmbh": true, "ag": true, "kg": true, "ohg": true, "ug": true, "ev": true, "kgaa": true, "se": true,
	"bv": true, "nv": true, "vof": true, "bvba": true, "sprl": true, "cv": true,
	"srl": true, "spa": true, "sl": true, "sau": true, "slu": true, "lda": true, "sro": true, "sp": true, "zoo": true,
	"ltd": true, "limited": true, "plc": true, "llp": true, "lp": true, "llc": true, "pllc": true,
	"inc": true, "incorporated": true, "corp": true, "corporation": true, "co": true, "company": true,
	"pty": true, "pte": true, "kk": true, "bhd": true, "sdn": true, "pvt": true,
}

// matchTokens is a tokenized string: lower-case tokens with dots and
// apostrophes removed, stored back to back in buf.
type matchTokens struct {
	buf  []byte
	ends []int32 // token i is buf[start(i):ends[i]]
	idx  []int32 // token order after sorting and dropping
}

func (t *matchTokens) tok(i int32) []byte {
	s := int32(0)
	if i > 0 {
		s = t.ends[i-1]
	}
	return t.buf[s:t.ends[i]]
}

// split tokenizes s: letters and digits form tokens (lower case, accents
// folded), dots and apostrophes are dropped inside tokens ("S.A." → "sa"),
// everything else separates.
func (t *matchTokens) split(s string) {
	t.buf, t.ends, t.idx = t.buf[:0], t.ends[:0], t.idx[:0]
	in := false
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			t.buf = append(t.buf, byte(r))
			in = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// Fold accents (é → e, ß → ss) so spellings with and without them agree.
			if x, y := blkFold(r); x != 0 {
				t.buf = append(t.buf, x|0x20)
				if y != 0 {
					t.buf = append(t.buf, y|0x20)
				}
			} else {
				t.buf = utf8.AppendRune(t.buf, unicode.ToLower(r))
			}
			in = true
		case r == '.' || r == '\'' || r == '’':
			// "S.A." → "sa", "O'Neil" → "oneil"
		default:
			if in {
				t.ends = append(t.ends, int32(len(t.buf)))
				in = false
			}
		}
	}
	if in {
		t.ends = append(t.ends, int32(len(t.buf)))
	}
	for i := range t.ends {
		t.idx = append(t.idx, int32(i))
	}
}

// dropLegal removes legal-form tokens at both ends, keeping at least one.
func (t *matchTokens) dropLegal() {
	for len(t.idx) > 1 && matchLegalSuffixes[string(t.tok(t.idx[len(t.idx)-1]))] {
		t.idx = t.idx[:len(t.idx)-1]
	}
	for len(t.idx) > 1 && matchLegalSuffixes[string(t.tok(t.idx[0]))] {
		t.idx = t.idx[1:]
	}
}

// sortUnique sorts the kept tokens bytewise and removes repeats.
func (t *matchTokens) sortUnique() {
	slices.SortFunc(t.idx, func(x, y int32) int { return bytes.Compare(t.tok(x), t.tok(y)) })
	t.idx = slices.CompactFunc(t.idx, func(x, y int32) bool { return bytes.Equal(t.tok(x), t.tok(y)) })
}

// TokenSetRatio returns the token-set similarity of two names in [0,1]:
// both are split into lower-case tokens, legal forms (AB, GmbH, Inc, Ltd,
// SAS, …) are dropped from the start and end, and with I the sorted common
// tokens and Da, Db the sorted tokens only in a or only in b, the result is
// the best Levenshtein ratio among (I, I+Da), (I, I+Db) and (I+Da, I+Db).
// A name whose tokens are a subset of the other's therefore scores 1.
func TokenSetRatio(a, b string) float64 {
	var sc matchScratch
	return sc.tokenSetRatio(a, b)
}

func (sc *matchScratch) tokenSetRatio(a, b string) float64 {
	if a == b {
		return 1
	}
	r, _ := sc.tokenSetCanon(sc.canon(a), sc.canon(b), true)
	return r
}

// canon returns the canonical token string of s: its tokens, legal forms
// dropped at both ends, sorted, unique, joined by single spaces. Run
// computes it once per record for token_set fields.
func (sc *matchScratch) canon(s string) string {
	t := &sc.tok
	t.split(s)
	t.dropLegal()
	t.sortUnique()
	n := 0
	for _, k := range t.idx {
		n += len(t.tok(k)) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i, k := range t.idx {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(t.tok(k))
	}
	return b.String()
}

// matchNextTok splits the first space-separated token off s.
func matchNextTok(s string) (tok, rest string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// tokenSetCanon compares two canonical token strings. With full it returns
// the exact ratio; otherwise only the level is exact (distances beyond the
// partial cut-off are not computed) and the ratio is a lower bound.
func (sc *matchScratch) tokenSetCanon(a, b string, full bool) (float64, uint8) {
	if a == b {
		return 1, LevelExact
	}
	if a == "" || b == "" {
		return 0, LevelDisagree
	}
	appendTok := func(dst []byte, tok string) []byte {
		if len(dst) > 0 {
			dst = append(dst, ' ')
		}
		return append(dst, tok...)
	}
	t0, t1, t2 := sc.t0[:0], sc.ta[:0], sc.tb[:0]
	da, db := sc.da[:0], sc.db[:0]
	x, ra := matchNextTok(a)
	y, rb := matchNextTok(b)
	for x != "" && y != "" {
		switch {
		case x == y:
			t0 = appendTok(t0, x)
			x, ra = matchNextTok(ra)
			y, rb = matchNextTok(rb)
		case x < y:
			da = append(da, x)
			x, ra = matchNextTok(ra)
		default:
			db = append(db, y)
			y, rb = matchNextTok(rb)
		}
	}
	for ; x != ""; x, ra = matchNextTok(ra) {
		da = append(da, x)
	}
	for ; y != ""; y, rb = matchNextTok(rb) {
		db = append(db, y)
	}
	t1 = append(t1, t0...)
	for _, tok := range da {
		t1 = appendTok(t1, tok)
	}
	t2 = append(t2, t0...)
	for _, tok := range db {
		t2 = appendTok(t2, tok)
	}
	sc.t0, sc.ta, sc.tb, sc.da, sc.db = t0, t1, t2, da, db
	// a != b here: the token sets differ, so the level is at most close
	// even when one set contains the other (ratio 1).
	if !full && len(t0) > 0 && (len(da) == 0 || len(db) == 0) {
		return 1, LevelClose // one token set contains the other
	}
	var r float64
	var lvl uint8
	if matchASCII(a) && matchASCII(b) {
		r, lvl = matchTokenSetRatio(sc, t0, t1, t2, full)
	} else {
		sc.ra = matchRunes(sc.ra, t1)
		sc.rb = matchRunes(sc.rb, t2)
		sc.rc = matchRunes(sc.rc, t0)
		r, lvl = matchTokenSetRatio(sc, sc.rc, sc.ra, sc.rb, full)
	}
	return r, min(lvl, LevelClose)
}

// matchTokenSetRatio finishes tokenSetCanon on the three token strings.
func matchTokenSetRatio[T byte | rune](sc *matchScratch, t0, t1, t2 []T, full bool) (float64, uint8) {
	if full {
		best := matchLevenshteinRatio(sc, t1, t2)
		if len(t0) > 0 {
			best = max(best, matchLevenshteinRatio(sc, t0, t1), matchLevenshteinRatio(sc, t0, t2))
		}
		return best, matchLevelOf(best)
	}
	lvl := matchLevenshteinLevel(sc, t1, t2)
	if len(t0) > 0 {
		lvl = max(lvl, matchLevenshteinLevel(sc, t0, t1), matchLevenshteinLevel(sc, t0, t2))
	}
	return 0, lvl
}

// NumericSimilarity returns 1 - |a-b| / max(|a|,|b|) for two numbers, 0 when
// the signs differ so much that the distance exceeds the larger magnitude.
// A number may be followed by a currency code, as normalized money values
// are ("12500.00 EUR"); the code is ignored: the same amount with another
// or no code is a copy whose currency was read differently far more often
// than a coincidence (compare the currency field itself when it matters).
// Values that do not parse as numbers compare as exact strings.
func NumericSimilarity(a, b string) float64 {
	if a == b {
		return 1
	}
	x, ok1 := matchParseAmount(a)
	y, ok2 := matchParseAmount(b)
	if !ok1 || !ok2 {
		return 0
	}
	if x == y {
		return 1
	}
	d := math.Abs(x - y)
	m := max(math.Abs(x), math.Abs(y))
	if d >= m {
		return 0
	}
	return 1 - d/m
}

// matchParseAmount reads a number, optionally followed by a currency code
// as the normalizer writes money ("12500.00 EUR").
func matchParseAmount(s string) (float64, bool) {
	num, cur, _ := strings.Cut(strings.TrimSpace(s), " ")
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(x) || strings.ContainsRune(cur, ' ') {
		return 0, false
	}
	return x, true
}

// matchDate is a parsed calendar date.
type matchDate struct {
	y, m, d int
	digits  [8]byte // YYYYMMDD
}

// matchParseDate reads YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or a datetime that
// starts with one of them.
func matchParseDate(s string) (matchDate, bool) {
	var dt matchDate
	var dg [8]byte
	n := 0
	i := 0
	for ; i < len(s) && n < 8; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			dg[n] = c
			n++
		case (c == '-' || c == '/' || c == '.') && (n == 4 || n == 6):
		default:
			return dt, false
		}
	}
	if n != 8 || (i < len(s) && s[i] >= '0' && s[i] <= '9') {
		return dt, false
	}
	num := func(b []byte) int {
		v := 0
		for _, c := range b {
			v = v*10 + int(c-'0')
		}
		return v
	}
	dt.y, dt.m, dt.d = num(dg[0:4]), num(dg[4:6]), num(dg[6:8])
	dt.digits = dg
	if dt.m < 1 || dt.m > 12 || dt.d < 1 || dt.d > 31 {
		return dt, false
	}
	return dt, true
}

// matchDayNumber returns the days since 1970-01-01 of a proleptic Gregorian date.
func matchDayNumber(y, m, d int) int {
	// From Howard Hinnant's days_from_civil.
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// DateSimilarity compares two dates: 1 when equal; 0.85 when they differ by
// a transposed day and month, one mistyped digit or two swapped adjacent
// digits; 0.8 within 7 days; 0.75 within 31 days; below the partial
// cut-off beyond (0.7 falling linearly to 0 at ten years). Values that do not
// parse as dates compare as exact strings.
func DateSimilarity(a, b string) float64 {
	if a == b {
		return 1
	}
	x, ok1 := matchParseDate(a)
	y, ok2 := matchParseDate(b)
	if !ok1 || !ok2 {
		return 0
	}
	if x.digits == y.digits {
		return 1
	}
	if x.y == y.y && x.m == y.d && x.d == y.m {
		return 0.85
	}
	var diff [2]int
	nd := 0
	for i := range 8 {
		if x.digits[i] != y.digits[i] {
			if nd < 2 {
				diff[nd] = i
			}
			nd++
		}
	}
	if nd == 1 {
		return 0.85
	}
	if nd == 2 && diff[1] == diff[0]+1 &&
		x.digits[diff[0]] == y.digits[diff[1]] && x.digits[diff[1]] == y.digits[diff[0]] {
		return 0.85
	}
	days := matchDayNumber(x.y, x.m, x.d) - matchDayNumber(y.y, y.m, y.d)
	if days < 0 {
		days = -days
	}
	switch {
	case days <= 7:
		return 0.8
	case days <= 31:
		return 0.75
	case days >= 3652:
		return 0
	default:
		return 0.7 * (1 - float64(days)/3652)
	}
}

// matchSimilarity returns the similarity of a and b under method (both
// non-empty).
func (sc *matchScratch) similarity(method string, a, b string) float64 {
	switch method {
	case MethodJaroWinkler:
		return sc.jaroWinkler(a, b)
	case MethodLevenshtein:
		return sc.levenshteinRatio(a, b)
	case MethodTokenSet:
		return sc.tokenSetRatio(a, b)
	case MethodNumeric:
		return NumericSimilarity(a, b)
	case MethodDate:
		return DateSimilarity(a, b)
	case MethodName:
		return sc.nameFolded(matchFoldName(a), matchFoldName(b))
	case MethodPhone:
		return matchPhoneSets(a, b)
	case MethodEmail:
		return EmailSimilarity(a, b)
	default:
		if a == b {
			return 1
		}
		return 0
	}
}

// matchMethodCode is a method as a small integer for the hot path.
type matchMethodCode uint8

const (
	matchCodeExact matchMethodCode = iota
	matchCodeJaroWinkler
	matchCodeLevenshtein
	matchCodeTokenSet
	matchCodeNumeric
	matchCodeDate
	matchCodeName
	matchCodePhone
	matchCodeEmail
)

func matchCodeOf(method string) (matchMethodCode, bool) {
	switch method {
	case MethodExact:
		return matchCodeExact, true
	case MethodJaroWinkler:
		return matchCodeJaroWinkler, true
	case MethodLevenshtein:
		return matchCodeLevenshtein, true
	case MethodTokenSet:
		return matchCodeTokenSet, true
	case MethodNumeric:
		return matchCodeNumeric, true
	case MethodDate:
		return matchCodeDate, true
	case MethodName:
		return matchCodeName, true
	case MethodPhone:
		return matchCodePhone, true
	case MethodEmail:
		return matchCodeEmail, true
	}
	return 0, false
}

// level returns the agreement level of a and b under the method code,
// LevelMissing when either is empty. For token_set, a and b are the
// canonical token strings returned by canon.
func (sc *matchScratch) level(code matchMethodCode, a, b string) uint8 {
	if a == "" || b == "" {
		return LevelMissing
	}
	if a == b {
		return LevelExact
	}
	switch code {
	case matchCodeExact:
		return LevelDisagree
	case matchCodeJaroWinkler:
		return matchLevelOf(sc.jaroWinkler(a, b))
	case matchCodeLevenshtein:
		return sc.levenshteinLevel(a, b)
	case matchCodeTokenSet: // a and b are canonical token strings (see canon)
		_, l := sc.tokenSetCanon(a, b, false)
		return l
	case matchCodeNumeric:
		return matchLevelOf(NumericSimilarity(a, b))
	case matchCodeDate:
		return matchLevelOf(DateSimilarity(a, b))
	case matchCodeName: // a and b are folded names (see matchFoldName)
		return matchLevelOf(sc.nameFolded(a, b))
	case matchCodePhone: // a and b are numbers, pooled ones joined by matchPhoneSep
		return matchLevelOf(matchPhoneSets(a, b))
	case matchCodeEmail:
		return matchLevelOf(EmailSimilarity(a, b))
	}
	return LevelDisagree
}
