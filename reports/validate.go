package reports

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/crmigrate/crmigrate/migrate"
	"github.com/crmigrate/crmigrate/plans"
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
		names := byCount(o.Fields)
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

// maskedResult copies a validation result with emails and phones masked by field type.
func maskedResult(res *validate.Result) *validate.Result {
	out := *res
	out.Objects = make([]validate.ObjectResult, len(res.Objects))
	for i, o := range res.Objects {
		o.Drift = slices.Clone(o.Drift)
		for j := range o.Drift {
			maskDrift(&o.Drift[j])
		}
		out.Objects[i] = o
	}
	return &out
}

// maskDrift masks the emails and phones of a drift row: its values by field type, its key.
func maskDrift(d *validate.Drift) {
	d.Old, d.New = pii.Mask(d.Type, d.Old), pii.Mask(d.Type, d.New)
	if d.Class != validate.FieldMismatch && d.Class != validate.BrokenRef {
		d.Key = maskKey(d.Key)
	}
	if d.Key != "" && strings.Contains(d.Key, "@") {
		d.Key = pii.MaskEmail(d.Key)
	}
	d.Reason = maskText(d.Reason)
}

// phoneInText finds phone numbers inside free text (a reason quoting a record's value).
var phoneInText = regexp.MustCompile(`\+?[0-9][0-9 ()./-]{6,}[0-9]`)

