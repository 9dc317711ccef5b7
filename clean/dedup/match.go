package dedup

import (
	"cmp"
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

// Record is one normalized record to deduplicate.
type Record struct {
	Source string   `json:"source"` // system name ("old", "marketing")
	ID     string   `json:"id"`     // id in the source system
	Key    string   `json:"key"`    // exact canonical key (email, domain), "" if none
	Values []string `json:"values"` // normalized values in field order, "" = empty
}

// Input is what the dedup engine reads of its records: their number, each one's exact key
// and field values. Run takes a []Record; the clean phase passes its compact record store to
// RunInput instead, so the records are not copied into []string values.
type Input interface {
	Len() int
	Key(i int) string
	Value(i, f int) string // "" when record i has no field f
}

// matchRecords is a []Record as an Input.
type matchRecords []Record

func (m matchRecords) Len() int         { return len(m) }
func (m matchRecords) Key(i int) string { return m[i].Key }
func (m matchRecords) Value(i, f int) string {
	if v := m[i].Values; f < len(v) {
		return v[f]
	}
	return ""
}

// CompareSpec says how one field is compared.
type CompareSpec struct {
	Field int `json:"field"` // index into the record values (and Config.Fields)
	// Method is exact, jaro_winkler, levenshtein, token_set, numeric, date,
	// name, phone or email (see docs/dedup.md). All specs with the phone
	// method are pooled into one compared feature: each record's set of
	// numbers in those fields.
	Method string `json:"method"`
	// Weight is the field's relative importance (0: 1, the default). The
	// weights of a config are divided by their mean over the compared
	// features (a pooled phone feature takes its first spec's weight), so
	// they only shift evidence between fields, and each resulting multiplier
	// is capped at MaxWeightScale; the field's learned log-likelihood ratio
	// is multiplied by it. Weights do not change what is learned, only how
	// it is combined, and no weight can make one field overwhelm the others.
	Weight float64 `json:"weight,omitempty"`
}

// Config is the fuzzy-dedup setup of one object (the plan's dedup
// section, resolved to field indexes).
type Config struct {
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

// Defaults of Config.
const (
	DefaultAutoMerge = 0.92
	DefaultReview    = 0.80
	DefaultMaxBlock  = 1000
)

// MaxWeightScale caps the multiplier a plan weight can put on one field's
// learned evidence (see CompareSpec.Weight).
const MaxWeightScale = 2.0

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

// Result is the outcome of Run.
type Result struct {
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
	Stats     Stats         `json:"stats"`
	Model     *Model        `json:"model"` // nil when there was no candidate pair
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

// Stats counts the work of one run.
type Stats struct {
	Records          int           `json:"records"`
	Blocks           int           `json:"blocks"`            // blocks with ≥ 2 records, over all specs
	CandidatePairs   int64         `json:"candidate_pairs"`   // unique pairs sharing a block
	Comparisons      int64         `json:"comparisons"`       // candidate pairs + guard comparisons
	GuardComparisons int64         `json:"guard_comparisons"` // extra pairs compared by the chaining guard
	RandomPairs      int64         `json:"random_pairs"`      // random pairs compared to estimate U
	KnownPairs       int64         `json:"known_pairs"`       // pairs sharing the exact key compared to estimate M
	AnchorPairs      int64         `json:"anchor_pairs"`      // pairs sharing a field's value compared to measure anchors
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

// matchRandomPairs is the number of random record pairs compared to
// estimate U. Enough to see agreements as rare as a few in 10⁵ (a shared
// phone number or company) a few times.
const matchRandomPairs = 200000

// matchPlan is a validated Config.
type matchPlan struct {
	cfg   Config
	specs []BlockSpec
	// Compared features: usually one per CompareSpec; all specs with the
	// phone method form one pooled feature (the record's set of numbers).
	codes    []matchMethodCode // per feature
	methods  []string          // per feature
	fields   []int             // per feature: its (first) field
	pool     [][]int           // per feature: all its fields when pooled, else nil
	specFeat []int             // per CompareSpec: its feature
	scale    []float64         // per feature
	nvalues  int               // values a record must have

	// The compared values of all records, back to back: field f of record r
	// is arena[off[r*k+f]:off[r*k+f+1]] (k compared fields). See prepare.
	arena string
	off   []uint32
}

func matchCompile(cfg Config) (*matchPlan, error) {
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
	if len(cfg.Compare) > modelMaxFields {
		errs = append(errs, fmt.Errorf("%d compared fields; at most %d are supported", len(cfg.Compare), modelMaxFields))
	}
	phoneFeat := -1
	var weights []CompareSpec // per feature, for the scales
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
		p.nvalues = max(p.nvalues, c.Field+1)
		if code == matchCodePhone && phoneFeat >= 0 {
			// Another phone field: pooled into the first one's feature.
			p.pool[phoneFeat] = append(p.pool[phoneFeat], c.Field)
			p.specFeat = append(p.specFeat, phoneFeat)
			continue
		}
		f := len(p.fields)
		p.specFeat = append(p.specFeat, f)
		p.codes = append(p.codes, code)
		p.methods = append(p.methods, c.Method)
		p.fields = append(p.fields, c.Field)
		p.pool = append(p.pool, nil)
		weights = append(weights, c)
		if code == matchCodePhone {
			phoneFeat = f
			p.pool[f] = []int{c.Field}
		}
	}
	if phoneFeat >= 0 && len(p.pool[phoneFeat]) == 1 {
		p.pool[phoneFeat] = nil // one phone field: nothing to pool
	}
	p.scale = matchScales(weights)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("dedup config: %w", err)
	}
	return p, nil
}

// matchScales turns the plan weights into evidence multipliers: each
// weight (0 counts as 1) divided by the mean weight, capped at
// MaxWeightScale. Without weights every multiplier is 1.
func matchScales(cmp []CompareSpec) []float64 {
	out := make([]float64, len(cmp))
	var sum float64
	for i, c := range cmp {
		out[i] = 1
		if c.Weight > 0 && !math.IsInf(c.Weight, 0) {
			out[i] = c.Weight
		}
		sum += out[i]
	}
	if sum <= 0 {
		return out
	}
	mean := sum / float64(len(cmp))
	for i := range out {
		out[i] = min(out[i]/mean, MaxWeightScale)
	}
	return out
}

// fieldName names compared feature f ("phone+mobile" when pooled).
func (p *matchPlan) fieldName(f int) string {
	name := func(i int) string {
		if i < len(p.cfg.Fields) {
			return p.cfg.Fields[i]
		}
		return fmt.Sprintf("field%d", i)
	}
	if p.pool[f] == nil {
		return name(p.fields[f])
	}
	var parts []string
	for _, i := range p.pool[f] {
		parts = append(parts, name(i))
	}
	return strings.Join(parts, "+")
}

// prepare copies what the comparisons read into one compact arena: for
// each record, the compared values back to back (for token_set fields the
// canonical token string instead of the value). A comparison then touches
// two short runs of memory instead of a dozen scattered strings, which is
// most of the cost on large inputs.
func (p *matchPlan) prepare(ctx context.Context, recs Input) error {
	k := len(p.fields)
	n := recs.Len()
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
					if v := recs.Value(i, fi); v != "" {
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
	var pooled []string
	value := func(r, f int) string {
		switch {
		case canon != nil && canon[f] != nil:
			return canon[f][r]
		case p.pool[f] != nil:
			pooled = pooled[:0]
			for _, fi := range p.pool[f] {
				if v := recs.Value(r, fi); v != "" && !slices.Contains(pooled, v) {
					pooled = append(pooled, v)
				}
			}
			return strings.Join(pooled, matchPhoneSep)
		case p.codes[f] == matchCodeName:
			return matchFoldName(recs.Value(r, p.fields[f]))
		}
		return recs.Value(r, p.fields[f])
	}
	size := 0
	for r := range n {
		for f := range k {
			size += len(value(r, f))
		}
	}
	if size > math.MaxUint32 {
		return fmt.Errorf("the compared values of %d records take %d bytes; at most 4 GiB are supported", n, size)
	}
	var b strings.Builder
	b.Grow(size)
	p.off = make([]uint32, n*k+1)
	for r := range n {
		for f := range k {
			b.WriteString(value(r, f))
			p.off[r*k+f+1] = uint32(b.Len())
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
		code |= uint64(sc.level(c, x, y)) << (modelBitsPerFld * f)
	}
	return code
}

// fieldScores returns the similarity of each CompareSpec, -1 if missing
// (the specs of a pooled feature each get the feature's similarity).
func (p *matchPlan) fieldScores(sc *matchScratch, a, b uint32) []float64 {
	feat := make([]float64, len(p.fields))
	for f := range p.fields {
		va, vb := p.value(f, a), p.value(f, b)
		switch {
		case va == "" || vb == "":
			feat[f] = -1
		case p.codes[f] == matchCodeTokenSet:
			feat[f], _ = sc.tokenSetCanon(va, vb, true)
		case p.codes[f] == matchCodeName:
			feat[f] = sc.nameFolded(va, vb)
		case p.codes[f] == matchCodePhone:
			feat[f] = matchPhoneSets(va, vb)
		default:
			feat[f] = sc.similarity(p.methods[f], va, vb)
		}
	}
	out := make([]float64, len(p.specFeat))
	for i, f := range p.specFeat {
		out[i] = feat[f]
	}
	return out
}

func (p *matchPlan) progress(stage string, done, total int64) {
	if p.cfg.Progress != nil {
		p.cfg.Progress(stage, done, total)
	}
}

// Run finds the records of one object that are the same entity. Records
// sharing a non-empty Key are joined first; then records sharing a block key
// are compared field by field, scored by a Fellegi-Sunter model learned from
// the data (U from random pairs; M and the prior by EM on the candidate
// pairs, with the pairs sharing the key as known matches; anchors for fields
// that unrelated records share together), and joined when the match
// probability reaches AutoMerge, subject to the chaining guard (see
// docs/dedup.md). Pairs between Review and AutoMerge are returned for manual
// review.
//
// The result depends only on the input and its order, never on scheduling.
// Cost is near-linear for a plan whose blocks are small: about 0.5 µs per
// candidate pair on two cores plus a few µs per record. Memory beyond the
// input: 4 bytes per record per blocking spec and 4 per record in a block
// (while blocking, 8 per record and spec and 16 per keyed record of the
// specs being sorted), the compared values once more (a compact copy, 4
// bytes of offset per value), about 100 bytes per record while clustering, 2
// bytes per candidate pair (pairs are enumerated block by block, never held
// all at once) and 32 per pair scoring at least Review (see docs/dedup.md).
// Errors:
// an invalid config, record or decision pair (all problems in one error),
// or ctx's error when it is cancelled.
func Run(ctx context.Context, recs []Record, cfg Config) (*Result, error) {
	return RunWithDecisions(ctx, recs, cfg, nil, nil)
}

// RunWithDecisions is Run honouring earlier review decisions, given as
// pairs of input indexes: an accepted pair is merged (decision "accepted")
// whatever it scores; a rejected pair is never merged by fuzzy matching nor
// queued for review again, and no cluster may hold both of its records
// unless they share the exact key. When an accepted pair would join a
// rejected one, the rejection wins and the accepted pair is queued again
// with reason "conflict".
func RunWithDecisions(ctx context.Context, recs []Record, cfg Config, accepted, rejected [][2]int) (*Result, error) {
	p, err := matchCompile(cfg)
	if err != nil {
		return nil, err
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
	return dedupInput(ctx, matchRecords(recs), p, accepted, rejected, errs)
}

// RunInput is RunWithDecisions on any Input whose records hold width values each.
func RunInput(ctx context.Context, in Input, width int, cfg Config, accepted, rejected [][2]int) (*Result, error) {
	p, err := matchCompile(cfg)
	if err != nil {
		return nil, err
	}
	var errs []error
	if p.nvalues > width {
		errs = append(errs, fmt.Errorf("records have %d values, want %d", width, p.nvalues))
	}
	return dedupInput(ctx, in, p, accepted, rejected, errs)
}

// dedupInput is RunWithDecisions on any Input; errs are problems already found with the
// input, reported with those of the decision pairs.
func dedupInput(ctx context.Context, recs Input, p *matchPlan, accepted, rejected [][2]int, errs []error) (*Result, error) {
	start := time.Now()
	cfg := p.cfg
	n := recs.Len()
	if int64(n) >= math.MaxUint32 {
		return nil, fmt.Errorf("dedup: %d records; at most %d per run", n, math.MaxUint32-1)
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

	res := &Result{Stats: Stats{Records: n}}

	// 1. Exact stage: root = smallest index with the same key.
	root := make([]uint32, n)
	firstOf := make(map[string]uint32)
	for i := range n {
		root[i] = uint32(i)
		key := recs.Key(i)
		if key == "" {
			continue
		}
		if f, ok := firstOf[key]; ok {
			root[i] = f
			res.Stats.ExactLinks++
		} else {
			firstOf[key] = uint32(i)
		}
	}
	firstOf = nil

	// 2. Blocking.
	t := time.Now()
	p.progress("blocking", 0, int64(n))
	sortKey := func(a, b uint32) int {
		for _, fi := range p.fields {
			if c := strings.Compare(recs.Value(int(a), fi), recs.Value(int(b), fi)); c != 0 {
				return c
			}
		}
		return int(a) - int(b)
	}
	blk, err := blkPrepare(ctx, recs, p.specs, root, cfg.MaxBlock, cfg.Workers, sortKey)
	if err != nil {
		return nil, fmt.Errorf("dedup blocking: %w", err)
	}
	res.Oversized = blk.oversized
	res.Stats.Blocks = blk.nblocks
	res.Stats.Blocking = time.Since(t)
	p.progress("blocking", int64(n), int64(n))

	// 3. Comparison: the histogram of the candidate pairs' pattern codes,
	// the pairs enumerated block by block and never held all at once.
	t = time.Now()
	if err := p.prepare(ctx, recs); err != nil {
		return nil, fmt.Errorf("dedup comparison: %w", err)
	}
	cmpd, hist, err := p.compareAll(ctx, blk)
	if err != nil {
		return nil, fmt.Errorf("dedup comparison: %w", err)
	}
	res.Stats.CandidatePairs = cmpd.pairs
	havePairs := cmpd.pairs > 0
	var random, known []modelPattern
	if havePairs || len(accepted) > 0 {
		if random, err = p.patterns(ctx, p.randomPairs(n, root)); err != nil {
			return nil, fmt.Errorf("dedup comparison: %w", err)
		}
		if known, err = p.patterns(ctx, matchKnownPairs(root, matchKnownPairsMax)); err != nil {
			return nil, fmt.Errorf("dedup comparison: %w", err)
		}
	}
	var anchors []modelAnchorIn
	if havePairs || len(accepted) > 0 {
		if anchors, err = p.anchorSamples(ctx, root); err != nil {
			return nil, fmt.Errorf("dedup comparison: %w", err)
		}
	}
	for _, r := range random {
		res.Stats.RandomPairs += r.count
	}
	for _, r := range known {
		res.Stats.KnownPairs += r.count
	}
	for _, a := range anchors {
		for _, r := range a.hist {
			res.Stats.AnchorPairs += r.count
		}
	}
	res.Stats.Comparison = time.Since(t)

	// 4. Learning: U from the random pairs; M from the known matches and,
	// with λ, by EM on the histogram of the candidate pairs.
	t = time.Now()
	k := len(p.fields)
	mdl := modelFit(modelInput{
		hist:       hist,
		known:      known,
		anchors:    anchors,
		keyField:   p.keyFields(recs),
		u:          modelUFromRandom(random, k),
		scale:      p.scale,
		totalPairs: float64(n) * float64(n-1) / 2,
	})
	mdl.RandomPairs = int(res.Stats.RandomPairs)
	for f := range k {
		mdl.Fields = append(mdl.Fields, p.fieldName(f))
		mdl.Methods = append(mdl.Methods, p.methods[f])
	}
	for i := range mdl.Anchors {
		mdl.Anchors[i].Name = mdl.Fields[mdl.Anchors[i].Field]
	}
	post := make(map[uint64]float64, len(hist))
	for _, h := range hist {
		post[h.code] = mdl.posterior(h.code)
	}
	if havePairs || len(accepted) > 0 {
		res.Model = mdl
	}
	res.Stats.Learning = time.Since(t)

	// Only the candidate pairs scoring at least Review matter from here on.
	kept, err := p.keepPairs(ctx, blk, cmpd, post, cfg.Review)
	if err != nil {
		return nil, fmt.Errorf("dedup comparison: %w", err)
	}
	cmpd = nil

	// 5. Clustering.
	t = time.Now()
	sc := &matchScratch{}
	score := func(a, b uint32) (float64, bool) {
		if a > b {
			a, b = b, a
		}
		key := uint64(a)<<32 | uint64(b)
		if i, ok := slices.BinarySearchFunc(kept, key, func(k matchKept, key uint64) int { return cmp.Compare(k.key, key) }); ok {
			return kept[i].score, false
		}
		return mdl.posterior(p.pattern(sc, a, b)), !blk.candidate(a, b)
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
	for _, kp := range kept {
		pk, s := kp.key, kp.score
		if rej[pk] {
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
	res.Stats.Comparisons = res.Stats.CandidatePairs + out.guardComparisons
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
	p.progress("clustering", int64(n), int64(n))
	return res, nil
}

func matchPairKey(a, b int) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(b)
}

// matchCompared holds what the comparison pass keeps of each candidate
// pair: per blocking task, a small index into the task's table of distinct
// pattern codes (2 bytes a pair, 4 when a task has more than 65535 distinct
// codes), in the task's enumeration order. The pairs themselves are
// enumerated again from the blocks when they are scored.
type matchCompared struct {
	pairs int64
	tasks []matchTaskCodes
}

type matchTaskCodes struct {
	table []uint64 // distinct codes, in order of first appearance
	idx16 []uint16
	idx32 []uint32 // instead of idx16 when the table outgrows it
}

// matchKept is a candidate pair with its score.
type matchKept struct {
	key   uint64 // a<<32 | b
	score float64
}

// compareAll computes the pattern code of every candidate pair in parallel,
// task by task, and the histogram of codes.
func (p *matchPlan) compareAll(ctx context.Context, blk *blkPlan) (*matchCompared, []modelPattern, error) {
	out := &matchCompared{tasks: make([]matchTaskCodes, len(blk.tasks))}
	parts := make([]map[uint64]int64, len(blk.tasks))
	var total int64
	for _, t := range blk.tasks {
		total += t.work
	}
	var mu sync.Mutex
	var done int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.Workers)
	scratch := make(chan *matchScratch, p.cfg.Workers)
	for range p.cfg.Workers {
		scratch <- &matchScratch{}
	}
	for ti := range blk.tasks {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			sc := <-scratch
			defer func() { scratch <- sc }()
			tc := &out.tasks[ti]
			index := make(map[uint64]uint32)
			h := make(map[uint64]int64)
			blk.forPairs(ti, func(a, b uint32) {
				code := p.pattern(sc, a, b)
				h[code]++
				i, ok := index[code]
				if !ok {
					i = uint32(len(tc.table))
					index[code] = i
					tc.table = append(tc.table, code)
					if i == math.MaxUint16+1 {
						tc.idx32 = make([]uint32, len(tc.idx16), max(len(tc.idx16), 1<<16)*2)
						for j, x := range tc.idx16 {
							tc.idx32[j] = uint32(x)
						}
						tc.idx16 = nil
					}
				}
				if tc.idx32 != nil {
					tc.idx32 = append(tc.idx32, i)
				} else {
					tc.idx16 = append(tc.idx16, uint16(i))
				}
			})
			tc.idx16 = slices.Clip(tc.idx16)
			tc.idx32 = slices.Clip(tc.idx32)
			parts[ti] = h
			if p.cfg.Progress != nil {
				mu.Lock()
				done += blk.tasks[ti].work
				p.cfg.Progress("comparison", done, total)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	for _, tc := range out.tasks {
		out.pairs += int64(len(tc.idx16) + len(tc.idx32))
	}
	return out, modelHistogram(parts), nil
}

// keepPairs enumerates the candidate pairs again, scores each by its
// pattern code (recorded by compareAll) and returns those scoring at least
// review, sorted by pair. It releases the recorded codes task by task.
func (p *matchPlan) keepPairs(ctx context.Context, blk *blkPlan, cmpd *matchCompared, post map[uint64]float64, review float64) ([]matchKept, error) {
	parts := make([][]matchKept, len(blk.tasks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.Workers)
	for ti := range blk.tasks {
		tc := &cmpd.tasks[ti]
		// Tasks whose codes all score below review have nothing to keep.
		scores := make([]float64, len(tc.table))
		some := false
		for i, c := range tc.table {
			scores[i] = post[c]
			some = some || scores[i] >= review
		}
		if !some {
			*tc = matchTaskCodes{}
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			var ks []matchKept
			i := 0
			blk.forPairs(ti, func(a, b uint32) {
				var s float64
				if tc.idx32 != nil {
					s = scores[tc.idx32[i]]
				} else {
					s = scores[tc.idx16[i]]
				}
				i++
				if s >= review {
					ks = append(ks, matchKept{uint64(a)<<32 | uint64(b), s})
				}
			})
			*tc = matchTaskCodes{}
			parts[ti] = ks
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	kept := slices.Concat(parts...)
	slices.SortFunc(kept, func(x, y matchKept) int { return cmp.Compare(x.key, y.key) })
	return kept, nil
}

// randomPairs returns up to matchRandomPairs random record pairs (a fixed
// pseudo-random sequence; every pair when there are fewer), leaving out
// pairs that share the exact key: those are known matches, not a sample of
// non-matches.
func (p *matchPlan) randomPairs(n int, root []uint32) []uint64 {
	if n < 2 {
		return nil
	}
	nn := uint64(n)
	total := nn * (nn - 1) / 2
	var out []uint64
	if total <= matchRandomPairs {
		out = make([]uint64, 0, total)
		for a := range nn {
			for b := a + 1; b < nn; b++ {
				if root[a] != root[b] {
					out = append(out, a<<32|b)
				}
			}
		}
		return out
	}
	out = make([]uint64, 0, matchRandomPairs)
	state := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 { // splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for range matchRandomPairs {
		a := next() % nn
		b := next() % (nn - 1)
		if b >= a {
			b++
		}
		if root[a] == root[b] {
			continue
		}
		out = append(out, min(a, b)<<32|max(a, b))
	}
	return out
}

// matchKnownPairsMax is the most known-match pairs compared to estimate M,
// and matchKnownPerGroup the most members of one exact group used.
const (
	matchKnownPairsMax = 100000
	matchKnownPerGroup = 32
)

// matchKnownPairs returns pairs of records that share the exact key: known
// matches. From each group at most matchKnownPerGroup evenly spaced members
// are used (so one key shared by thousands of records cannot dominate), and
// of all those pairs at most limit, evenly spaced, in a fixed order.
func matchKnownPairs(root []uint32, limit int) []uint64 {
	n := len(root)
	// Group members, by root, in index order.
	cnt := make([]uint32, n)
	for i, r := range root {
		if r != uint32(i) {
			cnt[r]++
		}
	}
	var groups [][]uint32
	start := make([]int32, n)
	for i := range n {
		start[i] = -1
		if cnt[i] > 0 {
			start[i] = int32(len(groups))
			g := make([]uint32, 1, cnt[i]+1)
			g[0] = uint32(i)
			groups = append(groups, g)
		}
	}
	cnt = nil
	for i, r := range root {
		if r != uint32(i) {
			g := start[r]
			groups[g] = append(groups[g], uint32(i))
		}
	}
	var total int64
	for gi, g := range groups {
		if len(g) > matchKnownPerGroup {
			s := make([]uint32, matchKnownPerGroup)
			for i := range s {
				s[i] = g[i*len(g)/matchKnownPerGroup]
			}
			groups[gi] = s
			g = s
		}
		total += int64(len(g)) * int64(len(g)-1) / 2
	}
	want := min(total, int64(limit))
	out := make([]uint64, 0, want)
	var idx int64
	for _, g := range groups {
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				// Take pair idx when it starts a new step of total/want.
				if idx*want/total != (idx+1)*want/total {
					out = append(out, uint64(g[i])<<32|uint64(g[j]))
				}
				idx++
			}
		}
	}
	return out
}

// keyFields marks the compared fields that hold the exact key itself (the
// value equals the key on at least half the records that have a key): pairs
// sharing the key agree on such a field by construction, so they say nothing
// about how often true matches agree on it.
func (p *matchPlan) keyFields(recs Input) []bool {
	out := make([]bool, len(p.fields))
	for f, fi := range p.fields {
		var withKey, same int
		for i := range recs.Len() {
			if k := recs.Key(i); k != "" {
				withKey++
				if recs.Value(i, fi) == k {
					same++
				}
			}
		}
		out[f] = withKey > 0 && 2*same >= withKey
	}
	return out
}

// matchAnchorPairs is the number of record pairs sharing a field's value
// compared to measure the field as an anchor.
const matchAnchorPairs = 20000

// anchorSamples measures every compared field as a possible anchor (see
// Anchor): the comparison vectors of random pairs of records that share
// the field's value. Fields shared by fewer record pairs than there are
// records are skipped at once: they identify rather than give context.
func (p *matchPlan) anchorSamples(ctx context.Context, root []uint32) ([]modelAnchorIn, error) {
	var out []modelAnchorIn
	for f := range p.fields {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pairs, shared, keyShared := p.anchorPairs(f, root, matchAnchorPairs)
		if shared < int64(len(root)) || len(pairs) == 0 {
			continue
		}
		hist, err := p.patterns(ctx, pairs)
		if err != nil {
			return nil, err
		}
		out = append(out, modelAnchorIn{field: f, hist: hist, shared: shared,
			sharedKey: float64(keyShared) / float64(keyShared+len(pairs))})
	}
	return out, nil
}

// anchorPairs draws up to want random pairs of records that agree exactly
// on compared field f (records grouped by the compared value; for a pooled
// phone field by each number), in a fixed pseudo-random sequence. It
// returns the pairs that do not share the exact key, the number of record
// pairs sharing a value in all, and how many drawn pairs shared the key.
func (p *matchPlan) anchorPairs(f int, root []uint32, want int) (pairs []uint64, shared int64, keyShared int) {
	type entry struct {
		h uint64
		r uint32
	}
	n := len(root)
	var ents []entry
	var buf []byte
	var hs []uint64
	for r := range n {
		v := p.value(f, uint32(r))
		if v == "" {
			continue
		}
		if p.codes[f] != matchCodePhone {
			ents = append(ents, entry{blkHash(blkHashSeed, []byte(v)), uint32(r)})
			continue
		}
		hs = hs[:0]
		for rest := v; rest != ""; {
			var num string
			num, rest, _ = strings.Cut(rest, matchPhoneSep)
			buf, _ = matchPhoneDigits(buf[:0], num)
			if len(buf) == 0 {
				continue
			}
			if h := blkHash(blkHashSeed, buf); !slices.Contains(hs, h) {
				hs = append(hs, h)
				ents = append(ents, entry{h, uint32(r)})
			}
		}
	}
	slices.SortFunc(ents, func(a, b entry) int {
		if a.h != b.h {
			return cmp.Compare(a.h, b.h)
		}
		return cmp.Compare(a.r, b.r)
	})
	// Groups of equal values with at least two records, and the running
	// count of their pairs.
	var starts, sizes []int
	var cum []int64
	for i := 0; i < len(ents); {
		j := i + 1
		for j < len(ents) && ents[j].h == ents[i].h {
			j++
		}
		if s := int64(j - i); s >= 2 {
			shared += s * (s - 1) / 2
			starts = append(starts, i)
			sizes = append(sizes, j-i)
			cum = append(cum, shared)
		}
		i = j
	}
	if shared < int64(n) {
		return nil, shared, 0
	}
	state := uint64(0x51ed2701f3a5c4b9) ^ uint64(f+1)*0x9e3779b97f4a7c15
	next := func() uint64 { // splitmix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for range want {
		x := int64(next() % uint64(shared))
		g, _ := slices.BinarySearch(cum, x+1)
		lo, size := starts[g], uint64(sizes[g])
		i := next() % size
		j := next() % (size - 1)
		if j >= i {
			j++
		}
		a, b := ents[lo+int(i)].r, ents[lo+int(j)].r
		if a == b {
			continue
		}
		if root[a] == root[b] {
			keyShared++
			continue
		}
		pairs = append(pairs, uint64(min(a, b))<<32|uint64(max(a, b)))
	}
	return pairs, shared, keyShared
}

// patterns compares the given pairs in parallel and returns the histogram
// of their comparison vectors.
func (p *matchPlan) patterns(ctx context.Context, pairs []uint64) ([]modelPattern, error) {
	const chunk = 1 << 13
	nchunks := (len(pairs) + chunk - 1) / chunk
	parts := make([]map[uint64]int64, nchunks)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.Workers)
	for c := range nchunks {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			sc := &matchScratch{}
			h := make(map[uint64]int64)
			for _, pk := range pairs[c*chunk : min(len(pairs), (c+1)*chunk)] {
				h[p.pattern(sc, uint32(pk>>32), uint32(pk))]++
			}
			parts[c] = h
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return modelHistogram(parts), nil
}
