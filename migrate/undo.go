package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// UndoPhase is the name undo runs are recorded under; they take the plan's writer lock, like
// migrate and clean.
const UndoPhase = phase.Undo

// ErrLaterRuns is wrapped when later runs changed rows the run to undo wrote.
var ErrLaterRuns = errors.New("later runs changed the same records")

// ErrBlocked is wrapped when rows the undo would not delete refer to rows it would delete.
var ErrBlocked = errors.New("rows of the new CRM refer to rows the undo would delete")

// UndoOptions configure an undo.
type UndoOptions struct {
	DB    *state.DB
	RunID int64 // the undo run
	Undo  int64 // the migrate run to undo
	Force bool  // undo even when later runs touched the same rows
	Env   crm.Env
	Retry []time.Duration
}

// UndoSummary is what an undo did.
type UndoSummary struct {
	RunID     int64         `json:"run_id"`
	Undone    int64         `json:"undone_run"`
	LaterRuns []int64       `json:"later_runs,omitempty"`
	Objects   []*UndoObject `json:"objects"`
	Deleted   int64         `json:"deleted"`
	Restored  int64         `json:"restored"`
	Seconds   float64       `json:"seconds"`
	// Recheck lists objects whose rows the next migrate re-checks: they refer to rows the undone
	// run had deleted, and the new CRM may have cleared those references.
	Recheck []string `json:"recheck,omitempty"`
}

// Counts are the figures stored with the undo run.
func (s *UndoSummary) Counts() map[string]int64 {
	return map[string]int64{"undone_run": s.Undone, "deleted": s.Deleted, "restored": s.Restored}
}

// UndoObject is what an undo did with one object.
type UndoObject struct {
	Object   string `json:"object"`
	Entries  int    `json:"entries"`
	Deleted  int64  `json:"deleted"`  // rows the run had inserted
	Restored int64  `json:"restored"` // rows put back as they were before the run
}

// undoBatch is how many journal entries are undone per step.
const undoBatch = 5000

