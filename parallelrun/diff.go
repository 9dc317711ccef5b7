// Package parallelrun is the daily loop of the parallel run: consistency snapshots of old against
// new through the validate engine, the drift history with first-seen times and closings, changes
// still in flight within the sync's grace window, known differences and critical drift.
package parallelrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
	"github.com/crmigrate/crmigrate/validate"
)

// SnapshotVersion is the version of the snapshot's JSON (docs/parallel-run.md).
const SnapshotVersion = 1

// Drift states: a difference is drift, or in flight (changed within the grace window on either
// side), or ignored (a known difference of the plan).
const (
	StateDrift    = "drift"
	StateInFlight = "in_flight"
	StateIgnored  = "ignored"
)

// ErrIncrementalDiffers says that an incremental snapshot (Options.Verify) found something else
// than a full read of the same state: a system whose updated_at does not move with every change.
var ErrIncrementalDiffers = errors.New("the incremental snapshot differs from a full read")

// ErrBackwards is returned for a snapshot as of a time before the plan's last snapshot.
var ErrBackwards = errors.New("snapshots go forward in time")

// ErrNotValidated is returned when no validation passed since the last full migrate.
var ErrNotValidated = errors.New("no validate passed since the last full migrate")

// Options configure a snapshot.
type Options struct {
	DB    *state.DB
	Env   crm.Env
	RunID int64 // the parallel-run run recording it
	// AsOf labels the snapshot and is "now" for the grace window (zero: the current time). The
	// CRMs are read as they are.
	AsOf time.Time
	// Full asks for a full pass: every record read again. Otherwise a snapshot reads only what
	// changed since the last one (kept in CacheDir), unless no full pass ran within
	// parallel_run.full_every.
	Full bool
	// CacheDir is where snapshots keep their reads for the next one ("": every snapshot is a
	// full pass).
	CacheDir string
	// Verify reads everything again after an incremental snapshot and fails with
	// ErrIncrementalDiffers when a full read finds anything else.
	Verify bool
	// Dedup runs the plan's dedup rules against the new CRM in this snapshot; without it they run
	// when no snapshot ran them within parallel_run.full_every.
	Dedup bool
	// Force takes a snapshot even when no validation passed since the last full migrate (the
	// phase runner audits it).
	Force bool
	// Limit is how many drift rows per object the snapshot lists, in each of its lists (0 means
	// 100, negative all); the history in the control database keeps them all.
	Limit        int
	MemoryBudget int64
	Progress     func(object, stage string)
}

// Snapshot is one consistency snapshot of the parallel run, stored as its run's evidence.
type Snapshot struct {
	Version     int                    `json:"version"`
	Result      string                 `json:"result"` // passed, or failed when a fail-severity check failed
	Plan        string                 `json:"plan"`
	RunID       int64                  `json:"run_id"`
	Day         int                    `json:"day"`
	AsOf        time.Time              `json:"as_of"`
	Incremental bool                   `json:"incremental"`
	Dedup       bool                   `json:"dedup"` // it ran the dedup rules against the new CRM
	Objects     []Object               `json:"objects"`
	Checks      []validate.CheckResult `json:"checks"`
	Opened      int64                  `json:"opened"` // drift first seen in this snapshot (any state)
	Closed      int64                  `json:"closed"` // drift of earlier snapshots gone in this one
	ClosedDrift []Drift                `json:"closed_drift"`
	Warnings    []string               `json:"warnings"`
	Seconds     float64                `json:"seconds"`
}

// Object is one object's part of a snapshot: validate's counts, of drift only (differences in
// flight or ignored are counted apart and agree for parity), and its open drift.
type Object struct {
	validate.ObjectResult
	InFlight int64   `json:"in_flight"` // records without drift with a difference in flight
	Ignored  int64   `json:"ignored"`   // records whose differences are all known (parallel_run.ignore)
	Critical int64   `json:"critical"`  // drift rows that a parallel_run.critical rule names
	Drift    []Drift `json:"drift"`     // open drift: critical first, then drift, in flight, ignored; oldest first
}

