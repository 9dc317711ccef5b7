package dedup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"golang.org/x/text/unicode/norm"
)

// Blocking transforms accepted after "field:" in a blocking spec.
const (
	TransformExact     = "exact"
	TransformPrefix    = "prefix" // written prefixN, N from 1 to 20
	TransformSoundex   = "soundex"
	TransformMetaphone = "metaphone"
	TransformDigits    = "digits"
	TransformYear      = "year"
)

// blkWindow is the sorted-neighbourhood window used inside oversized blocks:
// each member is compared with the next blkWindow-1 members in sort order.
const blkWindow = 20

// BlockSpec is one parsed blocking spec: records whose parts all yield the
// same non-empty values share a block and become candidate pairs.
type BlockSpec struct {
	Raw   string      `json:"raw"`
	Parts []BlockPart `json:"parts"`
}

// BlockPart is FIELD[:TRANSFORM] inside a blocking spec.
type BlockPart struct {
	Field     int    `json:"field"` // index into Config.Fields
	Name      string `json:"name"`
	Transform string `json:"transform"` // exact, prefix, soundex, metaphone, digits or year
	N         int    `json:"n,omitempty"`
}

// ParseBlockSpec parses a blocking spec such as "email",
// "last_name:prefix3+company" or "surname:soundex+postcode:prefix2" against
// the field names. Parts are joined by "+"; each part is a field name,
// optionally followed by ":" and a transform: prefixN (N from 1 to 20),
// soundex, metaphone, exact, digits or year. The error names the spec and
// the faulty part.
func ParseBlockSpec(spec string, fields []string) (BlockSpec, error) {
	bs := BlockSpec{Raw: spec}
	if strings.TrimSpace(spec) == "" {
		return bs, fmt.Errorf("blocking spec %q: empty; write FIELD[:TRANSFORM] parts joined by +, e.g. last_name:prefix3+company", spec)
	}
	for _, raw := range strings.Split(spec, "+") {
		part := strings.TrimSpace(raw)
		name, tr, hasTr := strings.Cut(part, ":")
		name, tr = strings.TrimSpace(name), strings.TrimSpace(tr)
		if name == "" {
			return bs, fmt.Errorf("blocking spec %q: empty part; write FIELD[:TRANSFORM] parts joined by +", spec)
		}
		fi := slices.Index(fields, name)
		if fi < 0 {
			return bs, fmt.Errorf("blocking spec %q: unknown field %q; use one of %s", spec, name, strings.Join(fields, ", "))
		}
		bp := BlockPart{Field: fi, Name: name, Transform: TransformExact}
		if hasTr {
			switch {
			case tr == TransformExact, tr == TransformSoundex, tr == TransformMetaphone, tr == TransformDigits, tr == TransformYear:
				bp.Transform = tr
			case strings.HasPrefix(tr, TransformPrefix):
				ns := strings.TrimPrefix(tr, TransformPrefix)
				n, err := strconv.Atoi(ns)
				if err != nil || n < 1 || n > 20 || ns != strconv.Itoa(n) {
					return bs, fmt.Errorf("blocking spec %q: invalid transform %q; write prefixN with N from 1 to 20, e.g. %s:prefix3", spec, tr, name)
				}
				bp.Transform, bp.N = TransformPrefix, n
			case tr == "":
				return bs, fmt.Errorf("blocking spec %q: empty transform after %q; use prefixN, soundex, metaphone, exact, digits or year", spec, name+":")
			default:
				return bs, fmt.Errorf("blocking spec %q: unknown transform %q; use prefixN, soundex, metaphone, exact, digits or year", spec, tr)
			}
		}
		bs.Parts = append(bs.Parts, bp)
	}
	return bs, nil
}

// String renders the part as written in a plan.
func (p BlockPart) String() string {
	switch p.Transform {
	case TransformExact, "":
		return p.Name
	case TransformPrefix:
		return p.Name + ":prefix" + strconv.Itoa(p.N)
	default:
		return p.Name + ":" + p.Transform
	}
}

