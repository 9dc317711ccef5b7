package clean

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// MatchRecord is one normalized record to deduplicate.
type MatchRecord struct {
	Source string   `json:"source"` // system name ("old", "marketing")
	ID     string   `json:"id"`     // id in the source system
	Key    string   `json:"key"`    // exact canonical key (email, domain), "" if none
	Values []string `json:"values"` // normalized values in field order, "" = empty
}

// CompareSpec says how one field is compared.
type CompareSpec struct {
	Field int `json:"field"` // index into the record values (and DedupConfig.Fields)
	// Method is exact, jaro_winkler, levenshtein, token_set, numeric or date.
	Method string `json:"method"`
	// Weight 0 uses the learned evidence as is. Weight > 0 multiplies the
	// field's learned log-likelihood ratio: 2 counts the field twice, 0.5
	// half. It does not change what EM learns, only how it is combined.
	Weight float64 `json:"weight,omitempty"`
}

// DedupConfig is the fuzzy-dedup setup of one object (the plan's dedup
// section, resolved to field indexes).
type DedupConfig struct {
	Fields []string `json:"fields"` // field names, in value order
	Block  []string `json:"block"`  // blocking specs, see ParseBlockSpec
	// Compare lists the compared fields, at most 21. Empty: every field named
	// in Block, compared with jaro_winkler (no blocking either: exact stage only).
	Compare []CompareSpec `json:"compare"`
	// AutoMerge is the posterior match probability at or above which a pair
	// merges automatically (0: 0.92).
	AutoMerge float64 `json:"auto_merge"`
	// Review is the probability at or above which a pair below AutoMerge goes
	// to manual review (0: 0.80). Set it equal to AutoMerge for no review queue.
	Review float64 `json:"review"`
	// MaxBlock caps the block size compared exhaustively (0: 1000). Larger
	// blocks are compared within a sorted-neighbourhood window and reported.
	MaxBlock int `json:"max_block"`
	// Workers is the comparison parallelism (0: GOMAXPROCS).
	Workers int `json:"workers"`
	// Progress, when set, is called with the stage name and the work done
	// and to do; calls come from one goroutine at a time.
	Progress func(stage string, done, total int64) `json:"-"`
}

// Defaults of DedupConfig.
const (
	DefaultAutoMerge = 0.92
	DefaultReview    = 0.80
	DefaultMaxBlock  = 1000
)

// Decision says how a record got into its cluster.
type Decision string

// Decisions.
const (
	DecisionSingle   Decision = "single"   // alone, nothing pending
	DecisionExact    Decision = "exact"    // shares the exact canonical key with another record
	DecisionAuto     Decision = "auto"     // joined by a fuzzy match ≥ AutoMerge
	DecisionReview   Decision = "review"   // alone, but part of a pair waiting for review
	DecisionAccepted Decision = "accepted" // joined by an accepted review decision
)

// Review reasons.
const (
	ReasonScore    = "score"    // Review ≤ score < AutoMerge
	ReasonChain    = "chain"    // ≥ AutoMerge, cut by the chaining guard
	ReasonConflict = "conflict" // accepted earlier, but it would join a rejected pair
)

// DedupResult is the outcome of Dedup.
type DedupResult struct {
	// Clusters are groups of input indexes that are one entity; each sorted,
	// ordered by their smallest member; every record is in exactly one.
	Clusters [][]int `json:"clusters"`
	// Decision and Score are per record: how it joined its cluster and the
	// best score of the links that put it there (1 exact, 0 single; for
	// DecisionReview the best pending review score).
	Decision  []Decision    `json:"decision"`
	Score     []float64     `json:"score"`
	Review    []ReviewPair  `json:"review"`    // pairs for manual review, best first; not merged
	Oversized []BlockReport `json:"oversized"` // blocks above MaxBlock
	Stats     DedupStats    `json:"stats"`
	Model     *FSModel      `json:"model"` // nil when there was no candidate pair
}

// ReviewPair is a pair of records to be looked at by a person.
type ReviewPair struct {
	A     int     `json:"a"` // input index, A < B
	B     int     `json:"b"`
	Score float64 `json:"score"`
	// FieldScores holds one similarity per CompareSpec, -1 when either side is empty.
	FieldScores []float64 `json:"field_scores"`
	Reason      string    `json:"reason"` // score, chain or conflict
}