// Drift is a difference with its history.
type Drift struct {
	validate.Drift
	State     string     `json:"state"`
	Critical  bool       `json:"critical,omitempty"`
	Rule      string     `json:"rule,omitempty"` // ignored: the reason of the rule
	FirstSeen time.Time  `json:"first_seen"`
	FirstDay  int        `json:"first_day"`
	AgeDays   int        `json:"age_days"` // calendar days since it was first seen (0: today)
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
}

// Counts are the snapshot's figures for its run record.
func (s *Snapshot) Counts() map[string]int64 {
	c := map[string]int64{"day": int64(s.Day), "opened": s.Opened, "closed": s.Closed}
	for _, o := range s.Objects {
		c["drift"] += o.MissingInNew + o.MissingInOld + o.Mismatched + o.DuplicatesInNew + o.DuplicatesInOld + o.BrokenRefs
		c["in_flight"] += o.InFlight
		c["ignored"] += o.Ignored
		c["critical"] += o.Critical
	}
	return c
}

// Failed says whether a check of severity fail failed.
func (s *Snapshot) Failed() error { return (&validate.Result{Checks: s.Checks}).Failed() }

// Diff takes a consistency snapshot: validates every object, classifies each difference (drift,
// in flight, ignored; critical or not), evaluates the plan's checks on the drift, and records the
// snapshot with its drift history in the control database in one transaction.
func Diff(ctx context.Context, p *plans.Plan, opts Options) (*Snapshot, error) {
	start := time.Now()
	asOf := opts.AsOf
	if asOf.IsZero() {
		asOf = start
	}
	asOf = asOf.UTC().Truncate(time.Second)
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	if !opts.Force {
		m, v, err := opts.DB.ValidatedSinceFullMigrate(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		if m > v {
			return nil, fmt.Errorf("%w: the last full migrate (run %d) came after the last passed validate; run `crmigrate validate`, or pass --force (audited)",
				ErrNotValidated, m)
		}
	}
	snaps, err := opts.DB.Snapshots(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	day := 1
	// A dedup pass is due when none ran within full_every (a week by default), or asked for.
	dedupPass := true
	for _, sn := range snaps {
		if sn.Dedup && sn.AsOf.After(asOf.Add(-time.Duration(p.ParallelRun.FullEvery))) {
			dedupPass = false
		}
	}
	dedupPass = dedupPass || opts.Dedup
	if len(snaps) > 0 {
		last := snaps[len(snaps)-1]
		if asOf.Before(last.AsOf) {
			return nil, fmt.Errorf("%w: the last snapshot (day %d, run %d) is as of %s, after %s; give a later --as-of",
				ErrBackwards, last.Day, last.RunID, last.AsOf.In(loc).Format(time.RFC3339), asOf.In(loc).Format(time.RFC3339))
		}
		day = calendarDays(snaps[0].AsOf, asOf, loc) + 1
	}
	snap := &Snapshot{Version: SnapshotVersion, Plan: p.Name, RunID: opts.RunID, Day: day, AsOf: asOf, Dedup: dedupPass,
		Objects: []Object{}, Checks: []validate.CheckResult{}, ClosedDrift: []Drift{}, Warnings: []string{}}
	pr := p.ParallelRun
	if pr.MaxDays > 0 && day > pr.MaxDays {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("day %d is past parallel_run.max_days (%d): cut over, or raise max_days", day, pr.MaxDays))
	}
	rules, expired := activeRules(pr.Ignore, asOf, loc)
	for _, r := range expired {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("parallel_run.ignore for %s.%s expired on %s: its differences count as drift again",
			r.Object, r.Field, r.Until))
	}

	vopts := validate.Options{DB: opts.DB, Env: opts.Env, Limit: -1, Progress: opts.Progress, MemoryBudget: opts.MemoryBudget}
	if opts.CacheDir != "" {
		// A snapshot killed while it wrote the cache left its temporary files (snapshots of a plan
		// never overlap: none is being written).
		if tmp, _ := filepath.Glob(filepath.Join(opts.CacheDir, "*.tmp")); len(tmp) > 0 {
			for _, f := range tmp {
				os.Remove(f)
			}
		}
		// Incremental unless asked for a full pass, or none ran within full_every.
		incremental := !opts.Full && len(snaps) > 0
		if incremental {
			full := false
			for _, sn := range snaps {
				if !sn.Incremental && sn.AsOf.After(asOf.Add(-time.Duration(pr.FullEvery))) {
					full = true
				}
			}
			incremental = full
		}
		mark := asOf // no later than the read
		if start.Before(mark) {
			mark = start
		}
		vopts.Cache = &validate.Cache{Dir: opts.CacheDir, Incremental: incremental, Watermark: mark,
			Overlap: time.Duration(pr.Overlap), Written: func(object string, since time.Time) ([]string, error) {
				return opts.DB.WrittenSince(ctx, p.Name, object, since)
			}}
	}
	res, err := validate.Run(ctx, p, vopts)
	if err != nil {
		return nil, err
	}
	for _, or := range res.Objects {
		for _, r := range or.Reads {
			snap.Incremental = snap.Incremental || r.Incremental
		}
	}
	if opts.Verify && snap.Incremental {
		full, err := validate.Run(ctx, p, validate.Options{DB: opts.DB, Env: opts.Env, Limit: -1, MemoryBudget: opts.MemoryBudget})
		if err != nil {
			return nil, fmt.Errorf("verify the incremental snapshot: %w", err)
		}
		if d := validate.Differ(res, full); d != "" {
			// The cached reads led astray: the next snapshot reads everything again.
			os.RemoveAll(opts.CacheDir)
			return nil, fmt.Errorf("%w: %s (the cached reads are dropped: the next snapshot is a full one)", ErrIncrementalDiffers, d)
		}
	}
	// Duplicates in new that the dedup rules find: from this snapshot's dedup pass, or, between
	// passes, as the last one left them (open until a pass finds them gone).
	var found map[string][]validate.Drift
	if dedupPass {
		found = map[string][]validate.Drift{}
		for _, or := range res.Objects {
			if opts.Progress != nil {
				opts.Progress(or.Object, "dedup")
			}
			if found[or.Object], err = validate.DuplicatesInNew(ctx, p, vopts, or.Object); err != nil {
				return nil, err
			}
		}
	} else {
		open, err := opts.DB.OpenDriftFound(ctx, p.Name, validate.FoundByDedup)
		if err != nil {
			return nil, err
		}
		found = map[string][]validate.Drift{}
		for _, h := range open {
			var d validate.Drift
			if err := json.Unmarshal(h.Detail, &d); err != nil {
				return nil, fmt.Errorf("read drift %s/%s/%s: %w", h.Object, h.Class, h.Record, err)
			}
			found[h.Object] = append(found[h.Object], d)
		}
	}
	grace := time.Duration(pr.Grace)
	var seen []state.DriftSeen
	for _, or := range res.Objects {
		or.Drift = withFound(or.Drift, found[or.Object])
		o := classify(or, rules, pr.Critical, asOf, grace)
		for _, d := range o.Drift {
			seen = append(seen, state.DriftSeen{Object: or.Object, Class: d.Class, Field: d.Field, Record: recordOf(d.Drift),
				State: d.State, Critical: d.Critical, Detail: d})
		}
		o.Drift, o.ObjectResult.Drift = nil, nil // kept in seen until recorded
		snap.Objects = append(snap.Objects, o)
	}
	objs := make([]validate.ObjectResult, len(snap.Objects))
	for i, o := range snap.Objects {
		objs[i] = o.ObjectResult
	}
	if snap.Checks, err = validate.EvaluateChecks(ctx, p, vopts, objs, nil); err != nil {
		return nil, err
	}
	snap.Result = "passed"
	if snap.Failed() != nil {
		snap.Result = "failed"
	}
	var drift int64
	for _, s := range seen {
		if s.State == StateDrift {
			drift++
		}
	}
	limit := opts.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 0:
		limit = 0
	}
	_, _, err = opts.DB.RecordSnapshot(ctx, state.Snapshot{Plan: p.Name, RunID: opts.RunID, Day: day, AsOf: asOf, Dedup: dedupPass, Incremental: snap.Incremental,
		Drift: drift, Limit: limit,
		Body: func(opened, closedN int64, open, closed []state.DriftHistory) (any, error) {
			snap.Opened, snap.Closed = opened, closedN
			byObject := map[string][]Drift{}
			for _, h := range open {
				d, err := fromHistory(h, asOf, loc)
				if err != nil {
					return nil, err
				}
				byObject[h.Object] = append(byObject[h.Object], d)
			}
			for i := range snap.Objects {
				snap.Objects[i].Drift = byObject[snap.Objects[i].Object]
				if snap.Objects[i].Drift == nil {
					snap.Objects[i].Drift = []Drift{}
				}
			}
			for _, h := range closed {
				d, err := fromHistory(h, asOf, loc)
				if err != nil {
					return nil, err
				}
				snap.ClosedDrift = append(snap.ClosedDrift, d)
			}
			snap.Seconds = time.Since(start).Seconds()
			return snap, nil
		}}, seen)
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// withFound adds to an object's drift the rows another pass found, except those the comparison
// found too (the same class and record).
func withFound(drift, found []validate.Drift) []validate.Drift {
	if len(found) == 0 {
		return drift
	}
	have := map[string]bool{}
	for _, d := range drift {
		have[d.Class+"\x00"+d.Field+"\x00"+recordOf(d)] = true
	}
	for _, d := range found {
		if !have[d.Class+"\x00"+d.Field+"\x00"+recordOf(d)] {
			drift = append(drift, d)
		}
	}
	return drift
}

