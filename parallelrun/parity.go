package parallelrun

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
	"github.com/crmigrate/crmigrate/validate"
)

// ParityVersion is the version of the parity report's JSON (docs/report-schema.md).
const ParityVersion = 1

// ParityReport is the daily parity report: where old and new stand on one day of the parallel
// run, how that changed since the day before and since day 1, the trend over the whole run, what
// to do about what is left, and the cutover gates the snapshots decide. It is made from the
// stored snapshots and drift history only (never the CRMs); every format is rendered from it.
type ParityReport struct {
	Version    int                  `json:"version"`
	Plan       string               `json:"plan"`
	Day        int                  `json:"day"`
	Date       string               `json:"date"` // the day's date in the plan's time zone
	AsOf       time.Time            `json:"as_of"`
	RunID      int64                `json:"run_id"` // the day's snapshot (its last)
	MinDays    int                  `json:"min_days"`
	MaxDays    int                  `json:"max_days"`
	Result     string               `json:"result"` // the snapshot's: passed, or failed when a fail-severity check failed
	Parity     float64              `json:"parity"` // every object: identical / (old + new - matched)
	Headline   Headline             `json:"headline"`
	Gates      []cutover.GateResult `json:"gates"`
	Objects    []ObjectParity       `json:"objects"`
	Trend      []TrendDay           `json:"trend"`
	Ages       Ages                 `json:"ages"`
	SlowFields []SlowField          `json:"slow_fields"`
	Actions    []ToDo               `json:"actions"`
	Pipeline   []PipelineTotal      `json:"pipeline"` // money fields before and after clean: what duplicates overstated
	Critical   []Drift              `json:"critical"` // critical drift rows (at most 50)
	Samples    []Drift              `json:"samples"`  // a few drift rows per object (at most 5, 2 of a class and field)
	Warnings   []string             `json:"warnings"`
}

// Headline is the report at a glance.
type Headline struct {
	Drifted       int64   `json:"drifted"`       // records with drift (not in flight, not ignored)
	DriftRows     int64   `json:"drift_rows"`    // open differences in state drift
	Critical      int64   `json:"critical"`      // critical drift rows
	InFlight      int64   `json:"in_flight"`     // records whose differences are in flight
	Ignored       int64   `json:"ignored"`       // records whose differences are all known
	Opened        int64   `json:"opened"`        // differences first seen this day
	Closed        int64   `json:"closed"`        // differences gone this day
	Previous      *DayRef `json:"previous"`      // the day before (its last snapshot); nil on day 1
	ParityChange  float64 `json:"parity_change"` // since the day before (0 on day 1)
	DriftedChange int64   `json:"drifted_change"`
	GatesPassed   int     `json:"gates_passed"`
	GatesTotal    int     `json:"gates_total"`
	Summary       string  `json:"summary"` // one sentence
}

// DayRef names a day of the parallel run.
type DayRef struct {
	Day    int     `json:"day"`
	Date   string  `json:"date"`
	RunID  int64   `json:"run_id"`
	Parity float64 `json:"parity"`
}

// ObjectParity is one object's figures on the day, with their change since the day before and
// since day 1.
type ObjectParity struct {
	Object          string           `json:"object"`
	Parity          float64          `json:"parity"`
	ParityYesterday *float64         `json:"parity_yesterday"`
	ParityDay1      float64          `json:"parity_day1"`
	Counts          map[string]int64 `json:"counts"`
	SinceYesterday  map[string]int64 `json:"since_yesterday"` // nil on day 1
	SinceDay1       map[string]int64 `json:"since_day1"`
	Fields          []FieldCount     `json:"fields"` // mismatched records by field, most first (at most 10)
}

// FieldCount is a field's mismatched records.
type FieldCount struct {
	Field          string `json:"field"`
	Mismatched     int64  `json:"mismatched"`
	SinceYesterday int64  `json:"since_yesterday"`
	SinceDay1      int64  `json:"since_day1"`
}

