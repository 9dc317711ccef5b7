package parallelrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/phase"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
	"github.com/crmigrate/crmigrate/validate"
)

// ReconcileVersion is the version of the reconciliation's JSON (docs/parallel-run.md).
const ReconcileVersion = 1

// Fixes reconcile recommends.
const (
	FixOldToNew  = "copy_old_to_new" // write the golden record's values to new again (migrate's write path)
	FixCreateNew = "create_in_new"   // write the missing record to new
	FixNewToOld  = "copy_new_to_old" // new is right: old should take its value
	FixReview    = "review"          // a person decides
	FixData      = "fix_data"        // the new CRM refuses the record: fix its data or the plan, then migrate
	FixMergeNew  = "merge_in_new"    // two records in new are one: merge them there
	FixOldSide   = "fix_old"         // the difference is old's to settle (duplicates in old, records only in new)
	FixSync      = "sync"            // a record clean has not staged yet: the next migrate --delta writes it
)

// staged says whether a golden id is staging's (records clean has not seen have group ids).
func staged(golden string) bool {
	return golden != "" && !strings.HasPrefix(golden, "key:") && !strings.HasPrefix(golden, "rec:")
}

// ReconcileOptions configure a reconciliation.
type ReconcileOptions struct {
	DB     *state.DB
	Env    crm.Env
	RunID  int64 // the reconcile run; the writes are journaled under it (migrate undo --run undoes them)
	DryRun bool  // say what would be done, and predict the writes (migrate's dry run), write nothing
	Class  string
	Object string
	Limit  int // at most this many drift rows acted on (0: all)
	// Force acts on a snapshot that a later write (migrate, reconcile, undo, clean) may have made
	// stale.
	Force bool
}

// ErrStale is returned when something wrote staging or the new CRM after the last snapshot.
var ErrStale = errors.New("the last snapshot is older than the last write")

// Reconciliation is what reconcile did, stored as its run's report.
type Reconciliation struct {
	Version  int              `json:"version"`
	Plan     string           `json:"plan"`
	RunID    int64            `json:"run_id"`
	DryRun   bool             `json:"dry_run"`
	Actions  []Action         `json:"actions"`
	Applied  int64            `json:"applied"`  // drift rows whose fix was written
	Left     int64            `json:"left"`     // drift rows whose fix reconcile does not write
	Migrate  *migrate.Summary `json:"migrate"`  // the writes to new (nil when none)
	Snapshot int64            `json:"snapshot"` // the snapshot whose drift it read (run id)
	Seconds  float64          `json:"seconds"`
}

// Action is one drift row and its fix.
type Action struct {
	Object    string `json:"object"`
	Class     string `json:"class"`
	Field     string `json:"field,omitempty"`
	Record    string `json:"record"`
	Authority string `json:"authority,omitempty"`
	Fix       string `json:"fix"`
	Applied   bool   `json:"applied"`
	Why       string `json:"why,omitempty"`     // when not applied: why not, and what to do
	Review    int64  `json:"review,omitempty"`  // the authority review waiting for a person (`crmigrate parallel-run review`)
	Decided   string `json:"decided,omitempty"` // the side a person decided is right (old or new), when that made the fix

	newID, newChanged string                 // the record in new and when the snapshot saw it change
	review            *state.AuthorityReview // what a person is to decide (Fix review)
}

// Counts are the reconciliation's figures for its run record.
func (r *Reconciliation) Counts() map[string]int64 {
	c := map[string]int64{"applied": r.Applied, "left": r.Left}
	if r.Migrate != nil {
		c["inserted"], c["updated"], c["rejected"] = r.Migrate.Inserted, r.Migrate.Updated, r.Migrate.Rejected
	}
	return c
}

