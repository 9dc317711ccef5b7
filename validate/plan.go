package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// More drift classes of the plan's diff.
const (
	RefusedInNew = "refused_in_new" // missing in new: migrate tried and the new CRM refused it
	LostInNew    = "lost_in_new"    // missing in new: never written, or gone since
	BrokenRef    = "broken_ref"
)

// ResultVersion is the version of the validate result's JSON (docs/validate.md).
const ResultVersion = 1

// Options configure a validation through the plan.
type Options struct {
	DB  *state.DB
	Env crm.Env
	// Objects limits the comparison to these objects (nil: every object).
	Objects []string
	// Limit is how many drift rows each object keeps with their values (0 means 100).
	Limit int
	// Progress, when set, is told about each object as it is read.
	Progress func(object, stage string)
	// MemoryBudget bounds what validation holds (0 means DefaultMemoryBudget): an object whose
	// golden records would not fit is validated in several passes, each holding one hash
	// partition of them.
	MemoryBudget int64
	// Passes forces the number of passes per object (0: from the budget); for tests.
	Passes int
	// Cache keeps what validation reads for the next one, and reads incrementally from it (see
	// Cache); nil reads everything and keeps nothing.
	Cache *Cache
	// SkipKnown leaves out the fields that a parallel_run.ignore rule covers today (a known
	// difference, e.g. a field the new CRM computes): listed in ObjectResult.Known. The parallel
	// run's diff compares them and counts them apart instead.
	SkipKnown bool
}

// DefaultMemoryBudget is validation's default memory budget.
const DefaultMemoryBudget = 1 << 30

// Result is a validation's outcome, stored as the validate run's evidence.
type Result struct {
	Version int            `json:"version"`
	Mode    string         `json:"mode"` // "plan"
	Plan    string         `json:"plan"`
	RunID   int64          `json:"run_id"`
	Result  string         `json:"result"` // passed, or failed when a fail-severity check failed
	Objects []ObjectResult `json:"objects"`
	Checks  []CheckResult  `json:"checks"`
	Seconds float64        `json:"seconds"`
}

// ObjectResult is one object's comparison.
type ObjectResult struct {
	Object          string            `json:"object"`
	Old             int64             `json:"old"` // records expected in new (golden records, and records created in old since clean)
	New             int64             `json:"new"` // records in new
	Matched         int64             `json:"matched"`
	Identical       int64             `json:"identical"`
	MissingInNew    int64             `json:"missing_in_new"`
	RefusedInNew    int64             `json:"refused_in_new"` // of missing_in_new
	LostInNew       int64             `json:"lost_in_new"`    // of missing_in_new
	MissingInOld    int64             `json:"missing_in_old"`
	Mismatched      int64             `json:"mismatched"`
	DuplicatesInNew int64             `json:"duplicates_in_new"`
	DuplicatesInOld int64             `json:"duplicates_in_old"`
	BrokenRefs      int64             `json:"broken_refs"`
	Parity          float64           `json:"parity"`
	MatchedBy       map[string]int64  `json:"matched_by"` // crosswalk, key
	Fields          map[string]int64  `json:"fields"`     // mismatched records per field
	Compared        []string          `json:"compared"`   // fields compared
	Skipped         []string          `json:"skipped,omitempty"`
	Known           map[string]string `json:"known,omitempty"` // fields left out as known differences (SkipKnown) → why
	Drift           []Drift           `json:"drift"`
	DriftTruncated  bool              `json:"drift_truncated,omitempty"`
	// Seconds spent reading staging and the crosswalk (index), the sources (old) and the new CRM
	// while comparing (new).
	Seconds Timing `json:"seconds"`
	// Passes is how many passes over both sides the memory budget took (1 for most objects).
	Passes int `json:"passes"`
	// Reads says how each system was read, when validation keeps its reads (Options.Cache).
	Reads []SourceRead `json:"reads,omitempty"`
}

// Timing is where an object's validation spent its time, in seconds.
type Timing struct {
	Index float64 `json:"index"`
	Old   float64 `json:"old"`
	New   float64 `json:"new"`
}

// Drift is one difference between old and new, with the values (canonical) on both sides.
type Drift struct {
	Class    string   `json:"class"`
	GoldenID string   `json:"golden_id,omitempty"`
	OldIDs   []string `json:"old_ids,omitempty"` // SOURCE:ID of the records it comes from
	NewID    string   `json:"new_id,omitempty"`
	Key      string   `json:"key,omitempty"`
	// MatchedBy says how a matched pair was matched: crosswalk or key.
	MatchedBy string `json:"matched_by,omitempty"`
	Field     string `json:"field,omitempty"`
	Type      string `json:"type,omitempty"` // the field's type, for masking
	Old       string `json:"old,omitempty"`
	New       string `json:"new,omitempty"`
	Reason    string `json:"reason,omitempty"` // refused_in_new: the new CRM's reason; broken_ref: what is wrong
	// When the record last changed on each side, as far as the mappings' updated_at say (RFC 3339,
	// UTC): the latest of its source records in old, the record in new.
	OldChanged string `json:"old_changed,omitempty"`
	NewChanged string `json:"new_changed,omitempty"`
	// Found says which pass found it when not the comparison: "dedup" (DuplicatesInNew).
	Found string `json:"found,omitempty"`
}

