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
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/crmigrate/crmigrate/clean/dedup"
	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pipeline"
	"github.com/crmigrate/crmigrate/merge"
	"github.com/crmigrate/crmigrate/normalize"
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

// objectRun is what one object's clean produced: its records, clusters and golden ids, from
// which the staging rows are built while they are written (see stageRows).
type objectRun struct {
	obj    *plans.Object
	st     *recStore
	res    *dedup.Result
	ids    []string // golden id per cluster
	review []state.ReviewRow
	osum   *ObjectSummary
	valid  merge.Validator // survivorship prefers values normalization found valid
	// dup holds the records in clusters of more than one, kept after the object is written for
	// the pipeline's count of records whose parent is a duplicate.
	dup refSet
}

// Run is the clean phase: it reads every source system of the plan, normalizes every field by its
// type, resolves canonical keys, finds exact and fuzzy duplicates, merges clusters into golden
// records by the plan's survivorship rules and writes staging (golden records, cluster
// membership, the review queue, rejects) to the control database. Records that cannot be read or
// lack a required field are rejected with their line and reason; the run goes on. Memory holds the
// normalized records of the object being cleaned and of the one being written (about 80 bytes
// a record plus its values, packed), and the dedup engine's structures while it runs.
func Run(ctx context.Context, p *plans.Plan, opts Options) (*Summary, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	start := opts.Now()
	sum := newSummary(p, opts.RunID)
	norm := normalize.New(normalize.OptionsFromPlan(p))
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
	// Staging of one object is written while the next object is read and deduplicated, into a
	// new generation that replaces the previous clean's staging at the end, all objects at once.
	w, err := newStageWriter(ctx, p.Name, opts)
	if err != nil {
		return sum, err
	}
	defer w.close()
	done := map[string]*objectRun{}
	for _, obj := range p.DependencyOrder() {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err := w.err(); err != nil {
			return sum, err
		}
		osum := sum.object(obj.Name)
		t0 := time.Now()
		st, err := readObject(ctx, p, obj, norm, opts, osum, sum, reject)
		if err != nil {
			return sum, err
		}
		sum.Timing.Read += time.Since(t0).Seconds()
		or, err := dedupObject(ctx, p, obj, st, opts, osum, sum)
		if err != nil {
			return sum, err
		}
		or.valid = merge.ValidatorFor(norm, obj.Fields)
		if pl, ok := pipelineOverstatement(p, obj, or, done); ok {
			sum.Pipeline = append(sum.Pipeline, pl)
		}
		w.write(p, or)
		// Only the writer holds the object's records now; the set of duplicated records is
		// kept, for references.
		done[obj.Name] = &objectRun{obj: obj, dup: or.dup}
	}
	writeSecs, err := w.wait()
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
	// Every object is written: the new generation replaces the previous one.
	if err := w.commit(ctx); err != nil {
		return sum, err
	}
	sum.Timing.Write += time.Since(t0).Seconds()
	sum.finish(p, opts.Now().Sub(start))
	return sum, nil
}

// stageWriter writes objects' staging in the background, one object at a time, in order, into a
// new generation of the plan's staging.
type stageWriter struct {
	jobs   chan stageJob
	done   chan struct{}
	mu     sync.Mutex
	failed error
	secs   float64
	closed bool
	gen    *state.NewGeneration // nil without a control database
}

type stageJob struct {
	p  *plans.Plan
	or *objectRun
}

// newStageWriter starts the writer. The queue holds one object besides the one being written:
// the records of at most three objects are in memory at once (being written, queued, being
// cleaned), and in practice the large ones are not adjacent.
func newStageWriter(ctx context.Context, plan string, opts Options) (*stageWriter, error) {
	w := &stageWriter{jobs: make(chan stageJob, 1), done: make(chan struct{})}
	if opts.DB != nil {
		gen, err := opts.DB.BeginGeneration(ctx, plan, opts.RunID)
		if err != nil {
			return nil, err
		}
		w.gen = gen
	}
	go func() {
		defer close(w.done)
		for j := range w.jobs {
			if w.err() != nil {
				continue
			}
			t0 := time.Now()
			or := j.or
			rows := stageRows(j.p, or)
			var err error
			if w.gen != nil {
				err = w.gen.Write(ctx, or.obj.Name, rows)
				if err == nil {
					err = opts.DB.UpsertReview(ctx, plan, opts.RunID, or.review)
				}
			} else {
				err = drainRows(rows) // the merge counts conflicts
			}
			w.mu.Lock()
			w.secs += time.Since(t0).Seconds()
			if err != nil && w.failed == nil {
				w.failed = err
			}
			w.mu.Unlock()
			if err == nil && opts.Progress != nil {
				n := int64(len(or.res.Clusters))
				opts.Progress(Event{Object: or.obj.Name, Stage: "write", Done: n, Total: n})
			}
		}
	}()
	return w, nil
}

