package reports

import (
	"fmt"
	"io"
	"strconv"

	"github.com/crmigrate/crmigrate/internal/sheet"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// ReviewFormats are the formats of `crmigrate review list|show`.
var ReviewFormats = []string{"table", "json"}

// keyFields picks the fields that identify a record at a glance: the canonical key, then up to
// two name-like text fields.
func keyFields(o *plans.Object) []int {
	var idx []int
	if i := o.FieldIndex(o.Key); i >= 0 {
		idx = append(idx, i)
	}
	for i, f := range o.Fields {
		if len(idx) >= 3 {
			break
		}
		if i != o.FieldIndex(o.Key) && (f.Type == plans.TypeText || f.Type == plans.TypeEmail || f.Type == plans.TypeDomain) {
			idx = append(idx, i)
		}
	}
	return idx
}

func showVal(f *plans.Field, v string, showPII bool) string {
	if showPII {
		return v
	}
	return MaskValue(f.Type, v)
}

func summarize(o *plans.Object, vals []string, showPII bool) string {
	if vals == nil {
		return "(no longer staged)"
	}
	s := ""
	for _, i := range keyFields(o) {
		if i >= len(vals) || vals[i] == "" {
			continue
		}
		if s != "" {
			s += " · "
		}
		s += showVal(o.Fields[i], vals[i], showPII)
	}
	return s
}

// RenderReviewList renders pairs waiting for review.
func RenderReviewList(w io.Writer, p *plans.Plan, rows []state.ReviewRow, format string, showPII bool) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []state.ReviewRow{}
		}
		if !showPII {
			rows = maskRows(p, rows)
		}
		return WriteJSON(w, rows)
	case "table", "":
	default:
		return badFormat(format, ReviewFormats)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no pairs to review")
		return err
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		o := p.Object(r.Object)
		a, b := "", ""
		if o != nil {
			a, b = summarize(o, r.AVals, showPII), summarize(o, r.BVals, showPII)
		}
		out = append(out, []string{strconv.FormatInt(r.ID, 10), r.Object, strconv.FormatFloat(r.Score, 'f', 3, 64), r.Status,
			r.ASource + ":" + r.AID + "  " + a, r.BSource + ":" + r.BID + "  " + b})
	}
	return simpleTable(w, []string{"id", "object", "score", "status", "record A", "record B"}, out)
}

func maskRows(p *plans.Plan, rows []state.ReviewRow) []state.ReviewRow {
	out := make([]state.ReviewRow, len(rows))
	for i, r := range rows {
		out[i] = r
		o := p.Object(r.Object)
		if o == nil {
			continue
		}
		mask := func(vals []string) []string {
			if vals == nil {
				return nil
			}
			m := make([]string, len(vals))
			for k, v := range vals {
				if k < len(o.Fields) {
					v = MaskValue(o.Fields[k].Type, v)
				}
				m[k] = v
			}
			return m
		}
		out[i].AVals, out[i].BVals = mask(r.AVals), mask(r.BVals)
	}
	return out
}

// ReviewPair is one pair side by side with what merging would give.
type ReviewPair struct {
	state.ReviewRow
	Fields []ReviewField `json:"fields"`
}

// ReviewField is one field of a pair.
type ReviewField struct {
	Field  string  `json:"field"`
	A      string  `json:"a"`
	B      string  `json:"b"`
	Score  *string `json:"similarity,omitempty"`
	Merged string  `json:"merged"`
	From   string  `json:"merged_from,omitempty"`
}

