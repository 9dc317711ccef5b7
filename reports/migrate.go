package reports

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/crmigrate/crmigrate/migrate"
)

// MigrateFormats are the formats of `crmigrate migrate`.
var MigrateFormats = []string{"table", "json"}

// RenderMigrateSummary renders what a migrate run (or dry run) did.
func RenderMigrateSummary(w io.Writer, s *migrate.Summary, format string, showPII bool) error {
	if !showPII {
		s = maskMigrate(s)
	}
	switch format {
	case "json":
		return WriteJSON(w, s)
	case "table", "":
	default:
		return badFormat(format, MigrateFormats)
	}
	title := fmt.Sprintf("Migrate (run %d)", s.RunID)
	if s.DryRun {
		title = "Migrate, dry run: nothing was written"
	}
	if s.Delta {
		title += ", delta"
		if s.Since != nil {
			title += fmt.Sprintf(": %d records changed since %s re-cleaned", s.Recleaned, s.Since.Local().Format("2006-01-02 15:04:05"))
		}
	}
	if s.ResumedFrom != 0 {
		title += fmt.Sprintf(", resumed from run %d", s.ResumedFrom)
	}
	fmt.Fprintln(w, title)
	ins, upd := "inserted", "updated"
	if s.DryRun {
		ins, upd = "to insert", "to update"
	}
	header := []string{"object", "table", "read", ins, upd, "unchanged", "rejected"}
	if s.Delta {
		header = append(header, "gone from old", "archived", "deleted")
	}
	header = append(header, "seconds", "records/s")
	var rows [][]string
	for _, o := range s.Objects {
		row := []string{o.Object, o.Table, n(o.Read), n(o.Inserted), n(o.Updated), n(o.Unchanged), n(o.Rejected)}
		if s.Delta {
			row = append(row, n(o.DeletedInOld), n(o.Archived), n(o.Deleted))
		}
		rows = append(rows, append(row, fmt.Sprintf("%.1f", o.Seconds), fmt.Sprintf("%.0f", o.PerSecond)))
	}
	if err := simpleTable(w, header, rows); err != nil {
		return err
	}
	for _, o := range s.Objects {
		if o.UnresolvedRefs > 0 {
			fmt.Fprintf(w, "note: %s: %d references point at records that are not in the new CRM (rejected or not migrated); written as empty\n", o.Object, o.UnresolvedRefs)
		}
		if o.DefaultOwner > 0 {
			fmt.Fprintf(w, "note: %s: %d owners have no user in the new CRM; the default owner was used\n", o.Object, o.DefaultOwner)
		}
		if o.Retries > 0 {
			fmt.Fprintf(w, "note: %s: %d transient faults were retried\n", o.Object, o.Retries)
		}
	}
	if len(s.Samples) > 0 {
		fmt.Fprintln(w, "\nSamples")
		var srows [][]string
		for _, sm := range s.Samples {
			keys := make([]string, 0, len(sm.Values))
			for k := range sm.Values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				if v := sm.Values[k]; v != "" {
					parts = append(parts, k+"="+cutText(v, 40))
				}
			}
			srows = append(srows, []string{sm.Object, sm.Action, sm.GoldenID, cutText(strings.Join(parts, " "), 120)})
		}
		if err := simpleTable(w, []string{"object", "action", "golden id", "values"}, srows); err != nil {
			return err
		}
	}
	if len(s.Rejects) > 0 {
		fmt.Fprintln(w, "\nRejected by the new CRM (first ones)")
		var rrows [][]string
		for _, r := range s.Rejects {
			rrows = append(rrows, []string{r.Object, r.SourceID, cutText(r.Raw, 40), cutText(r.Reason, 100)})
		}
		if err := simpleTable(w, []string{"object", "golden id", "old ids", "reason"}, rrows); err != nil {
			return err
		}
	}
	var verdict string
	switch {
	case s.Status != "": // the run did not pass: say what it did before it stopped, never "nothing changed"
		verdict = fmt.Sprintf("Run %s before it finished: inserted %d, updated %d, unchanged %d so far.", s.Status, s.Inserted, s.Updated, s.Unchanged)
	case s.DryRun:
		verdict = fmt.Sprintf("Would insert %d, update %d, leave %d unchanged; %d would be refused.", s.Inserted, s.Updated, s.Unchanged, s.Rejected)
	case s.NothingToDo:
		verdict = fmt.Sprintf("Nothing changed since the last run: nothing written (%d unchanged).", s.Unchanged)
	default:
		verdict = fmt.Sprintf("Inserted %d, updated %d, unchanged %d.", s.Inserted, s.Updated, s.Unchanged)
	}
	if s.Missing > 0 {
		if s.DryRun {
			verdict += fmt.Sprintf(" %s rows recorded as written are missing in the new CRM: they would be written again.", thousands(s.Missing))
		} else {
			verdict += fmt.Sprintf(" %s rows recorded as written were missing in the new CRM: written again.", thousands(s.Missing))
		}
	}
	if s.Verified {
		verdict += fmt.Sprintf(" Verified: every row compared with what migrate writes; %s differed and were written again.", thousands(s.Differed))
	}
	if s.Rejected > 0 && !s.DryRun {
		file := s.RejectsFile
		if file == "" {
			file = fmt.Sprintf("rejects/migrate-%d.csv", s.RunID)
		}
		verdict += fmt.Sprintf(" %d records were refused by the new CRM (%s).", s.Rejected, file)
	}
	if s.PeakRSSMB > 0 {
		verdict += fmt.Sprintf(" Peak memory %.0f MiB.", s.PeakRSSMB)
	}
	_, err := fmt.Fprintf(w, "\n%s %.1fs.\n", verdict, s.Seconds)
	return err
}