// CheckResult is one of the plan's checks, evaluated.
type CheckResult struct {
	Name      string  `json:"name"`
	Object    string  `json:"object,omitempty"`
	Limit     string  `json:"limit,omitempty"` // which limit (max_missing_in_new, …) or "sql"
	Severity  string  `json:"severity"`
	Observed  float64 `json:"observed"`
	Threshold string  `json:"threshold"`
	Result    string  `json:"result"` // pass, fail, warn (failed with severity warn) or error
	Detail    string  `json:"detail,omitempty"`
}

// Counts are the run's counts for the runs table.
func (r *Result) Counts() map[string]int64 {
	c := map[string]int64{}
	for _, o := range r.Objects {
		c["matched"] += o.Matched
		c["identical"] += o.Identical
		c["missing_in_new"] += o.MissingInNew
		c["missing_in_old"] += o.MissingInOld
		c["mismatched"] += o.Mismatched
		c["broken_refs"] += o.BrokenRefs
	}
	for _, ch := range r.Checks {
		if ch.Result == "fail" || ch.Result == "error" {
			c["checks_failed"]++
		}
	}
	return c
}

// ErrChanged is returned when staging or the crosswalk changed while validation read them (a
// clean or a migrate ran meanwhile): the result would mix two states.
var ErrChanged = errors.New("staging or the crosswalk changed during validation")

// ErrChecksFailed is wrapped by Failed's error.
var ErrChecksFailed = errors.New("validation checks failed")

// Failed returns an error naming the fail-severity checks that failed, or nil.
func (r *Result) Failed() error {
	var names []string
	for _, c := range r.Checks {
		if c.Result == "fail" || c.Result == "error" {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrChecksFailed, strings.Join(names, ", "))
}

// Run validates the plan: for every object, what the new CRM should hold (the merge rules applied
// to the current values of every source record, through the plan's mapping) against what it
// holds, read through the same mapping and normalized the same way.
func Run(ctx context.Context, p *plans.Plan, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Limit == 0 {
		opts.Limit = 100
	}
	norm := normalize.New(normalize.OptionsFromPlan(p))
	v := &validator{p: p, opts: opts, norm: norm, seed: maphash.MakeSeed(), sets: map[string]*goldenSet{}, done: map[string]bool{},
		began: start, fresh: map[string]bool{}, noCache: map[string]string{}, reads: map[string][]SourceRead{}}
	res := &Result{Version: ResultVersion, Mode: "plan", Plan: p.Name, Objects: []ObjectResult{}, Checks: []CheckResult{}}
	want := map[string]bool{}
	for _, o := range opts.Objects {
		if p.Object(o) == nil {
			return nil, fmt.Errorf("validate: the plan has no object %q", o)
		}
		want[o] = true
	}
	stamp, err := opts.DB.StagingStamp(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	if err := v.loadUsers(ctx); err != nil {
		return nil, err
	}
	var todo []*plans.Object
	for _, obj := range p.DependencyOrder() {
		if obj.Mapping(plans.SystemNew) == nil {
			continue
		}
		if len(want) > 0 && !want[obj.Name] {
			continue
		}
		todo = append(todo, obj)
	}
	for i, obj := range todo {
		v.keepSets(todo[i:])
		or, err := v.object(ctx, obj)
		if err != nil {
			return nil, err
		}
		res.Objects = append(res.Objects, *or)
	}
	for i := range res.Objects {
		o := &res.Objects[i]
		o.Reads = v.reads[o.Object]
		slices.SortStableFunc(o.Reads, func(a, b SourceRead) int { // the sources first, then new
			return cmp.Compare(b2i(a.System == plans.SystemNew), b2i(b.System == plans.SystemNew))
		})
	}
	if again, err := opts.DB.StagingStamp(ctx, p.Name); err != nil {
		return nil, err
	} else if again != stamp {
		return nil, fmt.Errorf("%w (a clean or a migrate ran meanwhile); run validate again", ErrChanged)
	}
	checks, err := EvaluateChecks(ctx, p, opts, res.Objects, want)
	if err != nil {
		return nil, err
	}
	res.Checks = checks
	res.Result = "passed"
	if res.Failed() != nil {
		res.Result = "failed"
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