// write queues an object's staging; the writer owns or from now on.
func (w *stageWriter) write(p *plans.Plan, or *objectRun) {
	w.jobs <- stageJob{p: p, or: or}
}

func (w *stageWriter) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// wait waits for the writes queued so far; it returns the seconds spent writing and the first error.
func (w *stageWriter) wait() (float64, error) {
	if !w.closed {
		w.closed = true
		close(w.jobs)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.secs, w.failed
}

// commit swaps the written generation in for the previous one.
func (w *stageWriter) commit(ctx context.Context) error {
	if _, err := w.wait(); err != nil {
		return err
	}
	if w.gen == nil {
		return nil
	}
	return w.gen.Commit(ctx)
}

// close waits for the writer and abandons the generation if it was not committed: the previous
// staging stays the plan's.
func (w *stageWriter) close() {
	w.wait()
	if w.gen != nil {
		w.gen.Abort()
	}
}

// readObject reads and normalizes an object from every source system that maps it.
func readObject(ctx context.Context, p *plans.Plan, obj *plans.Object, norm *normalize.Normalizer, opts Options, osum *ObjectSummary, sum *Summary, reject func(state.RejectRow)) (*recStore, error) {
	st := newRecStore(len(obj.Fields), -1)
	if obj.Key != "" {
		st.keyIdx = obj.FieldIndex(obj.Key)
	}
	for si, sys := range p.Systems {
		if sys.Name == plans.SystemNew || obj.Mapping(sys.Name) == nil {
			continue
		}
		src, err := crm.Open(ctx, sys, opts.Env)
		if err != nil {
			return nil, fmt.Errorf("clean %s: %w", obj.Name, err)
		}
		err = readSource(ctx, obj, sys, si, src, st, norm, opts, osum, sum, reject)
		src.Close()
		if err != nil {
			return nil, err
		}
	}
	st.recs = slices.Clip(st.recs)
	return st, nil
}

// normBatch is a batch of source records normalized by a worker.
type normBatch struct {
	out   []record
	match map[int]string // index in out → packed values to match on, for records with an invalid value
	stat  normalize.Counts
}

// readSource reads a source's records of obj, normalizes them in opts.Workers goroutines and
// stores them in st in the source's order.
func readSource(ctx context.Context, obj *plans.Object, sys *plans.System, si int, src crm.Source, st *recStore, norm *normalize.Normalizer, opts Options, osum *ObjectSummary, sum *Summary, reject func(state.RejectRow)) error {
	var rejected int64
	var rmu sync.Mutex
	r, err := src.Reader(ctx, obj, func(rj crm.Reject) {
		rmu.Lock()
		rejected++
		rmu.Unlock()
		reject(state.RejectRow{Object: obj.Name, System: sys.Name, Line: rj.Line, SourceID: rj.ID, Reason: rj.Reason, Raw: rj.Raw})
	})
	if err != nil {
		return fmt.Errorf("clean %s: %w", obj.Name, err)
	}
	defer r.Close()

	layout := normalize.LayoutOf(obj)
	scratch := make([]normScratch, max(opts.Workers, 1))
	var sourceDur, normDur time.Duration
	var normMu sync.Mutex
	var read, kept int64
	var vals []string
	err = pipeline.Ordered(ctx, pipeline.Config{Workers: opts.Workers},
		func(ctx context.Context, emit func([]crm.Record) error) error { // reader
			for {
				t0 := time.Now()
				b, err := r.Next(ctx)
				sourceDur += time.Since(t0)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return fmt.Errorf("clean %s: read %s: %w", obj.Name, sys.Name, err)
				}
				if err := emit(b); err != nil {
					return err
				}
			}
		},
		func(_ context.Context, w int, in []crm.Record) (*normBatch, error) { // normalize
			t0 := time.Now()
			b := &normBatch{out: make([]record, 0, len(in))}
			for _, cr := range in {
				rec, match, why := normalizeRecord(obj, layout, norm, cr, si, &b.stat, &scratch[w])
				if why != "" {
					rmu.Lock()
					rejected++
					rmu.Unlock()
					reject(state.RejectRow{Object: obj.Name, System: sys.Name, Line: cr.Line, SourceID: cr.ID, Reason: why, Raw: rawPreview(cr.Values)})
					continue
				}
				if match != "" {
					if b.match == nil {
						b.match = map[int]string{}
					}
					b.match[len(b.out)] = match
				}
				b.out = append(b.out, rec)
			}
			normMu.Lock()
			normDur += time.Since(t0)
			normMu.Unlock()
			return b, nil
		},
		func(_ context.Context, b *normBatch) error { // store, in the source's order
			sum.Types.add(&b.stat)
			for ri, rec := range b.out {
				id := packedValue(rec.data, st.k, st.k+1)
				if first, dup := st.find(si, id); dup { // duplicate ids within one source
					rmu.Lock()
					rejected++
					rmu.Unlock()
					vals = unpackValues(rec.data, st.k, vals)
					reject(state.RejectRow{Object: obj.Name, System: sys.Name, Line: rec.line, SourceID: id,
						Reason: fmt.Sprintf("id %q appears twice in %s (first at line %d); ids must be unique", id, sys.Name, st.recs[first].line), Raw: rawPreview(vals)})
					continue
				}
				st.add(rec, b.match[ri])
				kept++
			}
			read += int64(len(b.out))
			if opts.Progress != nil {
				opts.Progress(Event{Object: obj.Name, Source: sys.Name, Stage: "read", Done: read})
			}
			return nil
		})
	if err != nil {
		return err
	}
	sum.Timing.Source += sourceDur.Seconds()
	sum.Timing.Normalize += normDur.Seconds()
	osum.addRead(sys.Name, kept+rejected, rejected)
	return nil
}

