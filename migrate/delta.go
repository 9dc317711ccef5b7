package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/merge"
	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// deltaObject is what a delta run found for one object.
type deltaObject struct {
	changed []string // golden ids whose records changed (or are new): they are loaded
	deleted []string // golden ids all of whose old records were deleted: on_delete applies
	// A dry run leaves staging alone and keeps the re-merged golden records here instead, with
	// which golden record each touched source record now belongs to (see dryDeltaRecords).
	merged  map[string]state.GoldenRow
	members map[state.SourceRef]string
	oldIDs  map[string][]string
}

// prepareDelta re-cleans the records changed in the sources since the last successful migrate
// (by their updated_at, minus the plan's parallel_run.overlap), finds the old CRM's deleted
// records, and updates the staged clusters they belong to: a changed record's values replace
// its member's, a new record joins the golden record with its canonical key (or becomes one of
// its own; fuzzy duplicates wait for the next full clean), a deleted record leaves its cluster,
// and each touched golden record is merged again by the plan's rules. A dry run changes nothing.
func prepareDelta(ctx context.Context, p *plans.Plan, opts Options, sum *Summary) (map[string]*deltaObject, error) {
	last, err := opts.DB.LastPassed(ctx, p.Name, Phase)
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, errors.New("--delta needs an earlier successful migrate run to start from; run `crmigrate migrate` once without --delta")
	}
	since := last.StartedAt.Add(-p.ParallelRun.Overlap.D())
	if !opts.Since.IsZero() {
		since = opts.Since
	}
	sum.Since = &since
	norm := normalize.New(normalize.OptionsFromPlan(p))
	out := map[string]*deltaObject{}
	for _, obj := range p.DependencyOrder() {
		if obj.Mapping(plans.SystemNew) == nil {
			continue
		}
		d, err := deltaOf(ctx, p, obj, norm, since, opts, sum)
		if err != nil {
			return nil, fmt.Errorf("delta of %s: %w", obj.Name, err)
		}
		out[obj.Name] = d
	}
	return out, nil
}

type changedRecord struct {
	ref  state.SourceRef
	si   int
	line int64
	r    normalize.Record
}

