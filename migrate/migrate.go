// Package migrate is the load phase: golden records from the clean phase's staging → the new CRM.
//
// Objects are loaded in dependency order (companies before the contacts that reference them),
// golden id by golden id, in batches. For each batch, a worker turns golden records into rows of
// the target table (references through the crosswalk, owners through the new CRM's users), skips
// the rows whose digest matches what the crosswalk says was written last time, and hands the rest
// to the target's writer. The writer locks and reads the rows the batch will change, the
// before-images are journaled durably in the control database, and only then is the batch
// written, in one transaction. The crosswalk and the rejects are recorded after it; the
// checkpoint moves past the batch when every batch before it is recorded too.
//
// A run that dies at any point leaves a checkpoint, a journal and a crosswalk that the next run
// adopts (state.Resume): batches after the checkpoint are written again, and since writes are
// upserts matched on the external id (or canonical key) and journal entries keep their first
// before-image, the result is the state an uninterrupted run would have reached.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pipeline"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// Phase is the name runs of this phase are recorded under.
const Phase = phase.Migrate

// Options configure a run.
type Options struct {
	DB      *state.DB
	RunID   int64 // the run this migrate is recorded as (0 for a dry run)
	Env     crm.Env
	DryRun  bool // write nothing: each batch is written in a transaction that is rolled back
	Delta   bool // only records changed in old since the last successful run, and deletions
	Workers int  // parallel writers (default: the plan's migrate.workers)
	Samples int  // dry run: rows shown per object and action (default 3)
	ShowPII bool
	// Verify compares every row with what migrate writes, not only the ids: each golden record is
	// sent again and the new CRM's own comparison (IS DISTINCT FROM) finds the rows that differ,
	// which are written again and counted in Summary.Differed.
	Verify   bool
	Progress func(Event) // optional; called from one goroutine at a time
	// Retry is the backoff schedule for transient faults (default 0.5 s doubling, 6 tries).
	Retry []time.Duration
	// Since, when set, is where a delta run starts reading changes, instead of the start of the last
	// successful migrate less parallel_run.overlap (the demo's simulated days, whose changes carry
	// their own dates).
	Since time.Time
	// Only, when not nil, writes exactly these golden records (object → sorted golden ids), each
	// sent again even when its digest says it is written (the parallel run's reconcile): no other
	// record is written, archived or deleted, and the run does not resume another. With Delta, the
	// records changed in the sources are re-cleaned into staging first.
	Only map[string][]string

	rewrite map[string]bool   // dry run: OBJECT\x00GOLDEN of rows missing in the new CRM
	force   map[string]bool   // OBJECT\x00GOLDEN of the rows Only sends again
	losers  map[string]string // OBJECT\x00GOLDEN → why its row is not written (settleUniques)
	dryNew  *sync.Map         // dry run: OBJECT\x00GOLDEN of rows it inserted (and rolled back)
	deltas  map[string]*deltaObject
}

// Event reports progress: golden records done out of total for an object.
type Event struct {
	Object string
	Done   int64
	Total  int64
}

