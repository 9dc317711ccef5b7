package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/crmigrate/crmigrate/clean"
)

// CleanFormats are the formats of `crmigrate clean`.
var CleanFormats = []string{"table", "json"}

// RenderCleanSummary renders what a clean did.
func RenderCleanSummary(w io.Writer, s *clean.Summary, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, s)
	case "table", "":
	default:
		return badFormat(format, CleanFormats)
	}
	var rows [][]string
	for _, o := range s.Objects {
		var srcs []string
		for _, sc := range o.Sources {
			srcs = append(srcs, fmt.Sprintf("%s %d", sc.System, sc.Read))
		}
		rows = append(rows, []string{o.Object, strings.Join(srcs, ", "), n(o.Rejected), n(o.ExactDuplicates), n(o.FuzzyDuplicates + o.Accepted),
			n(o.Clusters), n(o.Golden), n(o.Review)})
	}
	fmt.Fprintf(w, "Clean of plan %s (run %d)\n", s.Plan, s.RunID)
	if err := simpleTable(w, []string{"object", "read per source", "rejected", "exact dups", "fuzzy dups", "clusters", "golden", "to review"}, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, t := range s.Types {
		if t.Normalized+t.Unchanged+t.Invalid+t.Empty == 0 {
			continue
		}
		rows = append(rows, []string{t.Type, n(t.Unchanged), n(t.Normalized), n(t.Invalid), n(t.Empty)})
	}
	fmt.Fprintln(w, "\nValues by field type")
	if err := simpleTable(w, []string{"type", "unchanged", "normalized", "invalid, kept", "empty"}, rows); err != nil {
		return err
	}
	for _, o := range s.Objects {
		for _, b := range o.Oversized {
			fmt.Fprintf(w, "note: %s block %q has %d records; it was compared within a sliding window only\n", o.Object, b.Key, b.Size)
		}
		if o.Conflicts > 0 {
			fmt.Fprintf(w, "note: %s has %d field conflicts under merge: review\n", o.Object, o.Conflicts)
		}
	}
	for _, p := range s.Pipeline {
		fmt.Fprintf(w, "\nPipeline: %s.%s totals %s %s in the sources but %s %s once duplicates are merged: overstated by %s (%.1f%%); %d records hang on a duplicated company or contact.\n",
			p.Object, p.Field, money(p.SourceTotal), p.Currency, money(p.GoldenTotal), p.Currency, money(p.Overstated), p.Percent, p.OnDuplicateParents)
	}
	tm := s.Timing
	fmt.Fprintf(w, "\nTime: read and normalize %.1fs (waiting for sources %.1fs, normalizing %.1f CPU-s), dedup %.1fs (blocking %.1fs, learning %.1fs, comparing %.1fs, clustering %.1fs), merge %.1fs, write %.1fs",
		tm.Read, tm.Source, tm.Normalize, tm.Dedup, tm.Blocking, tm.Learning, tm.Comparison, tm.Clustering, tm.Merge, tm.Write)
	if s.PeakRSSMB > 0 {
		fmt.Fprintf(w, "; peak memory %.0f MiB", s.PeakRSSMB)
	}
	fmt.Fprintln(w)
	verdict := "PASSED"
	if !s.Passed {
		verdict = "FAILED: " + strings.Join(s.Problems, "; ")
	}
	_, err := fmt.Fprintf(w, "\nRead %d records in %.1fs (%.0f records/s); rejected %d (%.2f%%, limit %.2f%%). Clean %s\n",
		s.Read, s.Seconds, s.RecordsPerSec, s.Rejected, s.RejectRate*100, s.MaxRejectRate*100, verdict)
	return err
}

func n(v int64) string { return strconv.FormatInt(v, 10) }

func money(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}