// appendKey appends the transformed value of v to dst; the result adds
// nothing when the component is empty (no key for the spec).
func (p BlockPart) appendKey(dst []byte, v string) []byte {
	switch p.Transform {
	case TransformPrefix:
		return blkAppendFold(dst, v, p.N)
	case TransformSoundex:
		return blkAppendSoundex(dst, v)
	case TransformMetaphone:
		return blkAppendMetaphone(dst, v)
	case TransformDigits:
		for i := 0; i < len(v); i++ {
			if c := v[i]; c >= '0' && c <= '9' {
				dst = append(dst, c)
			}
		}
		return dst
	case TransformYear:
		run := 0
		for i := 0; i < len(v); i++ {
			if c := v[i]; c >= '0' && c <= '9' {
				run++
				if run == 4 {
					return append(dst, v[i-3:i+1]...)
				}
			} else {
				run = 0
			}
		}
		return dst
	default:
		return blkAppendFold(dst, v, -1)
	}
}

// blkAppendFold appends v, or its first n runes when n ≥ 0, lower-cased and
// with accented Latin letters folded to their ASCII base (É → e, ß → ss):
// block keys of the exact and prefix transforms do not depend on case or
// accents, so "Riverside", "riverside" and "RIVERSIDE" share a block.
func blkAppendFold(dst []byte, v string, n int) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			goto slow
		}
	}
	if n >= 0 && n < len(v) {
		return append(dst, v[:n]...)
	}
	return append(dst, v...)
slow:
	for _, r := range v {
		if n == 0 {
			break
		}
		n--
		switch {
		case r >= 'A' && r <= 'Z':
			dst = append(dst, byte(r+'a'-'A'))
		case r < utf8.RuneSelf:
			dst = append(dst, byte(r))
		default:
			if x, y := blkFold(r); x != 0 {
				dst = append(dst, x|0x20)
				if y != 0 {
					dst = append(dst, y|0x20)
				}
			} else {
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
		}
	}
	return dst
}

// Soundex returns the American Soundex code of s (a letter and three
// digits, e.g. Robert → R163), or "" when s has no letter. Accented Latin
// letters are folded to ASCII first; other characters are ignored.
func Soundex(s string) string {
	return string(blkAppendSoundex(nil, s))
}

// Metaphone returns the (original, simple) Metaphone code of s: an
// upper-case phonetic key such as Smith → SM0 (0 is "th"), Knight → NT,
// Phillip → FLP. Letters are
// folded to ASCII; other characters are ignored. It returns "" when s has
// no letter.
func Metaphone(s string) string {
	return string(blkAppendMetaphone(nil, s))
}

// blkFold returns r as an upper-case ASCII letter string ("" when r is not
// a letter that folds to ASCII).
func blkFold(r rune) (byte, byte) {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'a' && r <= 'z':
			return byte(r - 'a' + 'A'), 0
		case r >= 'A' && r <= 'Z':
			return byte(r), 0
		}
		return 0, 0
	}
	switch unicode.ToLower(r) {
	case 'ß':
		return 'S', 'S'
	case 'æ':
		return 'A', 'E'
	case 'œ':
		return 'O', 'E'
	case 'ø':
		return 'O', 0
	case 'ł':
		return 'L', 0
	case 'đ', 'ð':
		return 'D', 0
	case 'þ':
		return 'T', 'H'
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	var it norm.Iter
	it.Init(norm.NFD, buf[:n])
	if seg := it.Next(); len(seg) > 0 && seg[0] < utf8.RuneSelf {
		return blkFold(rune(seg[0])) // the base letter of a decomposed é, ñ, å, …
	}
	return 0, 0
}

// blkLetters appends the upper-case ASCII letters of s to dst.
func blkLetters(dst []byte, s string) []byte {
	for _, r := range s {
		a, b := blkFold(r)
		if a != 0 {
			dst = append(dst, a)
		}
		if b != 0 {
			dst = append(dst, b)
		}
	}
	return dst
}

// blkSoundexCode is the Soundex digit of each letter A..Z: '0' for vowels
// (they separate repeated codes), 0 for H and W (they do not).
var blkSoundexCode = [26]byte{
	'0', '1', '2', '3', '0', '1', '2', 0, '0', '2', '2', '4', '5',
	'5', '0', '1', '2', '6', '2', '3', '0', '1', 0, '2', '0', '2',
}

