package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/crmigrate/crmigrate/plans"
)

// PlanMapFormats are the formats RenderPlanMap accepts.
var PlanMapFormats = []string{"table", "md", "json"}

// RenderPlanMap writes the data-model map m to w as "table" (terminal
// tables), "md" (GitHub Markdown with the same content) or "json" (indented).
// An unknown format is an error naming the valid ones; write errors are
// returned.
func RenderPlanMap(w io.Writer, m *plans.Map, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return fmt.Errorf("render plan map: %w", err)
		}
		return nil
	case "table":
		return renderPlanMap(&textOut{w: w}, m)
	case "md":
		return renderPlanMap(&mdOut{w: w}, m)
	}
	return fmt.Errorf("render plan map: unknown format %q; use one of %s", format, strings.Join(PlanMapFormats, ", "))
}

// sectionWriter is what table and Markdown output have in common.
type sectionWriter interface {
	title(s string)
	heading(s string)
	para(s string)
	table(header []string, rows [][]string)
	err() error
}

func renderPlanMap(out sectionWriter, m *plans.Map) error {
	out.title("Data-model map: " + m.Plan)
	meta := "Time zone " + m.Timezone
	if m.DefaultRegion != "" {
		meta += ", default phone region " + m.DefaultRegion
	}
	out.para(meta + ".")

	out.heading("Systems")
	rows := [][]string{}
	for _, s := range m.Systems {
		loc := s.Location
		if s.Dialect != "" {
			loc += " (" + s.Dialect + " export)"
		}
		rows = append(rows, []string{s.Name, s.Kind, s.Role, loc})
	}
	out.table([]string{"System", "Kind", "Role", "Location"}, rows)

	for _, o := range m.Objects {
		out.heading(fmt.Sprintf("Object %s (key: %s, on delete: %s)", o.Name, o.Key, o.OnDelete))
		rows = [][]string{}
		for _, s := range o.Sources {
			name := s.Name
			if s.Kind != "file" {
				name = s.Kind + " " + name
			}
			if s.Where != "" {
				name += " where " + s.Where
			}
			rows = append(rows, []string{s.System, name, s.ID, dash(s.UpdatedAt), dash(s.ExternalID)})
		}
		out.table([]string{"System", "Source", "ID", "Updated at", "External ID"}, rows)

		header := append([]string{"Field", "Type"}, o.Systems...)
		header = append(header, "Normalization", "Authority", "Merge")
		rows = [][]string{}
		for _, f := range o.Fields {
			name := f.Name
			var marks []string
			if f.Key {
				marks = append(marks, "key")
			}
			if f.Required {
				marks = append(marks, "required")
			}
			if len(marks) > 0 {
				name += " (" + strings.Join(marks, ", ") + ")"
			}
			row := []string{name, f.Type}
			for _, c := range f.Columns {
				row = append(row, dash(c))
			}
			row = append(row, f.Normalization, f.Authority, f.Merge)
			rows = append(rows, row)
		}
		out.table(header, rows)

		for _, f := range o.Fields {
			if len(f.Values) == 0 {
				continue
			}
			rows = [][]string{}
			for _, v := range f.Values {
				rows = append(rows, []string{v.Old, v.New})
			}
			out.para(fmt.Sprintf("Values of %s.%s:", o.Name, f.Name))
			out.table([]string{"Old value", "New value"}, rows)
		}
		if o.Dedup != nil {
			out.para("Dedup: " + o.Dedup.Summary + ".")
		}
	}

	out.heading("Relationships")
	if len(m.Relationships) == 0 {
		out.para("None.")
	} else {
		rows = [][]string{}
		for _, r := range m.Relationships {
			rows = append(rows, []string{r.From, r.To, strings.Join(r.Columns, ", ")})
		}
		out.table([]string{"Field", "Refers to", "Columns"}, rows)
	}

	out.heading("Canonical identifiers")
	rows = [][]string{}
	for _, id := range m.Identifiers {
		rows = append(rows, []string{id.Object, id.Key, dash(id.Type), id.Normalization, id.Dedup})
	}
	out.table([]string{"Object", "Key", "Type", "Normalization", "Dedup"}, rows)

	out.heading("Integrations")
	if len(m.Integrations) == 0 {
		out.para("None.")
	} else {
		rows = [][]string{}
		for _, in := range m.Integrations {
			order := "-"
			if in.Order > 0 {
				order = strconv.Itoa(in.Order)
			}
			rows = append(rows, []string{order, in.Name, in.System, in.Direction, dash(in.Pattern), dash(in.Sync),
				dash(strings.Join(in.Data, ", ")), dash(in.Owner), in.Steps})
		}
		out.table([]string{"Order", "Name", "System", "Direction", "Pattern", "Sync", "Data", "Owner", "Steps"}, rows)
	}
	return out.err()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// textOut writes terminal tables with tablewriter.
type textOut struct {
	w         io.Writer
	e         error
	lastTable bool // the previous block was a table: separate with a blank line
}

func (t *textOut) printf(format string, args ...any) {
	if t.e == nil {
		_, t.e = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textOut) title(s string) {
	t.printf("%s\n%s\n", s, strings.Repeat("=", len([]rune(s))))
}

func (t *textOut) heading(s string) { t.printf("\n%s\n", s); t.lastTable = false }

func (t *textOut) para(s string) {
	if t.lastTable {
		t.printf("\n")
	}
	t.printf("%s\n", s)
	t.lastTable = false
}

func (t *textOut) table(header []string, rows [][]string) {
	if t.e != nil {
		return
	}
	if t.lastTable {
		t.printf("\n")
	}
	t.lastTable = true
	tbl := tablewriter.NewTable(t.w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tbl.Header(header)
	if err := tbl.Bulk(rows); err != nil {
		t.e = fmt.Errorf("render plan map: %w", err)
		return
	}
	if err := tbl.Render(); err != nil {
		t.e = fmt.Errorf("render plan map: %w", err)
	}
}

func (t *textOut) err() error { return t.e }

// mdOut writes GitHub Markdown.
type mdOut struct {
	w io.Writer
	e error
	// emptyTable, when set, is written instead of a table without rows.
	emptyTable string
	// rightAlign, when set, says which columns (by header) are right-aligned.
	rightAlign func(header string) bool
}

func (m *mdOut) printf(format string, args ...any) {
	if m.e == nil {
		_, m.e = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *mdOut) title(s string) { m.printf("# %s\n", mdText.Replace(s)) }

func (m *mdOut) heading(s string) { m.printf("\n## %s\n", mdText.Replace(s)) }

func (m *mdOut) para(s string) { m.printf("\n%s\n", mdText.Replace(s)) }

func (m *mdOut) table(header []string, rows [][]string) {
	if len(rows) == 0 && m.emptyTable != "" {
		m.printf("\n%s\n", m.emptyTable)
		return
	}
	cells := func(row []string) string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = mdCell.Replace(c)
		}
		return "| " + strings.Join(out, " | ") + " |\n"
	}
	m.printf("\n%s", cells(header))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
		if i > 0 && m.rightAlign != nil && m.rightAlign(header[i]) {
			seps[i] = "---:"
		}
	}
	m.printf("%s", "| "+strings.Join(seps, " | ")+" |\n")
	for _, r := range rows {
		m.printf("%s", cells(r))
	}
}

func (m *mdOut) err() error { return m.e }

// mdText escapes text for Markdown paragraphs and headings; mdCell also
// escapes the pipe that separates table cells.
var (
	mdText = strings.NewReplacer(`\`, `\\`, "*", `\*`, "`", "\\`", "<", "&lt;", ">", "&gt;", "\n", " ")
	mdCell = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "`", "\\`", "<", "&lt;", ">", "&gt;", "\n", " ")
)
