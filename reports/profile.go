package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/crmigrate/crmigrate/demo"
)

// ProfileFormats are the formats RenderProfile accepts.
var ProfileFormats = []string{"table", "md", "json"}

var profilePhoneLabels = map[string]string{
	demo.PhoneE164:          "E.164 (+CC…)",
	demo.PhoneInternational: "international, with spaces",
	demo.PhoneNationalTrunk: "national, with trunk 0",
	demo.PhoneNational:      "national, without trunk 0",
	demo.PhoneExtension:     "with extension",
	demo.PhoneEmpty:         "empty",
	demo.PhoneOther:         "other (unparseable)",
}

// RenderProfile renders the profile of an old CRM (demo.Profile) as a
// terminal table ("table" or ""), Markdown ("md") or JSON ("json").
// Example e-mail addresses and phone numbers are masked ("j***@acme.se",
// "+33 6 ** ** ** 78") unless showPII is true, in every format.
func RenderProfile(w io.Writer, p *demo.ProfileResult, format string, showPII bool) error {
	if p == nil {
		return fmt.Errorf("render profile: no profile")
	}
	var out profileWriter
	switch format {
	case "json":
		v := p
		if showPII {
			v = p.WithPII()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("render profile: %w", err)
		}
		return nil
	case "md":
		out = &mdOut{w: w, emptyTable: "(none)", rightAlign: profileNumeric}
	case "table", "":
		out = &profileText{w: w}
	default:
		return fmt.Errorf("render profile: unknown format %q; use one of %s", format, strings.Join(ProfileFormats, ", "))
	}
	renderProfile(out, p, showPII)
	if err := out.err(); err != nil {
		return fmt.Errorf("render profile: %w", err)
	}
	return nil
}

func renderProfile(out profileWriter, p *demo.ProfileResult, showPII bool) {
	example := func(e demo.Example) string {
		if showPII {
			return e.Raw()
		}
		return e.String()
	}
	out.title("Old CRM profile")

	out.heading("Objects")
	var rows [][]string
	for _, t := range p.Tables {
		rows = append(rows, []string{t.Table, profileCount(t.Rows)})
	}
	out.table([]string{"Table", "Rows"}, rows)

	e := p.Emails
	out.heading("E-mail addresses")
	out.para(fmt.Sprintf("%s values in %s.", profileCount(e.Total), strings.Join(e.Columns, ", ")))
	out.table([]string{"Finding", "Records", "Share", "Example"}, [][]string{
		{"missing (empty)", profileCount(e.Missing), profileShare(e.Missing, e.Total), ""},
		{"invalid", profileCount(e.Invalid), profileShare(e.Invalid, e.Total), example(e.InvalidExample)},
		{"valid after trim and lower-case", profileCount(e.NeedsCleanup), profileShare(e.NeedsCleanup, e.Total), example(e.NeedsCleanupExample)},
		{"free-mail provider", profileCount(e.FreeMail), profileShare(e.FreeMail, e.Total), example(e.FreeMailExample)},
	})

	ph := p.Phones
	out.heading("Phone formats")
	out.para(fmt.Sprintf("%s values in %s.", profileCount(ph.Total), strings.Join(ph.Columns, ", ")))
	rows = nil
	for _, f := range ph.Formats {
		label := profilePhoneLabels[f.Format]
		if label == "" {
			label = f.Format
		}
		rows = append(rows, []string{label, profileCount(f.Count), profileShare(f.Count, ph.Total), example(f.Example)})
	}
	out.table([]string{"Format", "Values", "Share", "Example"}, rows)

	d := p.Duplicates
	out.heading("Likely duplicates")
	if d.Emails == 0 {
		out.para("No e-mail address is shared by two records (" + d.Method + ").")
	} else {
		out.para(fmt.Sprintf("%s addresses are shared by %s records (%s), e.g. %s.",
			profileCount(d.Emails), profileCount(d.Records), d.Method, example(d.Example)))
	}

	out.heading("Orphans")
	rows = nil
	for _, o := range p.Orphans {
		rows = append(rows, []string{o.Table + "." + o.Column, o.References, profileCount(o.Count), o.ExampleID})
	}
	out.table([]string{"Reference", "Points to", "Dangling", "Example id"}, rows)

	if len(p.Picklists) > 0 {
		out.heading("Picklist values")
		rows = nil
		for _, pl := range p.Picklists {
			vals := make([]string, 0, len(pl.Values))
			for i, v := range pl.Values {
				if i == profilePicklistShown {
					break
				}
				vals = append(vals, profileValue(v.Value)+" "+profileCount(v.Count))
			}
			more := ""
			if n := pl.Distinct - int64(len(vals)); n > 0 {
				more = fmt.Sprintf(", … %d more", n)
			}
			rows = append(rows, []string{pl.Table + "." + pl.Column, profileCount(pl.Distinct), strings.Join(vals, ", ") + more})
		}
		out.table([]string{"Column", "Distinct", "Values (most frequent first)"}, rows)
	}
}

// profilePicklistShown is the number of values shown per picklist (JSON has them all).
const profilePicklistShown = 8

// profileValue shows a picklist value so that stray spaces and NULLs are visible.
func profileValue(v *string) string {
	switch {
	case v == nil:
		return "(null)"
	case *v == "" || strings.TrimSpace(*v) != *v || strings.ContainsAny(*v, "\"\n\t"):
		return strconv.Quote(*v)
	}
	return *v
}

func profileCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 10000 && n > -10000 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && c != '-' && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func profileShare(n, total int64) string {
	if total == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}

// profileWriter is a target format: terminal text or Markdown.
type profileWriter interface {
	title(string)
	heading(string)
	para(string)
	table(header []string, rows [][]string)
	err() error
}

type profileText struct {
	w io.Writer
	e error
}

func (t *profileText) printf(format string, args ...any) {
	if t.e == nil {
		_, t.e = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *profileText) title(s string) {
	t.printf("%s\n%s\n", s, strings.Repeat("=", len([]rune(s))))
}

func (t *profileText) heading(s string) {
	t.printf("\n%s\n%s\n", s, strings.Repeat("-", len([]rune(s))))
}
func (t *profileText) para(s string) { t.printf("%s\n", s) }
func (t *profileText) err() error    { return t.e }

func (t *profileText) table(header []string, rows [][]string) {
	if t.e != nil {
		return
	}
	if len(rows) == 0 {
		t.printf("(none)\n")
		return
	}
	tbl := tablewriter.NewTable(t.w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tbl.Header(header)
	if err := tbl.Bulk(rows); err != nil {
		t.e = err
		return
	}
	t.e = tbl.Render()
}

// profileNumeric says which profile columns hold numbers (right-aligned in Markdown).
func profileNumeric(header string) bool {
	switch header {
	case "Rows", "Records", "Values", "Share", "Dangling", "Distinct":
		return true
	}
	return false
}
