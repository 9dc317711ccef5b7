package reports

import (
	"fmt"
	"io"

	"github.com/crmigrate/crmigrate/parallelrun"
)

// StatusFormats are the formats of `crmigrate status`.
var StatusFormats = []string{"table", "md", "json"}

// RenderStatus renders where a project stands: the phases' last runs, the parallel run's day and
// headline, what waits for a person, the gates, and the next step.
func RenderStatus(w io.Writer, s *parallelrun.Status, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, s)
	case "table", "", "md":
	default:
		return badFormat(format, StatusFormats)
	}
	md := format == "md"
	if md {
		fmt.Fprintf(w, "# %s\n\n", s.Plan)
	} else {
		fmt.Fprintf(w, "%s\n\n", s.Plan)
	}
	rows := make([][]string, 0, len(s.Phases))
	for _, p := range s.Phases {
		run, result, when := "", "never run", ""
		if p.Last != nil {
			run, result, when = fmt.Sprint(p.Last.ID), p.Last.Status, p.Age
			if p.Last.Forced {
				result += " (forced)"
			}
		}
		if p.Running {
			result += ", one running now"
		}
		rows = append(rows, []string{p.Phase, result, run, when})
	}
	if err := renderRows(w, md, []string{"phase", "last run", "run", "ended"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if pr := s.ParallelRun; pr != nil {
		fmt.Fprintf(w, "Parallel run: %s\n", pr.Headline)
	} else {
		fmt.Fprintln(w, "Parallel run: not started (no snapshot yet).")
	}
	wt := s.Waiting
	fmt.Fprintf(w, "Waiting for a person: %d duplicate pairs to review, %d differences to decide; %d records rejected by the last clean, %d refused by the new CRM in the last migrate.\n",
		wt.Reviews, wt.AuthorityReviews, wt.CleanRejects, wt.MigrateRejects)
	if len(s.Gates) > 0 {
		fmt.Fprintln(w)
		rows := make([][]string, 0, len(s.Gates))
		for _, g := range s.Gates {
			rows = append(rows, []string{g.Result, g.Gate, g.Observed})
		}
		if err := renderRows(w, md, []string{"gate", "cutover gate", "observed"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nNext: %s\n      %s\n", s.Next, s.NextWhy)
	return nil
}