// normScratch is a normalization worker's reusable buffers.
type normScratch struct {
	norm normalize.Scratch
	pack []string // values and id, to pack
	_    [64]byte // the workers' scratches sit in one slice: no two share a cache line
}

// normalizeRecord turns a source record into a packed record (normalize.Normalizer.Values) and,
// when some value is invalid, the packed values to match on; a non-empty reason rejects it.
func normalizeRecord(obj *plans.Object, layout normalize.Layout, norm *normalize.Normalizer, cr crm.Record, si int, st *normalize.Counts, sc *normScratch) (rec record, packedMatch, reject string) {
	rec = record{src: int16(si), line: cr.Line}
	v := norm.Values(obj, layout, cr, st, &sc.norm)
	if v.Reject != "" {
		return rec, "", v.Reject
	}
	sc.pack = append(append(sc.pack[:0], v.Vals...), noNUL(cr.ID))
	rec.data = packValues(sc.pack)
	if v.Match != nil {
		sc.pack = append(append(sc.pack[:0], v.Match...), "")
		packedMatch = packValues(sc.pack)
	}
	if v.Key {
		rec.flags |= recKey
	}
	rec.setUpdated(v.Updated)
	return rec, packedMatch, ""
}

// unpackValues returns the k values of a packed record, reusing buf.
func unpackValues(data string, k int, buf []string) []string {
	buf = buf[:0]
	for f := range k {
		buf = append(buf, packedValue(data, f, k+1))
	}
	return buf
}

// DedupConfig is the dedup engine's configuration for an object: its fields in plan order, and
// its plan's blocking, comparisons and thresholds (none: exact keys only).
func DedupConfig(obj *plans.Object, workers int) dedup.Config {
	cfg := dedup.Config{Workers: workers}
	for _, f := range obj.Fields {
		cfg.Fields = append(cfg.Fields, f.Name)
	}
	if d := obj.Dedup; d != nil {
		for _, b := range d.Block {
			cfg.Block = append(cfg.Block, b.Raw)
		}
		for _, c := range d.Compare {
			cfg.Compare = append(cfg.Compare, dedup.CompareSpec{Field: obj.FieldIndex(c.Field), Method: c.Method, Weight: c.Weight})
		}
		cfg.AutoMerge, cfg.Review, cfg.MaxBlock = d.AutoMerge, d.Review, d.MaxBlock
	}
	return cfg
}