// TrendDay is one day of the run in the trend: its last snapshot.
type TrendDay struct {
	Day     int                `json:"day"`
	Date    string             `json:"date"`
	RunID   int64              `json:"run_id"`
	Parity  float64            `json:"parity"`
	Objects map[string]float64 `json:"objects"` // parity per object
	Drifted int64              `json:"drifted"`
	Opened  int64              `json:"opened"` // differences opened that day (all its snapshots)
	Closed  int64              `json:"closed"`
}

// Ages is how old the open drift is (rows in state drift, by the day first seen).
type Ages struct {
	Open    int64       `json:"open"`
	Older3  int64       `json:"older_than_3_days"`
	Buckets []AgeBucket `json:"buckets"`
}

// AgeBucket counts open drift rows of an age.
type AgeBucket struct {
	Label string `json:"label"`
	Count int64  `json:"count"`
}

// SlowField is a field that is slow to converge: its open drift, how much of it is older than 3
// days, and since when it drifts.
type SlowField struct {
	Object   string `json:"object"`
	Field    string `json:"field"`
	Open     int64  `json:"open"`
	Older3   int64  `json:"older_than_3_days"`
	FirstDay int    `json:"first_day"` // the oldest drift's day
}

// ToDo is what to do about one kind of open drift: its class (and field), how many rows, which
// side is right by the plan, the fix, and the integrations that write the field (with owners).
type ToDo struct {
	Object       string           `json:"object"`
	Class        string           `json:"class"`
	Field        string           `json:"field,omitempty"`
	Count        int64            `json:"count"`
	Critical     int64            `json:"critical"`
	Authority    string           `json:"authority,omitempty"`
	Right        string           `json:"right"` // which side is right: old, new, the side changed last, a person, or neither
	Fix          string           `json:"fix"`
	Action       string           `json:"action"`
	Integrations []IntegrationRef `json:"integrations,omitempty"`
}

// IntegrationRef names an integration that writes a field, and who owns it.
type IntegrationRef struct {
	Name  string `json:"name"`
	Owner string `json:"owner,omitempty"`
}

// PipelineTotal is a money field's total in one currency before clean (every source record, so
// duplicates count as often as they occur) and after (each golden record once): how much the
// duplicates overstated reports such as the pipeline.
type PipelineTotal struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	state.MoneyTotal
	Overstated string  `json:"overstated"` // before − after
	Percent    float64 `json:"percent"`    // overstated / after × 100 (0 when after is 0)
}

// ParityOptions say which day to report.
type ParityOptions struct {
	DB   *state.DB
	Day  int    // the parallel-run day (0: the last)
	Date string // or its date, YYYY-MM-DD in the plan's time zone
}

// ErrNoSnapshot is returned when the parallel run has no snapshot for the day asked.
var ErrNoSnapshot = errors.New("no parallel-run snapshot")

