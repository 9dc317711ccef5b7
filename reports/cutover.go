package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/state"
)

// CutoverFormats are the formats of the go/no-go checklist.
var CutoverFormats = []string{"table", "md", "html", "json"}

// RenderChecklist renders the go/no-go: every gate with its evidence and what to do about a
// failing one, then the verdict.
func RenderChecklist(w io.Writer, c *cutover.Checklist, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, c)
	case "html":
		return renderCutoverHTML(w, &CutoverReport{Checklist: c})
	case "table", "", "md":
	default:
		return badFormat(format, CutoverFormats)
	}
	md := format == "md"
	title := fmt.Sprintf("Cutover check: %s, for %s (evidence %s)", c.Plan, c.At.Format("2006-01-02 15:04 UTC"), c.Evidence[:min(12, len(c.Evidence))])
	if md {
		fmt.Fprintf(w, "# %s\n\n", title)
	} else {
		fmt.Fprintf(w, "%s\n\n", title)
	}
	rows := make([][]string, 0, len(c.Items))
	failing := 0
	for _, it := range c.Items {
		if it.Result != cutover.Pass {
			failing++
		}
		rows = append(rows, []string{strings.ToUpper(it.Result), it.Group, it.Gate, it.Observed, it.Todo})
	}
	width := 0
	if !md {
		width = terminalWidth(w)
	}
	if md {
		if err := renderRows(w, true, []string{"result", "group", "gate", "evidence", "to do"}, rows); err != nil {
			return err
		}
	} else if err := fitRows(w, width, []string{"result", "group", "gate", "evidence", "to do"}, rows); err != nil {
		return err
	}
	verdict := c.Result
	if failing > 0 {
		verdict = fmt.Sprintf("%s: %d of %d gates fail", c.Result, failing, len(c.Items))
	}
	if md {
		fmt.Fprintf(w, "\n**%s**\n", verdict)
	} else {
		fmt.Fprintf(w, "\n%s\n", verdict)
	}
	return nil
}

// RenderManifest renders a snapshot's manifest: its files with rows and checksums.
func RenderManifest(w io.Writer, m *cutover.Manifest, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, m)
	case "table", "":
	default:
		return badFormat(format, []string{"table", "json"})
	}
	rows := make([][]string, 0, len(m.Files))
	for _, f := range m.Files {
		rows = append(rows, []string{f.System, f.Object, n(f.Rows), n(f.Bytes), f.SHA256[:16] + "…", f.Path})
	}
	if err := fitRows(w, terminalWidth(w), []string{"system", "object", "rows", "bytes", "checksum (SHA-256)", "file"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nSnapshot run %d: %d rows in %d files in %s (manifest.json), %.1fs.\n", m.RunID, m.Rows, len(m.Files), m.Dir, m.Seconds)
	return err
}

// RenderVerification renders the integrations' verifies.
func RenderVerification(w io.Writer, v *cutover.Verification, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, v)
	case "table", "":
	default:
		return badFormat(format, []string{"table", "json"})
	}
	rows := make([][]string, 0, len(v.Results))
	for _, r := range v.Results {
		res := "OK"
		if !r.OK {
			res = "FAILED"
		}
		rows = append(rows, []string{r.Integration, r.Owner, res, r.Kind + " " + r.Target, r.Detail, fmt.Sprintf("%.1fs", r.Seconds)})
	}
	if err := fitRows(w, terminalWidth(w), []string{"integration", "owner", "verify", "action", "result", "took"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d of %d verified against the new CRM (run %d).\n", len(v.Results)-v.Failures, len(v.Results), v.RunID)
	return err
}

// RenderExecution renders a cutover execution or rollback: its steps in order and how it ended.
func RenderExecution(w io.Writer, e *cutover.Execution, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, e)
	case "table", "":
	default:
		return badFormat(format, []string{"table", "json"})
	}
	if e.DryRun {
		fmt.Fprintf(w, "Dry run: the go/no-go says %s; these are the steps, in order (nothing was run):\n\n", e.Verdict)
	}
	rows := make([][]string, 0, len(e.Steps))
	for _, s := range e.Steps {
		res, detail := "OK", s.Detail
		switch {
		case e.DryRun:
			res, detail = "planned", ""
		case !s.OK:
			res = "FAILED"
		}
		rows = append(rows, []string{s.Integration, s.Step, res, s.Kind + " " + s.Target, detail})
	}
	if err := fitRows(w, terminalWidth(w), []string{"integration", "step", "result", "action", "detail"}, rows); err != nil {
		return err
	}
	msg := map[string]string{"switched": "Every integration is switched to the new CRM.", "planned": "",
		"rolled_back": "Stopped and rolled back: every integration switched points at the old CRM again.",
		"failed":      "Stopped, and a rollback did not go through: fix it by hand."}[e.Result]
	if e.RollbackOnly && e.Result == "rolled_back" {
		msg = "Rolled back: these integrations point at the old CRM again."
	}
	if e.Forced {
		msg += " (forced past NO-GO, audited)"
	}
	if e.Note != "" {
		msg += " " + e.Note
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(msg))
	return err
}

// RenderCutoverReport renders the go/no-go with the journal of the integrations' switches.
func RenderCutoverReport(w io.Writer, r *CutoverReport, format string) error {
	if r.Journal == nil {
		r.Journal = []state.CutoverStep{}
	}
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "html":
		return renderCutoverHTML(w, r)
	case "table", "", "md":
	default:
		return badFormat(format, CutoverFormats)
	}
	if err := RenderChecklist(w, r.Checklist, format); err != nil {
		return err
	}
	md := format == "md"
	if md {
		fmt.Fprint(w, "\n## Switches\n\n")
	} else {
		fmt.Fprint(w, "\nSWITCHES\n")
	}
	if len(r.Journal) == 0 {
		_, err := fmt.Fprintln(w, "No integration switched yet.")
		return err
	}
	rows := make([][]string, 0, len(r.Journal))
	for _, s := range r.Journal {
		res := "ok"
		if !s.OK {
			res = "FAILED"
		}
		rows = append(rows, []string{s.At.UTC().Format("2006-01-02 15:04:05"), fmt.Sprint(s.RunID), s.Integration, s.Step, res, s.Detail})
	}
	header := []string{"at (UTC)", "run", "integration", "step", "result", "detail"}
	if md {
		return renderRows(w, true, header, rows)
	}
	return fitRows(w, terminalWidth(w), header, rows)
}