// dedupObject finds duplicates and assigns golden ids; the golden records are merged while they
// are written (stageRows).
func dedupObject(ctx context.Context, p *plans.Plan, obj *plans.Object, st *recStore, opts Options, osum *ObjectSummary, sum *Summary) (*objectRun, error) {
	t0 := time.Now()
	n := st.Len()
	cfg := DedupConfig(obj, opts.Workers)
	if opts.Progress != nil {
		cfg.Progress = func(stage string, done, total int64) {
			opts.Progress(Event{Object: obj.Name, Stage: stage, Done: done, Total: total})
		}
	}
	sysIdx := make(map[string]int, len(p.Systems))
	for i, sys := range p.Systems {
		sysIdx[sys.Name] = i
	}
	find := func(source, id string) (int, bool) {
		si, ok := sysIdx[source]
		if !ok {
			return 0, false
		}
		return st.find(si, id)
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
		a, okA := find(d.ASource, d.AID)
		b, okB := find(d.BSource, d.BID)
		if !okA || !okB {
			continue
		}
		if d.Status == state.ReviewAccepted {
			accepted = append(accepted, [2]int{a, b})
		} else {
			rejected = append(rejected, [2]int{a, b})
		}
	}
	// The golden ids each record had after the previous clean are read while the duplicates are
	// found (reading them takes PostgreSQL about as long as dedup takes).
	prev := make([]int32, n)
	for i := range prev {
		prev[i] = -1
	}
	var oldIDs []string
	oldIdx := map[string]int32{}
	prevDone := make(chan error, 1)
	if opts.DB != nil {
		go func() {
			prevDone <- opts.DB.EachPreviousGolden(ctx, p.Name, obj.Name, func(source, id, golden []byte) error {
				g, ok := oldIdx[string(golden)]
				if !ok {
					g = int32(len(oldIDs))
					oldIDs = append(oldIDs, string(golden))
					oldIdx[oldIDs[g]] = g
				}
				if i, ok := find(unsafe.String(unsafe.SliceData(source), len(source)), unsafe.String(unsafe.SliceData(id), len(id))); ok {
					prev[i] = g
				}
				return nil
			})
		}()
	} else {
		prevDone <- nil
	}
	res, err := dedup.RunInput(ctx, st, st.k, cfg, accepted, rejected)
	if perr := <-prevDone; perr != nil && err == nil {
		return nil, perr
	}
	if err != nil {
		return nil, fmt.Errorf("clean %s: find duplicates: %w", obj.Name, err)
	}
	st.match = nil // only the dedup engine reads them
	sum.Timing.Dedup += time.Since(t0).Seconds()
	sum.Timing.Blocking += res.Stats.Blocking.Seconds()
	sum.Timing.Learning += res.Stats.Learning.Seconds()
	sum.Timing.Comparison += res.Stats.Comparison.Seconds()
	sum.Timing.Clustering += res.Stats.Clustering.Seconds()
	if opts.Progress != nil {
		opts.Progress(Event{Object: obj.Name, Stage: "dedup", Done: int64(n), Total: int64(n)})
	}

	t0 = time.Now()
	or := &objectRun{obj: obj, st: st, res: res, osum: osum}
	ref := func(i int) (string, string) { return p.Systems[st.recs[i].src].Name, st.id(i) }
	or.ids = assignGoldenIDs(obj.Name, res.Clusters, ref, prev, oldIDs, oldIdx)
	prev, oldIDs, oldIdx = nil, nil, nil
	st.refs = refIndex{} // not needed any more
	for _, cl := range res.Clusters {
		if len(cl) > 1 {
			for _, i := range cl {
				or.dup.add(int(st.recs[i].src), st.id(i))
			}
		}
	}
	or.dup.seal()
	for _, rp := range res.Review {
		ra := state.SourceRef{Source: p.Systems[st.recs[rp.A].src].Name, ID: st.id(rp.A)}
		rb := state.SourceRef{Source: p.Systems[st.recs[rp.B].src].Name, ID: st.id(rp.B)}
		if rb.Source < ra.Source || (rb.Source == ra.Source && rb.ID < ra.ID) {
			ra, rb = rb, ra
		}
		or.review = append(or.review, state.ReviewRow{Object: obj.Name, ASource: ra.Source, AID: ra.ID, BSource: rb.Source, BID: rb.ID,
			Score: rp.Score, FieldScores: rp.FieldScores, Reason: rp.Reason})
	}
	sum.Timing.Merge += time.Since(t0).Seconds()
	osum.addDedup(res, len(res.Clusters))
	return or, nil
}