// RenderUndoSummary renders what an undo did.
func RenderUndoSummary(w io.Writer, s *migrate.UndoSummary, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, s)
	case "table", "":
	default:
		return badFormat(format, MigrateFormats)
	}
	fmt.Fprintf(w, "Undo of migrate run %d (run %d)\n", s.Undone, s.RunID)
	var rows [][]string
	for _, o := range s.Objects {
		rows = append(rows, []string{o.Object, n(int64(o.Entries)), n(o.Deleted), n(o.Restored)})
	}
	if err := simpleTable(w, []string{"object", "journal entries", "deleted (were inserted)", "restored (were changed)"}, rows); err != nil {
		return err
	}
	if len(s.LaterRuns) > 0 {
		fmt.Fprintf(w, "note: forced over later runs %v, which had changed some of the same records\n", s.LaterRuns)
	}
	for _, o := range s.Recheck {
		fmt.Fprintf(w, "note: the new CRM may have cleared references of %s rows to rows this undo put back; the next `crmigrate migrate` re-checks them\n", o)
	}
	_, err := fmt.Fprintf(w, "\nDeleted %d rows and restored %d in %.1fs.\n", s.Deleted, s.Restored, s.Seconds)
	return err
}

func cutText(s string, max int) string {
	if len([]rune(s)) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

var emailRe = regexp.MustCompile(`[^\s(),;:=<>"']+@[^\s(),;:=<>"']+`)

// maskMigrate returns a copy of s with emails and phones masked in samples and reject reasons.
func maskMigrate(s *migrate.Summary) *migrate.Summary {
	c := *s
	c.Samples = make([]migrate.Sample, len(s.Samples))
	for i, sm := range s.Samples {
		sm.Values = maskValues(sm.Values)
		c.Samples[i] = sm
	}
	c.Rejects = append(c.Rejects[:0:0], s.Rejects...)
	for i := range c.Rejects {
		c.Rejects[i].Reason = emailRe.ReplaceAllStringFunc(c.Rejects[i].Reason, pii.MaskEmail)
	}
	return &c
}

func maskValues(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = emailRe.ReplaceAllStringFunc(v, pii.MaskEmail)
	}
	return out
}

// thousands writes n with a comma between groups of three digits: 1,692.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
