package reports

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/crmigrate/crmigrate/validate"
)

// ValidateFormats are the formats of validate's results.
var ValidateFormats = []string{"table", "md", "json"}

// TableDiffJSON is validate's JSON in identity mode (schema version 1, see docs/validate.md): the
// shape of a validate result, with one object (the table) and its differences.
type TableDiffJSON struct {
	Version     int                   `json:"version"`
	Mode        string                `json:"mode"`
	Result      string                `json:"result"`
	Objects     []IdentityObject      `json:"objects"`
	Checks      []any                 `json:"checks"`
	Differences []validate.Difference `json:"differences"`
	Truncated   bool                  `json:"differences_truncated,omitempty"`
	Seconds     float64               `json:"seconds"`
}

// IdentityObject is the table's counts in validate's per-object shape.
type IdentityObject struct {
	Object          string           `json:"object"`
	Key             string           `json:"key"`
	Columns         []string         `json:"columns"`
	OnlyOld         []string         `json:"only_old,omitempty"`
	OnlyNew         []string         `json:"only_new,omitempty"`
	Old             int64            `json:"old"`
	New             int64            `json:"new"`
	Matched         int64            `json:"matched"`
	Identical       int64            `json:"identical"`
	MissingInNew    int64            `json:"missing_in_new"`
	MissingInOld    int64            `json:"missing_in_old"`
	Mismatched      int64            `json:"mismatched"`
	DuplicatesInNew int64            `json:"duplicates_in_new"`
	DuplicatesInOld int64            `json:"duplicates_in_old"`
	Parity          float64          `json:"parity"`
	Fields          map[string]int64 `json:"fields"`
}

// Parity is identical records over the union of keys on both sides (1 when both are empty).
func Parity(identical, old, new, matched int64) float64 {
	union := old + new - matched
	if union <= 0 {
		return 1
	}
	return float64(identical) / float64(union)
}

// MaskRaw masks a raw value of an identity-mode diff, where no plan says which columns are
// personal: a value that looks like an email or a phone number, or sits in a column named like
// one, is masked.
func MaskRaw(column, v string) string {
	c := strings.ToLower(column)
	switch {
	case strings.Contains(c, "mail") || strings.Contains(v, "@"):
		return pii.MaskEmail(v)
	case strings.Contains(c, "phone") || strings.Contains(c, "mobile") || strings.Contains(c, "fax") || looksLikePhone(v):
		return pii.MaskPhone(v)
	}
	return v
}

func looksLikePhone(v string) bool {
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-(). /", r):
		default:
			return false
		}
	}
	return digits >= 7
}

// IdentityResult turns a table diff into validate's JSON shape, masking values unless showPII.
func IdentityResult(d *validate.TableDiff, showPII bool) TableDiffJSON {
	res := TableDiffJSON{Version: 1, Mode: "identity", Result: "passed", Checks: []any{}, Seconds: d.Seconds, Truncated: d.Truncated}
	if !d.Same() {
		res.Result = "failed"
	}
	res.Objects = []IdentityObject{{Object: d.Table, Key: d.Key, Columns: d.Columns, OnlyOld: d.OnlyOld, OnlyNew: d.OnlyNew,
		Old: d.Old, New: d.New, Matched: d.Matched, Identical: d.Identical, MissingInNew: d.MissingInNew, MissingInOld: d.MissingInOld,
		Mismatched: d.Mismatched, DuplicatesInNew: d.DuplicatesInNew, DuplicatesInOld: d.DuplicatesInOld,
		Parity: Parity(d.Identical, d.Old, d.New, d.Matched), Fields: d.Fields}}
	res.Differences = make([]validate.Difference, len(d.Differences))
	for i, diff := range d.Differences {
		out := validate.Difference{Key: diff.Key, Class: diff.Class}
		for _, f := range diff.Fields {
			fd := validate.FieldDiff{Field: f.Field, Old: f.Old, New: f.New}
			if !showPII {
				fd.Old, fd.New = maskPtr(f.Field, f.Old), maskPtr(f.Field, f.New)
			}
			out.Fields = append(out.Fields, fd)
		}
		res.Differences[i] = out
	}
	return res
}