func blkAppendSoundex(dst []byte, s string) []byte {
	var lb [64]byte
	letters := blkLetters(lb[:0], s)
	if len(letters) == 0 {
		return dst
	}
	start := len(dst)
	dst = append(dst, letters[0])
	last := blkSoundexCode[letters[0]-'A']
	for _, c := range letters[1:] {
		code := blkSoundexCode[c-'A']
		switch code {
		case 0: // H, W: transparent
			continue
		case '0': // vowel: separator
			last = '0'
			continue
		}
		if code != last {
			dst = append(dst, code)
			if len(dst)-start == 4 {
				return dst
			}
		}
		last = code
	}
	for len(dst)-start < 4 {
		dst = append(dst, '0')
	}
	return dst
}

func blkIsVowel(c byte) bool {
	return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U'
}

// blkAppendMetaphone implements the original Metaphone rules (Philips,
// 1990) on the ASCII-folded letters of s.
func blkAppendMetaphone(dst []byte, s string) []byte {
	var lb [64]byte
	w := blkLetters(lb[:0], s)
	if len(w) == 0 {
		return dst
	}
	at := func(i int) byte {
		if i < 0 || i >= len(w) {
			return 0
		}
		return w[i]
	}
	i, vowelAt := 0, 0
	// Initial exceptions.
	switch {
	case len(w) > 1 && w[0] == 'A' && w[1] == 'E':
		i, vowelAt = 1, 1
	case len(w) > 1 && ((w[0] == 'G' && w[1] == 'N') ||
		(w[0] == 'K' && w[1] == 'N') || (w[0] == 'P' && w[1] == 'N') || (w[0] == 'W' && w[1] == 'R')):
		i = 1
	case w[0] == 'X':
		dst = append(dst, 'S')
		i = 1
	case len(w) > 1 && w[0] == 'W' && w[1] == 'H':
		dst = append(dst, 'W')
		i = 2
	}
	for ; i < len(w); i++ {
		c := w[i]
		if c != 'C' && i > vowelAt && at(i-1) == c {
			continue // doubled letters count once, except C
		}
		next, next2 := at(i+1), at(i+2)
		switch c {
		case 'A', 'E', 'I', 'O', 'U':
			if i == vowelAt {
				dst = append(dst, c)
			}
		case 'B':
			if !(i == len(w)-1 && at(i-1) == 'M') {
				dst = append(dst, 'B')
			}
		case 'C':
			switch {
			case next == 'I' && next2 == 'A':
				dst = append(dst, 'X')
			case next == 'H':
				if at(i-1) == 'S' {
					dst = append(dst, 'K')
				} else {
					dst = append(dst, 'X')
				}
				i++
			case next == 'I' || next == 'E' || next == 'Y':
				if at(i-1) != 'S' {
					dst = append(dst, 'S')
				}
			default:
				dst = append(dst, 'K')
			}
		case 'D':
			if next == 'G' && (next2 == 'E' || next2 == 'Y' || next2 == 'I') {
				dst = append(dst, 'J')
				i++
			} else {
				dst = append(dst, 'T')
			}
		case 'G':
			switch {
			case next == 'H' && i+2 < len(w) && !blkIsVowel(next2):
				// silent: "night"
			case next == 'N' && (i+2 == len(w) || (next2 == 'E' && at(i+3) == 'D' && i+4 == len(w))):
				// silent: "sign", "signed"
			case (next == 'I' || next == 'E' || next == 'Y') && at(i-1) != 'G':
				dst = append(dst, 'J')
			default:
				dst = append(dst, 'K')
			}
		case 'H':
			prev := at(i - 1)
			if (i > 0 && blkIsVowel(prev) && !blkIsVowel(next)) ||
				prev == 'C' || prev == 'G' || prev == 'P' || prev == 'S' || prev == 'T' {
				continue
			}
			dst = append(dst, 'H')
		case 'K':
			if at(i-1) != 'C' {
				dst = append(dst, 'K')
			}
		case 'P':
			if next == 'H' {
				dst = append(dst, 'F')
			} else {
				dst = append(dst, 'P')
			}
		case 'Q':
			dst = append(dst, 'K')
		case 'S':
			switch {
			case next == 'H':
				dst = append(dst, 'X')
				i++
			case next == 'I' && (next2 == 'O' || next2 == 'A'):
				dst = append(dst, 'X')
			default:
				dst = append(dst, 'S')
			}
		case 'T':
			switch {
			case next == 'I' && (next2 == 'O' || next2 == 'A'):
				dst = append(dst, 'X')
			case next == 'H':
				dst = append(dst, '0')
				i++
			case next == 'C' && next2 == 'H':
				// silent: "match"
			default:
				dst = append(dst, 'T')
			}
		case 'V':
			dst = append(dst, 'F')
		case 'W', 'Y':
			if blkIsVowel(next) {
				dst = append(dst, c)
			}
		case 'X':
			dst = append(dst, 'K', 'S')
		case 'Z':
			dst = append(dst, 'S')
		default: // F J L M N R
			dst = append(dst, c)
		}
	}
	return dst
}

