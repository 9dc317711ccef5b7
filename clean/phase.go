package clean

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// Options are the clean phase's surroundings.
type Options struct {
	DB       *state.DB   // the control database (staging is written there)
	RunID    int64       // the run this clean is recorded as
	Env      crm.Env     // how connectors reach the systems
	Workers  int         // normalization and comparison goroutines (default GOMAXPROCS)
	Progress func(Event) // optional; called from one goroutine at a time
	Now      func() time.Time
}

// Event reports progress: records done out of total (0 when unknown) in a stage of an object.
type Event struct {
	Object string
	Source string
	Stage  string // read, dedup, write
	Done   int64
	Total  int64
}

// record is one source record after normalization.
type record struct {
	src     int // index into the plan's systems
	id      string
	line    int64
	updated time.Time
	vals    []string
	match   []string // vals with invalid values blanked, for matching; nil when none was invalid
	key     string
}

// objectRun is what one object's clean produced.
type objectRun struct {
	obj     *plans.Object
	recs    []record
	res     *DedupResult
	golden  []state.GoldenRow
	members []state.MemberRow
	review  []state.ReviewRow
	// clusterOf maps a source record to its cluster's size, for the pipeline overstatement.
	clusterSize map[state.SourceRef]int
}

// Run is the clean phase: it reads every source system of the plan, normalizes every field by its
// type, resolves canonical keys, finds exact and fuzzy duplicates, merges clusters into golden
// records by the plan's survivorship rules and writes staging (golden records, cluster
// membership, the review queue, rejects) to the control database. Records that cannot be read or
// lack a required field are rejected with their line and reason; the run goes on. Memory holds one
// object's normalized records at a time (about 100 bytes plus the values per record).
func Run(ctx context.Context, p *plans.Plan, opts Options) (*Summary, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	start := opts.Now()
	sum := newSummary(p, opts.RunID)
	norm := NewNormalizer(NormalizerOptions{Region: p.DefaultRegion, Location: p.Location, FreeMailDomains: p.Clean.FreeMailDomains})
	var rejects []state.RejectRow
	var rejMu sync.Mutex
	reject := func(r state.RejectRow) {
		r.Raw, r.Reason, r.SourceID = noNUL(r.Raw), noNUL(r.Reason), noNUL(r.SourceID)
		rejMu.Lock()
		rejects = append(rejects, r)
		rejMu.Unlock()
	}
	if opts.Progress != nil { // the staging writer reports too: one caller at a time
		var mu sync.Mutex
		progress := opts.Progress
		opts.Progress = func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			progress(e)
		}
	}
	// Staging of one object is written while the next object is read and deduplicated.
	w := newStageWriter(ctx, p.Name, opts)
	defer w.close()
	done := map[string]*objectRun{}
	for _, obj := range dependencyOrder(p) {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err := w.err(); err != nil {
			return sum, err
		}
		osum := sum.object(obj.Name)
		t0 := time.Now()
		recs, err := readObject(ctx, p, obj, norm, opts, osum, sum, reject)
		if err != nil {
			return sum, err
		}
		sum.Timing.Read += time.Since(t0).Seconds()
		or, err := dedupObject(ctx, p, obj, recs, opts, osum, sum)
		if err != nil {
			return sum, err
		}
		if pl, ok := pipelineOverstatement(p, obj, or, done); ok {
			sum.Pipeline = append(sum.Pipeline, pl)
		}
		w.write(obj.Name, or.golden, or.members, or.review)
		// Free the object's records; only the duplicated records are kept, for references.
		or.recs, or.members, or.golden, or.review, or.res = nil, nil, nil, nil, nil
		done[obj.Name] = or
	}
	writeSecs, err := w.close()
	sum.Timing.Write += writeSecs
	if err != nil {
		return sum, err
	}
	t0 := time.Now()
	if opts.DB != nil {
		if err := opts.DB.WriteRejects(ctx, p.Name, opts.RunID, "clean", rejects); err != nil {
			return sum, err
		}
	}
	sum.Timing.Write += time.Since(t0).Seconds()
	sum.finish(p, opts.Now().Sub(start))
	return sum, nil
}