// calendarDays is the number of calendar days (in loc) from a to b.
func calendarDays(a, b time.Time, loc *time.Location) int {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	da := time.Date(ay, am, ad, 12, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 12, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// activeRules splits the ignore rules into those that apply on asOf's date (in loc) and those
// whose until date is past.
func activeRules(rules []plans.IgnoreRule, asOf time.Time, loc *time.Location) (active, expired []plans.IgnoreRule) {
	today := asOf.In(loc).Format(time.DateOnly)
	for _, r := range rules {
		if r.Until != "" && r.Until < today {
			expired = append(expired, r)
			continue
		}
		active = append(active, r)
	}
	return active, expired
}

// recordOf identifies a drift's record across snapshots: its golden id, or its id in new.
func recordOf(d validate.Drift) string {
	if d.GoldenID != "" {
		return d.GoldenID
	}
	return "new:" + d.NewID
}

// classify gives each of an object's differences its state and criticality, and recounts the
// object's figures from the drift alone.
func classify(or validate.ObjectResult, ignore []plans.IgnoreRule, critical []plans.CriticalRule, asOf time.Time, grace time.Duration) Object {
	o := Object{ObjectResult: or}
	o.Drift = make([]Drift, 0, len(or.Drift))
	cutoff := asOf.Add(-grace)
	type recState struct{ drift, inFlight, ignored bool }
	records := map[string]*recState{}
	for _, d := range or.Drift {
		x := Drift{Drift: d, State: StateDrift}
		if d.Field != "" && (d.Class == validate.FieldMismatch || d.Class == validate.BrokenRef) {
			for _, r := range ignore {
				if r.Object == or.Object && r.Field == d.Field {
					x.State, x.Rule = StateIgnored, r.Reason
					break
				}
			}
		}
		if x.State == StateDrift && grace > 0 && (after(d.OldChanged, cutoff) || after(d.NewChanged, cutoff)) {
			x.State = StateInFlight
		}
		for _, r := range critical {
			if r.Object == or.Object && classMatches(r.Class, d.Class) && (r.Field == "" || r.Field == d.Field) {
				x.Critical = x.State == StateDrift
			}
		}
		rec := recordOf(d)
		st := records[rec]
		if st == nil {
			st = &recState{}
			records[rec] = st
		}
		switch x.State {
		case StateDrift:
			st.drift = true
		case StateInFlight:
			st.inFlight = true
		default:
			st.ignored = true
		}
		o.Drift = append(o.Drift, x)
	}
	// Recount from the drift.
	o.MissingInNew, o.RefusedInNew, o.LostInNew, o.MissingInOld, o.Mismatched = 0, 0, 0, 0, 0
	o.DuplicatesInNew, o.DuplicatesInOld, o.BrokenRefs = 0, 0, 0
	o.Fields = map[string]int64{}
	mismatched := map[string]bool{}
	for _, d := range o.Drift {
		if d.Critical {
			o.Critical++
		}
		if d.State != StateDrift {
			continue
		}
		switch d.Class {
		case validate.RefusedInNew:
			o.MissingInNew++
			o.RefusedInNew++
		case validate.LostInNew:
			o.MissingInNew++
			o.LostInNew++
		case validate.MissingInOld:
			o.MissingInOld++
		case validate.DuplicateInNew:
			o.DuplicatesInNew++
		case validate.DuplicateInOld:
			o.DuplicatesInOld++
		case validate.BrokenRef:
			o.BrokenRefs++
		case validate.FieldMismatch:
			o.Fields[d.Field]++
			mismatched[recordOf(d.Drift)] = true
		}
	}
	o.Mismatched = int64(len(mismatched))
	// A matched record whose differences are all in flight or known agrees, for parity; records
	// with no drift are counted in flight (some difference in flight) or ignored (all known).
	var agree int64
	counted := map[string]bool{}
	for _, d := range or.Drift {
		rec := recordOf(d)
		if d.Class != validate.FieldMismatch && d.Class != validate.BrokenRef || counted[rec] {
			continue
		}
		counted[rec] = true
		if !records[rec].drift {
			agree++
		}
	}
	for _, st := range records {
		switch {
		case st.drift:
		case st.inFlight:
			o.InFlight++
		case st.ignored:
			o.Ignored++
		}
	}
	o.Identical += agree
	union := o.Old + o.New - o.Matched
	o.Parity = 1
	if union > 0 {
		o.Parity = float64(o.Identical) / float64(union)
	}
	return o
}

// classMatches says whether a critical rule's class names a drift's class: missing_in_new names
// both of its kinds (refused and lost).
func classMatches(rule, class string) bool {
	return rule == class || rule == "missing_in_new" && (class == validate.RefusedInNew || class == validate.LostInNew)
}

// after says whether an RFC 3339 time is after t ("" is not).
func after(ts string, t time.Time) bool {
	if ts == "" {
		return false
	}
	v, err := time.Parse(time.RFC3339, ts)
	return err == nil && v.After(t)
}

// fromHistory is a drift of the history as the snapshot lists it.
func fromHistory(h state.DriftHistory, asOf time.Time, loc *time.Location) (Drift, error) {
	var d Drift
	if err := json.Unmarshal(h.Detail, &d); err != nil {
		return d, fmt.Errorf("read drift %s/%s/%s: %w", h.Object, h.Class, h.Record, err)
	}
	d.State, d.Critical = h.State, h.Critical
	d.FirstSeen, d.FirstDay = h.FirstSeen.UTC(), h.FirstDay
	d.AgeDays = calendarDays(h.FirstSeen, asOf, loc)
	if h.ClosedAt != nil {
		t := h.ClosedAt.UTC()
		d.ClosedAt = &t
	}
	return d, nil
}
