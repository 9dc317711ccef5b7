package validate

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/clean/dedup"
	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
)

// FoundByDedup marks the drift rows of DuplicatesInNew (Drift.Found).
const FoundByDedup = "dedup"

// DuplicatesInNew runs an object's dedup rules against the records in the new CRM, with clean's
// engine, as clean runs them against the sources: records sharing the canonical key, and records
// whose fields match as well as the plan's auto_merge asks, are one entity. Only records created
// in new since migrate (unknown to the crosswalk) are reported: clean decided the others. Memory: the records'
// ids and the values dedup reads, and what dedup needs (docs/dedup.md). It returns a
// duplicate_in_new drift row for every record of such a group but the first migrate wrote (or
// the first read) (Found "dedup"), naming that one, and for the second record of each pair that scores between the
// plan's review and auto_merge (a possible duplicate, which clean would queue for review). The
// new CRM's values are read through the plan's mapping and
// normalized as validate reads them; fields the new CRM does not map are empty.
func DuplicatesInNew(ctx context.Context, p *plans.Plan, opts Options, object string) ([]Drift, error) {
	obj := p.Object(object)
	if obj == nil {
		return nil, fmt.Errorf("dedup in new: the plan has no object %q", object)
	}
	if obj.Mapping(plans.SystemNew) == nil {
		return nil, nil
	}
	opts.Cache = nil // reads new whole, and keeps nothing
	v := &validator{p: p, opts: opts, norm: normalize.New(normalize.OptionsFromPlan(p)), seed: maphash.MakeSeed()}
	if err := v.loadUsers(ctx); err != nil {
		return nil, err
	}
	run := &objectRun{v: v, obj: obj}
	// Only the fields dedup reads are kept (the key, the blocking keys' and the compared ones'),
	// and the country, for phones.
	need := map[string]bool{obj.Key: true, "country": true}
	if d := obj.Dedup; d != nil {
		for _, b := range d.Block {
			for _, part := range b.Parts {
				need[part.Field] = true
			}
		}
		for _, c := range d.Compare {
			need[c.Field] = true
		}
	}
	var fields []comparedField
	for i, f := range obj.Fields {
		if _, ok := f.Column(plans.SystemNew); !ok || !need[f.Name] {
			continue
		}
		spec := normalize.FieldSpecOf(f)
		if f.Type == plans.TypeEnum && len(f.Values) > 0 {
			spec.Values = identityValues(f.Values)
		}
		fields = append(fields, comparedField{idx: i, f: f, spec: spec})
	}
	key := obj.FieldIndex(obj.Key)
	country := obj.FieldIndex("country")
	var recs []dedup.Record
	var changed []string // when each record in new last changed
	err := v.eachNew(ctx, obj, func(batch []crm.Record) error {
		for _, rec := range batch {
			region := ""
			if country >= 0 {
				region = normalize.RegionOf(rec.Values[country])
			}
			vals := make([]string, len(obj.Fields))
			for _, cf := range fields {
				vals[cf.idx] = run.matchValue(cf, rec.Values[cf.idx], region)
			}
			r := dedup.Record{Source: plans.SystemNew, ID: rec.ID, Values: vals}
			changed = append(changed, run.newChanged(rec))
			if key >= 0 {
				r.Key = vals[key]
			}
			recs = append(recs, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Records migrate wrote were kept apart by clean (or wait for its review): only a record the
	// crosswalk does not know, created in new since, is a duplicate found here.
	known := map[string]bool{}
	if err := opts.DB.EachActiveCrosswalk(ctx, p.Name, object, func(_, newID, _ []byte) error {
		known[string(newID)] = true
		return nil
	}); err != nil {
		return nil, err
	}
	res, err := dedup.Run(ctx, recs, clean.DedupConfig(obj, 0))

	if err != nil {
		return nil, fmt.Errorf("dedup %s in the new CRM: %w", object, err)
	}
	var out []Drift
	for _, c := range res.Clusters {
		if len(c) < 2 {
			continue
		}
		c = slices.Clone(c)
		slices.Sort(c)
		anchor := c[0] // the record the others duplicate: the first migrate wrote, else the first read
		for _, i := range c {
			if known[recs[i].ID] {
				anchor = i
				break
			}
		}
		first := recs[anchor]
		for _, i := range c {
			if i == anchor || known[recs[i].ID] {
				continue
			}
			how := "the same canonical key"
			if res.Decision[i] != dedup.DecisionExact {
				how = fmt.Sprintf("a match scoring %.2f", res.Score[i])
			}
			k := recs[i].Key
			if k == "" {
				k = strings.TrimSpace(first.Key)
			}
			out = append(out, Drift{Class: DuplicateInNew, NewID: recs[i].ID, Key: k, Found: FoundByDedup, NewChanged: changed[i],
				Reason: fmt.Sprintf("the same entity as record %s in new (dedup: %s)", first.ID, how)})
		}
	}
	// Pairs between review and auto_merge are possible duplicates: clean would ask a person.
	named := map[int]bool{}
	for _, c := range res.Clusters {
		if len(c) > 1 {
			for _, i := range c {
				named[i] = true
			}
		}
	}
	for _, r := range res.Review {
		a, b := r.A, r.B
		if known[recs[b].ID] {
			a, b = b, a
		}
		if named[b] || known[recs[b].ID] {
			continue
		}
		named[b] = true
		out = append(out, Drift{Class: DuplicateInNew, NewID: recs[b].ID, Key: recs[b].Key, Found: FoundByDedup, NewChanged: changed[b],
			Reason: fmt.Sprintf("possibly the same entity as record %s in new (dedup: a match scoring %.2f, between review and auto_merge)",
				recs[a].ID, r.Score)})
	}
	slices.SortFunc(out, driftOrder)
	return out, nil
}

// matchValue is a value read from new as dedup compares it: canonical, or "" when it is empty or
// invalid (an email "no email" is no key, as in clean).
func (r *objectRun) matchValue(cf comparedField, raw, region string) string {
	switch cf.f.Type {
	case plans.TypeRef, plans.TypeUser:
		return r.newValue(cf, raw, region)
	}
	spec := cf.spec
	spec.Region = region
	val, st := r.v.norm.Value(cf.f.Type, raw, spec)
	if st != normalize.Normalized && st != normalize.Unchanged {
		return ""
	}
	if cf.f.Type == plans.TypeMoney {
		val = moneyAmount(val)
	}
	return val
}

// ChangedInNew reads an object's records in new and returns those of ids (id in new → when the
// drift saw it change, as Drift.NewChanged gives it) that changed since, or that are gone: what
// reconcile must not overwrite on the word of an older snapshot.
func ChangedInNew(ctx context.Context, p *plans.Plan, opts Options, object string, ids map[string]string) (map[string]bool, error) {
	obj := p.Object(object)
	if obj == nil || obj.Mapping(plans.SystemNew) == nil {
		return nil, fmt.Errorf("reconcile: the plan has no object %q in the new system", object)
	}
	opts.Cache = nil // reads new whole, and keeps nothing
	v := &validator{p: p, opts: opts, norm: normalize.New(normalize.OptionsFromPlan(p)), seed: maphash.MakeSeed()}
	run := &objectRun{v: v, obj: obj}
	out := map[string]bool{}
	seen := map[string]bool{}
	err := v.eachNew(ctx, obj, func(batch []crm.Record) error {
		for _, rec := range batch {
			before, ok := ids[rec.ID]
			if !ok {
				continue
			}
			seen[rec.ID] = true
			if now := run.newChanged(rec); now != before {
				out[rec.ID] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range ids {
		if !seen[id] {
			out[id] = true
		}
	}
	return out, nil
}