// Undo deletes what a migrate run inserted and restores what it changed, from its journal,
// children before parents (activities before the contacts they reference). The undo is
// journaled as a run of its own (every row's image before the undo), and it refuses when later
// runs touched the same records unless Force is set.
func Undo(ctx context.Context, p *plans.Plan, opts UndoOptions) (*UndoSummary, error) {
	start := time.Now()
	sum := &UndoSummary{RunID: opts.RunID, Undone: opts.Undo}
	defer func() { sum.Seconds = time.Since(start).Seconds() }()
	if opts.Retry == nil {
		opts.Retry = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	}
	rec, err := opts.DB.RunRecordOf(ctx, p.Name, opts.Undo)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Phase != Phase && rec.Phase != phase.Reconcile { // reconcile writes through migrate
		return nil, fmt.Errorf("run %d is not a migrate or reconcile run of plan %s; `crmigrate runs` lists them", opts.Undo, p.Name)
	}
	later, err := opts.DB.LaterRuns(ctx, p.Name, opts.Undo)
	if err != nil {
		return nil, err
	}
	sum.LaterRuns = later
	if len(later) > 0 && !opts.Force {
		return sum, fmt.Errorf("%w: run(s) %v wrote records that run %d wrote; undo them first (newest first: crmigrate migrate undo --run %d), or pass --force to restore run %d's before-images anyway",
			ErrLaterRuns, later, opts.Undo, later[len(later)-1], opts.Undo)
	}
	counts, err := opts.DB.JournalCounts(ctx, p.Name, opts.Undo)
	if err != nil {
		return nil, err
	}
	if len(counts) == 0 {
		return sum, fmt.Errorf("run %d has nothing left to undo: it wrote nothing, or it was undone already", opts.Undo)
	}
	src, err := crm.Open(ctx, p.New(), opts.Env)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	rev, ok := src.(crm.Reverter)
	if !ok {
		return nil, fmt.Errorf("system new (kind %s) cannot be undone row by row; run migrate again to rewrite its files", p.New().Kind)
	}
	order := p.DependencyOrder()
	slices.Reverse(order)
	// Before anything changes: rows that refer to rows this undo deletes, and that it does not
	// delete itself (a later run's, or made in the new CRM by anyone), stop it.
	if deps, ok := rev.(crm.Dependents); ok {
		if err := undoBlockers(ctx, p, order, counts, deps, opts); err != nil {
			return sum, err
		}
	}
	// All or nothing: in one transaction of the new CRM when it can (then the journal is marked
	// undone after the commit; if the process dies between the two, the next undo of the run
	// finds the entries again and applies them again: deleting what is gone is skipped, restoring
	// a before-image twice gives the same row).
	tx, atomic := rev.(crm.Transactional)
	attempt := func() error {
		sum.Objects, sum.Deleted, sum.Restored = nil, 0, 0
		if atomic {
			if err := tx.Begin(ctx); err != nil {
				return err
			}
			defer tx.Rollback(context.WithoutCancel(ctx))
		}
		osums := map[string]*UndoObject{}
		for _, obj := range order {
			var total int64
			for _, n := range counts[obj.Name] {
				total += n
			}
			if total > 0 {
				osums[obj.Name] = &UndoObject{Object: obj.Name, Entries: int(total)}
				sum.Objects = append(sum.Objects, osums[obj.Name])
			}
		}
		forward := slices.Clone(order)
		slices.Reverse(forward)
		for _, step := range []int{undoDeletes, undoRestores} {
			objs := order // children first
			if step == undoRestores {
				objs = forward // parents first
			}
			for _, obj := range objs {
				osum := osums[obj.Name]
				if osum == nil {
					continue
				}
				if err := eachJournalPage(ctx, p, obj, opts, func(part []state.JournalEntry) error {
					return undoPart(ctx, p, obj, rev, opts, part, osum, step, !atomic)
				}); err != nil {
					return fmt.Errorf("undo run %d, %s: %w", opts.Undo, obj.Name, err)
				}
			}
		}
		for _, o := range sum.Objects {
			sum.Deleted += o.Deleted
			sum.Restored += o.Restored
		}
		if atomic {
			return tx.Commit(ctx)
		}
		return nil
	}
	if atomic {
		err = retry(ctx, opts.Retry, nil, attempt) // a lost connection rolls it all back: start again
	} else {
		err = attempt()
	}
	if err != nil {
		return sum, err
	}
	if atomic {
		if err := retry(ctx, opts.Retry, nil, func() error {
			return opts.DB.FinishUndoRun(context.WithoutCancel(ctx), p.Name, opts.Undo, opts.RunID)
		}); err != nil {
			return sum, fmt.Errorf("undo run %d: the new CRM is undone, recording it failed (run the same undo again to record it): %w", opts.Undo, err)
		}
	}
	// Rows the run deleted are back, but the new CRM may have cleared references to them on its own
	// (ON DELETE SET NULL): the next migrate re-checks the objects that refer to them.
	for _, obj := range p.Objects {
		for _, f := range obj.Fields {
			if f.Type != plans.TypeRef || counts[f.To][state.JDelete] == 0 {
				continue
			}
			n, err := opts.DB.ForgetDigests(ctx, p.Name, obj.Name)
			if err != nil {
				return sum, err
			}
			if n > 0 {
				sum.Recheck = append(sum.Recheck, obj.Name)
			}
			break
		}
	}
	return sum, nil
}

// eachJournalPage calls fn with the object's journal entries of the run to undo that are not
// undone yet, a page of undoBatch at a time (by golden id; their order does not matter).
func eachJournalPage(ctx context.Context, p *plans.Plan, obj *plans.Object, opts UndoOptions, fn func([]state.JournalEntry) error) error {
	for before := ""; ; {
		part, err := opts.DB.Journal(ctx, p.Name, opts.Undo, obj.Name, before, undoBatch)
		if err != nil || len(part) == 0 {
			return err
		}
		before = part[len(part)-1].GoldenID
		if err := fn(part); err != nil {
			return err
		}
	}
}

