package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/merge"
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
}

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
	Object          string           `json:"object"`
	Old             int64            `json:"old"` // records expected in new (golden records, and records created in old since clean)
	New             int64            `json:"new"` // records in new
	Matched         int64            `json:"matched"`
	Identical       int64            `json:"identical"`
	MissingInNew    int64            `json:"missing_in_new"`
	RefusedInNew    int64            `json:"refused_in_new"` // of missing_in_new
	LostInNew       int64            `json:"lost_in_new"`    // of missing_in_new
	MissingInOld    int64            `json:"missing_in_old"`
	Mismatched      int64            `json:"mismatched"`
	DuplicatesInNew int64            `json:"duplicates_in_new"`
	DuplicatesInOld int64            `json:"duplicates_in_old"`
	BrokenRefs      int64            `json:"broken_refs"`
	Parity          float64          `json:"parity"`
	MatchedBy       map[string]int64 `json:"matched_by"` // crosswalk, key
	Fields          map[string]int64 `json:"fields"`     // mismatched records per field
	Compared        []string         `json:"compared"`   // fields compared
	Skipped         []string         `json:"skipped,omitempty"`
	Drift           []Drift          `json:"drift"`
	DriftTruncated  bool             `json:"drift_truncated,omitempty"`
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

// objIndex is what other objects need of an object: how source records, golden records and the
// new CRM's ids relate.
type objIndex struct {
	member   map[string]string // SOURCE\x00ID → golden id (staging)
	newOf    map[string]string // golden id → id in new (active crosswalk)
	goldenOf map[string]string // id in new → golden id
	keyOf    map[string]string // canonical key → golden id (crosswalk)
	oldIDs   map[string][]string
	inNew    map[string]bool // ids the new CRM holds
}

func memberKey(source, id string) string { return source + "\x00" + id }