// merger builds golden records of an object's clusters; one per goroutine.
type merger struct {
	p       *plans.Plan
	or      *objectRun
	members []merge.Member
	bufs    [][]string
	invalid [][]bool
	valid   []bool // all false: a record without invalid values
}

// merge merges cluster ci. The slices of the result may be reused by the next call.
func (m *merger) merge(ci int) merge.Golden {
	cl := m.or.res.Clusters[ci]
	st := m.or.st
	m.members = m.members[:0]
	for k, i := range cl {
		if k == len(m.bufs) {
			m.bufs = append(m.bufs, make([]string, 0, st.k))
		}
		m.bufs[k] = st.vals(i, m.bufs[k])
		r := &st.recs[i]
		// What normalization found invalid (no need to normalize the values again): none, or
		// those blanked in the values to match on.
		if m.valid == nil {
			m.valid = make([]bool, st.k)
		}
		inv := m.valid
		if mask, ok := st.invalidMask(i); !ok {
			inv = nil // the validator decides
		} else if mask != 0 {
			for k >= len(m.invalid) {
				m.invalid = append(m.invalid, make([]bool, st.k))
			}
			inv = m.invalid[k]
			for f := range inv {
				inv[f] = mask&(1<<f) != 0
			}
		}
		m.members = append(m.members, merge.Member{Source: m.p.Systems[r.src].Name, SourceIdx: int(r.src), ID: st.id(i), Updated: r.updated(), Vals: m.bufs[k], Invalid: inv})
	}
	return merge.Cluster(m.or.obj.Fields, m.members, m.or.valid)
}

// stageRows produces an object's golden records (merged here, by the survivorship rules) and
// cluster membership, row by row. The two tables are written at the same time; the records of a
// cluster are released as soon as both have passed it, so the object's memory shrinks while it is
// written.
func stageRows(p *plans.Plan, or *objectRun) state.StagingRows {
	st, res := or.st, or.res
	rel := &releaser{or: or}
	gm := &merger{p: p, or: or}
	gi := 0
	var conflicts int64
	var updated time.Time
	golden := func(g *state.GoldenRow) (bool, error) {
		if gi == len(res.Clusters) {
			or.osum.Conflicts += conflicts // read after the writer is done
			conflicts = 0
			rel.passed(0, gi)
			return false, nil
		}
		ci := gi
		gi++
		if ci%releaseEvery == 0 {
			rel.passed(0, ci)
		}
		cl := res.Clusters[ci]
		m := gm.merge(ci)
		key := ""
		for _, i := range cl {
			if k := st.key(i); k != "" && (key == "" || k < key) {
				key = k
			}
		}
		conflicts += int64(len(m.Conflicts))
		*g = state.GoldenRow{GoldenID: or.ids[ci], Key: key, Vals: m.Vals, Provenance: m.Provenance, Members: len(cl), Digest: normalize.Digest(m.Vals)}
		if !m.Updated.IsZero() {
			updated = m.Updated
			g.UpdatedAt = &updated
		}
		return true, nil
	}
	mci, mk := 0, 0
	var vals []string
	var mupdated time.Time
	member := func(mr *state.MemberRow) (bool, error) {
		for mci < len(res.Clusters) && mk == len(res.Clusters[mci]) {
			mci, mk = mci+1, 0
			if mci%releaseEvery == 0 {
				rel.passed(1, mci)
			}
		}
		if mci == len(res.Clusters) {
			rel.passed(1, mci)
			return false, nil
		}
		cl := res.Clusters[mci]
		i := cl[mk]
		mk++
		r := &st.recs[i]
		*mr = state.MemberRow{Source: p.Systems[r.src].Name, SourceID: st.id(i), GoldenID: or.ids[mci], Decision: string(res.Decision[i]),
			Score: res.Score[i], Line: r.line}
		if len(cl) > 1 {
			vals = st.vals(i, vals)
			mr.Vals = vals
		}
		if r.flags&recUpdated != 0 {
			mupdated = r.updated()
			mr.UpdatedAt = &mupdated
		}
		return true, nil
	}
	return state.StagingRows{NextGolden: golden, NextMember: member}
}

// releaseEvery is how many clusters a staging table passes between releases of records.
const releaseEvery = 4096