// Parity makes the parity report of a day from the stored snapshots and drift history.
func Parity(ctx context.Context, p *plans.Plan, opts ParityOptions) (*ParityReport, error) {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	sums, err := opts.DB.SnapshotSummaries(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("%w yet: run `crmigrate parallel-run diff --plan %s` first", ErrNoSnapshot, p.Path)
	}
	// One entry per day: its last snapshot, with the day's opened and closed summed.
	type daySnap struct {
		info           state.SnapshotInfo
		snap           Snapshot
		opened, closed int64
	}
	var days []daySnap
	for _, s := range sums {
		var sn Snapshot
		if err := json.Unmarshal(s.Body, &sn); err != nil {
			return nil, fmt.Errorf("read snapshot %d: %w", s.RunID, err)
		}
		if n := len(days); n > 0 && days[n-1].info.Day == s.Day {
			days[n-1].info, days[n-1].snap = s.SnapshotInfo, sn
			days[n-1].opened += sn.Opened
			days[n-1].closed += sn.Closed
			continue
		}
		days = append(days, daySnap{info: s.SnapshotInfo, snap: sn, opened: sn.Opened, closed: sn.Closed})
	}
	at := len(days) - 1
	switch {
	case opts.Day > 0:
		at = slices.IndexFunc(days, func(d daySnap) bool { return d.info.Day == opts.Day })
		if at < 0 {
			return nil, fmt.Errorf("%w on day %d (days with one: %s)", ErrNoSnapshot, opts.Day, dayList(days, func(d daySnap) int { return d.info.Day }))
		}
	case opts.Date != "":
		at = slices.IndexFunc(days, func(d daySnap) bool { return d.info.AsOf.In(loc).Format(time.DateOnly) == opts.Date })
		if at < 0 {
			return nil, fmt.Errorf("%w on %s", ErrNoSnapshot, opts.Date)
		}
	}
	days = days[:at+1] // the report is of that day: later days do not exist for it
	cur := days[at]
	pr := p.ParallelRun
	r := &ParityReport{Version: ParityVersion, Plan: p.Name, Day: cur.info.Day, Date: cur.info.AsOf.In(loc).Format(time.DateOnly),
		AsOf: cur.info.AsOf, RunID: cur.info.RunID, MinDays: pr.MinDays, MaxDays: pr.MaxDays, Result: cur.snap.Result,
		Gates: []cutover.GateResult{}, Objects: []ObjectParity{}, Trend: []TrendDay{}, SlowFields: []SlowField{}, Actions: []ToDo{},
		Critical: []Drift{}, Samples: []Drift{}, Warnings: slices.Clone(cur.snap.Warnings)}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}

	// Trend and the gates' evidence.
	ev := cutover.Evidence{}
	for _, d := range days {
		t := TrendDay{Day: d.info.Day, Date: d.info.AsOf.In(loc).Format(time.DateOnly), RunID: d.info.RunID, Objects: map[string]float64{},
			Opened: d.opened, Closed: d.closed}
		cd := cutover.Day{Day: t.Day, Date: t.Date, RunID: t.RunID, Objects: map[string]cutover.ObjectDay{}}
		t.Parity = overallParity(d.snap.Objects)
		for _, o := range d.snap.Objects {
			t.Objects[o.Object] = o.Parity
			n := drifted(o)
			t.Drifted += n
			cd.Objects[o.Object] = cutover.ObjectDay{Parity: o.Parity, Drifted: n, Critical: o.Critical, OldestDays: -1}
		}
		r.Trend = append(r.Trend, t)
		ev.Days = append(ev.Days, cd)
	}
	if err := checksEvidence(ctx, opts.DB, p, &ev); err != nil {
		return nil, err
	}

	// Per object, against the day before and day 1.
	var prev *daySnap
	if at > 0 {
		prev = &days[at-1]
	}
	first := days[0]
	r.Parity = overallParity(cur.snap.Objects)
	for _, o := range cur.snap.Objects {
		op := ObjectParity{Object: o.Object, Parity: o.Parity, Counts: countsOf(o), Fields: []FieldCount{}}
		if f, ok := objectIn(first.snap, o.Object); ok {
			op.ParityDay1, op.SinceDay1 = f.Parity, minus(op.Counts, countsOf(f))
		}
		var py Object
		if prev != nil {
			if f, ok := objectIn(prev.snap, o.Object); ok {
				py = f
				p := f.Parity
				op.ParityYesterday, op.SinceYesterday = &p, minus(op.Counts, countsOf(f))
			}
		}
		f1, _ := objectIn(first.snap, o.Object)
		for name, n := range o.Fields {
			fc := FieldCount{Field: name, Mismatched: n, SinceDay1: n - f1.Fields[name]}
			if prev != nil {
				fc.SinceYesterday = n - py.Fields[name]
			}
			op.Fields = append(op.Fields, fc)
		}
		slices.SortFunc(op.Fields, func(a, b FieldCount) int {
			return cmp.Or(cmp.Compare(b.Mismatched, a.Mismatched), strings.Compare(a.Field, b.Field))
		})
		if len(op.Fields) > 10 {
			op.Fields = op.Fields[:10]
		}
		r.Objects = append(r.Objects, op)
		h := &r.Headline
		h.Drifted += drifted(o)
		h.Critical += o.Critical
		h.InFlight += o.InFlight
		h.Ignored += o.Ignored
	}
	h := &r.Headline
	h.Opened, h.Closed = cur.opened, cur.closed
	if prev != nil {
		pp := overallParity(prev.snap.Objects)
		h.Previous = &DayRef{Day: prev.info.Day, Date: prev.info.AsOf.In(loc).Format(time.DateOnly), RunID: prev.info.RunID, Parity: pp}
		h.ParityChange = r.Parity - pp
		var pd int64
		for _, o := range prev.snap.Objects {
			pd += drifted(o)
		}
		h.DriftedChange = h.Drifted - pd
	}

	// The open drift as of the day: ages, slow fields, what to do.
	groups, err := opts.DB.DriftOpenAt(ctx, p.Name, cur.info.AsOf)
	if err != nil {
		return nil, err
	}
	r.Ages.Buckets = []AgeBucket{{Label: "today"}, {Label: "1 day"}, {Label: "2–3 days"}, {Label: "4–7 days"}, {Label: "8 days or more"}}
	slow := map[string]*SlowField{}
	todo := map[string]*ToDo{}
	for _, g := range groups {
		if g.State != StateDrift {
			continue
		}
		age := cur.info.Day - g.FirstDay
		r.Ages.Open += g.Count
		h.DriftRows += g.Count
		b := 4
		switch {
		case age <= 0:
			b = 0
		case age == 1:
			b = 1
		case age <= 3:
			b = 2
		case age <= 7:
			b = 3
		}
		r.Ages.Buckets[b].Count += g.Count
		if age > 3 {
			r.Ages.Older3 += g.Count
		}
		if g.Field != "" {
			k := g.Object + "." + g.Field
			s := slow[k]
			if s == nil {
				s = &SlowField{Object: g.Object, Field: g.Field, FirstDay: g.FirstDay}
				slow[k] = s
			}
			s.Open += g.Count
			if age > 3 {
				s.Older3 += g.Count
			}
			s.FirstDay = min(s.FirstDay, g.FirstDay)
		}
		k := g.Object + "\x00" + g.Class + "\x00" + g.Field
		t := todo[k]
		if t == nil {
			t = todoOf(p, g.Object, g.Class, g.Field)
			todo[k] = t
		}
		t.Count += g.Count
		if g.Critical {
			t.Critical += g.Count
		}
	}
	// The gates, with the age of the open drift and what waits for a person.
	last := ev.Days[len(ev.Days)-1]
	for _, g := range groups {
		if od, ok := last.Objects[g.Object]; ok && g.State == StateDrift {
			od.OldestDays = max(od.OldestDays, cur.info.Day-g.FirstDay)
			last.Objects[g.Object] = od
		}
	}
	waiting, err := opts.DB.WaitingOf(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	ev.OpenReviews, ev.Rejects = waiting.Reviews+waiting.AuthorityReviews, waiting.CleanRejects+waiting.MigrateRejects
	r.Gates = cutover.EvaluateGates(p, ev)
	for _, g := range r.Gates {
		h.GatesTotal++
		if g.Result == cutover.Pass {
			h.GatesPassed++
		}
	}
	for _, s := range slow {
		r.SlowFields = append(r.SlowFields, *s)
	}
	slices.SortFunc(r.SlowFields, func(a, b SlowField) int {
		return cmp.Or(cmp.Compare(b.Older3, a.Older3), cmp.Compare(b.Open, a.Open), cmp.Compare(a.FirstDay, b.FirstDay),
			strings.Compare(a.Object, b.Object), strings.Compare(a.Field, b.Field))
	})
	if len(r.SlowFields) > 10 {
		r.SlowFields = r.SlowFields[:10]
	}
	for _, t := range todo {
		r.Actions = append(r.Actions, *t)
	}
	slices.SortFunc(r.Actions, func(a, b ToDo) int {
		return cmp.Or(cmp.Compare(b.Critical, a.Critical), cmp.Compare(b.Count, a.Count), strings.Compare(a.Object, b.Object),
			strings.Compare(a.Class, b.Class), strings.Compare(a.Field, b.Field))
	})

	// What duplicates overstated: every money field, by currency.
	r.Pipeline = []PipelineTotal{}
	for _, o := range p.Objects {
		for i, f := range o.Fields {
			if f.Type != plans.TypeMoney {
				continue
			}
			totals, err := opts.DB.MoneyTotals(ctx, p.Name, o.Name, i, f.Name)
			if err != nil {
				return nil, err
			}
			for _, m := range totals {
				pt := PipelineTotal{Object: o.Name, Field: f.Name, MoneyTotal: m}
				before, ok1 := new(big.Rat).SetString(m.Before)
				after, ok2 := new(big.Rat).SetString(m.After)
				if ok1 && ok2 {
					diff := new(big.Rat).Sub(before, after)
					pt.Overstated = diff.FloatString(2)
					if after.Sign() != 0 {
						pt.Percent, _ = new(big.Rat).Quo(new(big.Rat).Mul(diff, big.NewRat(100, 1)), after).Float64()
					}
				}
				r.Pipeline = append(r.Pipeline, pt)
			}
		}
	}

	// Critical drift and samples, from the history as it stood on the day, objects in the plan's
	// order.
	rank := func(object string) int {
		return slices.IndexFunc(p.Objects, func(o *plans.Object) bool { return o.Name == object })
	}
	for _, critical := range []bool{true, false} {
		rows, err := opts.DB.DriftRowsAt(ctx, p.Name, cur.info.AsOf, critical, map[bool]int{true: 50, false: 5}[critical])
		if err != nil {
			return nil, err
		}
		slices.SortStableFunc(rows, func(a, b state.DriftHistory) int { return cmp.Compare(rank(a.Object), rank(b.Object)) })
		for _, h := range rows {
			d, err := fromHistory(h, cur.info.AsOf, loc)
			if err != nil {
				return nil, err
			}
			if d.ClosedAt != nil && d.ClosedAt.After(cur.info.AsOf) {
				d.ClosedAt = nil // open on the day; closed later
			}
			if critical {
				r.Critical = append(r.Critical, d)
			} else {
				r.Samples = append(r.Samples, d)
			}
		}
	}
	h.Summary = summary(r)
	return r, nil
}