// BlockReport is a block larger than MaxBlock.
type BlockReport struct {
	Spec  string `json:"spec"`  // the blocking spec, as written
	Key   string `json:"key"`   // the block key (parts joined by +); may hold PII
	Size  int    `json:"size"`  // records in the block
	Pairs int64  `json:"pairs"` // pairs compared inside its window
}

// DedupStats counts the work of one run.
type DedupStats struct {
	Records          int           `json:"records"`
	Blocks           int           `json:"blocks"`            // blocks with ≥ 2 records, over all specs
	CandidatePairs   int64         `json:"candidate_pairs"`   // unique pairs sharing a block
	Comparisons      int64         `json:"comparisons"`       // candidate pairs + guard comparisons
	GuardComparisons int64         `json:"guard_comparisons"` // extra pairs compared by the chaining guard
	RandomPairs      int64         `json:"random_pairs"`      // random pairs compared to seed U
	ExactLinks       int           `json:"exact_links"`       // records joined by exact key (members - 1 per group)
	AcceptedLinks    int           `json:"accepted_links"`
	AutoLinks        int           `json:"auto_links"` // fuzzy links that joined two groups
	ChainCuts        int           `json:"chain_cuts"` // links ≥ AutoMerge held back by the guard
	ReviewPairs      int           `json:"review_pairs"`
	Clusters         int           `json:"clusters"`       // all clusters, singletons included
	MultiClusters    int           `json:"multi_clusters"` // clusters with ≥ 2 records
	Blocking         time.Duration `json:"blocking_ns"`
	Comparison       time.Duration `json:"comparison_ns"`
	Learning         time.Duration `json:"learning_ns"`
	Clustering       time.Duration `json:"clustering_ns"`
	Total            time.Duration `json:"total_ns"`
}

// matchRandomPairs is the number of random record pairs compared to seed
// the U estimates.
const matchRandomPairs = 50000

// matchPlan is a validated DedupConfig.
type matchPlan struct {
	cfg     DedupConfig
	specs   []BlockSpec
	codes   []matchMethodCode
	fields  []int
	scale   []float64
	nvalues int // values a record must have

	// The compared values of all records, back to back: field f of record r
	// is arena[off[r*k+f]:off[r*k+f+1]] (k compared fields). See prepare.
	arena string
	off   []int
}

