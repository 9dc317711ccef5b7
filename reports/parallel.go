package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/plans"
)

// maskedSnapshot copies a snapshot with emails and phones masked.
func maskedSnapshot(s *parallelrun.Snapshot) *parallelrun.Snapshot {
	out := *s
	out.Objects = make([]parallelrun.Object, len(s.Objects))
	for i, o := range s.Objects {
		o.Drift = slices.Clone(o.Drift)
		for j := range o.Drift {
			maskDrift(&o.Drift[j].Drift)
		}
		out.Objects[i] = o
	}
	out.ClosedDrift = slices.Clone(s.ClosedDrift)
	for j := range out.ClosedDrift {
		maskDrift(&out.ClosedDrift[j].Drift)
	}
	return &out
}

// RenderSnapshot renders a parallel-run snapshot: the day's verdict and figures, per object the
// drift counts with what is in flight and ignored, the checks, then the open drift (critical and
// oldest first) with its age. JSON is the stored snapshot (docs/parallel-run.md).
func RenderSnapshot(w io.Writer, p *plans.Plan, s *parallelrun.Snapshot, format string, showPII bool) error {
	if s == nil {
		return nil
	}
	if !showPII {
		s = maskedSnapshot(s)
	}
	switch format {
	case "json":
		return WriteJSON(w, s)
	case "table", "", "md":
	default:
		return badFormat(format, ValidateFormats)
	}
	md := format == "md"
	c := s.Counts()
	verdict := "PASSED"
	if s.Result != "passed" {
		verdict = "FAILED"
	}
	loc := p.Location
	at := s.AsOf
	if loc != nil {
		at = at.In(loc)
	}
	title := fmt.Sprintf("Parallel run of %s, day %d (as of %s): %s", s.Plan, s.Day, at.Format("2006-01-02 15:04 MST"), verdict)
	if md {
		fmt.Fprintf(w, "# %s\n\n", title)
	} else {
		fmt.Fprintf(w, "%s (run %d, %.1f s)\n", title, s.RunID, s.Seconds)
	}
	fmt.Fprintf(w, "%d open drift (%d critical), %d in flight, %d ignored; %d opened and %d closed since the last snapshot.\n\n",
		c["drift"], c["critical"], c["in_flight"], c["ignored"], s.Opened, s.Closed)
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	rows := make([][]string, 0, len(s.Objects))
	for _, o := range s.Objects {
		rows = append(rows, []string{o.Object, n(o.Old), n(o.New), fmt.Sprintf("%.2f%%", 100*o.Parity),
			fmt.Sprintf("%d (%d refused)", o.MissingInNew, o.RefusedInNew), n(o.MissingInOld), n(o.Mismatched),
			n(o.DuplicatesInNew), n(o.BrokenRefs), n(o.Critical), n(o.InFlight), n(o.Ignored), topFields(o.Fields, 3)})
	}
	if err := renderRows(w, md, []string{"object", "expected", "in new", "parity", "missing in new", "missing in old", "mismatched",
		"duplicates in new", "broken refs", "critical", "in flight", "ignored", "top mismatched fields"}, rows); err != nil {
		return err
	}
	if err := renderChecks(w, md, s.Checks); err != nil {
		return err
	}
	var drows [][]string
	for _, o := range s.Objects {
		for _, d := range o.Drift {
			if len(drows) >= 20 {
				break
			}
			st := d.State
			if d.Critical {
				st = "CRITICAL"
			}
			detail := driftDetail(d.Drift)
			if d.Rule != "" {
				detail += " (known: " + d.Rule + ")"
			}
			drows = append(drows, []string{o.Object, d.Class, driftRecord(d.Drift), st, age(d.AgeDays), detail})
		}
	}
	if len(drows) > 0 {
		fmt.Fprintln(w)
		heading := "Open drift, critical and oldest first (`--format json` lists more"
		if !showPII {
			heading += "; emails and phones masked, --show-pii shows them"
		}
		heading += ")"
		if md {
			fmt.Fprintf(w, "## %s\n\n", heading)
		} else {
			fmt.Fprintln(w, heading+":")
		}
		if err := renderRows(w, md, []string{"object", "class", "record", "state", "age", "detail"}, drows); err != nil {
			return err
		}
	}
	if len(s.ClosedDrift) > 0 {
		var parts []string
		for i, d := range s.ClosedDrift {
			if i == 10 {
				parts = append(parts, fmt.Sprintf("and %d more", s.Closed-10))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s %s (open %s)", d.Class, driftRecord(d.Drift), d.Field, age(d.AgeDays)))
		}
		fmt.Fprintf(w, "\nClosed since the last snapshot: %s\n", strings.Join(parts, "; "))
	}
	return nil
}

// age says how long ago something was first seen, in days.
func age(days int) string {
	switch days {
	case 0:
		return "today"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}

// SnapshotLine sums a snapshot up in one line (watch prints one per snapshot).
func SnapshotLine(p *plans.Plan, s *parallelrun.Snapshot) string {
	c := s.Counts()
	at := s.AsOf
	if p.Location != nil {
		at = at.In(p.Location)
	}
	verdict := "PASSED"
	if s.Result != "passed" {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s day %d (run %d): %s; %d open drift (%d critical), %d in flight, %d ignored; %d opened, %d closed",
		at.Format("2006-01-02 15:04:05"), s.Day, s.RunID, verdict, c["drift"], c["critical"], c["in_flight"], c["ignored"], s.Opened, s.Closed)
}

// RenderReconciliation renders what reconcile did: per fix how many drift rows, what migrate wrote,
// then the first actions with why a fix was not written.
func RenderReconciliation(w io.Writer, r *parallelrun.Reconciliation, format string) error {
	if r == nil {
		return nil
	}
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "table", "", "md":
	default:
		return badFormat(format, ValidateFormats)
	}
	md := format == "md"
	what := "Reconciled"
	if r.DryRun {
		what = "Dry run: would reconcile"
	}
	fmt.Fprintf(w, "%s the drift of snapshot run %d: %d fixed, %d left for a person or for old.\n", what, r.Snapshot, r.Applied, r.Left)
	if m := r.Migrate; m != nil {
		fmt.Fprintf(w, "Written to new: %d inserted, %d updated, %d unchanged, %d refused", m.Inserted, m.Updated, m.Unchanged, m.Rejected)
		if !r.DryRun {
			fmt.Fprintf(w, " (undo: crmigrate migrate undo --run %d)", r.RunID)
		}
		fmt.Fprintln(w)
	}
	if len(r.Actions) == 0 {
		fmt.Fprintln(w, "No open drift to reconcile.")
		return nil
	}
	byFix := map[string]int64{}
	for _, a := range r.Actions {
		byFix[a.Fix]++
	}
	var rows [][]string
	for _, f := range byCount(byFix) {
		rows = append(rows, []string{f, n(byFix[f])})
	}
	fmt.Fprintln(w)
	if err := renderRows(w, md, []string{"fix", "drift rows"}, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, a := range r.Actions {
		if len(rows) >= 30 {
			break
		}
		done := "written"
		if !a.Applied {
			done = a.Why
		}
		if a.Review > 0 {
			done = fmt.Sprintf("review %d: %s", a.Review, done)
		}
		if a.Decided != "" {
			done += " (decided: " + a.Decided + " is right)"
		}
		rows = append(rows, []string{a.Object, a.Class, a.Record, a.Field, a.Fix, done})
	}
	fmt.Fprintln(w)
	return renderRows(w, md, []string{"object", "class", "record", "field", "fix", "done"}, rows)
}