// Reconcile applies the plan's per-field authority to the open drift of the last snapshot: where
// old is right (authority old, or most_recent with old changed last, or a record lost in new), the
// golden record is written to new again through migrate's write path (crosswalk, journal, undo);
// every other fix is listed with why reconcile does not write it. The next diff shows what it
// fixed closed.
func Reconcile(ctx context.Context, p *plans.Plan, opts ReconcileOptions) (*Reconciliation, error) {
	start := time.Now()
	rec := &Reconciliation{Version: ReconcileVersion, Plan: p.Name, RunID: opts.RunID, DryRun: opts.DryRun, Actions: []Action{}}
	snaps, err := opts.DB.Snapshots(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	if len(snaps) == 0 {
		return nil, fmt.Errorf("no snapshot to reconcile: run `crmigrate parallel-run diff` first")
	}
	rec.Snapshot = snaps[len(snaps)-1].RunID
	if !opts.Force {
		id, ph, err := opts.DB.WroteSince(ctx, p.Name, rec.Snapshot, []string{phase.Migrate, phase.Reconcile, phase.Undo, phase.Clean}, phase.Reconcile)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			return nil, fmt.Errorf("%w: %s run %d ended after snapshot %d began; run `crmigrate parallel-run diff` first (or pass --force)",
				ErrStale, ph, id, rec.Snapshot)
		}
	}
	open, err := opts.DB.OpenDrift(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	reviews, err := opts.DB.AuthorityReviews(ctx, p.Name, "", "")
	if err != nil {
		return nil, err
	}
	dec := map[string]state.AuthorityReview{}
	for _, r := range reviews {
		dec[r.Object+"\x00"+r.Record+"\x00"+r.Field] = r
	}
	// A record is written again only when every difference it has is one reconcile fixes from old:
	// writing it would overwrite any other (new is right, a person decides, a known difference, a
	// change in flight).
	blocked := map[string]string{} // OBJECT\x00RECORD → the first difference that keeps it from being written
	for _, h := range open {
		var d validate.Drift
		if err := json.Unmarshal(h.Detail, &d); err != nil {
			return nil, fmt.Errorf("read drift %s/%s/%s: %w", h.Object, h.Class, h.Record, err)
		}
		k := h.Object + "\x00" + h.Record
		if _, ok := blocked[k]; ok {
			continue
		}
		a := fixOf(p, h, d, dec)
		if h.State == StateDrift && a.Fix == FixNewToOld && a.Authority == plans.AuthorityNew && d.New != "" {
			continue // written as a delta run, the record keeps new's value there (WriteSpec.Keep keeps what is not empty)
		}
		if opts.Class != "" && !classMatches(opts.Class, h.Class) || opts.Object != "" && h.Object != opts.Object {
			what := h.Class
			if h.Field != "" {
				what += " of " + h.Field
			}
			blocked[k] = "the record also has a " + what + " outside --class/--object that writing it would fix unasked; widen the filter"
			continue
		}
		if h.State != StateDrift || a.Fix != FixOldToNew && a.Fix != FixCreateNew {
			what := h.Class
			if h.Field != "" {
				what += " of " + h.Field
			}
			blocked[k] = fmt.Sprintf("the record also has a %s (%s, %s) that writing it would overwrite; fix it by hand", what, h.State, a.Fix)
		}
	}
	only := map[string][]string{}
	for _, h := range open {
		if h.State != StateDrift || opts.Class != "" && !classMatches(opts.Class, h.Class) || opts.Object != "" && h.Object != opts.Object {
			continue
		}
		if opts.Limit > 0 && len(rec.Actions) >= opts.Limit {
			break
		}
		var d validate.Drift
		if err := json.Unmarshal(h.Detail, &d); err != nil {
			return nil, fmt.Errorf("read drift %s/%s/%s: %w", h.Object, h.Class, h.Record, err)
		}
		a := fixOf(p, h, d, dec)
		a.newID, a.newChanged = d.NewID, d.NewChanged
		if a.Fix == FixOldToNew || a.Fix == FixCreateNew {
			if why, ok := blocked[h.Object+"\x00"+h.Record]; ok {
				a.Why = why
			} else {
				a.Applied = true // until migrate says otherwise
				only[h.Object] = append(only[h.Object], d.GoldenID)
			}
		}
		rec.Actions = append(rec.Actions, a)
	}
	// A record that changed in new since the snapshot is not written on its word: the change may be
	// one new is right about.
	for o := range only {
		since := map[string]string{} // id in new → its change time as the snapshot saw it
		for _, a := range rec.Actions {
			if a.Object == o && a.Applied && a.newID != "" {
				since[a.newID] = a.newChanged
			}
		}
		if len(since) == 0 {
			continue
		}
		changed, err := validate.ChangedInNew(ctx, p, validate.Options{DB: opts.DB, Env: opts.Env}, o, since)
		if err != nil {
			return nil, err
		}
		gone := map[string]bool{}
		for i := range rec.Actions {
			if a := &rec.Actions[i]; a.Object == o && a.Applied && changed[a.newID] {
				a.Applied, a.Why = false, "changed in new since the snapshot: run `crmigrate parallel-run diff` again"
				gone[a.Record] = true
			}
		}
		kept := only[o][:0]
		for _, g := range only[o] {
			if !gone[g] {
				kept = append(kept, g)
			}
		}
		only[o] = kept
		if len(kept) == 0 {
			delete(only, o)
		}
	}
	if len(only) > 0 {
		for o, ids := range only {
			slices.Sort(ids)
			only[o] = slices.Compact(ids)
		}
		// As a delta run: the records changed in the sources since the last migrate are re-cleaned
		// into staging first, so that what is written is old as it is now, as the diff compared it.
		sum, err := migrate.Run(ctx, p, migrate.Options{DB: opts.DB, Env: opts.Env, RunID: opts.RunID, DryRun: opts.DryRun,
			Delta: true, Only: only})
		rec.Migrate = sum
		if err != nil {
			for i := range rec.Actions {
				if a := &rec.Actions[i]; a.Applied {
					a.Applied, a.Why = false, "not confirmed: the write stopped ("+err.Error()+"); run reconcile again"
				}
			}
			return rec, err
		}
		// The re-clean may have dropped a golden record (deleted in old since the snapshot): it
		// was not written.
		for o, ids := range only {
			staged, err := opts.DB.StagedOf(ctx, p.Name, o, ids)
			if err != nil {
				return rec, err
			}
			for i := range rec.Actions {
				if a := &rec.Actions[i]; a.Object == o && a.Applied && !staged[a.Record] {
					a.Applied, a.Why = false, "no longer staged (deleted in old since the snapshot): nothing to write"
				}
			}
		}
		// What the new CRM refused (or the settling of unique values kept out) was not written.
		refused := map[string]map[string]string{}
		if !opts.DryRun {
			if refused, err = opts.DB.RefusedIn(ctx, opts.RunID); err != nil {
				return rec, err
			}
		}
		for i := range rec.Actions {
			a := &rec.Actions[i]
			if why, ok := refused[a.Object][a.Record]; ok && a.Applied {
				a.Applied, a.Why = false, "the new CRM refused it: "+why
			}
		}
	}
	// What a person decides waits in the authority reviews (`crmigrate parallel-run review`).
	var ask []state.AuthorityReview
	var at []int
	for i, a := range rec.Actions {
		if a.Fix == FixReview && a.review != nil {
			ask, at = append(ask, *a.review), append(at, i)
		}
	}
	if len(ask) > 0 && !opts.DryRun {
		ids, err := opts.DB.UpsertAuthorityReviews(ctx, p.Name, opts.RunID, ask)
		if err != nil {
			return rec, err
		}
		for k, i := range at {
			rec.Actions[i].Review = ids[k]
		}
	}
	for _, a := range rec.Actions {
		if a.Applied {
			rec.Applied++
		} else {
			rec.Left++
		}
	}
	rec.Seconds = time.Since(start).Seconds()
	return rec, nil
}

// fixOf decides a drift row's fix by its class and its field's authority; where a person
// decides, by their decision (dec, by OBJECT NUL RECORD NUL FIELD) when it was made on the values
// the drift has now.
func fixOf(p *plans.Plan, h state.DriftHistory, d validate.Drift, dec map[string]state.AuthorityReview) Action {
	a := Action{Object: h.Object, Class: h.Class, Field: h.Field, Record: h.Record}
	switch h.Class {
	case validate.RefusedInNew:
		a.Fix, a.Why = FixData, "the new CRM refused it ("+d.Reason+"): fix the record in old or the plan's value maps, then clean and migrate"
		return a
	case validate.LostInNew:
		a.Fix = FixCreateNew
		if !staged(d.GoldenID) {
			a.Fix, a.Why = FixSync, "created in old since the last clean: the next `crmigrate migrate --delta` writes it"
		}
		return a
	case validate.MissingInOld:
		a.Fix, a.Why = FixOldSide, "only in new: create it in old, or delete it in new (reconcile does neither)"
		return a
	case validate.DuplicateInNew:
		a.Fix, a.Why = FixMergeNew, "merge the two records in the new CRM ("+d.Reason+")"
		return a
	case validate.DuplicateInOld:
		a.Fix, a.Why = FixOldSide, "two golden records share a key: decide them in `crmigrate review`, then clean"
		return a
	}
	// field_mismatch, broken_ref: the field's authority says which side is right.
	auth := plans.AuthorityOld
	if o := p.Object(h.Object); o != nil {
		if i := o.FieldIndex(h.Field); i >= 0 {
			auth = o.Fields[i].Authority
		}
	}
	a.Authority = auth
	oldRight := false
	person := "" // why a person decides
	switch auth {
	case plans.AuthorityOld:
		oldRight = true
	case plans.AuthorityMostRecent:
		switch {
		case d.OldChanged == "" || d.NewChanged == "":
			person = "authority most_recent, but a side has no change time (updated_at)"
		case d.OldChanged >= d.NewChanged:
			oldRight = true
		}
	case plans.AuthorityReview:
		person = "authority review"
	}
	if person != "" {
		r, ok := dec[h.Object+"\x00"+h.Record+"\x00"+h.Field]
		switch {
		case ok && r.Old == d.Old && r.New == d.New && r.Status == state.AuthorityOld:
			oldRight, a.Decided = true, state.AuthorityOld
		case ok && r.Old == d.Old && r.New == d.New && r.Status == state.AuthorityNew:
			a.Decided = state.AuthorityNew
		default:
			a.Fix, a.Why = FixReview, person+": a person decides which side is right (`crmigrate parallel-run review list`, then `review decide --side old|new ID`); the next reconcile applies it"
			a.review = &state.AuthorityReview{Object: h.Object, Record: h.Record, Field: h.Field, NewID: d.NewID, Old: d.Old, New: d.New, Why: person}
			return a
		}
	}
	if oldRight {
		a.Fix = FixOldToNew
		if d.MatchedBy == "key" {
			a.Fix, a.Why = FixReview, "matched by key, not through the crosswalk: writing it would create a second record in new; link or fix it by hand"
			return a
		}
		if !staged(d.GoldenID) {
			a.Fix, a.Why = FixSync, "changed in old since the last clean: the next `crmigrate migrate --delta` writes it"
		}
		return a
	}
	a.Fix = FixNewToOld
	by := "authority " + auth
	if a.Decided != "" {
		by = "decided by a person"
	}
	if !p.ParallelRun.ReconcileOld {
		a.Why = "new is right (" + by + "): old takes the value by hand, or set parallel_run.reconcile_old (writing old is not built yet)"
	} else {
		a.Why = "new is right (" + by + "): writing to the old CRM is not built yet; change it there by hand"
	}
	return a
}