func dayList[T any](days []T, day func(T) int) string {
	var s []string
	for _, d := range days {
		s = append(s, fmt.Sprint(day(d)))
	}
	return strings.Join(s, ", ")
}

func objectIn(s Snapshot, name string) (Object, bool) {
	for _, o := range s.Objects {
		if o.Object == name {
			return o, true
		}
	}
	return Object{}, false
}

// drifted is an object's records with drift, as the snapshot counts them.
func drifted(o Object) int64 {
	return o.MissingInNew + o.MissingInOld + o.Mismatched + o.DuplicatesInNew + o.DuplicatesInOld + o.BrokenRefs
}

// overallParity is the parity of every object together: identical / union.
func overallParity(objs []Object) float64 {
	var identical, union int64
	for _, o := range objs {
		identical += o.Identical
		union += o.Old + o.New - o.Matched
	}
	if union == 0 {
		return 1
	}
	return float64(identical) / float64(union)
}

func countsOf(o Object) map[string]int64 {
	return map[string]int64{"old": o.Old, "new": o.New, "matched": o.Matched, "identical": o.Identical,
		"missing_in_new": o.MissingInNew, "refused_in_new": o.RefusedInNew, "lost_in_new": o.LostInNew, "missing_in_old": o.MissingInOld,
		"mismatched": o.Mismatched, "duplicates_in_new": o.DuplicatesInNew, "duplicates_in_old": o.DuplicatesInOld,
		"broken_refs": o.BrokenRefs, "in_flight": o.InFlight, "ignored": o.Ignored, "critical": o.Critical, "drifted": drifted(o)}
}

