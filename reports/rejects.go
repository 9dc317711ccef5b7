package reports

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// RejectGroup is the rejects of a run that share a reason, with the values that caused them.
type RejectGroup struct {
	Object  string   `json:"object"`
	System  string   `json:"system"`
	Field   string   `json:"field,omitempty"` // the field the reason names, when it names one
	Reason  string   `json:"reason"`          // the reason with its values left out
	Count   int64    `json:"count"`
	Values  []string `json:"values"`  // the distinct values the reason quotes (at most 5)
	Example []string `json:"example"` // where some of them are: SYSTEM:LINE or the record's id (at most 3)
}

// quoted finds the values a reason quotes ("TBD", "2023-02-30"), and the key of a unique
// violation ("Key (email)=(jane@acme.se)").
var quoted = regexp.MustCompile(`"[^"]*"|=\([^)]*\)`)

// fieldOf finds the field a reason names: "FIELD: …", "field FIELD …", "column "FIELD" …".
var fieldOf = regexp.MustCompile(`^(?:field |column )?"?([a-z_][a-z0-9_]*)"?: `)

// GroupRejects groups a run's rejects by object, system and reason (the reason's quoted values
// left out, and listed), largest groups first. The field a group is about is the one the reason
// names, or the one whose value it quotes (golden: the rejected golden records' canonical values
// by golden id, nil when unknown), or, for a check constraint named TABLE_COLUMN_check, that
// column's field.
func GroupRejects(p *plans.Plan, rows []state.RejectRow, golden map[string][]string) []RejectGroup {
	byKey := map[string]*RejectGroup{}
	var order []string
	for _, r := range rows {
		reason := quoted.ReplaceAllStringFunc(r.Reason, func(q string) string {
			if strings.HasPrefix(q, "=(") {
				return "=(…)"
			}
			return `"…"`
		})
		k := r.Object + "\x00" + r.System + "\x00" + reason
		g := byKey[k]
		if g == nil {
			g = &RejectGroup{Object: r.Object, System: r.System, Reason: reason, Values: []string{}, Example: []string{}}
			g.Field = rejectField(p, r, golden[r.SourceID])
			byKey[k] = g
			order = append(order, k)
		}
		g.Count++
		// The value: the record's value of the field, when both are known; else what the reason quotes.
		values := quoted.FindAllString(r.Reason, -1)
		for _, q := range values {
			if strings.HasPrefix(q, "=(") { // a unique violation: the key's value, not the constraint's name
				values = []string{q}
				break
			}
		}
		if o := p.Object(r.Object); o != nil && g.Field != "" && golden[r.SourceID] != nil {
			if i := o.FieldIndex(g.Field); i >= 0 && i < len(golden[r.SourceID]) {
				values = []string{golden[r.SourceID][i]}
			}
		}
		for _, v := range values {
			if v = strings.TrimSuffix(strings.TrimPrefix(strings.Trim(v, `"`), "=("), ")"); len(g.Values) < 5 && !slices.Contains(g.Values, v) {
				g.Values = append(g.Values, v)
			}
		}
		if len(g.Example) < 3 {
			where := r.SourceID
			if r.Line > 0 {
				where = fmt.Sprintf("%s:%d", r.System, r.Line)
			}
			g.Example = append(g.Example, where)
		}
	}
	out := make([]RejectGroup, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	slices.SortStableFunc(out, func(a, b RejectGroup) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// rejectField finds the plan's field a reject is about ("" when it cannot tell).
func rejectField(p *plans.Plan, r state.RejectRow, vals []string) string {
	if m := fieldOf.FindStringSubmatch(r.Reason); m != nil {
		return m[1]
	}
	o := p.Object(r.Object)
	if o == nil {
		return ""
	}
	if m := uniqueKey.FindStringSubmatch(r.Reason); m != nil {
		for _, f := range o.Fields {
			if c, ok := f.Column(plans.SystemNew); ok && c == m[1] {
				return f.Name
			}
		}
	}
	if m := checkConstraint.FindStringSubmatch(r.Reason); m != nil {
		if nm := o.Mapping(plans.SystemNew); nm != nil && nm.Table != "" {
			col := strings.TrimPrefix(m[1], tableName(nm.Table)+"_")
			for _, f := range o.Fields {
				if c, ok := f.Column(plans.SystemNew); ok && c == col {
					return f.Name
				}
			}
		}
	}
	for _, q := range quoted.FindAllString(r.Reason, -1) {
		q = strings.TrimSuffix(strings.TrimPrefix(strings.Trim(q, `"`), "=("), ")")
		for i, v := range vals {
			if i < len(o.Fields) && v != "" && v == q {
				return o.Fields[i].Name
			}
		}
	}
	return ""
}

// uniqueKey finds the column of a unique violation's key.
var uniqueKey = regexp.MustCompile(`Key \(([a-z0-9_]+)\)=`)

// checkConstraint finds the constraint a check violation names.
var checkConstraint = regexp.MustCompile(`violates check constraint "([a-z0-9_]+)_check"`)

// tableName is a table's name without its schema.
func tableName(t string) string {
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// phoneLike is a value that may be a phone number: digits with the usual separators.
var phoneLike = regexp.MustCompile(`^[+(]?[0-9][0-9 ()./-]{5,}[0-9]$`)

// dateLike is a value that looks like a date, not a phone number.
var dateLike = regexp.MustCompile(`^[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}$`)

// maskLoose masks a value whose type is unknown that looks like an email or a phone number.
func maskLoose(v string) string {
	switch {
	case strings.Contains(v, "@"):
		return pii.MaskEmail(v)
	case phoneLike.MatchString(v) && !dateLike.MatchString(v):
		return pii.MaskPhone(v)
	}
	return v
}

// RenderRejectGroups renders a run's rejects grouped by reason; values that look like emails or
// phone numbers are masked unless showPII.
func RenderRejectGroups(w io.Writer, groups []RejectGroup, format string, showPII bool) error {
	if !showPII {
		masked := make([]RejectGroup, len(groups))
		for i, g := range groups {
			g.Values = slices.Clone(g.Values)
			for k := range g.Values {
				g.Values[k] = maskText(maskLoose(g.Values[k]))
			}
			g.Reason = maskText(g.Reason)
			masked[i] = g
		}
		groups = masked
	}
	switch format {
	case "json":
		if groups == nil {
			groups = []RejectGroup{}
		}
		return WriteJSON(w, groups)
	case "table", "", "md":
	default:
		return badFormat(format, []string{"table", "md", "json"})
	}
	md := format == "md"
	if len(groups) == 0 {
		_, err := fmt.Fprintln(w, "No rejected records.")
		return err
	}
	var total int64
	rows := make([][]string, 0, len(groups))
	for _, g := range groups {
		total += g.Count
		rows = append(rows, []string{g.Object, g.System, g.Field, n(g.Count), g.Reason, strings.Join(g.Values, ", "), strings.Join(g.Example, ", ")})
	}
	title := fmt.Sprintf("Rejected records: %d, in %d groups by reason", total, len(groups))
	if md {
		fmt.Fprintf(w, "## %s\n\n", title)
	} else {
		fmt.Fprintln(w, title)
	}
	return renderRows(w, md, []string{"object", "system", "field", "records", "reason", "values", "for example"}, rows)
}