func deltaOf(ctx context.Context, p *plans.Plan, obj *plans.Object, norm *normalize.Normalizer, since time.Time, opts Options, sum *Summary) (*deltaObject, error) {
	d := &deltaObject{}
	var changed []changedRecord
	var deletedRefs []state.SourceRef
	var deletedGolden []string
	var rejects []state.RejectRow
	for si, sys := range p.Systems {
		m := obj.Mapping(sys.Name)
		if sys.Name == plans.SystemNew || m == nil {
			continue
		}
		src, err := crm.Open(ctx, sys, opts.Env)
		if err != nil {
			return nil, err
		}
		err = func() error {
			defer src.Close()
			reject := func(rj crm.Reject) {
				rejects = append(rejects, state.RejectRow{Object: obj.Name, System: sys.Name, Line: rj.Line, SourceID: rj.ID, Reason: rj.Reason, Raw: rj.Raw})
			}
			var rd crm.RecordReader
			if s, ok := src.(crm.Since); ok && m.UpdatedAt != "" {
				// The database compares in its own time zone, clean reads times in the plan's: the
				// database is asked for a little more, and the exact cut is made here.
				rd, err = s.ReaderSince(ctx, obj, since.Add(-14*time.Hour), reject)
			} else {
				rd, err = src.Reader(ctx, obj, reject)
			}
			if err != nil {
				return err
			}
			defer rd.Close()
			for {
				batch, err := rd.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				for _, cr := range batch {
					r := norm.Record(obj, cr)
					// Without an updated_at, a record may have changed: re-cleaning it is safe
					// (an unchanged row is not written).
					if !r.Updated.IsZero() && r.Updated.Before(since) {
						continue
					}
					if r.Reject != "" {
						reject(crm.Reject{Line: cr.Line, ID: cr.ID, Reason: r.Reject})
						continue
					}
					changed = append(changed, changedRecord{ref: state.SourceRef{Source: sys.Name, ID: cr.ID}, si: si, line: cr.Line, r: r})
				}
			}
			// Deletions are looked for in the old CRM, whose ids can be listed.
			if lister, ok := src.(crm.IDLister); ok && sys.Name == plans.SystemOld {
				refs, golden, err := opts.DB.MissingMembers(ctx, p.Name, obj.Name, sys.Name, func(add func([]string) error) error {
					return lister.IDs(ctx, obj, add)
				})
				if err != nil {
					return err
				}
				deletedRefs, deletedGolden = append(deletedRefs, refs...), append(deletedGolden, golden...)
			}
			return nil
		}()
		if err != nil {
			return nil, err
		}
	}
	sum.Recleaned += int64(len(changed))
	if len(rejects) > 0 && !opts.DryRun {
		if err := opts.DB.CommitBatch(ctx, state.BatchCommit{Plan: p.Name, RunID: opts.RunID, Object: obj.Name, Rejects: rejects, Phase: Phase}); err != nil {
			return nil, err
		}
	}

	// The clusters touched: those of changed and deleted records, and those new records join by key.
	refs := make([]state.SourceRef, len(changed))
	for i, c := range changed {
		refs[i] = c.ref
	}
	goldenOf, err := opts.DB.GoldenOf(ctx, p.Name, obj.Name, refs)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, c := range changed {
		if _, known := goldenOf[c.ref]; !known && c.r.Key != "" {
			keys = append(keys, c.r.Key)
		}
	}
	byKey := map[string]string{}
	if len(keys) > 0 && obj.Key != plans.KeyNone {
		if byKey, err = opts.DB.GoldenByKeys(ctx, p.Name, obj.Name, keys); err != nil {
			return nil, err
		}
	}
	touched := map[string]bool{}
	for _, g := range goldenOf {
		touched[g] = true
	}
	for _, g := range byKey {
		touched[g] = true
	}
	for _, g := range deletedGolden {
		touched[g] = true
	}
	ids := make([]string, 0, len(touched))
	for g := range touched {
		ids = append(ids, g)
	}
	clusters, err := opts.DB.Clusters(ctx, p.Name, obj.Name, ids)
	if err != nil {
		return nil, err
	}
	deleted := map[state.SourceRef]bool{}
	for _, r := range deletedRefs {
		deleted[r] = true
	}
	for _, c := range clusters {
		kept := c.Members[:0]
		for _, m := range c.Members {
			if !deleted[state.SourceRef{Source: m.Source, ID: m.ID}] {
				kept = append(kept, m)
			}
		}
		c.Members = kept
	}
	for _, c := range changed {
		upd := timePtr(c.r.Updated)
		member := state.StagedMember{Source: c.ref.Source, ID: c.ref.ID, Decision: "single", Line: c.line, Updated: upd, Vals: c.r.Vals}
		g, ok := goldenOf[c.ref]
		if !ok {
			g, ok = byKey[c.r.Key]
			member.Decision, member.Score = "exact", 1
		}
		cl := clusters[g]
		if !ok || cl == nil {
			g = newGoldenID(obj.Name, c.ref)
			if clusters[g] == nil {
				clusters[g] = &state.StagedCluster{GoldenID: g, Key: c.r.Key}
			}
			cl = clusters[g]
			member.Decision, member.Score = "single", 0
		}
		replaced := false
		for i := range cl.Members {
			if cl.Members[i].Source == c.ref.Source && cl.Members[i].ID == c.ref.ID {
				member.Decision, member.Score = cl.Members[i].Decision, cl.Members[i].Score
				cl.Members[i] = member
				replaced = true
			}
		}
		if !replaced {
			cl.Members = append(cl.Members, member)
		}
		if cl.Key == "" {
			cl.Key = c.r.Key
		}
	}
	// Merge each touched cluster again.
	sysIdx := map[string]int{}
	for i, s := range p.Systems {
		sysIdx[s.Name] = i
	}
	var golden []state.GoldenRow
	var members []state.MemberRow
	var replace []string
	valid := merge.ValidatorFor(norm, obj.Fields)
	for g, c := range clusters {
		replace = append(replace, g)
		if len(c.Members) == 0 {
			d.deleted = append(d.deleted, g)
			continue
		}
		mm := make([]merge.Member, len(c.Members))
		for i, m := range c.Members {
			var upd time.Time
			if m.Updated != nil {
				upd = *m.Updated
			}
			mm[i] = merge.Member{Source: m.Source, SourceIdx: sysIdx[m.Source], ID: m.ID, Updated: upd, Vals: m.Vals}
		}
		merged := merge.Cluster(obj.Fields, mm, valid)
		golden = append(golden, state.GoldenRow{GoldenID: g, Key: c.Key, Vals: merged.Vals, Provenance: merged.Provenance,
			UpdatedAt: timePtr(merged.Updated), Members: len(c.Members), Digest: normalize.Digest(merged.Vals)})
		for _, m := range c.Members {
			row := state.MemberRow{Source: m.Source, SourceID: m.ID, GoldenID: g, Decision: m.Decision, Score: m.Score, Line: m.Line, UpdatedAt: m.Updated}
			if len(c.Members) > 1 {
				row.Vals = m.Vals
			}
			members = append(members, row)
		}
		d.changed = append(d.changed, g)
	}
	sort.Strings(d.changed)
	sort.Strings(d.deleted)
	if opts.DryRun { // staging stays as it is: the dry run loads these instead
		d.merged, d.members, d.oldIDs = map[string]state.GoldenRow{}, map[state.SourceRef]string{}, map[string][]string{}
		for _, g := range golden {
			d.merged[g.GoldenID] = g
		}
		for _, m := range members {
			d.members[state.SourceRef{Source: m.Source, ID: m.SourceID}] = m.GoldenID
			d.oldIDs[m.GoldenID] = append(d.oldIDs[m.GoldenID], m.Source+":"+m.SourceID)
		}
		for _, ids := range d.oldIDs {
			sort.Strings(ids)
		}
		return d, nil
	}
	if len(replace) > 0 {
		if err := opts.DB.ReplaceClusters(ctx, p.Name, obj.Name, opts.RunID, replace, golden, members); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// dryDeltaRecords is what a delta dry run loads for obj (the golden ids only, sorted): those the delta touched,
// as the real run would read them from staging after re-merging them (dry runs leave staging
// alone): re-merged values, members and references resolved again, records new since the last
// clean included, in golden id order.
func dryDeltaRecords(ctx context.Context, p *plans.Plan, obj *plans.Object, l *layout, opts Options, d *deltaObject, only []string) ([]state.GoldenOut, error) {
	staged := map[string]state.GoldenOut{}
	if len(only) > 0 {
		rd, err := opts.DB.ReadGolden(ctx, state.GoldenQuery{Plan: p.Name, Object: obj.Name, Refs: l.refs, Only: only})
		if err != nil {
			return nil, err
		}
		for {
			recs, err := rd.Next(1000)
			if err != nil {
				rd.Close()
				return nil, err
			}
			if len(recs) == 0 {
				break
			}
			for _, g := range recs {
				staged[g.GoldenID] = g
			}
		}
		rd.Close()
	}
	out := make([]state.GoldenOut, 0, len(only))
	for _, id := range only {
		g, ok := staged[id]
		m, re := d.merged[id]
		if !ok && !re {
			continue
		}
		if !ok { // new since the last clean: not in staging, nor in the crosswalk
			g = state.GoldenOut{GoldenID: id}
		}
		if re {
			g.Key, g.Vals, g.UpdatedAt, g.OldIDs = m.Key, m.Vals, m.UpdatedAt, d.oldIDs[id]
			if err := dryResolveRefs(ctx, p, l, opts, &g, m.Provenance); err != nil {
				return nil, err
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// dryResolveRefs resolves a re-merged golden record's references as ReadGolden would: the value
// names a source record (in the system its provenance names), whose golden record (in staging, or
// re-merged by this dry run) has an id in the new CRM.
func dryResolveRefs(ctx context.Context, p *plans.Plan, l *layout, opts Options, g *state.GoldenOut, prov []string) error {
	n := len(l.refs)
	g.RefIDs, g.RefGolden, g.RefValue = make([]string, n), make([]string, n), make([]bool, n)
	for k, r := range l.refs {
		v := ""
		if r.Index < len(g.Vals) {
			v = g.Vals[r.Index]
		}
		g.RefValue[k] = v != ""
		if v == "" || r.Index >= len(prov) {
			continue
		}
		src, _, _ := strings.Cut(prov[r.Index], ":")
		ref := state.SourceRef{Source: src, ID: v}
		golden := ""
		if pd := opts.deltas[r.To]; pd != nil && pd.members != nil {
			golden = pd.members[ref]
		}
		if golden == "" {
			found, err := opts.DB.GoldenOf(ctx, p.Name, r.To, []state.SourceRef{ref})
			if err != nil {
				return err
			}
			golden = found[ref]
		}
		if golden == "" {
			continue
		}
		g.RefGolden[k] = golden
		xs, err := opts.DB.CrosswalkOf(ctx, p.Name, r.To, []string{golden})
		if err != nil {
			return err
		}
		if x, ok := xs[golden]; ok && x.Status == state.XActive {
			g.RefIDs[k] = x.NewID
		}
	}
	return nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// newGoldenID is the id clean gives a cluster whose first member is ref.
func newGoldenID(object string, ref state.SourceRef) string {
	sum := sha256.Sum256([]byte(object + "\x00" + ref.Source + "\x00" + ref.ID))
	return object + "-" + hex.EncodeToString(sum[:8])
}

// deleteGone applies the object's on_delete policy to the golden records that are gone: those a
// delta run found deleted in old (d, nil in a full run), and those written and live in the new
// CRM that staging no longer has (deleted in old before the last clean, or merged into another
// golden record by it; an undo of a delta run that archived a record also brings one back here).
func deleteGone(ctx context.Context, p *plans.Plan, obj *plans.Object, target crm.Target, opts Options, d *deltaObject, osum *ObjectSummary) error {
	var gone []string
	if d != nil {
		gone = d.deleted
	}
	if _, file := target.(crm.FileTarget); !file {
		vanished, err := opts.DB.VanishedGolden(ctx, p.Name, obj.Name, !opts.DryRun)
		if err != nil {
			return err
		}
		gone = union(gone, vanished)
	}
	if d == nil && len(gone) == 0 {
		return nil
	}
	return applyDeletes(ctx, p, obj, target, opts, gone, osum)
}

// applyDeletes applies the object's on_delete policy to golden records whose old records were all
// deleted: ignore leaves the new CRM alone; archive marks the rows (the new mapping's archived
// column); delete deletes them. Both are journaled with before-images, so undo brings them back.
func applyDeletes(ctx context.Context, p *plans.Plan, obj *plans.Object, target crm.Target, opts Options, golden []string, osum *ObjectSummary) error {
	osum.DeletedInOld = int64(len(golden))
	if _, file := target.(crm.FileTarget); file {
		return nil // the file, written whole, no longer has them
	}
	if len(golden) == 0 || obj.OnDelete == "ignore" {
		return nil
	}
	xs, err := opts.DB.CrosswalkOf(ctx, p.Name, obj.Name, golden)
	if err != nil {
		return err
	}
	var ids, gids []string
	var prev []string
	for _, g := range golden {
		if x, ok := xs[g]; ok && x.Status == state.XActive && x.NewID != "" {
			ids, gids, prev = append(ids, x.NewID), append(gids, g), append(prev, x.Digest)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rev, ok := target.(crm.Reverter)
	if !ok {
		return fmt.Errorf("system new (kind %s) cannot archive or delete rows; set on_delete: ignore for %s", p.New().Kind, obj.Name)
	}
	images, err := rev.Images(ctx, obj, ids)
	if err != nil {
		return err
	}
	if opts.DryRun { // count what a real run archives or deletes: the rows still in the new CRM
		var n int64
		for _, img := range images {
			if img.ID != "" {
				n++
			}
		}
		if obj.OnDelete == "delete" {
			osum.Deleted += n
		} else {
			osum.Archived += n
		}
		return nil
	}
	action, status := state.JArchive, state.XArchived
	if obj.OnDelete == "delete" {
		action, status = state.JDelete, state.XDeleted
	}
	entries := make([]state.JournalEntry, 0, len(ids))
	for i, img := range images {
		if img.ID == "" {
			continue // gone from the new CRM already
		}
		d := prev[i]
		entries = append(entries, state.JournalEntry{Object: obj.Name, GoldenID: gids[i], Action: action, NewID: ids[i], Before: img.JSON, PrevDigest: &d})
	}
	if _, err := opts.DB.JournalBefore(ctx, p.Name, opts.RunID, entries); err != nil {
		return err
	}
	var n int64
	if action == state.JDelete {
		n, err = rev.Delete(ctx, obj, ids)
	} else {
		arch, ok := target.(crm.Archiver)
		if !ok {
			return fmt.Errorf("system new (kind %s) cannot archive rows; set on_delete: delete or ignore for %s", p.New().Kind, obj.Name)
		}
		n, err = arch.Archive(ctx, obj, obj.Mapping(plans.SystemNew).Archived, ids)
	}
	if err != nil {
		return err
	}
	if action == state.JDelete {
		osum.Deleted += n
	} else {
		osum.Archived += n
	}
	return opts.DB.SetCrosswalkStatus(ctx, p.Name, obj.Name, opts.RunID, gids, status)
}