func maskPtr(col string, v *string) *string {
	if v == nil {
		return nil
	}
	m := MaskRaw(col, *v)
	return &m
}

// RenderTableDiff renders an identity-mode diff as a table, Markdown or JSON.
func RenderTableDiff(w io.Writer, d *validate.TableDiff, format string, showPII bool) error {
	res := IdentityResult(d, showPII)
	switch format {
	case "json":
		return WriteJSON(w, res)
	case "table", "", "md":
	default:
		return badFormat(format, ValidateFormats)
	}
	o := res.Objects[0]
	md := format == "md"
	verdict := "identical"
	if res.Result != "passed" {
		verdict = "DIFFERENT"
	}
	if md {
		fmt.Fprintf(w, "# Table diff of `%s` by `%s`: %s\n\n", o.Object, o.Key, verdict)
	} else {
		fmt.Fprintf(w, "Table %s, key %s: %s (%.1f s)\n", o.Object, o.Key, verdict, res.Seconds)
	}
	counts := [][]string{
		{"rows in old", n(o.Old)}, {"rows in new", n(o.New)}, {"matched", n(o.Matched)}, {"identical", n(o.Identical)},
		{"missing in new", n(o.MissingInNew)}, {"missing in old", n(o.MissingInOld)}, {"mismatched", n(o.Mismatched)},
		{"duplicate keys in old", n(o.DuplicatesInOld)}, {"duplicate keys in new", n(o.DuplicatesInNew)},
		{"parity", fmt.Sprintf("%.4f%%", 100*o.Parity)},
	}
	if err := renderRows(w, md, []string{"", "count"}, counts); err != nil {
		return err
	}
	if len(o.Fields) > 0 {
		names := make([]string, 0, len(o.Fields))
		for f := range o.Fields {
			names = append(names, f)
		}
		sort.Slice(names, func(i, j int) bool {
			if o.Fields[names[i]] != o.Fields[names[j]] {
				return o.Fields[names[i]] > o.Fields[names[j]]
			}
			return names[i] < names[j]
		})
		rows := make([][]string, len(names))
		for i, f := range names {
			rows[i] = []string{f, n(o.Fields[f])}
		}
		fmt.Fprintln(w)
		if err := renderRows(w, md, []string{"column", "mismatched rows"}, rows); err != nil {
			return err
		}
	}
	if len(o.OnlyOld)+len(o.OnlyNew) > 0 {
		fmt.Fprintf(w, "\nNot compared (on one side only): old %s; new %s\n", listOrNone(o.OnlyOld), listOrNone(o.OnlyNew))
	}
	if len(res.Differences) > 0 {
		rows := make([][]string, 0, len(res.Differences))
		for _, diff := range res.Differences {
			if len(diff.Fields) == 0 {
				rows = append(rows, []string{diff.Key, diff.Class, "", "", ""})
			}
			for _, f := range diff.Fields {
				rows = append(rows, []string{diff.Key, diff.Class, f.Field, valueText(f.Old), valueText(f.New)})
			}
		}
		fmt.Fprintln(w)
		title := "Differences"
		if res.Truncated {
			title = fmt.Sprintf("First %d differences", len(res.Differences))
		}
		if !showPII {
			title += " (emails and phones masked; --show-pii shows them)"
		}
		if md {
			fmt.Fprintf(w, "## %s\n\n", title)
		} else {
			fmt.Fprintln(w, title+":")
		}
		return renderRows(w, md, []string{"key", "class", "column", "old", "new"}, rows)
	}
	return nil
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func valueText(v *string) string {
	if v == nil {
		return "NULL"
	}
	return strconv.Quote(*v)
}

// renderRows writes a table for people, or a Markdown table.
func renderRows(w io.Writer, md bool, header []string, rows [][]string) error {
	if !md {
		return simpleTable(w, header, rows)
	}
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	line := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = esc(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(out, " | "))
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|"))
	for _, r := range rows {
		line(r)
	}
	return nil
}