// maskText masks the emails and phone numbers inside free text, such as the new CRM's reason for
// refusing a record ("Key (email)=(jane@acme.se) already exists").
func maskText(s string) string {
	s = emailRe.ReplaceAllStringFunc(s, pii.MaskEmail)
	return phoneInText.ReplaceAllStringFunc(s, func(v string) string {
		if dateLike.MatchString(v) {
			return v
		}
		digits := 0
		for _, r := range v {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 7 {
			return v
		}
		return pii.MaskPhone(v)
	})
}

// MaskedReport returns a copy of a stored run report (migrate summary, validation result) with
// emails and phone numbers masked, for JSON; other values are returned as they are.
func MaskedReport(body any) any {
	switch b := body.(type) {
	case *migrate.Summary:
		return maskMigrate(b)
	case *validate.Result:
		return maskedResult(b)
	}
	return body
}

// maskKey masks a canonical key that is an email or a phone number.
func maskKey(k string) string {
	switch {
	case strings.Contains(k, "@"):
		return pii.MaskEmail(k)
	case looksLikePhone(k):
		return pii.MaskPhone(k)
	}
	return k
}

// RenderValidation renders a validation through the plan: per object the counts, the mismatched
// fields and samples of drift, then the checks. JSON is the stored result (docs/validate.md).
func RenderValidation(w io.Writer, p *plans.Plan, res *validate.Result, format string, showPII bool) error {
	if res == nil {
		return nil
	}
	if !showPII {
		res = maskedResult(res)
	}
	switch format {
	case "json":
		return WriteJSON(w, res)
	case "table", "", "md":
	default:
		return badFormat(format, ValidateFormats)
	}
	md := format == "md"
	verdict := "PASSED"
	if res.Result != "passed" {
		verdict = "FAILED"
	}
	if md {
		fmt.Fprintf(w, "# Validation of %s: %s\n\n", res.Plan, verdict)
	} else {
		fmt.Fprintf(w, "Validation of %s (run %d): %s in %.1f s\n\n", res.Plan, res.RunID, verdict, res.Seconds)
	}
	rows := make([][]string, 0, len(res.Objects))
	for _, o := range res.Objects {
		rows = append(rows, []string{o.Object, n(o.Old), n(o.New), n(o.Matched), n(o.Identical), fmt.Sprintf("%.2f%%", 100*o.Parity),
			fmt.Sprintf("%d (%d refused)", o.MissingInNew, o.RefusedInNew), n(o.MissingInOld), n(o.Mismatched),
			n(o.DuplicatesInNew), n(o.BrokenRefs), topFields(o.Fields, 3)})
	}
	if err := renderRows(w, md, []string{"object", "expected", "in new", "matched", "identical", "parity", "missing in new",
		"missing in old", "mismatched", "duplicates in new", "broken refs", "top mismatched fields"}, rows); err != nil {
		return err
	}
	for _, o := range res.Objects {
		if len(o.Skipped) > 0 {
			fmt.Fprintf(w, "%s: not compared (mapped on one side only): %s\n", o.Object, strings.Join(o.Skipped, ", "))
		}
		for _, f := range slices.Sorted(maps.Keys(o.Known)) {
			fmt.Fprintf(w, "%s: %s not compared, a known difference (parallel_run.ignore): %s\n", o.Object, f, o.Known[f])
		}
	}
	if err := renderChecks(w, md, res.Checks); err != nil {
		return err
	}
	var drows [][]string
	for _, o := range res.Objects {
		for _, d := range o.Drift {
			if len(drows) >= 20 {
				break
			}
			drows = append(drows, []string{o.Object, d.Class, driftRecord(d), driftDetail(d)})
		}
	}
	if len(drows) > 0 {
		fmt.Fprintln(w)
		title := "First differences (`--format json` lists them all"
		if !showPII {
			title += "; emails and phones masked, --show-pii shows them"
		}
		title += ")"
		if md {
			fmt.Fprintf(w, "## %s\n\n", title)
		} else {
			fmt.Fprintln(w, title+":")
		}
		return renderRows(w, md, []string{"object", "class", "record", "detail"}, drows)
	}
	return nil
}

// renderChecks renders the checks' table (nothing when there are none).
func renderChecks(w io.Writer, md bool, checks []validate.CheckResult) error {
	if len(checks) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	if md {
		fmt.Fprint(w, "## Checks\n\n")
	}
	crows := make([][]string, 0, len(checks))
	for _, c := range checks {
		what := c.Limit
		if c.Object != "" {
			what = c.Object + " " + c.Limit
		}
		obs := strconv.FormatFloat(c.Observed, 'f', -1, 64)
		if c.Detail != "" {
			obs = c.Detail
		}
		crows = append(crows, []string{c.Name, what, obs, c.Threshold, c.Severity, strings.ToUpper(c.Result)})
	}
	return renderRows(w, md, []string{"check", "what", "observed", "threshold", "severity", "result"}, crows)
}

// driftRecord names a drift row's record: its golden id, or its id in new.
func driftRecord(d validate.Drift) string {
	if d.GoldenID != "" {
		return d.GoldenID
	}
	return "new " + d.NewID
}

// driftDetail says what differs, in at most 110 characters.
func driftDetail(d validate.Drift) string {
	detail := d.Reason
	if d.Field != "" {
		detail = fmt.Sprintf("%s: %q in old, %q in new", d.Field, d.Old, d.New)
		if d.Reason != "" {
			detail += "; " + d.Reason
		}
	}
	if r := []rune(detail); len(r) > 110 {
		detail = string(r[:109]) + "…"
	}
	return detail
}

// topFields names the n fields with the most mismatches: "email 12, phone 3".
func topFields(m map[string]int64, k int) string {
	names := byCount(m)
	if len(names) > k {
		names = names[:k]
	}
	parts := make([]string, len(names))
	for i, f := range names {
		parts[i] = fmt.Sprintf("%s %d", f, m[f])
	}
	return strings.Join(parts, ", ")
}

// byCount lists the keys of m, the largest count first, then by name.
func byCount(m map[string]int64) []string {
	names := make([]string, 0, len(m))
	for f := range m {
		names = append(names, f)
	}
	sort.Slice(names, func(i, j int) bool {
		if m[names[i]] != m[names[j]] {
			return m[names[i]] > m[names[j]]
		}
		return names[i] < names[j]
	})
	return names
}