// blkHash is 64-bit FNV-1a, fixed so that blocks (and so the output) do not
// depend on the process.
func blkHash(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

const blkHashSeed = 14695981039346656037

// blkKey computes the key of record values under spec s into buf and
// returns the key bytes, or ok=false when a component is empty.
func blkKey(buf []byte, s *BlockSpec, vals []string) ([]byte, bool) {
	return blkKeyOf(buf, s, matchRecords{{Values: vals}}, 0)
}

// blkKeyOf is blkKey of record i of recs.
func blkKeyOf(buf []byte, s *BlockSpec, recs Input, i int) ([]byte, bool) {
	buf = buf[:0]
	for pi, p := range s.Parts {
		if pi > 0 {
			buf = append(buf, 0x1f)
		}
		n := len(buf)
		buf = p.appendKey(buf, recs.Value(i, p.Field))
		if len(buf) == n {
			return buf, false
		}
	}
	return buf, true
}

// blkEntry is one record's key in one spec.
type blkEntry struct {
	h   uint64
	rec uint32
}

// blkBlock is a run of entries with the same key hash.
type blkBlock struct {
	spec       int
	start, end int // in entries[spec]
}

// blkResult is the outcome of blocking.
type blkResult struct {
	pairs     []uint64 // sorted, unique, a<b as a<<32|b
	blocks    int
	oversized []BlockReport
}

// blkPlan is the outcome of blocking before any pair is materialized: the
// blocks of every spec, grouped into tasks of similar work. Candidate pairs
// are enumerated task by task (see forPairs), so a run never holds all of
// them at once. Only blocks of two or more records are kept. Memory: per
// record and spec a block number (4 bytes) and, per record in a block, an
// entry (4 bytes), plus 4 bytes per record for specs with oversized blocks;
// while blocking, 8 bytes per record and spec (key hashes) and 16 per keyed
// record of the specs being sorted.
type blkPlan struct {
	root    []uint32
	entries [][]uint32 // per spec, the records of its blocks, block after block, each sorted by record; oversized blocks in sort order
	blockOf [][]uint32 // per spec and record: 1 + its block's number in the spec, 0 = in no block
	ovPos   [][]int32  // per spec (nil if none) and record: position in its oversized block, -1 if not oversized
	blocks  []blkBlock
	tasks   []blkTask
	maxBlk  int

	nblocks   int
	oversized []BlockReport
}

// blkTask is a run of blocks and its estimated number of raw pairs.
type blkTask struct {
	lo, hi int
	work   int64
}

// blkCandidates computes the sorted, unique candidate pairs of recs under
// specs, all at once (Run enumerates them task by task instead). Pairs of records with the same exact root are skipped. Blocks
// above maxBlock are compared inside a sorted-neighbourhood window and
// reported.
func blkCandidates(ctx context.Context, recs Input, specs []BlockSpec, root []uint32, maxBlock, workers int, sortKey func(a, b uint32) int) (*blkResult, error) {
	bp, err := blkPrepare(ctx, recs, specs, root, maxBlock, workers, sortKey)
	if err != nil {
		return nil, err
	}
	res := &blkResult{blocks: bp.nblocks, oversized: bp.oversized}
	out := make([][]uint64, len(bp.tasks))
	for ti := range bp.tasks {
		bp.forPairs(ti, func(a, b uint32) {
			out[ti] = append(out[ti], uint64(a)<<32|uint64(b))
		})
	}
	res.pairs = blkSortUnique(ctx, out, recs.Len(), workers)
	return res, nil
}

// blkPrepare computes the blocks of recs under specs, sorts the members of
// blocks above maxBlock by sortKey (they are compared inside a
// sorted-neighbourhood window) and reports those blocks.
func blkPrepare(ctx context.Context, recs Input, specs []BlockSpec, root []uint32, maxBlock, workers int, sortKey func(a, b uint32) int) (*blkPlan, error) {
	n := recs.Len()
	bp := &blkPlan{root: root, maxBlk: maxBlock}
	if len(specs) == 0 || n < 2 {
		return bp, nil
	}
	// 1. Key hashes, one per record and spec (0 = no key), in parallel.
	hashes := make([][]uint64, len(specs))
	for s := range specs {
		hashes[s] = make([]uint64, n)
	}
	const chunk = 8192
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			buf := make([]byte, 0, 128)
			for s := range specs {
				seed := blkHash(blkHashSeed, []byte{byte(s), byte(s >> 8)})
				hs := hashes[s]
				for i := lo; i < hi; i++ {
					var ok bool
					buf, ok = blkKeyOf(buf, &specs[s], recs, i)
					if !ok {
						continue
					}
					h := blkHash(seed, buf)
					if h == 0 {
						h = 1
					}
					hs[i] = h
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// 2. Per spec, the records sorted by (hash, record); the runs of two or
	// more with one hash are the blocks.
	entries := make([][]uint32, len(specs))
	ends := make([][]int, len(specs)) // per spec, where each block ends in entries
	bp.blockOf = make([][]uint32, len(specs))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for s := range specs {
		g.Go(func() error {
			keyed := 0
			for _, h := range hashes[s] {
				if h != 0 {
					keyed++
				}
			}
			es := make([]blkEntry, 0, keyed)
			for i, h := range hashes[s] {
				if h != 0 {
					es = append(es, blkEntry{h, uint32(i)})
				}
			}
			hashes[s] = nil
			slices.SortFunc(es, func(x, y blkEntry) int {
				if x.h != y.h {
					if x.h < y.h {
						return -1
					}
					return 1
				}
				return int(x.rec) - int(y.rec)
			})
			inBlocks, nblocks := 0, 0
			for i := 0; i < len(es); {
				j := i + 1
				for j < len(es) && es[j].h == es[i].h {
					j++
				}
				if j-i > 1 {
					inBlocks += j - i
					nblocks++
				}
				i = j
			}
			recs := make([]uint32, 0, inBlocks)
			blockEnds := make([]int, 0, nblocks)
			blockOf := make([]uint32, n)
			for i := 0; i < len(es); {
				j := i + 1
				for j < len(es) && es[j].h == es[i].h {
					j++
				}
				if j-i > 1 {
					for _, e := range es[i:j] {
						recs = append(recs, e.rec)
						blockOf[e.rec] = uint32(len(blockEnds) + 1)
					}
					blockEnds = append(blockEnds, len(recs))
				}
				i = j
			}
			entries[s], ends[s], bp.blockOf[s] = recs, blockEnds, blockOf
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	bp.entries = entries
	// 3. Blocks, grouped into tasks of similar work.
	var blocks []blkBlock
	var over []int // indexes into blocks
	for s := range specs {
		start := 0
		for _, end := range ends[s] {
			if end-start > maxBlock {
				over = append(over, len(blocks))
			}
			blocks = append(blocks, blkBlock{s, start, end})
			start = end
		}
	}
	bp.blocks = blocks
	bp.nblocks = len(blocks)
	var work int64
	start := 0
	for i, b := range blocks {
		sz := int64(b.end - b.start)
		if sz > int64(maxBlock) {
			work += sz * blkWindow
		} else {
			work += sz * (sz - 1) / 2
		}
		if work >= 1<<16 || i == len(blocks)-1 {
			bp.tasks = append(bp.tasks, blkTask{start, i + 1, work})
			start, work = i+1, 0
		}
	}
	// 4. Oversized blocks: members in sort order, their positions, reports.
	if len(over) == 0 {
		return bp, nil
	}
	bp.ovPos = make([][]int32, len(specs))
	for _, bi := range over {
		s := blocks[bi].spec
		if bp.ovPos[s] == nil {
			pos := make([]int32, n)
			for i := range pos {
				pos[i] = -1
			}
			bp.ovPos[s] = pos
		}
	}
	reports := make([]BlockReport, len(over))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for oi, bi := range over {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			b := blocks[bi]
			es := entries[b.spec][b.start:b.end]
			kb, _ := blkKeyOf(nil, &specs[b.spec], recs, int(es[0]))
			slices.SortFunc(es, sortKey)
			pos := bp.ovPos[b.spec]
			for i, e := range es {
				pos[e] = int32(i)
			}
			var compared int64
			for x := range es {
				for y := x + 1; y < len(es) && y < x+blkWindow; y++ {
					if root[es[x]] != root[es[y]] {
						compared++
					}
				}
			}
			reports[oi] = BlockReport{
				Spec: specs[b.spec].Raw, Key: strings.ReplaceAll(string(kb), "\x1f", "+"),
				Size: len(es), Pairs: compared,
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	bp.oversized = reports
	return bp, nil
}

// emits reports whether spec s compares records a and c (of different roots).
func (bp *blkPlan) emits(s int, a, c uint32) bool {
	bs := bp.blockOf[s]
	if bs[a] == 0 || bs[a] != bs[c] {
		return false
	}
	if bp.ovPos == nil || bp.ovPos[s] == nil || bp.ovPos[s][a] < 0 {
		return true // a block within maxBlock: all its pairs
	}
	d := bp.ovPos[s][a] - bp.ovPos[s][c]
	return d < blkWindow && d > -blkWindow
}

// candidate reports whether a and c are a candidate pair.
func (bp *blkPlan) candidate(a, c uint32) bool {
	if bp.root[a] == bp.root[c] {
		return false
	}
	for s := range bp.blockOf {
		if bp.emits(s, a, c) {
			return true
		}
	}
	return false
}

// forPairs calls fn(a, b), a < b, for each candidate pair of task ti, in a
// fixed order. A pair is enumerated only by the first spec that compares
// it, so every candidate pair is enumerated exactly once over all tasks.
func (bp *blkPlan) forPairs(ti int, fn func(a, b uint32)) {
	t := bp.tasks[ti]
	root := bp.root
	first := func(s int, a, c uint32) bool {
		for j := range s {
			if bp.emits(j, a, c) {
				return false
			}
		}
		return true
	}
	for _, b := range bp.blocks[t.lo:t.hi] {
		es := bp.entries[b.spec][b.start:b.end]
		if len(es) <= bp.maxBlk {
			for x := 0; x < len(es); x++ {
				a := es[x]
				for y := x + 1; y < len(es); y++ {
					c := es[y]
					if root[a] != root[c] && first(b.spec, a, c) {
						fn(a, c) // entries are sorted by record: a < c
					}
				}
			}
			continue
		}
		// Oversized: sorted neighbourhood.
		for x := range es {
			for y := x + 1; y < len(es) && y < x+blkWindow; y++ {
				a, c := es[x], es[y]
				if root[a] == root[c] {
					continue
				}
				if a > c {
					a, c = c, a
				}
				if first(b.spec, a, c) {
					fn(a, c)
				}
			}
		}
	}
}

// blkSortUnique merges the pair lists of the blocking tasks into one sorted
// list without repeats, in parallel: pairs are scattered into buckets by
// their first record (the parts are released as they are read), each bucket
// is sorted on its own goroutine, and the buckets are concatenated in order.
// Peak memory is two words per raw pair.
func blkSortUnique(ctx context.Context, parts [][]uint64, n, workers int) []uint64 {
	total := 0
	for _, ps := range parts {
		total += len(ps)
	}
	nb := max(1, workers*8)
	if total < 1<<16 {
		nb = 1
	}
	bucket := func(p uint64) int { return int((p >> 32) * uint64(nb) / uint64(n)) }
	counts := make([]int, nb+1)
	for _, ps := range parts {
		for _, p := range ps {
			counts[bucket(p)+1]++
		}
	}
	for i := 1; i <= nb; i++ {
		counts[i] += counts[i-1]
	}
	offs := slices.Clone(counts[:nb])
	sorted := make([]uint64, total)
	for i, ps := range parts {
		for _, p := range ps {
			b := bucket(p)
			sorted[offs[b]] = p
			offs[b]++
		}
		parts[i] = nil
	}
	lens := make([]int, nb)
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for b := range nb {
		g.Go(func() error {
			part := sorted[counts[b]:counts[b+1]]
			slices.Sort(part)
			lens[b] = len(slices.Compact(part))
			return nil
		})
	}
	_ = g.Wait()
	w := 0
	for b := range nb {
		w += copy(sorted[w:], sorted[counts[b]:counts[b]+lens[b]])
	}
	if w < len(sorted)/2 {
		return slices.Clone(sorted[:w]) // many repeats: do not keep the slack
	}
	return sorted[:w]
}