func matchCompile(cfg DedupConfig) (*matchPlan, error) {
	if cfg.AutoMerge == 0 {
		cfg.AutoMerge = DefaultAutoMerge
	}
	if cfg.Review == 0 {
		cfg.Review = DefaultReview
	}
	if cfg.MaxBlock <= 0 {
		cfg.MaxBlock = DefaultMaxBlock
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	var errs []error
	if cfg.AutoMerge < 0 || cfg.AutoMerge > 1 || math.IsNaN(cfg.AutoMerge) {
		errs = append(errs, fmt.Errorf("auto_merge %v: use a probability in (0, 1]", cfg.AutoMerge))
	}
	if cfg.Review < 0 || cfg.Review > 1 || math.IsNaN(cfg.Review) {
		errs = append(errs, fmt.Errorf("review %v: use a probability in (0, 1]", cfg.Review))
	} else if cfg.Review > cfg.AutoMerge {
		errs = append(errs, fmt.Errorf("review %v is above auto_merge %v; make review at most auto_merge", cfg.Review, cfg.AutoMerge))
	}
	p := &matchPlan{cfg: cfg, nvalues: len(cfg.Fields)}
	for _, s := range cfg.Block {
		bs, err := ParseBlockSpec(s, cfg.Fields)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.specs = append(p.specs, bs)
	}
	if len(cfg.Compare) == 0 && len(p.specs) > 0 {
		// No compare section: compare each field named in a blocking spec.
		for _, bs := range p.specs {
			for _, bp := range bs.Parts {
				if !slices.ContainsFunc(cfg.Compare, func(c CompareSpec) bool { return c.Field == bp.Field }) {
					cfg.Compare = append(cfg.Compare, CompareSpec{Field: bp.Field, Method: MethodJaroWinkler})
				}
			}
		}
		p.cfg.Compare = cfg.Compare
	}
	if len(cfg.Compare) == 0 && len(cfg.Block) > 0 {
		errs = append(errs, errors.New("no compared fields; add compare: {FIELD: {method: ...}}"))
	}
	if len(cfg.Compare) > fsMaxFields {
		errs = append(errs, fmt.Errorf("%d compared fields; at most %d are supported", len(cfg.Compare), fsMaxFields))
	}
	for i, c := range cfg.Compare {
		code, ok := matchCodeOf(c.Method)
		if !ok {
			errs = append(errs, fmt.Errorf("compare[%d]: unknown method %q; use one of %s", i, c.Method, strings.Join(matchMethods, ", ")))
		}
		if c.Field < 0 || (len(cfg.Fields) > 0 && c.Field >= len(cfg.Fields)) {
			errs = append(errs, fmt.Errorf("compare[%d]: field index %d out of range (%d fields)", i, c.Field, len(cfg.Fields)))
		}
		if c.Weight < 0 || math.IsNaN(c.Weight) || math.IsInf(c.Weight, 0) {
			errs = append(errs, fmt.Errorf("compare[%d]: weight %v; use a positive number, or 0 to use the learned weight", i, c.Weight))
		}
		p.codes = append(p.codes, code)
		p.fields = append(p.fields, c.Field)
		w := c.Weight
		if w <= 0 {
			w = 1
		}
		p.scale = append(p.scale, w)
		p.nvalues = max(p.nvalues, c.Field+1)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("dedup config: %w", err)
	}
	return p, nil
}

// fieldName names compared field f.
func (p *matchPlan) fieldName(f int) string {
	if i := p.fields[f]; i < len(p.cfg.Fields) {
		return p.cfg.Fields[i]
	}
	return fmt.Sprintf("field%d", p.fields[f])
}

// prepare copies what the comparisons read into one compact arena: for
// each record, the compared values back to back (for token_set fields the
// canonical token string instead of the value). A comparison then touches
// two short runs of memory instead of a dozen scattered strings, which is
// most of the cost on large inputs.
func (p *matchPlan) prepare(ctx context.Context, recs []MatchRecord) error {
	k := len(p.fields)
	n := len(recs)
	var canon [][]string
	const chunk = 8192
	for f, code := range p.codes {
		if code != matchCodeTokenSet {
			continue
		}
		if canon == nil {
			canon = make([][]string, k)
		}
		cs := make([]string, n)
		canon[f] = cs
		fi := p.fields[f]
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(p.cfg.Workers)
		for lo := 0; lo < n; lo += chunk {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				sc := &matchScratch{}
				for i := lo; i < min(n, lo+chunk); i++ {
					if v := recs[i].Values[fi]; v != "" {
						cs[i] = sc.canon(v)
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	value := func(r, f int) string {
		if canon != nil && canon[f] != nil {
			return canon[f][r]
		}
		return recs[r].Values[p.fields[f]]
	}
	size := 0
	for r := range n {
		for f := range k {
			size += len(value(r, f))
		}
	}
	var b strings.Builder
	b.Grow(size)
	p.off = make([]int, n*k+1)
	for r := range n {
		for f := range k {
			b.WriteString(value(r, f))
			p.off[r*k+f+1] = b.Len()
		}
	}
	p.arena = b.String()
	return nil
}

// value returns what compared field f of record r is compared on.
func (p *matchPlan) value(f int, r uint32) string {
	i := int(r)*len(p.fields) + f
	return p.arena[p.off[i]:p.off[i+1]]
}

// pattern compares two records into a pattern code.
func (p *matchPlan) pattern(sc *matchScratch, a, b uint32) uint64 {
	var code uint64
	k := len(p.fields)
	oa, ob := p.off[int(a)*k:int(a)*k+k+1], p.off[int(b)*k:int(b)*k+k+1]
	for f, c := range p.codes {
		x, y := p.arena[oa[f]:oa[f+1]], p.arena[ob[f]:ob[f+1]]
		code |= uint64(sc.level(c, x, y)) << (fsBitsPerFld * f)
	}
	return code
}

// fieldScores returns the similarity of each compared field, -1 if missing.
func (p *matchPlan) fieldScores(sc *matchScratch, a, b uint32) []float64 {
	out := make([]float64, len(p.fields))
	for f := range p.fields {
		va, vb := p.value(f, a), p.value(f, b)
		switch {
		case va == "" || vb == "":
			out[f] = -1
		case p.codes[f] == matchCodeTokenSet:
			out[f], _ = sc.tokenSetCanon(va, vb, true)
		default:
			out[f] = sc.similarity(p.cfg.Compare[f].Method, va, vb)
		}
	}
	return out
}

func (p *matchPlan) progress(stage string, done, total int64) {
	if p.cfg.Progress != nil {
		p.cfg.Progress(stage, done, total)
	}
}

// Dedup finds the records of one object that are the same entity. Records
// sharing a non-empty Key are joined first; then records sharing a block key
// are compared field by field, scored by a Fellegi-Sunter model learned by
// EM on those pairs, and joined when the match probability reaches
// AutoMerge, subject to the chaining guard (see docs/dedup.md). Pairs
// between Review and AutoMerge are returned for manual review.
//
// The result depends only on the input and its order, never on scheduling.
// Cost is near-linear in the records for a plan whose blocks are small;
// memory is about 50 bytes per record per blocking spec while blocking and
// 16 bytes per candidate pair. Errors: an invalid config or record (all
// problems in one error), or ctx's error when it is cancelled.
func Dedup(ctx context.Context, recs []MatchRecord, cfg DedupConfig) (*DedupResult, error) {
	return DedupWithDecisions(ctx, recs, cfg, nil, nil)
}

// DedupWithDecisions is Dedup honouring earlier review decisions, given as
// pairs of input indexes: an accepted pair is merged (decision "accepted")
// whatever it scores; a rejected pair is never merged by fuzzy matching nor
// queued for review again, and no cluster may hold both of its records
// unless they share the exact key. When an accepted pair would join a
// rejected one, the rejection wins and the accepted pair is queued again
// with reason "conflict".
func DedupWithDecisions(ctx context.Context, recs []MatchRecord, cfg DedupConfig, accepted, rejected [][2]int) (*DedupResult, error) {
	start := time.Now()
	p, err := matchCompile(cfg)
	if err != nil {
		return nil, err
	}
	cfg = p.cfg
	n := len(recs)
	if int64(n) >= math.MaxUint32 {
		return nil, fmt.Errorf("dedup: %d records; at most %d per run", n, math.MaxUint32-1)
	}
	var errs []error
	for i, r := range recs {
		if len(r.Values) < p.nvalues {
			errs = append(errs, fmt.Errorf("record %d (%s %s): %d values, want %d", i, r.Source, r.ID, len(r.Values), p.nvalues))
			if len(errs) == 10 {
				errs = append(errs, errors.New("more records have too few values"))
				break
			}
		}
	}
	checkPairs := func(what string, ps [][2]int) {
		for _, pr := range ps {
			if pr[0] < 0 || pr[1] < 0 || pr[0] >= n || pr[1] >= n || pr[0] == pr[1] {
				errs = append(errs, fmt.Errorf("%s pair %v: indexes must be two different records in 0..%d", what, pr, n-1))
			}
		}
	}
	checkPairs("accepted", accepted)
	checkPairs("rejected", rejected)
	rej := make(map[uint64]bool, len(rejected))
	for _, pr := range rejected {
		rej[matchPairKey(pr[0], pr[1])] = true
	}
	for _, pr := range accepted {
		if rej[matchPairKey(pr[0], pr[1])] {
			errs = append(errs, fmt.Errorf("pair %v is both accepted and rejected", pr))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("dedup input: %w", err)
	}

	res := &DedupResult{Stats: DedupStats{Records: n}}

	// 1. Exact stage: root = smallest index with the same key.
	root := make([]uint32, n)
	firstOf := make(map[string]uint32)
	for i, r := range recs {
		root[i] = uint32(i)
		if r.Key == "" {
			continue
		}
		if f, ok := firstOf[r.Key]; ok {
			root[i] = f
			res.Stats.ExactLinks++
		} else {
			firstOf[r.Key] = uint32(i)
		}
	}
	firstOf = nil

	// 2. Blocking.
	t := time.Now()
	p.progress("blocking", 0, int64(n))
	sortKey := func(a, b uint32) int {
		va, vb := recs[a].Values, recs[b].Values
		for _, fi := range p.fields {
			if c := strings.Compare(va[fi], vb[fi]); c != 0 {
				return c
			}
		}
		return int(a) - int(b)
	}
	blk, err := blkCandidates(ctx, recs, p.specs, root, cfg.MaxBlock, cfg.Workers, sortKey)
	if err != nil {
		return nil, fmt.Errorf("dedup blocking: %w", err)
	}
	pairs := blk.pairs
	res.Oversized = blk.oversized
	res.Stats.Blocks = blk.blocks
	res.Stats.CandidatePairs = int64(len(pairs))
	res.Stats.Blocking = time.Since(t)
	p.progress("blocking", int64(n), int64(n))

	// 3. Comparison: one pattern code per candidate pair, plus a histogram.
	t = time.Now()
	if err := p.prepare(ctx, recs); err != nil {
		return nil, fmt.Errorf("dedup comparison: %w", err)
	}
	codes, hist, err := p.compareAll(ctx, recs, pairs)
	if err != nil {
		return nil, fmt.Errorf("dedup comparison: %w", err)
	}
	random := p.randomPatterns(recs, root)
	res.Stats.RandomPairs = 0
	for _, r := range random {
		res.Stats.RandomPairs += r.count
	}
	res.Stats.Comparison = time.Since(t)

	// 4. Learning: EM on the histogram of the candidate pairs.
	t = time.Now()
	k := len(p.fields)
	mdl := fsFit(hist, k, fsUFromRandom(random, k), p.scale, float64(n)*float64(n-1)/2)
	mdl.RandomPairs = int(res.Stats.RandomPairs)
	for f := range k {
		mdl.Fields = append(mdl.Fields, p.fieldName(f))
		mdl.Methods = append(mdl.Methods, cfg.Compare[f].Method)
	}
	post := make(map[uint64]float64, len(hist))
	for _, h := range hist {
		post[h.code] = mdl.posterior(h.code)
	}
	if len(pairs) > 0 || len(accepted) > 0 {
		res.Model = mdl
	}
	res.Stats.Learning = time.Since(t)

	// 5. Clustering.
	t = time.Now()
	sc := &matchScratch{}
	score := func(a, b uint32) (float64, bool) {
		if a > b {
			a, b = b, a
		}
		key := uint64(a)<<32 | uint64(b)
		if i, ok := slices.BinarySearch(pairs, key); ok {
			return post[codes[i]], false
		}
		return mdl.posterior(p.pattern(sc, a, b)), true
	}
	in := &clsInput{
		n:         n,
		root:      root,
		review:    cfg.Review,
		rejected:  rej,
		score:     score,
		maxSample: clsMaxSample,
	}
	for _, pr := range accepted {
		a, b := uint32(min(pr[0], pr[1])), uint32(max(pr[0], pr[1]))
		s, _ := score(a, b)
		in.accepted = append(in.accepted, clsLink{a, b, s})
	}
	var reviewCand []clsLink
	for i, pk := range pairs {
		s := post[codes[i]]
		if s < cfg.Review || rej[pk] {
			continue
		}
		l := clsLink{uint32(pk >> 32), uint32(pk), s}
		if s >= cfg.AutoMerge {
			in.auto = append(in.auto, l)
		} else {
			reviewCand = append(reviewCand, l)
		}
	}
	out := clsRun(in)
	res.Stats.GuardComparisons = out.guardComparisons
	res.Stats.Comparisons = int64(len(pairs)) + out.guardComparisons
	res.Stats.AcceptedLinks = out.acceptedLinks
	res.Stats.AutoLinks = out.autoLinks
	res.Stats.ChainCuts = out.chainCuts

	// Clusters in order of their smallest member.
	res.Clusters = nil
	idx := make(map[uint32]int)
	cid := make([]int, n)
	for i := range n {
		r := out.find(uint32(i))
		c, ok := idx[r]
		if !ok {
			c = len(res.Clusters)
			idx[r] = c
			res.Clusters = append(res.Clusters, nil)
		}
		res.Clusters[c] = append(res.Clusters[c], i)
		cid[i] = c
	}
	idx = nil
	res.Stats.Clusters = len(res.Clusters)
	for _, c := range res.Clusters {
		if len(c) > 1 {
			res.Stats.MultiClusters++
		}
	}

	// Review queue: review-range pairs, guard cuts and conflicts whose two
	// records did not end up in one cluster.
	seen := make(map[uint64]bool)
	addReview := func(l clsLink, reason string) {
		if cid[l.a] == cid[l.b] {
			return
		}
		key := uint64(l.a)<<32 | uint64(l.b)
		if seen[key] {
			return
		}
		seen[key] = true
		res.Review = append(res.Review, ReviewPair{
			A: int(l.a), B: int(l.b), Score: l.score, Reason: reason,
			FieldScores: p.fieldScores(sc, l.a, l.b),
		})
	}
	for _, l := range out.conflicts {
		addReview(l, ReasonConflict)
	}
	for _, l := range out.cuts {
		addReview(l, ReasonChain)
	}
	for _, l := range reviewCand {
		addReview(l, ReasonScore)
	}
	slices.SortFunc(res.Review, func(x, y ReviewPair) int {
		switch {
		case x.Score > y.Score:
			return -1
		case x.Score < y.Score:
			return 1
		case x.A != y.A:
			return x.A - y.A
		}
		return x.B - y.B
	})
	res.Stats.ReviewPairs = len(res.Review)

	// Decisions and scores per record.
	res.Decision = make([]Decision, n)
	res.Score = make([]float64, n)
	for i := range n {
		res.Decision[i] = DecisionSingle
	}
	for _, l := range out.autoUsed {
		for _, r := range [2]uint32{l.a, l.b} {
			if cid[l.a] == cid[l.b] && l.score > res.Score[r] {
				res.Decision[r], res.Score[r] = DecisionAuto, l.score
			}
		}
	}
	for _, l := range out.acceptedUsed {
		for _, r := range [2]uint32{l.a, l.b} {
			if res.Decision[r] != DecisionAccepted || l.score > res.Score[r] {
				res.Decision[r], res.Score[r] = DecisionAccepted, l.score
			}
		}
	}
	for i := range n {
		if root[i] != uint32(i) {
			res.Decision[i], res.Score[i] = DecisionExact, 1
			res.Decision[root[i]], res.Score[root[i]] = DecisionExact, 1
		}
	}
	for _, rp := range res.Review {
		for _, r := range [2]int{rp.A, rp.B} {
			if len(res.Clusters[cid[r]]) == 1 && rp.Score > res.Score[r] {
				res.Decision[r], res.Score[r] = DecisionReview, rp.Score
			}
		}
	}
	res.Stats.Clustering = time.Since(t)
	res.Stats.Total = time.Since(start)
	return res, nil
}

func matchPairKey(a, b int) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(b)
}

// compareAll computes the pattern code of every pair in parallel and the
// histogram of codes.
func (p *matchPlan) compareAll(ctx context.Context, recs []MatchRecord, pairs []uint64) ([]uint64, []fsPattern, error) {
	codes := make([]uint64, len(pairs))
	const chunk = 1 << 14
	nchunks := (len(pairs) + chunk - 1) / chunk
	parts := make([]map[uint64]int64, nchunks)
	var mu sync.Mutex
	var done int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.Workers)
	scratch := make(chan *matchScratch, p.cfg.Workers)
	for range p.cfg.Workers {
		scratch <- &matchScratch{}
	}
	for c := range nchunks {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			sc := <-scratch
			defer func() { scratch <- sc }()
			lo, hi := c*chunk, min(len(pairs), (c+1)*chunk)
			h := make(map[uint64]int64)
			for i := lo; i < hi; i++ {
				pk := pairs[i]
				code := p.pattern(sc, uint32(pk>>32), uint32(pk))
				codes[i] = code
				h[code]++
			}
			parts[c] = h
			if p.cfg.Progress != nil {
				mu.Lock()
				done += int64(hi - lo)
				p.cfg.Progress("comparison", done, int64(len(pairs)))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return codes, fsHistogram(parts), nil
}

// randomPatterns compares up to matchRandomPairs random record pairs
// (deterministic sequence) for the prior of U.
func (p *matchPlan) randomPatterns(recs []MatchRecord, root []uint32) []fsPattern {
	n := uint64(len(recs))
	if n < 2 {
		return nil
	}
	total := n * (n - 1) / 2
	want := min(uint64(matchRandomPairs), total)
	h := make(map[uint64]int64)
	sc := &matchScratch{}
	if want == total {
		for a := range n {
			for b := a + 1; b < n; b++ {
				if root[a] != root[b] {
					h[p.pattern(sc, uint32(a), uint32(b))]++
				}
			}
		}
		return fsHistogram([]map[uint64]int64{h})
	}
	state := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 { // splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for range want {
		a := next() % n
		b := next() % (n - 1)
		if b >= a {
			b++
		}
		if root[a] == root[b] {
			continue // same exact key: a known match, not a sample of non-matches
		}
		h[p.pattern(sc, uint32(a), uint32(b))]++
	}
	return fsHistogram([]map[uint64]int64{h})
}