// releaser frees the records of the clusters that both staging tables have been written past.
type releaser struct {
	or    *objectRun
	mu    sync.Mutex
	done  [2]int // clusters passed, per table
	freed int    // clusters whose records are released
}

// passed records that table t (0 golden, 1 membership) is done with the clusters before n.
func (r *releaser) passed(t, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[t] = n
	upTo := min(r.done[0], r.done[1])
	res, st := r.or.res, r.or.st
	for ci := r.freed; ci < upTo; ci++ {
		for _, i := range res.Clusters[ci] {
			st.recs[i].data = ""
		}
		res.Clusters[ci] = nil
		r.or.ids[ci] = ""
	}
	r.freed = max(r.freed, upTo)
}

// drainRows produces every row without writing it (a clean without a control database).
func drainRows(rows state.StagingRows) error {
	var g state.GoldenRow
	var m state.MemberRow
	for {
		ok, err := rows.NextGolden(&g)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
	}
	for {
		ok, err := rows.NextMember(&m)
		if err != nil || !ok {
			return err
		}
	}
}

// assignGoldenIDs keeps golden ids stable across runs: a cluster takes the id most of its members
// had last time (each old id goes to one cluster only, the first in order); a new cluster gets an
// id derived from its first member, so re-running on the same data gives the same ids. ref names
// record i (system and id); prev[i] is the index in oldIDs of its previous golden id, -1 if none,
// and oldIdx is the reverse of oldIDs.
func assignGoldenIDs(object string, clusters [][]int, ref func(i int) (string, string), prev []int32, oldIDs []string, oldIdx map[string]int32) []string {
	ids := make([]string, len(clusters))
	takenOld := make([]bool, len(oldIDs))
	takenNew := map[string]struct{}{}
	type vote struct {
		g int32
		n int
	}
	var votes []vote
	for ci, cl := range clusters {
		votes = votes[:0]
		for _, i := range cl {
			g := prev[i]
			if g < 0 {
				continue
			}
			found := false
			for k := range votes {
				if votes[k].g == g {
					votes[k].n++
					found = true
					break
				}
			}
			if !found {
				votes = append(votes, vote{g, 1})
			}
		}
		best, n := int32(-1), 0
		for _, v := range votes {
			if !takenOld[v.g] && (v.n > n || (v.n == n && oldIDs[v.g] < oldIDs[best])) {
				best, n = v.g, v.n
			}
		}
		if best >= 0 {
			takenOld[best] = true
			ids[ci] = oldIDs[best]
			continue
		}
		// A new id. It may not be an old id (taken, or another cluster's last time) nor a new
		// id given to an earlier cluster.
		firstSrc, firstID := ref(cl[0])
		for _, i := range cl[1:] {
			if s, id := ref(i); s < firstSrc || (s == firstSrc && id < firstID) {
				firstSrc, firstID = s, id
			}
		}
		sum := sha256.Sum256([]byte(object + "\x00" + firstSrc + "\x00" + firstID))
		id := object + "-" + hex.EncodeToString(sum[:8])
		for k := 2; ; k++ {
			_, isOld := oldIdx[id]
			_, isNew := takenNew[id]
			if !isOld && !isNew {
				break
			}
			id = fmt.Sprintf("%s-%s-%d", object, hex.EncodeToString(sum[:8]), k)
		}
		takenNew[id] = struct{}{}
		ids[ci] = id
	}
	return ids
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
		st := or.st
		for i := range st.recs {
			if v := st.val(i, mi); v != "" {
				amount, cur := normalize.SplitMoney(v)
				add(cur, amount, src)
				curCount[cur]++
			}
		}
		gm := &merger{p: p, or: or}
		for ci, cl := range or.res.Clusters {
			v := ""
			if len(cl) == 1 {
				v = st.val(cl[0], mi)
			} else {
				v = gm.merge(ci).Vals[mi]
			}
			if v != "" {
				amount, cur := normalize.SplitMoney(v)
				add(cur, amount, gold)
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
			for i := range st.recs {
				ref := st.val(i, fi)
				if ref == "" {
					continue
				}
				if parent.dup.has(int(st.recs[i].src), ref) {
					pl.OnDuplicateParents++
				}
			}
		}
		return pl, true
	}
}

// ErrThreshold is wrapped when a clean crosses a plan threshold (exit code 3).
var ErrThreshold = errors.New("clean crossed a plan threshold")