func minus(a, b map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(a))
	for k, v := range a {
		out[k] = v - b[k]
	}
	return out
}

// todoOf says what to do about open drift of a class (and field) of an object, by the plan.
func todoOf(p *plans.Plan, object, class, field string) *ToDo {
	t := &ToDo{Object: object, Class: class, Field: field}
	var f *plans.Field
	if o := p.Object(object); o != nil && field != "" {
		f = o.Field(field)
	}
	if f != nil {
		for _, in := range p.Integrations {
			if slices.Contains(in.Fields, object+"."+field) {
				t.Integrations = append(t.Integrations, IntegrationRef{Name: in.Name, Owner: in.Owner})
			}
		}
	}
	writers := ""
	for i, in := range t.Integrations {
		if i > 0 {
			writers += ", "
		}
		writers += in.Name
		if in.Owner != "" {
			writers += " (" + in.Owner + ")"
		}
	}
	switch class {
	case validate.LostInNew:
		t.Right, t.Fix, t.Action = "old", FixCreateNew, "`crmigrate parallel-run reconcile` writes them to new again"
	case validate.RefusedInNew:
		t.Right, t.Fix, t.Action = "old", FixData, "the new CRM refuses them: fix the records in old or the plan's value maps, then clean and migrate"
	case validate.MissingInOld:
		t.Right, t.Fix, t.Action = "neither", FixOldSide, "records only in new: find what creates them there (an integration?), then create them in old or delete them in new"
	case validate.DuplicateInNew:
		t.Right, t.Fix, t.Action = "old", FixMergeNew, "merge the duplicates in the new CRM, and stop what creates them"
	case validate.DuplicateInOld:
		t.Right, t.Fix, t.Action = "neither", FixOldSide, "decide the pairs in `crmigrate review`, then clean"
	default: // field_mismatch, broken_ref
		auth := plans.AuthorityOld
		if f != nil && f.Authority != "" {
			auth = f.Authority
		}
		t.Authority = auth
		switch auth {
		case plans.AuthorityOld:
			t.Right, t.Fix, t.Action = "old", FixOldToNew, "`crmigrate parallel-run reconcile` writes old's values to new"
			if writers != "" {
				t.Action = "fix the integration that writes it in new (" + writers + "), then `crmigrate parallel-run reconcile`"
			}
		case plans.AuthorityNew:
			t.Right, t.Fix, t.Action = "new", FixNewToOld, "new is right: change old, or add a parallel_run.ignore rule if the difference is expected"
			if writers != "" {
				t.Action = "new is right (written by " + writers + "): change old, or add a parallel_run.ignore rule if the difference is expected"
			}
		case plans.AuthorityMostRecent:
			t.Right, t.Fix, t.Action = "the side changed last", FixOldToNew, "`crmigrate parallel-run reconcile` copies the latest value (old's to new; new's are listed for old)"
		case plans.AuthorityReview:
			t.Right, t.Fix, t.Action = "a person", FixReview, "`crmigrate parallel-run reconcile`, then decide them in `crmigrate parallel-run review`"
		}
	}
	return t
}