// Summary is what a run did.
type Summary struct {
	RunID       int64            `json:"run_id,omitempty"`
	ResumedFrom int64            `json:"resumed_from,omitempty"`
	DryRun      bool             `json:"dry_run"`
	Delta       bool             `json:"delta"`
	Objects     []*ObjectSummary `json:"objects"`
	Read        int64            `json:"read"`
	Inserted    int64            `json:"inserted"`
	Updated     int64            `json:"updated"`
	Unchanged   int64            `json:"unchanged"`
	Rejected    int64            `json:"rejected"`
	Archived    int64            `json:"archived"`
	Deleted     int64            `json:"deleted"`
	// Missing counts rows the crosswalk says were written but the new CRM no longer has (a
	// refreshed sandbox, a table emptied): they are written again (and counted in Inserted).
	Missing int64 `json:"missing"`
	// Verify runs: rows present with other values than migrate writes, written again (and
	// counted in Updated).
	Verified bool    `json:"verified,omitempty"`
	Differed int64   `json:"differed,omitempty"`
	Seconds  float64 `json:"seconds"`
	// Delta runs: the records re-cleaned (changed in the sources since Since).
	Since     *time.Time `json:"since,omitempty"`
	Recleaned int64      `json:"recleaned,omitempty"`
	// NothingToDo is true when the run wrote nothing: nothing changed (rejected records are tried
	// again every run and counted in Rejected).
	NothingToDo bool              `json:"nothing_to_do"`
	Samples     []Sample          `json:"samples,omitempty"`
	Rejects     []state.RejectRow `json:"rejects,omitempty"`      // the first ones
	RejectsFile string            `json:"rejects_file,omitempty"` // all of them, relative to the plan's folder
	PeakRSSMB   float64           `json:"peak_rss_mb,omitempty"`
	// Status is how the run ended when it did not pass (failed, aborted), with Error; "" otherwise.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ObjectSummary is what a run did with one object.
type ObjectSummary struct {
	Object         string  `json:"object"`
	Table          string  `json:"table"`
	Read           int64   `json:"read"`
	Inserted       int64   `json:"inserted"`
	Updated        int64   `json:"updated"`
	Unchanged      int64   `json:"unchanged"`
	Rejected       int64   `json:"rejected"`
	Archived       int64   `json:"archived,omitempty"`
	Deleted        int64   `json:"deleted,omitempty"`
	DeletedInOld   int64   `json:"deleted_in_old,omitempty"` // delta runs: golden records whose old records are all gone
	Missing        int64   `json:"missing,omitempty"`        // recorded as written, gone from the new CRM: written again
	UnresolvedRefs int64   `json:"unresolved_refs"`
	DefaultOwner   int64   `json:"default_owner"`
	Retries        int64   `json:"retries,omitempty"`
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"records_per_second"`
	// Where the time went, summed over the workers (so the parts may add up to more than Seconds):
	// reading golden records, journaling before-images, writing to the new CRM (the batch
	// transaction, before-images included), recording crosswalk, rejects and checkpoints.
	Timing Timing `json:"timing"`
}

// Timing is seconds per step of a batch.
type Timing struct {
	Read    float64 `json:"read"`
	Journal float64 `json:"journal"`
	Write   float64 `json:"write"`
	Record  float64 `json:"record"`
}

func (t *Timing) add(o Timing) {
	t.Read += o.Read
	t.Journal += o.Journal
	t.Write += o.Write
	t.Record += o.Record
}

// Sample is one row a dry run would write.
type Sample struct {
	Object   string            `json:"object"`
	Action   string            `json:"action"`
	GoldenID string            `json:"golden_id"`
	Values   map[string]string `json:"values"`
}

func (o *ObjectSummary) counts() map[string]int64 {
	return map[string]int64{"read": o.Read, "inserted": o.Inserted, "updated": o.Updated, "unchanged": o.Unchanged, "rejected": o.Rejected,
		"archived": o.Archived, "deleted": o.Deleted, "unresolved_refs": o.UnresolvedRefs, "default_owner": o.DefaultOwner}
}

func (o *ObjectSummary) restore(c map[string]int64) {
	o.Read, o.Inserted, o.Updated, o.Unchanged, o.Rejected = c["read"], c["inserted"], c["updated"], c["unchanged"], c["rejected"]
	o.Archived, o.Deleted, o.UnresolvedRefs, o.DefaultOwner = c["archived"], c["deleted"], c["unresolved_refs"], c["default_owner"]
}

// Counts are the run's totals, for the runs table.
func (s *Summary) Counts() map[string]int64 {
	c := map[string]int64{"read": s.Read, "inserted": s.Inserted, "updated": s.Updated, "unchanged": s.Unchanged, "rejected": s.Rejected,
		"archived": s.Archived, "deleted": s.Deleted}
	return c
}

// SetOutcome records how the run ended (phase.Outcomer), so the summary of a failed run says so.
func (s *Summary) SetOutcome(status string, err error) {
	if status == state.StatusPassed {
		s.Status, s.Error = "", ""
		return
	}
	s.Status = status
	if err != nil {
		s.Error = err.Error()
	}
}

// SetRejectsFile records where the run's rejects were written (phase.RejectsFiler).
func (s *Summary) SetRejectsFile(path string) { s.RejectsFile = path }

func (s *Summary) total() {
	s.Read, s.Inserted, s.Updated, s.Unchanged, s.Rejected, s.Archived, s.Deleted, s.Missing = 0, 0, 0, 0, 0, 0, 0, 0
	for _, o := range s.Objects {
		s.Missing += o.Missing
		s.Read += o.Read
		s.Inserted += o.Inserted
		s.Updated += o.Updated
		s.Unchanged += o.Unchanged
		s.Rejected += o.Rejected
		s.Archived += o.Archived
		s.Deleted += o.Deleted
	}
	s.NothingToDo = s.Inserted+s.Updated+s.Archived+s.Deleted == 0
	if s.Verified {
		s.Differed = s.Updated
	}
}

// checkpointEvery is how often a run's checkpoint is saved at most.
const checkpointEvery = time.Second

// maxRejectsShown is how many rejects the summary carries (all are in the control database).
const maxRejectsShown = 20

// Run loads the plan's golden records into the new CRM.
func Run(ctx context.Context, p *plans.Plan, opts Options) (*Summary, error) {
	if err := p.RequireNew(); err != nil {
		return nil, err
	}
	if opts.Workers <= 0 {
		opts.Workers = p.Migrate.Workers
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Samples <= 0 {
		opts.Samples = 3
	}
	if opts.Retry == nil {
		opts.Retry = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	}
	if opts.Progress != nil {
		var mu sync.Mutex
		progress := opts.Progress
		opts.Progress = func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			progress(e)
		}
	}
	opts.rewrite, opts.losers, opts.dryNew, opts.force = map[string]bool{}, map[string]string{}, &sync.Map{}, map[string]bool{}
	start := time.Now()
	sum := &Summary{RunID: opts.RunID, DryRun: opts.DryRun, Delta: opts.Delta, Verified: opts.Verify}
	defer func() { sum.Seconds = time.Since(start).Seconds() }()

	// Staging is what migrate writes: refuse when a crash of the server emptied it.
	if err := opts.DB.CheckStaging(ctx, p.Name); err != nil {
		return nil, err
	}
	src, err := crm.Open(ctx, p.New(), opts.Env)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	target, err := crm.AsTarget(src)
	if err != nil {
		return nil, fmt.Errorf("system new (kind %s): %w", p.New().Kind, err)
	}
	var own *owners
	if err := retry(ctx, opts.Retry, nil, func() error {
		var err error
		own, err = loadOwners(ctx, p, target)
		return err
	}); err != nil {
		return nil, err
	}
	checkpoints := map[string]state.Checkpoint{}
	if !opts.DryRun && opts.Only == nil {
		prev, cps, err := opts.DB.Resume(ctx, p.Name, Phase, opts.RunID)
		if err != nil {
			return nil, err
		}
		sum.ResumedFrom = prev
		if cps != nil {
			checkpoints = cps
		}
	}
	var deltas map[string]*deltaObject
	if opts.Delta {
		if deltas, err = prepareDelta(ctx, p, opts, sum); err != nil {
			return sum, err
		}
		opts.deltas = deltas
	}
	for _, obj := range p.DependencyOrder() {
		m := obj.Mapping(plans.SystemNew)
		if m == nil {
			continue
		}
		osum := &ObjectSummary{Object: obj.Name, Table: m.Table + m.File}
		sum.Objects = append(sum.Objects, osum)
		cp := checkpoints[obj.Name]
		osum.restore(cp.Counts)
		if cp.Done {
			continue
		}
		_, file := target.(crm.FileTarget)
		if file {
			cp = state.Checkpoint{} // a file is written whole
			*osum = ObjectSummary{Object: osum.Object, Table: osum.Table}
		}
		var ids []string
		if deltas != nil && !file { // a file is written whole in a delta run too
			ids = []string{}
			if d := deltas[obj.Name]; d != nil && d.changed != nil {
				ids = d.changed
			}
		}
		if opts.Only != nil {
			if file {
				return sum, fmt.Errorf("object %s: the new system is written as whole files; run `crmigrate migrate` to write them again", obj.Name)
			}
			ids = opts.Only[obj.Name]
			if len(ids) == 0 {
				continue
			}
			for _, g := range ids { // sent again whatever their digests say, in a dry run too
				opts.force[obj.Name+"\x00"+g] = true
			}
		}
		// The new CRM itself, not our records, says what is there: rows the crosswalk says were
		// written but the target no longer has are written again.
		missing, err := checkTarget(ctx, p, obj, src, opts)
		if err != nil {
			return sum, err
		}
		if len(missing) > 0 {
			if cp.AfterID != "" { // resumed within the object: start it again, the missing rows may lie behind
				cp = state.Checkpoint{}
				*osum = ObjectSummary{Object: osum.Object, Table: osum.Table}
			}
			if ids != nil && opts.Only == nil {
				ids = union(ids, missing)
			}
			if opts.DryRun { // the crosswalk was left alone: the dry run treats them as never written
				for _, g := range missing {
					opts.rewrite[obj.Name+"\x00"+g] = true
				}
			}
		}
		osum.Missing = int64(len(missing))
		// Which of two records sharing a value the new CRM allows once is written: decided here,
		// by golden id, not by which parallel batch commits first.
		losers, err := settleUniques(ctx, p, obj, target, own, opts)
		if err != nil {
			return sum, err
		}
		for g, why := range losers {
			opts.losers[obj.Name+"\x00"+g] = why
		}
		if opts.Verify && !file && !opts.DryRun {
			if _, err := opts.DB.ForgetDigests(ctx, p.Name, obj.Name); err != nil {
				return sum, err
			}
		}
		err = loadObject(ctx, p, obj, target, own, opts, cp, ids, osum, sum)
		sum.total()
		if err != nil {
			return sum, err
		}
		if !opts.DryRun {
			if err := opts.DB.SaveCheckpoint(ctx, opts.RunID, state.Checkpoint{Object: obj.Name, Done: true, Counts: osum.counts()}); err != nil {
				return sum, err
			}
		}
	}
	// Records gone (deleted in old, or no longer staged) get on_delete once everything is loaded,
	// children first: no row is deleted while rows loaded after it could still refer to it. A
	// resumed run does this again; what is archived or deleted already is not touched twice.
	for i := len(sum.Objects) - 1; i >= 0 && opts.Only == nil; i-- {
		osum := sum.Objects[i]
		if err := deleteGone(ctx, p, p.Object(osum.Object), target, opts, deltas[osum.Object], osum); err != nil {
			sum.total()
			return sum, err
		}
		if !opts.DryRun {
			if err := opts.DB.SaveCheckpoint(ctx, opts.RunID, state.Checkpoint{Object: osum.Object, Done: true, Counts: osum.counts()}); err != nil {
				return sum, err
			}
		}
	}
	sum.total()
	return sum, nil
}

// batch is a slice of an object's golden records, in golden id order.
type batch struct {
	last string // the last golden id in it
	recs []state.GoldenOut
	read float64 // seconds it took to read
}

// result is what a worker did with a batch.
type result struct {
	last                                               string
	n                                                  int
	ins, upd, unch, rej, unresolved, defOwner, retries int64
	samples                                            []Sample
	rejects                                            []state.RejectRow
	timing                                             Timing
}

func loadObject(ctx context.Context, p *plans.Plan, obj *plans.Object, target crm.Target, own *owners, opts Options,
	cp state.Checkpoint, only []string, osum *ObjectSummary, sum *Summary) error {
	start := time.Now()
	defer func() {
		osum.Seconds += time.Since(start).Seconds()
		if osum.Seconds > 0 {
			osum.PerSecond = float64(osum.Read) / osum.Seconds
		}
	}()
	l, err := newLayout(p, obj)
	if err != nil {
		return err
	}
	l.spec.DryRun = opts.DryRun
	if opts.Delta {
		// The daily sync of the parallel run leaves what the new CRM owns: a field whose authority
		// is new keeps its value in a row that exists, once it has one.
		for c, fi := range l.fields {
			if obj.Fields[fi].Authority == plans.AuthorityNew {
				l.spec.Keep = append(l.spec.Keep, l.spec.Columns[c])
			}
		}
	}
	if opts.DryRun {
		// Each dry batch is rolled back, so rows it inserted (or rows missing in the new CRM that a
		// real run writes again) are not there for references to point at: such a reference is
		// written as empty in the dry run but counted as resolved, as a real run would resolve it.
		l.dryRef = func(to, golden string) bool {
			key := to + "\x00" + golden
			_, inserted := opts.dryNew.Load(key)
			return inserted || opts.rewrite[key]
		}
	}
	_, file := target.(crm.FileTarget)
	workers := opts.Workers
	if file {
		workers = 1 // one file, written in order
	}
	total, err := opts.DB.CountGolden(ctx, p.Name, obj.Name, only)
	if err != nil {
		return err
	}
	if opts.Progress != nil {
		opts.Progress(Event{Object: obj.Name, Done: osum.Read, Total: total})
	}
	writers := make([]crm.ObjectWriter, workers)
	defer func() {
		for _, w := range writers {
			if w != nil {
				if a, ok := w.(interface{ Abort() }); ok && err != nil {
					a.Abort()
				}
				_ = w.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for i := range writers {
		if err = retry(ctx, opts.Retry, &osum.Retries, func() error {
			var err error
			writers[i], err = target.Writer(ctx, obj, l.spec)
			return err
		}); err != nil {
			return fmt.Errorf("migrate %s: %w", obj.Name, err)
		}
	}

	// Committer state: the checkpoint is saved at most every checkpointEvery (a resumed run writes
	// the batches after it again, finding them unchanged), and once more when the object stops or
	// fails.
	var unsaved *state.Checkpoint
	var lastSave time.Time
	saveCheckpoint := func(c context.Context) error {
		if unsaved == nil {
			return nil
		}
		cp := *unsaved
		if err := retry(c, opts.Retry, nil, func() error { return opts.DB.SaveCheckpoint(c, opts.RunID, cp) }); err != nil {
			return err
		}
		unsaved, lastSave = nil, time.Now()
		return nil
	}
	defer func() { _ = saveCheckpoint(context.WithoutCancel(ctx)) }()
	// Ctrl-C (ctx) stops the reading of new batches (pipeline.Config.Stop); the pipeline runs
	// under context.WithoutCancel, so the batches in flight are written and recorded and the
	// checkpoint moves past them: the next run starts where this one stopped.
	stopped := false
	size := p.Migrate.BatchSize
	err = pipeline.Ordered(context.WithoutCancel(ctx), pipeline.Config{Workers: workers, Results: workers * 2, Stop: ctx.Done()},
		// Reader: golden records in id order, from the checkpoint on. A lost connection to the
		// control database starts the read again after the last batch handed out.
		func(gctx context.Context, emit func(batch) error) error {
			if d := opts.deltas[obj.Name]; opts.DryRun && d != nil && d.merged != nil && only != nil {
				recs, err := dryDeltaRecords(gctx, p, obj, l, opts, d, only)
				for len(recs) > 0 && err == nil {
					n := min(size, len(recs))
					err = emit(batch{last: recs[n-1].GoldenID, recs: recs[:n]})
					recs = recs[n:]
				}
				if errors.Is(err, pipeline.ErrStopped) {
					stopped = true
					return nil
				}
				return err
			}
			after := cp.AfterID
			for attempt := 0; ; attempt++ {
				err := func() error {
					rd, err := opts.DB.ReadGolden(gctx, state.GoldenQuery{Plan: p.Name, Object: obj.Name, After: after, Refs: l.refs, Only: only})
					if err != nil {
						return err
					}
					defer rd.Close()
					for {
						t0 := time.Now()
						recs, err := rd.Next(size)
						if err != nil || len(recs) == 0 {
							return err
						}
						after = recs[len(recs)-1].GoldenID
						if err := emit(batch{last: after, recs: recs, read: time.Since(t0).Seconds()}); err != nil {
							if errors.Is(err, pipeline.ErrStopped) {
								stopped = true
								return nil
							}
							return err
						}
					}
				}()
				if err == nil || gctx.Err() != nil || !transient(err) || attempt >= len(opts.Retry) {
					return err
				}
				time.Sleep(opts.Retry[attempt])
			}
		},
		// Workers, each with its own writer.
		func(gctx context.Context, w int, b batch) (result, error) {
			return writeBatch(gctx, p, l, writers[w], own, opts, b, file)
		},
		// Committer: counts, samples and the checkpoint, in batch order.
		func(gctx context.Context, r result) error {
			osum.Read += int64(r.n)
			osum.Inserted += r.ins
			osum.Updated += r.upd
			osum.Unchanged += r.unch
			osum.Rejected += r.rej
			osum.UnresolvedRefs += r.unresolved
			osum.DefaultOwner += r.defOwner
			osum.Retries += r.retries
			osum.Timing.add(r.timing)
			for _, s := range r.samples {
				if countAction(sum.Samples, s.Object, s.Action) < opts.Samples {
					sum.Samples = append(sum.Samples, s)
				}
			}
			for _, rj := range r.rejects {
				if len(sum.Rejects) < maxRejectsShown {
					sum.Rejects = append(sum.Rejects, rj)
				}
			}
			if !opts.DryRun && !file {
				unsaved = &state.Checkpoint{Object: obj.Name, AfterID: r.last, Counts: osum.counts()}
				if time.Since(lastSave) >= checkpointEvery {
					if err := saveCheckpoint(gctx); err != nil {
						return err
					}
				}
			}
			if opts.Progress != nil {
				opts.Progress(Event{Object: obj.Name, Done: osum.Read, Total: total})
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("migrate %s: %w", obj.Name, err)
	}
	if stopped {
		err = ctx.Err()
		return fmt.Errorf("migrate %s: stopped after the batches in flight: %w", obj.Name, err)
	}
	if file && !opts.DryRun {
		for i, w := range writers {
			if cerr := w.Close(ctx); cerr != nil {
				err = cerr
				return fmt.Errorf("migrate %s: %w", obj.Name, err)
			}
			writers[i] = nil
		}
	}
	return nil
}

func countAction(samples []Sample, object, action string) int {
	n := 0
	for _, s := range samples {
		if s.Object == object && s.Action == action {
			n++
		}
	}
	return n
}

// writeBatch writes one batch and records it: journal before, crosswalk and rejects after.
func writeBatch(ctx context.Context, p *plans.Plan, l *layout, w crm.ObjectWriter, own *owners, opts Options, b batch, file bool) (result, error) {
	r := result{last: b.last, n: len(b.recs), timing: Timing{Read: b.read}}
	var todo []built
	var cross []state.CrosswalkRow
	for i := range b.recs {
		bt := l.build(&b.recs[i], own)
		r.unresolved += int64(bt.unresolved)
		r.defOwner += int64(bt.defOwner)
		g := bt.g
		if bt.row.Key == "" {
			r.rej++
			r.rejects = append(r.rejects, rejectRow(l, g, "no canonical key ("+l.obj.Key+" is empty) and the new mapping has no external_id, so the row could not be found again; add external_id to objects."+l.obj.Name+".new"))
			continue
		}
		if why, lost := opts.losers[l.obj.Name+"\x00"+g.GoldenID]; lost {
			r.rej++
			r.rejects = append(r.rejects, rejectRow(l, g, why))
			continue
		}
		same := g.NewID != "" && g.Digest == bt.digest && g.Status == state.XActive && !opts.rewrite[l.obj.Name+"\x00"+g.GoldenID] &&
			!opts.force[l.obj.Name+"\x00"+g.GoldenID]
		if same && !file {
			r.unch++
			continue
		}
		todo = append(todo, bt)
	}
	if len(todo) == 0 {
		return r, finishRejects(ctx, p, l, opts, r.rejects)
	}
	rows := make([]crm.Row, len(todo))
	for i, bt := range todo {
		rows[i] = bt.row
	}
	var fresh []int64
	journal := func(images []crm.Image) error {
		if opts.DryRun || file {
			return nil
		}
		entries := make([]state.JournalEntry, len(images))
		for i, img := range images {
			g := todo[i].g
			e := state.JournalEntry{Object: l.obj.Name, GoldenID: g.GoldenID, Action: state.JInsert, NewID: img.ID, Key: rows[i].Key}
			if img.JSON != nil {
				e.Action, e.Before = state.JUpdate, img.JSON
			}
			if g.Digest != "" {
				d := g.Digest
				e.PrevDigest = &d
			}
			entries[i] = e
		}
		var err error
		t0 := time.Now()
		fresh, err = opts.DB.JournalBefore(ctx, p.Name, opts.RunID, entries)
		r.timing.Journal += time.Since(t0).Seconds()
		return err
	}
	var out []crm.Outcome
	t0 := time.Now()
	err := retry(ctx, opts.Retry, &r.retries, func() error {
		var err error
		out, err = w.Write(ctx, rows, journal)
		return err
	})
	r.timing.Write += time.Since(t0).Seconds() - r.timing.Journal
	if err != nil {
		return r, err
	}
	var unwritten []int64
	for i, o := range out {
		bt := todo[i]
		g := bt.g
		action := o.Action
		if file { // a file holds every row; what changed is what the crosswalk says
			switch {
			case g.NewID == "":
				action = crm.Inserted
			case g.Digest != bt.digest:
				action = crm.Updated
			default:
				action = crm.Unchanged
			}
		}
		switch action {
		case crm.Inserted:
			r.ins++
		case crm.Updated:
			r.upd++
		case crm.Unchanged:
			r.unch++
		case crm.Rejected:
			r.rej++
			r.rejects = append(r.rejects, rejectRow(l, g, o.Reason))
		}
		if opts.DryRun {
			if action != crm.Unchanged {
				r.samples = append(r.samples, l.sample(bt, action.String(), opts.ShowPII))
			}
			if action == crm.Inserted { // a real run would have it: references to it resolve
				opts.dryNew.Store(l.obj.Name+"\x00"+g.GoldenID, true)
			}
			continue
		}
		if action == crm.Rejected {
			if fresh != nil && fresh[i] != 0 {
				unwritten = append(unwritten, fresh[i])
			}
			continue
		}
		cross = append(cross, state.CrosswalkRow{Object: l.obj.Name, GoldenID: g.GoldenID, NewID: o.ID, Key: g.Key, OldIDs: g.OldIDs, Digest: bt.digest, Status: state.XActive})
		if action == crm.Unchanged && fresh != nil && fresh[i] != 0 {
			unwritten = append(unwritten, fresh[i])
		}
	}
	if opts.DryRun {
		return r, nil
	}
	c := state.BatchCommit{Plan: p.Name, RunID: opts.RunID, Object: l.obj.Name, Crosswalk: cross, Unwritten: unwritten, Rejects: r.rejects, Phase: Phase}
	t0 = time.Now()
	if err := retry(ctx, opts.Retry, &r.retries, func() error { return opts.DB.CommitBatch(ctx, c) }); err != nil {
		return r, err
	}
	r.timing.Record += time.Since(t0).Seconds()
	return r, nil
}

func finishRejects(ctx context.Context, p *plans.Plan, l *layout, opts Options, rejects []state.RejectRow) error {
	if opts.DryRun || len(rejects) == 0 {
		return nil
	}
	c := state.BatchCommit{Plan: p.Name, RunID: opts.RunID, Object: l.obj.Name, Rejects: rejects, Phase: Phase}
	return retry(ctx, opts.Retry, nil, func() error { return opts.DB.CommitBatch(ctx, c) })
}

func rejectRow(l *layout, g *state.GoldenOut, reason string) state.RejectRow {
	raw := strings.Join(g.OldIDs, " ")
	if len(raw) > 300 {
		raw = strings.ToValidUTF8(raw[:300], "") + "…"
	}
	return state.RejectRow{Object: l.obj.Name, System: plans.SystemNew, SourceID: g.GoldenID, Reason: reason, Raw: raw}
}

// retry runs f until it succeeds, fails with an error that is not transient, or the schedule is
// used up. Transient faults (crm.ErrTransient, or a lost control-database connection) wait with
// jittered backoff.
func retry(ctx context.Context, schedule []time.Duration, count *int64, f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if err == nil || ctx.Err() != nil || !transient(err) || i >= len(schedule) {
			if err != nil && transient(err) && ctx.Err() == nil {
				err = fmt.Errorf("%w (gave up after %d tries)", err, i+1)
			}
			return err
		}
		if count != nil {
			*count++
		}
		d := schedule[i]
		d += time.Duration(rand.Int64N(int64(d)/4 + 1))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func transient(err error) bool {
	if errors.Is(err, crm.ErrTransient) {
		return true
	}
	return state.Transient(err)
}