// Run validates the plan: for every object, what the new CRM should hold (the merge rules applied
// to the current values of every source record, through the plan's mapping) against what it
// holds, read through the same mapping and normalized the same way.
func Run(ctx context.Context, p *plans.Plan, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Limit == 0 {
		opts.Limit = 100
	}
	norm := normalize.New(normalize.OptionsFromPlan(p))
	v := &validator{p: p, opts: opts, norm: norm, index: map[string]*objIndex{}}
	res := &Result{Version: ResultVersion, Mode: "plan", Plan: p.Name, Objects: []ObjectResult{}, Checks: []CheckResult{}}
	want := map[string]bool{}
	for _, o := range opts.Objects {
		if p.Object(o) == nil {
			return nil, fmt.Errorf("validate: the plan has no object %q", o)
		}
		want[o] = true
	}
	if err := v.loadUsers(ctx); err != nil {
		return nil, err
	}
	for _, obj := range p.DependencyOrder() {
		if obj.Mapping(plans.SystemNew) == nil {
			continue
		}
		if len(want) > 0 && !want[obj.Name] {
			continue
		}
		or, err := v.object(ctx, obj)
		if err != nil {
			return nil, err
		}
		res.Objects = append(res.Objects, *or)
	}
	checks, err := evaluateChecks(ctx, p, opts, res.Objects, want)
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

type validator struct {
	p     *plans.Plan
	opts  Options
	norm  *normalize.Normalizer
	index map[string]*objIndex
	// The new CRM's users: email (lower case) → id and back; nil when owners are written as emails.
	userID    map[string]string
	userEmail map[string]string
}

func (v *validator) loadUsers(ctx context.Context) error {
	if v.p.Users.Table == "" {
		return nil
	}
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	lk, ok := src.(crm.Lookup)
	if !ok {
		return fmt.Errorf("users.table is set but the new system (kind %s) cannot look users up", v.p.New().Kind)
	}
	m, err := lk.Lookup(ctx, v.p.Users.Table, v.p.Users.Email, v.p.Users.ID)
	if err != nil {
		return fmt.Errorf("read the new CRM's users: %w", err)
	}
	v.userID, v.userEmail = map[string]string{}, map[string]string{}
	for email, id := range m {
		e := strings.ToLower(email)
		v.userID[e] = id
		v.userEmail[id] = e
	}
	return nil
}

// expectedOwner is the owner migrate writes for an old owner, as an email (lower case).
func (v *validator) expectedOwner(old string) string {
	if old != "" {
		target := old
		if m, ok := v.p.Users.Owner(old); ok {
			target = m
		}
		if v.userID == nil {
			return strings.ToLower(target)
		}
		if !strings.Contains(target, "@") { // users.map gave an id in new
			return v.userEmail[target]
		}
		if _, ok := v.userID[strings.ToLower(target)]; ok {
			return strings.ToLower(target)
		}
	}
	if v.p.Users.DefaultOwner == "" {
		return ""
	}
	if v.userID == nil {
		return strings.ToLower(v.p.Users.DefaultOwner)
	}
	if _, ok := v.userID[strings.ToLower(v.p.Users.DefaultOwner)]; !ok {
		return ""
	}
	return strings.ToLower(v.p.Users.DefaultOwner)
}

// indexOf builds (once) an object's index: staging membership, crosswalk, and the ids in new.
func (v *validator) indexOf(ctx context.Context, obj *plans.Object) (*objIndex, error) {
	if ix, ok := v.index[obj.Name]; ok {
		return ix, nil
	}
	ix := &objIndex{member: map[string]string{}, newOf: map[string]string{}, goldenOf: map[string]string{},
		keyOf: map[string]string{}, oldIDs: map[string][]string{}, inNew: map[string]bool{}}
	if err := v.opts.DB.EachPreviousGolden(ctx, v.p.Name, obj.Name, func(source, id, golden []byte) error {
		ix.member[memberKey(string(source), string(id))] = string(golden)
		return nil
	}); err != nil {
		return nil, err
	}
	cw, err := v.opts.DB.Crosswalk(ctx, v.p.Name, obj.Name)
	if err != nil {
		return nil, err
	}
	for _, c := range cw {
		if c.Status != state.XActive || c.NewID == "" {
			continue
		}
		ix.newOf[c.GoldenID] = c.NewID
		ix.goldenOf[c.NewID] = c.GoldenID
		ix.oldIDs[c.GoldenID] = c.OldIDs
		if c.Key != "" {
			ix.keyOf[c.Key] = c.GoldenID
		}
	}
	v.index[obj.Name] = ix
	return ix, nil
}

// expRec is a record the new CRM should hold.
type expRec struct {
	golden  string
	key     string
	oldIDs  []string
	vals    []string // per compared field, canonical as new holds it
	refGold []string // per compared field of type ref: the referenced golden id ("" none)
}

// newRec is a record the new CRM holds.
type newRec struct {
	id   string
	key  string
	vals []string
	// raw holds, where normalization changed a value, the value as new holds it (trimmed): an
	// invalid value old kept as it was and migrate wrote as it was is equal to it.
	raw []string
}

// comparedField is a field mapped on new and on at least one source.
type comparedField struct {
	idx  int
	f    *plans.Field
	spec normalize.FieldSpec // for values read from new (enums: each new value maps to itself)
	// defaulted: the new CRM fills the column itself when migrate writes nothing there (a NOT NULL
	// column with a default), so any value it holds is expected where old has none.
	defaulted bool
}

func (v *validator) object(ctx context.Context, obj *plans.Object) (*ObjectResult, error) {
	or := &ObjectResult{Object: obj.Name, MatchedBy: map[string]int64{}, Fields: map[string]int64{}, Compared: []string{}, Drift: []Drift{}}
	var fields []comparedField
	for i, f := range obj.Fields {
		_, inNew := f.Column(plans.SystemNew)
		inOld := false
		for _, c := range f.Columns {
			if c.System != plans.SystemNew {
				inOld = true
			}
		}
		switch {
		case inNew && inOld:
			spec := normalize.FieldSpecOf(f)
			if f.Type == plans.TypeEnum && len(f.Values) > 0 {
				spec.Values = identityValues(f.Values)
			}
			fields = append(fields, comparedField{idx: i, f: f, spec: spec})
			or.Compared = append(or.Compared, f.Name)
		case inNew || inOld:
			or.Skipped = append(or.Skipped, f.Name)
		}
	}
	ix, err := v.indexOf(ctx, obj)
	if err != nil {
		return nil, err
	}
	if err := v.markDefaulted(ctx, obj, fields); err != nil {
		return nil, err
	}
	refIx := map[string]*objIndex{}
	for _, cf := range fields {
		if cf.f.Type == plans.TypeRef {
			to := v.p.Object(cf.f.To)
			if to == nil {
				return nil, fmt.Errorf("object %s: field %s refers to unknown object %s", obj.Name, cf.f.Name, cf.f.To)
			}
			if refIx[to.Name], err = v.indexOf(ctx, to); err != nil {
				return nil, err
			}
			if err := v.readNewIDs(ctx, to, refIx[to.Name]); err != nil {
				return nil, err
			}
		}
	}
	refused, err := v.opts.DB.Refusals(ctx, v.p.Name, obj.Name)
	if err != nil {
		return nil, err
	}
	if v.opts.Progress != nil {
		v.opts.Progress(obj.Name, "old")
	}
	exp, err := v.expected(ctx, obj, fields, ix, refIx)
	if err != nil {
		return nil, err
	}
	if v.opts.Progress != nil {
		v.opts.Progress(obj.Name, "new")
	}
	got, err := v.actual(ctx, obj, fields, ix)
	if err != nil {
		return nil, err
	}
	v.compare(obj, fields, ix, refIx, refused, exp, got, or)
	return or, nil
}

func identityValues(vals []plans.EnumValue) []normalize.EnumValue {
	seen := map[string]bool{}
	var out []normalize.EnumValue
	for _, v := range vals {
		if !seen[v.New] {
			seen[v.New] = true
			out = append(out, normalize.EnumValue{Old: v.New, New: v.New})
		}
	}
	return out
}

// markDefaulted flags the compared fields whose column in new fills itself.
func (v *validator) markDefaulted(ctx context.Context, obj *plans.Object, fields []comparedField) error {
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	d, ok := src.(crm.Defaulter)
	if !ok {
		return nil
	}
	cols, err := d.Defaulted(ctx, obj)
	if err != nil {
		return fmt.Errorf("inspect %s in the new CRM: %w", obj.Name, err)
	}
	for i := range fields {
		col, _ := fields[i].f.Column(plans.SystemNew)
		fields[i].defaulted = slices.Contains(cols, col)
	}
	return nil
}

// readNewIDs lists the ids the new CRM holds for obj (once).
func (v *validator) readNewIDs(ctx context.Context, obj *plans.Object, ix *objIndex) error {
	if len(ix.inNew) > 0 {
		return nil
	}
	return v.eachNew(ctx, obj, func(r crm.Record) {
		ix.inNew[r.ID] = true
	})
}

// eachNew reads obj's records in the new CRM through its new mapping.
func (v *validator) eachNew(ctx context.Context, obj *plans.Object, fn func(crm.Record)) error {
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	rd, err := src.Reader(ctx, obj, func(crm.Reject) {})
	if err != nil {
		return fmt.Errorf("read %s in the new CRM: %w", obj.Name, err)
	}
	defer rd.Close()
	for {
		batch, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s in the new CRM: %w", obj.Name, err)
		}
		for _, r := range batch {
			fn(r)
		}
	}
}