// summary is the report in one sentence.
func summary(r *ParityReport) string {
	h := r.Headline
	var b strings.Builder
	fmt.Fprintf(&b, "Day %d of %d–%d: parity %.2f %%", r.Day, r.MinDays, r.MaxDays, r.Parity*100)
	if h.Previous != nil {
		fmt.Fprintf(&b, " (%+.2f since day %d)", h.ParityChange*100, h.Previous.Day)
	}
	fmt.Fprintf(&b, ", %d records drift", h.Drifted)
	if h.Previous != nil {
		fmt.Fprintf(&b, " (%+d)", h.DriftedChange)
	}
	switch {
	case h.Critical > 0:
		fmt.Fprintf(&b, ", %d critical", h.Critical)
	default:
		b.WriteString(", none critical")
	}
	if h.GatesTotal > 0 {
		fmt.Fprintf(&b, "; gates %d of %d pass", h.GatesPassed, h.GatesTotal)
	}
	if r.Day < r.MinDays {
		fmt.Fprintf(&b, "; %d more days before cutover may be GO", r.MinDays-r.Day)
	}
	b.WriteString(".")
	return b.String()
}

// checksEvidence adds the last validate's checks to the gates' evidence.
func checksEvidence(ctx context.Context, db *state.DB, p *plans.Plan, ev *cutover.Evidence) error {
	id, status, raw, err := db.LastChecks(ctx, p.Name)
	if err != nil || id == 0 {
		return err
	}
	var checks []validate.CheckResult
	if raw != nil {
		if err := json.Unmarshal(raw, &checks); err != nil {
			return fmt.Errorf("read validate run %d's checks: %w", id, err)
		}
	}
	ev.ValidateRun, ev.ValidateStatus, ev.Checks = id, status, map[string]string{}
	for _, c := range checks {
		ev.Checks[c.Name] = c.Result
		if c.Severity == "fail" && c.Result != "pass" {
			ev.CheckFailed = append(ev.CheckFailed, c.Name)
		}
	}
	return nil
}