// undoBlockers returns an error wrapping ErrBlocked, naming them, when rows of the new CRM that
// this undo does not delete refer to rows it deletes.
func undoBlockers(ctx context.Context, p *plans.Plan, order []*plans.Object, counts map[string]map[string]int64, deps crm.Dependents, opts UndoOptions) error {
	dels := map[string][]string{}   // object → ids in new it deletes
	tables := map[string][]string{} // table → those and the ids of rows it puts back as they were
	for _, obj := range order {
		if len(counts[obj.Name]) == 0 {
			continue
		}
		var restored []string
		err := eachJournalPage(ctx, p, obj, opts, func(part []state.JournalEntry) error {
			var keys []string
			for _, e := range part {
				switch {
				case e.Action == state.JInsert && e.NewID != "":
					dels[obj.Name] = append(dels[obj.Name], e.NewID)
				case e.Action == state.JInsert && e.Key != "":
					keys = append(keys, e.Key) // written, but the run died before the crosswalk knew its id
				case e.Before != nil && e.NewID != "":
					// Put back from its before-image, which predates the rows this run inserted:
					// whatever it refers to now, it will not refer to them.
					restored = append(restored, e.NewID)
				}
			}
			if len(keys) > 0 {
				l, err := newLayout(p, obj)
				if err != nil {
					return err
				}
				ids, err := deps.IDsOf(ctx, obj, l.spec.KeyColumn, keys)
				if err != nil {
					return err
				}
				dels[obj.Name] = append(dels[obj.Name], ids...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		tables[obj.Mapping(plans.SystemNew).Table] = append(slices.Clone(dels[obj.Name]), restored...)
	}
	var blocked []string
	for _, obj := range order {
		if len(dels[obj.Name]) == 0 {
			continue
		}
		ds, err := deps.Dependents(ctx, obj, dels[obj.Name], tables)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if !d.Blocks() {
				continue
			}
			eg := ""
			if len(d.Sample) > 0 {
				eg = " (ids " + strings.Join(d.Sample, ", ") + ")"
			}
			blocked = append(blocked, fmt.Sprintf("%d rows of %s%s refer to %s rows it would delete through %s (on delete %s)",
				d.Rows, d.Table, eg, obj.Name, d.Column, d.OnDelete))
		}
	}
	if len(blocked) > 0 {
		return fmt.Errorf("%w: undo of run %d changed nothing: %s; undo the later runs that wrote them first (newest first), or remove those rows from the new CRM",
			ErrBlocked, opts.Undo, strings.Join(blocked, "; "))
	}
	return nil
}

// undoPart undoes one page of an object's journal; with finish it also marks the entries undone
// (a transactional undo marks them all after its commit).
// Steps of an undo: first every object's deletions, children first (journaling every row as it
// is before the undo), then every object's restores, parents first, so that no row is deleted
// while another still refers to it and no row is put back before the row it refers to.
const (
	undoDeletes = iota
	undoRestores
)

func undoPart(ctx context.Context, p *plans.Plan, obj *plans.Object, rev crm.Reverter, opts UndoOptions, part []state.JournalEntry, osum *UndoObject, step int, finish bool) error {
	var ids, del, delKeys []string
	var restore [][]byte
	for _, e := range part {
		if e.NewID != "" {
			ids = append(ids, e.NewID)
		}
		switch {
		case e.Action == state.JInsert && e.NewID != "":
			del = append(del, e.NewID)
		case e.Action == state.JInsert && e.Key != "":
			delKeys = append(delKeys, e.Key) // written, but the run died before the crosswalk knew its id
		case e.Before != nil:
			restore = append(restore, e.Before)
		}
	}
	// The undo's own journal: every row as it is before the undo. Inside one transaction a
	// failure is retried by starting the whole undo again, not here.
	schedule := opts.Retry
	if !finish {
		schedule = nil
	}
	return retry(ctx, schedule, nil, func() error {
		if step == undoRestores {
			if len(restore) > 0 {
				n, err := rev.Restore(ctx, obj, restore)
				if err != nil {
					return err
				}
				osum.Restored += n
			}
			if !finish {
				return nil
			}
			return opts.DB.FinishUndo(ctx, p.Name, opts.Undo, opts.RunID, obj.Name, part)
		}
		images, err := rev.Images(ctx, obj, ids)
		if err != nil {
			return err
		}
		byID := map[string][]byte{}
		for _, img := range images {
			if img.ID != "" {
				byID[img.ID] = img.JSON
			}
		}
		js := make([]state.JournalEntry, len(part))
		for i, e := range part {
			js[i] = state.JournalEntry{Object: obj.Name, GoldenID: e.GoldenID, Action: state.JUndo, NewID: e.NewID, Before: byID[e.NewID]}
		}
		if _, err := opts.DB.JournalBefore(ctx, p.Name, opts.RunID, js); err != nil {
			return err
		}
		if len(del) > 0 {
			n, err := rev.Delete(ctx, obj, del)
			if err != nil {
				return err
			}
			osum.Deleted += n
		}
		if len(delKeys) > 0 {
			l, err := newLayout(p, obj)
			if err != nil {
				return err
			}
			n, err := rev.DeleteKeys(ctx, obj, l.spec.KeyColumn, delKeys)
			if err != nil {
				return err
			}
			osum.Deleted += n
		}
		return nil
	})
}