// expected reads every source system's records of obj, groups them by golden record (staging's
// membership; records clean has not seen join the golden record of their canonical key, or stand
// alone) and merges each group by the plan's rules, as clean would today.
func (v *validator) expected(ctx context.Context, obj *plans.Object, fields []comparedField, ix *objIndex, refIx map[string]*objIndex) ([]expRec, error) {
	layout := normalize.LayoutOf(obj)
	groups := map[string][]merge.Member{}
	keys := map[string]string{} // golden → the lowest canonical key of its members, as clean keys it
	var sc normalize.Scratch
	for si, sys := range v.p.Systems {
		if sys.Name == plans.SystemNew || obj.Mapping(sys.Name) == nil {
			continue
		}
		src, err := crm.Open(ctx, sys, v.opts.Env)
		if err != nil {
			return nil, err
		}
		rd, err := src.Reader(ctx, obj, func(crm.Reject) {}) // clean rejected them too
		if err != nil {
			src.Close()
			return nil, fmt.Errorf("read %s in %s: %w", obj.Name, sys.Name, err)
		}
		for {
			batch, err := rd.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rd.Close()
				src.Close()
				return nil, fmt.Errorf("read %s in %s: %w", obj.Name, sys.Name, err)
			}
			for _, r := range batch {
				nv := v.norm.Values(obj, layout, r, nil, &sc)
				if nv.Reject != "" {
					continue
				}
				key := ""
				if nv.Key {
					key = nv.Vals[layout.Key]
				}
				g := ix.member[memberKey(sys.Name, r.ID)]
				switch {
				case g != "":
				case key != "" && ix.keyOf[key] != "":
					g = ix.keyOf[key] // created in old since clean; clean would merge it by key
				case key != "":
					g = "key:" + key
				default:
					g = "new:" + sys.Name + ":" + r.ID
				}
				m := merge.Member{Source: sys.Name, SourceIdx: si, ID: r.ID, Updated: nv.Updated, Vals: slices.Clone(nv.Vals)}
				if nv.Match != nil {
					m.Invalid = make([]bool, len(nv.Vals))
					for f := range nv.Vals {
						m.Invalid[f] = nv.Vals[f] != "" && nv.Match[f] == ""
					}
				} else {
					m.Invalid = noneInvalid(len(nv.Vals))
				}
				groups[g] = append(groups[g], m)
				if key != "" && (keys[g] == "" || key < keys[g]) {
					keys[g] = key
				}
			}
		}
		rd.Close()
		src.Close()
	}
	valid := merge.ValidatorFor(v.norm, obj.Fields) // members say which values are invalid; this is not asked
	ids := make([]string, 0, len(groups))
	for g := range groups {
		ids = append(ids, g)
	}
	slices.Sort(ids)
	out := make([]expRec, 0, len(ids))
	for _, g := range ids {
		members := groups[g]
		slices.SortFunc(members, func(a, b merge.Member) int {
			return cmp.Or(cmp.Compare(a.SourceIdx, b.SourceIdx), cmp.Compare(a.ID, b.ID))
		})
		gold := merge.Cluster(obj.Fields, members, valid)
		e := expRec{golden: g, key: keys[g], vals: make([]string, len(fields)), refGold: make([]string, len(fields))}
		for _, m := range members {
			e.oldIDs = append(e.oldIDs, m.Source+":"+m.ID)
		}
		for c, cf := range fields {
			val := gold.Vals[cf.idx]
			switch cf.f.Type {
			case plans.TypeRef:
				if val == "" {
					break
				}
				src, _, _ := strings.Cut(gold.Provenance[cf.idx], ":")
				to := refIx[cf.f.To]
				rg := to.member[memberKey(src, val)]
				e.refGold[c] = rg
				val = to.newOf[rg] // "" when the referenced record is not in new (refused): expected empty
			case plans.TypeUser:
				val = v.expectedOwner(val)
			case plans.TypeMoney:
				val = moneyAmount(val)
			}
			e.vals[c] = val
		}
		out = append(out, e)
		delete(groups, g)
	}
	return out, nil
}