// stageWriter writes objects' staging in the background, one object at a time, in order.
type stageWriter struct {
	jobs   chan stageJob
	done   chan struct{}
	mu     sync.Mutex
	failed error
	secs   float64
	closed bool
}

type stageJob struct {
	object  string
	golden  []state.GoldenRow
	members []state.MemberRow
	review  []state.ReviewRow
}

func newStageWriter(ctx context.Context, plan string, opts Options) *stageWriter {
	w := &stageWriter{jobs: make(chan stageJob, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for j := range w.jobs {
			if w.err() != nil || opts.DB == nil {
				continue
			}
			t0 := time.Now()
			err := opts.DB.ReplaceStaging(ctx, plan, j.object, opts.RunID, j.golden, j.members)
			if err == nil {
				err = opts.DB.UpsertReview(ctx, plan, opts.RunID, j.review)
			}
			w.mu.Lock()
			w.secs += time.Since(t0).Seconds()
			if err != nil && w.failed == nil {
				w.failed = err
			}
			w.mu.Unlock()
			if err == nil && opts.Progress != nil {
				opts.Progress(Event{Object: j.object, Stage: "write", Done: int64(len(j.golden)), Total: int64(len(j.golden))})
			}
		}
	}()
	return w
}

func (w *stageWriter) write(object string, golden []state.GoldenRow, members []state.MemberRow, review []state.ReviewRow) {
	w.jobs <- stageJob{object: object, golden: golden, members: members, review: review}
}

func (w *stageWriter) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// close waits for the writes queued so far; it returns the seconds spent writing and the first error.
func (w *stageWriter) close() (float64, error) {
	if !w.closed {
		w.closed = true
		close(w.jobs)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.secs, w.failed
}

// dependencyOrder puts referenced objects before the objects that reference them (plan order
// otherwise), so references can be resolved to clusters.
func dependencyOrder(p *plans.Plan) []*plans.Object {
	var out []*plans.Object
	seen := map[string]int{} // 1 visiting, 2 done
	var visit func(o *plans.Object)
	visit = func(o *plans.Object) {
		if seen[o.Name] != 0 {
			return
		}
		seen[o.Name] = 1
		for _, f := range o.Fields {
			if f.Type == plans.TypeRef && f.To != o.Name {
				if to := p.Object(f.To); to != nil {
					visit(to)
				}
			}
		}
		seen[o.Name] = 2
		out = append(out, o)
	}
	for _, o := range p.Objects {
		visit(o)
	}
	return out
}

// readObject reads and normalizes an object from every source system that maps it.
func readObject(ctx context.Context, p *plans.Plan, obj *plans.Object, norm *Normalizer, opts Options, osum *ObjectSummary, sum *Summary, reject func(state.RejectRow)) ([]record, error) {
	var recs []record
	for si, sys := range p.Systems {
		if sys.Name == plans.SystemNew || obj.Mapping(sys.Name) == nil {
			continue
		}
		src, err := crm.Open(ctx, sys, opts.Env)
		if err != nil {
			return nil, fmt.Errorf("clean %s: %w", obj.Name, err)
		}
		got, err := readSource(ctx, p, obj, sys, si, src, norm, opts, osum, sum, reject)
		src.Close()
		if err != nil {
			return nil, err
		}
		recs = append(recs, got...)
	}
	return recs, nil
}

type normBatch struct {
	seq  int
	in   []crm.Record
	out  []record
	stat typeCounts
}

func readSource(ctx context.Context, p *plans.Plan, obj *plans.Object, sys *plans.System, si int, src crm.Source, norm *Normalizer, opts Options, osum *ObjectSummary, sum *Summary, reject func(state.RejectRow)) ([]record, error) {
	var rejected int64
	var rmu sync.Mutex
	r, err := src.Reader(ctx, obj, func(rj crm.Reject) {
		rmu.Lock()
		rejected++
		rmu.Unlock()
		reject(state.RejectRow{Object: obj.Name, System: sys.Name, Line: rj.Line, SourceID: rj.ID, Reason: rj.Reason, Raw: rj.Raw})
	})
	if err != nil {
		return nil, fmt.Errorf("clean %s: %w", obj.Name, err)
	}
	defer r.Close()

	countryIdx := -1
	for i, f := range obj.Fields {
		if f.Name == "country" {
			countryIdx = i
		}
	}
	keyIdx := obj.FieldIndex(obj.Key)

	g, gctx := errgroup.WithContext(ctx)
	in := make(chan *normBatch, opts.Workers)
	out := make(chan *normBatch, opts.Workers)
	var sourceDur, normDur time.Duration
	var normMu sync.Mutex
	g.Go(func() error { // reader
		defer close(in)
		for seq := 0; ; seq++ {
			t0 := time.Now()
			b, err := r.Next(gctx)
			sourceDur += time.Since(t0)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("clean %s: read %s: %w", obj.Name, sys.Name, err)
			}
			select {
			case in <- &normBatch{seq: seq, in: b}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for b := range in {
				t0 := time.Now()
				b.out = make([]record, 0, len(b.in))
				for _, cr := range b.in {
					rec, why := normalizeRecord(p, obj, norm, cr, si, countryIdx, keyIdx, &b.stat)
					if why != "" {
						rmu.Lock()
						rejected++
						rmu.Unlock()
						reject(state.RejectRow{Object: obj.Name, System: sys.Name, Line: cr.Line, SourceID: cr.ID, Reason: why, Raw: rawPreview(cr.Values)})
						continue
					}
					b.out = append(b.out, rec)
				}
				b.in = nil
				normMu.Lock()
				normDur += time.Since(t0)
				normMu.Unlock()
				select {
				case out <- b:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() { wg.Wait(); close(out) }()

	var recs []record
	pending := map[int]*normBatch{}
	next := 0
	var read int64
	seen := map[string]int64{} // duplicate ids within one source
	for b := range out {
		pending[b.seq] = b
		for pb, ok := pending[next]; ok; pb, ok = pending[next] {
			delete(pending, next)
			next++
			sum.Types.add(&pb.stat)
			for _, rec := range pb.out {
				if line, dup := seen[rec.id]; dup {
					rmu.Lock()
					rejected++
					rmu.Unlock()
					reject(state.RejectRow{Object: obj.Name, System: sys.Name, Line: rec.line, SourceID: rec.id,
						Reason: fmt.Sprintf("id %q appears twice in %s (first at line %d); ids must be unique", rec.id, sys.Name, line), Raw: rawPreview(rec.vals)})
					continue
				}
				seen[rec.id] = rec.line
				recs = append(recs, rec)
			}
			read += int64(len(pb.out))
			if opts.Progress != nil {
				opts.Progress(Event{Object: obj.Name, Source: sys.Name, Stage: "read", Done: read})
			}
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sum.Timing.Source += sourceDur.Seconds()
	sum.Timing.Normalize += normDur.Seconds()
	osum.addRead(sys.Name, int64(len(recs))+rejected, rejected)
	return recs, nil
}

// normalizeRecord turns a source record into canonical values; a non-empty reason rejects it.
func normalizeRecord(p *plans.Plan, obj *plans.Object, norm *Normalizer, cr crm.Record, si, countryIdx, keyIdx int, st *typeCounts) (record, string) {
	rec := record{src: si, id: noNUL(cr.ID), line: cr.Line, vals: make([]string, len(obj.Fields))}
	region := ""
	if countryIdx >= 0 {
		region = countryCode(cr.Values[countryIdx])
	}
	for i, f := range obj.Fields {
		spec := FieldSpec{Region: region, Currency: f.Currency, Values: f.Values}
		v, status := norm.Value(f.Type, cr.Values[i], spec)
		if strings.IndexByte(v, 0) >= 0 {
			v = strings.ReplaceAll(v, "\x00", "") // PostgreSQL text cannot hold NUL
		}
		st.count(f.Type, status)
		rec.vals[i] = v
		if status == Invalid && v != "" {
			// An invalid value ("n/a", "call me") is kept in the record but must not make two
			// records look alike.
			if rec.match == nil {
				rec.match = make([]string, len(obj.Fields))
				copy(rec.match, rec.vals[:i])
			}
		} else if rec.match != nil {
			rec.match[i] = v
		}
		if f.Required && v == "" {
			return rec, fmt.Sprintf("required field %s is empty", f.Name)
		}
		if i == keyIdx && status != Invalid && v != "" {
			if f.Type == plans.TypeDomain && norm.IsFreeMail(v) {
				continue // a free-mail domain never identifies a company
			}
			rec.key = v
		}
	}
	if cr.UpdatedAt != "" {
		if v, status := norm.DateTime(cr.UpdatedAt); status != Invalid && v != "" {
			rec.updated, _ = time.Parse(time.RFC3339, v)
		}
	}
	return rec, ""
}

// dedupObject finds duplicates, merges clusters and prepares the staging rows.
func dedupObject(ctx context.Context, p *plans.Plan, obj *plans.Object, recs []record, opts Options, osum *ObjectSummary, sum *Summary) (*objectRun, error) {
	t0 := time.Now()
	mr := make([]MatchRecord, len(recs))
	index := make(map[state.SourceRef]int, len(recs))
	for i, r := range recs {
		src := p.Systems[r.src].Name
		vals := r.vals
		if r.match != nil {
			vals = r.match
		}
		mr[i] = MatchRecord{Source: src, ID: r.id, Key: r.key, Values: vals}
		index[state.SourceRef{Source: src, ID: r.id}] = i
	}
	cfg := DedupConfig{Workers: opts.Workers}
	if opts.Progress != nil {
		cfg.Progress = func(stage string, done, total int64) {
			opts.Progress(Event{Object: obj.Name, Stage: stage, Done: done, Total: total})
		}
	}
	for _, f := range obj.Fields {
		cfg.Fields = append(cfg.Fields, f.Name)
	}
	if d := obj.Dedup; d != nil {
		for _, b := range d.Block {
			cfg.Block = append(cfg.Block, b.Raw)
		}
		for _, c := range d.Compare {
			cfg.Compare = append(cfg.Compare, CompareSpec{Field: obj.FieldIndex(c.Field), Method: c.Method, Weight: c.Weight})
		}
		cfg.AutoMerge, cfg.Review, cfg.MaxBlock = d.AutoMerge, d.Review, d.MaxBlock
	}
	var accepted, rejected [][2]int
	var decided []state.ReviewRow
	if opts.DB != nil {
		var err error
		if decided, err = opts.DB.ReviewDecided(ctx, p.Name, obj.Name); err != nil {
			return nil, err
		}
	}
	for _, d := range decided {
		a, okA := index[state.SourceRef{Source: d.ASource, ID: d.AID}]
		b, okB := index[state.SourceRef{Source: d.BSource, ID: d.BID}]
		if !okA || !okB {
			continue
		}
		if d.Status == state.ReviewAccepted {
			accepted = append(accepted, [2]int{a, b})
		} else {
			rejected = append(rejected, [2]int{a, b})
		}
	}
	res, err := DedupWithDecisions(ctx, mr, cfg, accepted, rejected)
	if err != nil {
		return nil, fmt.Errorf("clean %s: find duplicates: %w", obj.Name, err)
	}
	sum.Timing.Dedup += time.Since(t0).Seconds()
	sum.Timing.Blocking += res.Stats.Blocking.Seconds()
	sum.Timing.Learning += res.Stats.Learning.Seconds()
	sum.Timing.Comparison += res.Stats.Comparison.Seconds()
	sum.Timing.Clustering += res.Stats.Clustering.Seconds()
	if opts.Progress != nil {
		opts.Progress(Event{Object: obj.Name, Stage: "dedup", Done: int64(len(recs)), Total: int64(len(recs))})
	}

	t0 = time.Now()
	or := &objectRun{obj: obj, recs: recs, res: res, clusterSize: make(map[state.SourceRef]int, len(recs))}
	var previous map[state.SourceRef]string
	if opts.DB != nil {
		if previous, err = opts.DB.PreviousGolden(ctx, p.Name, obj.Name); err != nil {
			return nil, err
		}
	}
	ids := assignGoldenIDs(obj.Name, res.Clusters, mr, p, previous)
	or.golden = make([]state.GoldenRow, 0, len(res.Clusters))
	or.members = make([]state.MemberRow, 0, len(recs))
	for ci, cl := range res.Clusters {
		members := make([]MergeMember, len(cl))
		for k, i := range cl {
			r := recs[i]
			members[k] = MergeMember{Source: p.Systems[r.src].Name, SourceIdx: r.src, ID: r.id, Updated: r.updated, Vals: r.vals}
			if len(cl) > 1 {
				or.clusterSize[state.SourceRef{Source: members[k].Source, ID: r.id}] = len(cl)
			}
		}
		m := Merge(obj.Fields, members)
		key := ""
		for _, i := range cl {
			if recs[i].key != "" && (key == "" || recs[i].key < key) {
				key = recs[i].key
			}
		}
		if len(m.Conflicts) > 0 {
			osum.Conflicts += int64(len(m.Conflicts))
		}
		g := state.GoldenRow{GoldenID: ids[ci], Key: key, Vals: m.Vals, Provenance: m.Provenance, Members: len(cl), Digest: digest(m.Vals)}
		if !m.Updated.IsZero() {
			u := m.Updated
			g.UpdatedAt = &u
		}
		or.golden = append(or.golden, g)
		for _, i := range cl {
			r := recs[i]
			mrow := state.MemberRow{Source: p.Systems[r.src].Name, SourceID: r.id, GoldenID: ids[ci], Decision: string(res.Decision[i]),
				Score: res.Score[i], Line: r.line}
			if len(cl) > 1 {
				mrow.Vals = r.vals
			}
			if !r.updated.IsZero() {
				u := r.updated
				mrow.UpdatedAt = &u
			}
			or.members = append(or.members, mrow)
		}
	}
	for _, rp := range res.Review {
		a, b := recs[rp.A], recs[rp.B]
		ra := state.SourceRef{Source: p.Systems[a.src].Name, ID: a.id}
		rb := state.SourceRef{Source: p.Systems[b.src].Name, ID: b.id}
		if rb.Source < ra.Source || (rb.Source == ra.Source && rb.ID < ra.ID) {
			ra, rb = rb, ra
		}
		or.review = append(or.review, state.ReviewRow{Object: obj.Name, ASource: ra.Source, AID: ra.ID, BSource: rb.Source, BID: rb.ID,
			Score: rp.Score, FieldScores: rp.FieldScores, Reason: rp.Reason})
	}
	sum.Timing.Merge += time.Since(t0).Seconds()
	osum.addDedup(res, len(or.golden))
	return or, nil
}

// assignGoldenIDs keeps golden ids stable across runs: a cluster takes the id most of its members
// had last time (each old id goes to one cluster only, the first in order); a new cluster gets an
// id derived from its first member, so re-running on the same data gives the same ids.
func assignGoldenIDs(object string, clusters [][]int, recs []MatchRecord, p *plans.Plan, previous map[state.SourceRef]string) []string {
	ids := make([]string, len(clusters))
	taken := map[string]bool{}
	old := make(map[string]bool, len(previous))
	for _, g := range previous {
		old[g] = true
	}
	for ci, cl := range clusters {
		votes := map[string]int{}
		for _, i := range cl {
			if g, ok := previous[state.SourceRef{Source: recs[i].Source, ID: recs[i].ID}]; ok {
				votes[g]++
			}
		}
		best, n := "", 0
		for g, v := range votes {
			if !taken[g] && (v > n || (v == n && g < best)) {
				best, n = g, v
			}
		}
		if best == "" {
			first := recs[cl[0]]
			for _, i := range cl[1:] {
				if r := recs[i]; r.Source < first.Source || (r.Source == first.Source && r.ID < first.ID) {
					first = r
				}
			}
			sum := sha256.Sum256([]byte(object + "\x00" + first.Source + "\x00" + first.ID))
			best = object + "-" + hex.EncodeToString(sum[:8])
			for k := 2; taken[best] || (old[best] && votes[best] == 0); k++ {
				best = fmt.Sprintf("%s-%s-%d", object, hex.EncodeToString(sum[:8]), k)
			}
		}
		taken[best] = true
		ids[ci] = best
	}
	return ids
}

func digest(vals []string) string {
	h := sha256.New()
	for _, v := range vals {
		h.Write([]byte(v))
		h.Write([]byte{0x1f})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func noNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

func rawPreview(vals []string) string {
	s := strings.Join(vals, " | ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// countryCode turns a country field into an ISO 3166 alpha-2 region for phone parsing.
func countryCode(v string) string {
	v = strings.TrimSpace(v)
	if len(v) == 2 {
		return strings.ToUpper(v)
	}
	return countryNames[strings.ToLower(v)]
}

var countryNames = map[string]string{
	"sweden": "SE", "sverige": "SE", "france": "FR", "germany": "DE", "deutschland": "DE",
	"united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
	"united states": "US", "usa": "US", "united states of america": "US",
	"norway": "NO", "norge": "NO", "denmark": "DK", "danmark": "DK", "finland": "FI", "suomi": "FI",
	"spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL", "nederland": "NL",
	"belgium": "BE", "switzerland": "CH", "austria": "AT", "österreich": "AT", "ireland": "IE",
	"portugal": "PT", "poland": "PL", "canada": "CA", "australia": "AU",
}

// pipelineOverstatement compares the money of objects with a money field before and after dedup,
// and how much of it hangs on duplicated parents (companies or contacts merged from several
// records).
func pipelineOverstatement(p *plans.Plan, obj *plans.Object, or *objectRun, done map[string]*objectRun) (Pipeline, bool) {
	{
		mi := -1
		for i, f := range obj.Fields {
			if f.Type == plans.TypeMoney {
				mi = i
				break
			}
		}
		if mi < 0 {
			return Pipeline{}, false
		}
		pl := Pipeline{Object: obj.Name, Field: obj.Fields[mi].Name}
		totals := map[string]*big.Rat{}
		add := func(cur, amount string, into func(string) *big.Rat) {
			if r, ok := new(big.Rat).SetString(amount); ok {
				into(cur).Add(into(cur), r)
			}
		}
		src := func(c string) *big.Rat {
			if totals["s"+c] == nil {
				totals["s"+c] = new(big.Rat)
			}
			return totals["s"+c]
		}
		gold := func(c string) *big.Rat {
			if totals["g"+c] == nil {
				totals["g"+c] = new(big.Rat)
			}
			return totals["g"+c]
		}
		curCount := map[string]int{}
		for _, r := range or.recs {
			if v := r.vals[mi]; v != "" {
				add(currencyOf(v), amountOf(v), src)
				curCount[currencyOf(v)]++
			}
		}
		for _, g := range or.golden {
			if v := g.Vals[mi]; v != "" {
				add(currencyOf(v), amountOf(v), gold)
			}
		}
		// The currency with most records is reported.
		cur, n := "", -1
		for c, k := range curCount {
			if k > n || (k == n && c < cur) {
				cur, n = c, k
			}
		}
		if n <= 0 {
			return Pipeline{}, false
		}
		pl.Currency = cur
		s, g := src(cur), gold(cur)
		pl.SourceTotal, _ = s.Float64()
		pl.GoldenTotal, _ = g.Float64()
		pl.Overstated = pl.SourceTotal - pl.GoldenTotal
		if pl.GoldenTotal != 0 {
			pl.Percent = 100 * pl.Overstated / pl.GoldenTotal
		}
		// Records of this object whose parent (a ref) is a duplicated record.
		for fi, f := range obj.Fields {
			if f.Type != plans.TypeRef {
				continue
			}
			parent := done[f.To]
			if parent == nil {
				continue
			}
			for _, r := range or.recs {
				ref := r.vals[fi]
				if ref == "" {
					continue
				}
				if parent.clusterSize[state.SourceRef{Source: p.Systems[r.src].Name, ID: ref}] > 1 {
					pl.OnDuplicateParents++
				}
			}
		}
		return pl, true
	}
}

// ErrThreshold is wrapped when a clean crosses a plan threshold (exit code 3).
var ErrThreshold = errors.New("clean crossed a plan threshold")