// RenderReviewPair renders `crmigrate review show`: the two records field by field, the
// comparison score of each compared field and the merged record the plan's rules would produce.
func RenderReviewPair(w io.Writer, p *plans.Plan, r state.ReviewRow, merged, provenance []string, format string, showPII bool) error {
	o := p.Object(r.Object)
	if o == nil {
		return fmt.Errorf("review pair %d is for object %s, which the plan no longer has", r.ID, r.Object)
	}
	pair := ReviewPair{ReviewRow: r}
	compared := map[string]int{}
	if o.Dedup != nil {
		for i, c := range o.Dedup.Compare {
			compared[c.Field] = i
		}
	}
	for i, f := range o.Fields {
		rf := ReviewField{Field: f.Name}
		if i < len(r.AVals) {
			rf.A = showVal(f, r.AVals[i], showPII)
		}
		if i < len(r.BVals) {
			rf.B = showVal(f, r.BVals[i], showPII)
		}
		if i < len(merged) {
			rf.Merged = showVal(f, merged[i], showPII)
			rf.From = provenance[i]
		}
		if k, ok := compared[f.Name]; ok && k < len(r.FieldScores) {
			s := strconv.FormatFloat(r.FieldScores[k], 'f', 3, 64)
			rf.Score = &s
		}
		pair.Fields = append(pair.Fields, rf)
	}
	switch format {
	case "json":
		if !showPII {
			pair.ReviewRow = maskRows(p, []state.ReviewRow{r})[0]
		}
		return WriteJSON(w, pair)
	case "table", "":
	default:
		return badFormat(format, ReviewFormats)
	}
	fmt.Fprintf(w, "Pair %d (%s), score %.3f, %s\nA = %s:%s   B = %s:%s\n", r.ID, r.Object, r.Score, r.Status, r.ASource, r.AID, r.BSource, r.BID)
	if r.Reason != "" {
		fmt.Fprintf(w, "why in review: %s\n", r.Reason)
	}
	rows := make([][]string, 0, len(pair.Fields))
	for _, f := range pair.Fields {
		score := ""
		if f.Score != nil {
			score = *f.Score
		}
		same := ""
		if f.A != f.B {
			same = "≠"
		}
		rows = append(rows, []string{f.Field, f.A, same, f.B, score, f.Merged, f.From})
	}
	if err := simpleTable(w, []string{"field", "A", "", "B", "similarity", "merged by the plan's rules", "from"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "accept: crmigrate review accept %d   reject: crmigrate review reject %d\n", r.ID, r.ID)
	return err
}

// WriteReviewCSV writes pairs for a spreadsheet: id, object, score, both records and an empty
// decision column to fill in with accept or reject (`crmigrate review import` reads it back).
func WriteReviewCSV(w io.Writer, p *plans.Plan, rows []state.ReviewRow, showPII bool) error {
	cw := sheet.NewWriter(w) // opened in a spreadsheet: formulas neutralized (review import undoes it)
	if err := cw.Write([]string{"id", "object", "score", "a_source", "a_id", "a_record", "b_source", "b_id", "b_record", "decision"}); err != nil {
		return err
	}
	for _, r := range rows {
		a, b := "", ""
		if o := p.Object(r.Object); o != nil {
			a, b = summarize(o, r.AVals, showPII), summarize(o, r.BVals, showPII)
		}
		if err := cw.Write([]string{strconv.FormatInt(r.ID, 10), r.Object, strconv.FormatFloat(r.Score, 'f', 3, 64),
			r.ASource, r.AID, a, r.BSource, r.BID, b, ""}); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// RenderAuthorityReviews renders the parallel run's authority reviews: which side of a
// difference is right, for a person to decide.
func RenderAuthorityReviews(w io.Writer, p *plans.Plan, rows []state.AuthorityReview, format string, showPII bool) error {
	if rows == nil {
		rows = []state.AuthorityReview{}
	}
	if !showPII {
		masked := make([]state.AuthorityReview, len(rows))
		for i, r := range rows {
			if o := p.Object(r.Object); o != nil {
				if f := o.Field(r.Field); f != nil {
					r.Old, r.New = MaskValue(f.Type, r.Old), MaskValue(f.Type, r.New)
				}
			}
			masked[i] = r
		}
		rows = masked
	}
	switch format {
	case "json":
		return WriteJSON(w, rows)
	case "table", "":
	default:
		return badFormat(format, ReviewFormats)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no differences to decide")
		return err
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, []string{strconv.FormatInt(r.ID, 10), r.Object, r.Record, r.Field, r.Old, r.New, r.Status, r.Why})
	}
	return simpleTable(w, []string{"id", "object", "record", "field", "old", "new", "status", "why a person decides"}, out)
}