var noneInvalidCache [][]bool

func noneInvalid(n int) []bool {
	for len(noneInvalidCache) <= n {
		noneInvalidCache = append(noneInvalidCache, make([]bool, len(noneInvalidCache)))
	}
	return noneInvalidCache[n]
}

// moneyAmount drops the currency of a canonical amount ("100.00 EUR" → "100.00"): the new CRM
// holds the currency in a field of its own.
func moneyAmount(v string) string {
	if i := strings.IndexByte(v, ' '); i > 0 {
		return v[:i]
	}
	return v
}

// actual reads obj's records in the new CRM and normalizes their values as clean normalized the
// sources' (owners are read back as their emails, references as ids in new).
func (v *validator) actual(ctx context.Context, obj *plans.Object, fields []comparedField, ix *objIndex) ([]newRec, error) {
	keyField := -1
	for c, cf := range fields {
		if cf.f.Name == obj.Key {
			keyField = c
		}
	}
	country := obj.FieldIndex("country")
	var out []newRec
	err := v.eachNew(ctx, obj, func(r crm.Record) {
		ix.inNew[r.ID] = true
		n := newRec{id: r.ID, vals: make([]string, len(fields))}
		region := ""
		if country >= 0 {
			region = normalize.RegionOf(r.Values[country])
		}
		for c, cf := range fields {
			raw := r.Values[cf.idx]
			spec := cf.spec
			spec.Region = region
			var val string
			switch cf.f.Type {
			case plans.TypeRef:
				val = strings.TrimSpace(raw)
			case plans.TypeUser:
				if v.userEmail != nil {
					val = v.userEmail[strings.TrimSpace(raw)]
					if val == "" {
						val = strings.TrimSpace(raw) // not a user: shown as it is
					}
				} else {
					val, _ = v.norm.Value(plans.TypeEmail, raw, spec)
				}
			case plans.TypeMoney:
				val, _ = v.norm.Value(cf.f.Type, raw, spec)
				val = moneyAmount(val)
			default:
				val, _ = v.norm.Value(cf.f.Type, raw, spec)
			}
			n.vals[c] = val
			if t := strings.TrimSpace(raw); t != val && cf.f.Type != plans.TypeRef && cf.f.Type != plans.TypeUser {
				if n.raw == nil {
					n.raw = make([]string, len(fields))
				}
				n.raw[c] = t
			}
		}
		if keyField >= 0 {
			n.key = n.vals[keyField]
		}
		out = append(out, n)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b newRec) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

// compare matches expected and actual records and classifies every difference.
func (v *validator) compare(obj *plans.Object, fields []comparedField, ix *objIndex, refIx map[string]*objIndex, refused map[string]string,
	exp []expRec, got []newRec, or *ObjectResult) {
	limit := v.opts.Limit
	drift := func(d Drift) {
		if limit < 0 || len(or.Drift) < limit {
			or.Drift = append(or.Drift, d)
		} else {
			or.DriftTruncated = true
		}
	}
	byID := make(map[string]int, len(got))
	byKey := map[string][]int{}
	for i, n := range got {
		byID[n.id] = i
		if n.key != "" {
			byKey[n.key] = append(byKey[n.key], i)
		}
	}
	or.Old, or.New = int64(len(exp)), int64(len(got))
	matched := make([]bool, len(got))
	// Duplicates: records in new sharing a canonical key (all but the first, in id order).
	dupNew := make([]bool, len(got))
	for _, is := range byKey {
		for _, i := range is[1:] {
			dupNew[i] = true
		}
	}
	seenKey := map[string]bool{}
	for _, e := range exp {
		if e.key != "" {
			if seenKey[e.key] {
				or.DuplicatesInOld++
				drift(Drift{Class: DuplicateInOld, GoldenID: e.golden, OldIDs: e.oldIDs, Key: e.key})
			}
			seenKey[e.key] = true
		}
		gi := -1
		how := ""
		if id := ix.newOf[e.golden]; id != "" {
			if i, ok := byID[id]; ok && !matched[i] {
				gi, how = i, "crosswalk"
			}
		}
		if gi < 0 && e.key != "" {
			for _, i := range byKey[e.key] {
				if !matched[i] && ix.goldenOf[got[i].id] == "" {
					gi, how = i, "key"
					break
				}
			}
		}
		if gi < 0 {
			or.MissingInNew++
			d := Drift{Class: MissingInNew, GoldenID: e.golden, OldIDs: e.oldIDs, Key: e.key}
			if reason, ok := refused[e.golden]; ok {
				or.RefusedInNew++
				d.Class, d.Reason = RefusedInNew, reason
			} else {
				or.LostInNew++
				d.Class = LostInNew
				if ix.newOf[e.golden] != "" {
					d.Reason = "written by migrate (id " + ix.newOf[e.golden] + " in new), no longer in the new CRM"
				} else {
					d.Reason = "never written to the new CRM"
				}
			}
			drift(d)
			continue
		}
		matched[gi] = true
		or.Matched++
		or.MatchedBy[how]++
		n := got[gi]
		same, broken := true, false
		for c, cf := range fields {
			ev, nv := e.vals[c], n.vals[c]
			if cf.f.Type == plans.TypeRef {
				to := refIx[cf.f.To]
				reason := ""
				switch {
				case nv != "" && !to.inNew[nv]:
					reason = "points at no " + cf.f.To + " in new"
				case nv != ev && ev == "" && e.refGold[c] == "":
					reason = "points at a " + cf.f.To + " the old side does not reference"
				case nv != ev && nv == "":
					reason = "reference lost: the old side points at " + cf.f.To + " " + ev + " in new"
				case nv != ev:
					reason = "points at the wrong " + cf.f.To + " (the old side points at " + ev + " in new)"
				}
				if reason != "" {
					or.BrokenRefs++
					broken = true
					drift(Drift{Class: BrokenRef, GoldenID: e.golden, OldIDs: e.oldIDs, NewID: n.id, Key: e.key, MatchedBy: how, Field: cf.f.Name,
						Type: cf.f.Type, Old: ev, New: nv, Reason: reason})
				}
				continue
			}
			if ev != nv && !(ev == "" && cf.defaulted) && !(n.raw != nil && n.raw[c] != "" && ev == n.raw[c]) {
				if same {
					or.Mismatched++
				}
				same = false
				or.Fields[cf.f.Name]++
				drift(Drift{Class: FieldMismatch, GoldenID: e.golden, OldIDs: e.oldIDs, NewID: n.id, Key: e.key, MatchedBy: how, Field: cf.f.Name,
					Type: cf.f.Type, Old: ev, New: nv})
			}
		}
		if same && !broken {
			or.Identical++
		}
	}
	for i, n := range got {
		if matched[i] {
			continue
		}
		if dupNew[i] {
			or.DuplicatesInNew++
			drift(Drift{Class: DuplicateInNew, NewID: n.id, Key: n.key, GoldenID: ix.goldenOf[n.id]})
			continue
		}
		or.MissingInOld++
		drift(Drift{Class: MissingInOld, NewID: n.id, Key: n.key, GoldenID: ix.goldenOf[n.id]})
	}
	union := or.Old + or.New - or.Matched
	or.Parity = 1
	if union > 0 {
		or.Parity = float64(or.Identical) / float64(union)
	}
	_ = obj
}
