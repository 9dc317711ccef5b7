package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/crmigrate/crmigrate/parallelrun"
	"github.com/crmigrate/crmigrate/plans"
)

// ParityFormats are the formats of the daily parity report.
var ParityFormats = []string{"table", "md", "html", "json", "csv"}

// maskedParity copies a parity report with the drift rows' emails and phones masked.
func maskedParity(r *parallelrun.ParityReport) *parallelrun.ParityReport {
	out := *r
	out.Critical, out.Samples = slices.Clone(r.Critical), slices.Clone(r.Samples)
	for i := range out.Critical {
		maskDrift(&out.Critical[i].Drift)
	}
	for i := range out.Samples {
		maskDrift(&out.Samples[i].Drift)
	}
	return &out
}

// RenderParity renders the daily parity report: the headline and the gates, each object against
// the day before and day 1, the trend over the run, the age of the open drift, the slowest
// fields, what to do, critical drift and samples. JSON is the report as made (docs/report-schema.md).
func RenderParity(w io.Writer, p *plans.Plan, r *parallelrun.ParityReport, format string, showPII bool) error {
	if !showPII {
		r = maskedParity(r)
	}
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "html":
		return renderParityHTML(w, r, showPII)
	case "csv":
		return parityCSV(w, r)
	case "table", "", "md":
	default:
		return badFormat(format, ParityFormats)
	}
	md := format == "md"
	width := 0
	if !md {
		width = terminalWidth(w)
	}
	renderRows := func(w io.Writer, md bool, header []string, rows [][]string) error {
		if md {
			return renderRows(w, true, header, rows)
		}
		return fitRows(w, width, header, rows)
	}
	section := func(title string) {
		if md {
			fmt.Fprintf(w, "\n## %s\n\n", title)
		} else {
			fmt.Fprintf(w, "\n%s\n", strings.ToUpper(title))
		}
	}
	title := fmt.Sprintf("Parity report: %s, day %d (%s)", r.Plan, r.Day, r.Date)
	if md {
		fmt.Fprintf(w, "# %s\n\n", title)
	} else {
		fmt.Fprintf(w, "%s\n", title)
	}
	fmt.Fprintln(w, wrapText(r.Headline.Summary, width))
	h := r.Headline
	fmt.Fprintf(w, "\n%s\n", wrapText(fmt.Sprintf("%d open differences (%d critical, %d older than 3 days), %d records in flight, %d records with known differences only; %d differences opened and %d closed on the day.",
		h.DriftRows, h.Critical, r.Ages.Older3, h.InFlight, h.Ignored, h.Opened, h.Closed), width))
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}

	if len(r.Gates) > 0 {
		section("Cutover gates")
		rows := make([][]string, 0, len(r.Gates))
		for _, g := range r.Gates {
			rows = append(rows, []string{strings.ToUpper(g.Result), g.Gate, g.Observed})
		}
		if err := renderRows(w, md, []string{"result", "gate", "observed"}, rows); err != nil {
			return err
		}
	}

	drows := func(ds []parallelrun.Drift) [][]string {
		out := make([][]string, 0, len(ds))
		for _, d := range ds {
			out = append(out, []string{d.Class, driftRecord(d.Drift), age(d.AgeDays), driftDetail(d.Drift)})
		}
		return out
	}
	if len(r.Critical) > 0 {
		section("Critical differences")
		if err := renderRows(w, md, []string{"class", "record", "age", "detail"}, drows(r.Critical)); err != nil {
			return err
		}
	}
	section("Objects (change since the day before / since day 1)")
	rows := make([][]string, 0, len(r.Objects))
	for _, o := range r.Objects {
		c := o.Counts
		d := func(k string) string { return withChange(c[k], o.SinceYesterday, o.SinceDay1, k) }
		par := fmt.Sprintf("%.2f%%", 100*o.Parity)
		if o.ParityYesterday != nil {
			par += fmt.Sprintf(" (%+.2f / %+.2f)", 100*(o.Parity-*o.ParityYesterday), 100*(o.Parity-o.ParityDay1))
		}
		rows = append(rows, []string{o.Object, par, n(c["old"]), n(c["new"]), n(c["matched"]), d("identical"), d("missing_in_new"),
			d("missing_in_old"), d("mismatched"), d("duplicates_in_new"), d("broken_refs"), n(c["in_flight"]), n(c["ignored"])})
	}
	header := []string{"object", "parity", "expected", "in new", "matched", "identical", "missing in new",
		"missing in old", "mismatched", "duplicates in new", "broken refs", "in flight", "ignored"}
	if !md { // one column per object: narrow enough for a terminal
		header, rows = transpose(header, rows)
	}
	if err := renderRows(w, md, header, rows); err != nil {
		return err
	}
	var frows [][]string
	for _, o := range r.Objects {
		for _, f := range o.Fields {
			frows = append(frows, []string{o.Object, f.Field, fmt.Sprintf("%d", f.Mismatched), signed(f.SinceYesterday), signed(f.SinceDay1)})
		}
	}
	if len(frows) > 0 {
		section("Mismatched fields")
		if err := renderRows(w, md, []string{"object", "field", "mismatched records", "since the day before", "since day 1"}, frows); err != nil {
			return err
		}
	}

	section("Trend")
	objects := make([]string, 0, len(r.Objects))
	for _, o := range r.Objects {
		objects = append(objects, o.Object)
	}
	series := func(f func(parallelrun.TrendDay) float64) []float64 {
		out := make([]float64, len(r.Trend))
		for i, t := range r.Trend {
			out[i] = f(t)
		}
		return out
	}
	srows := [][]string{{"all objects", Sparkline(series(func(t parallelrun.TrendDay) float64 { return t.Parity })),
		fmt.Sprintf("%.2f%% → %.2f%%", 100*r.Trend[0].Parity, 100*r.Trend[len(r.Trend)-1].Parity)}}
	for _, o := range objects {
		s := series(func(t parallelrun.TrendDay) float64 { return t.Objects[o] })
		srows = append(srows, []string{o, Sparkline(s), fmt.Sprintf("%.2f%% → %.2f%%", 100*s[0], 100*s[len(s)-1])})
	}
	srows = append(srows, []string{"drifted records", Sparkline(series(func(t parallelrun.TrendDay) float64 { return float64(t.Drifted) })),
		fmt.Sprintf("%d → %d", r.Trend[0].Drifted, r.Trend[len(r.Trend)-1].Drifted)})
	if err := renderRows(w, md, []string{"parity per day", "days 1…" + fmt.Sprint(r.Day), "first → last"}, srows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	trows := make([][]string, 0, len(r.Trend))
	for _, t := range r.Trend {
		trows = append(trows, []string{fmt.Sprint(t.Day), t.Date, fmt.Sprintf("%.2f%%", 100*t.Parity), n(t.Drifted), n(t.Opened), n(t.Closed)})
	}
	if err := renderRows(w, md, []string{"day", "date", "parity", "drifted records", "opened", "closed"}, trows); err != nil {
		return err
	}

	section("Age of the open differences")
	arows := make([][]string, 0, len(r.Ages.Buckets))
	for _, b := range r.Ages.Buckets {
		arows = append(arows, []string{b.Label, n(b.Count)})
	}
	if err := renderRows(w, md, []string{"first seen", "open differences"}, arows); err != nil {
		return err
	}
	if len(r.SlowFields) > 0 {
		section("Slowest fields to converge")
		rows := make([][]string, 0, len(r.SlowFields))
		for _, s := range r.SlowFields {
			rows = append(rows, []string{s.Object + "." + s.Field, n(s.Open), n(s.Older3), fmt.Sprintf("day %d", s.FirstDay)})
		}
		if err := renderRows(w, md, []string{"field", "open differences", "older than 3 days", "drifting since"}, rows); err != nil {
			return err
		}
	}
	if len(r.Actions) > 0 {
		section("What to do")
		rows := make([][]string, 0, len(r.Actions))
		for _, a := range r.Actions {
			what := a.Class
			if a.Field != "" {
				what += " of " + a.Field
			}
			count := n(a.Count)
			if a.Critical > 0 {
				count += fmt.Sprintf(" (%d critical)", a.Critical)
			}
			rows = append(rows, []string{a.Object, what, count, a.Right, a.Action})
		}
		if err := renderRows(w, md, []string{"object", "difference", "open", "right side", "action"}, rows); err != nil {
			return err
		}
	}
	if len(r.Pipeline) > 0 {
		section("What duplicates overstated (money fields before and after clean)")
		rows := make([][]string, 0, len(r.Pipeline))
		for _, m := range r.Pipeline {
			cur := m.Currency
			if cur == "" {
				cur = "(none given)"
			}
			rows = append(rows, []string{m.Object + "." + m.Field, cur, fmt.Sprintf("%s (%d)", m.Before, m.Records),
				fmt.Sprintf("%s (%d)", m.After, m.Golden), fmt.Sprintf("%s (%.1f%%)", m.Overstated, m.Percent)})
		}
		if err := renderRows(w, md, []string{"field", "currency", "before clean (records)", "after clean (golden records)", "overstated by"}, rows); err != nil {
			return err
		}
	}
	if len(r.Samples) > 0 {
		heading := "Samples of the open differences"
		if !showPII {
			heading += " (emails and phones masked; --show-pii shows them)"
		}
		section(heading)
		if err := renderRows(w, md, []string{"class", "record", "age", "detail"}, drows(r.Samples)); err != nil {
			return err
		}
	}
	return nil
}

// withChange is a count with its change since the day before and since day 1.
func withChange(v int64, yesterday, day1 map[string]int64, k string) string {
	s := n(v)
	if yesterday == nil {
		return s
	}
	dy, d1 := yesterday[k], day1[k]
	if dy == 0 && d1 == 0 {
		return s
	}
	return fmt.Sprintf("%s (%s / %s)", s, signed(dy), signed(d1))
}

func signed(v int64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%+d", v)
}

// Sparkline draws a series with the eight block characters, lowest to highest (a flat series is
// a flat line).
func Sparkline(vals []float64) string {
	const bars = "▁▂▃▄▅▆▇█"
	blocks := []rune(bars)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if hi > lo {
			i = int(math.Round((v - lo) / (hi - lo) * float64(len(blocks)-1)))
		}
		b.WriteRune(blocks[i])
	}
	return b.String()
}

// parityCSVCounts are the per-object columns of the CSV, in order.
var parityCSVCounts = []string{"old", "new", "matched", "identical", "missing_in_new", "refused_in_new", "lost_in_new", "missing_in_old",
	"mismatched", "duplicates_in_new", "duplicates_in_old", "broken_refs", "in_flight", "ignored", "critical", "drifted"}

// parityCSV writes one row per object of the day: its parity and counts, then their changes since
// the day before (empty on day 1) and since day 1, for a spreadsheet.
func parityCSV(w io.Writer, r *parallelrun.ParityReport) error {
	cw := csv.NewWriter(w)
	head := []string{"day", "date", "object", "parity"}
	head = append(head, parityCSVCounts...)
	for _, k := range parityCSVCounts {
		head = append(head, k+"_since_yesterday")
	}
	for _, k := range parityCSVCounts {
		head = append(head, k+"_since_day1")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, o := range r.Objects {
		row := []string{fmt.Sprint(r.Day), r.Date, o.Object, strconv.FormatFloat(o.Parity, 'f', 6, 64)}
		for _, k := range parityCSVCounts {
			row = append(row, n(o.Counts[k]))
		}
		for _, k := range parityCSVCounts {
			v := ""
			if o.SinceYesterday != nil {
				v = n(o.SinceYesterday[k])
			}
			row = append(row, v)
		}
		for _, k := range parityCSVCounts {
			row = append(row, n(o.SinceDay1[k]))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// terminalWidth is the width of the terminal w writes to (0 when it is not one: output then is
// not fitted, and stays the same whatever runs it).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// fitRows writes a terminal table no wider than width (0: as wide as its cells): the widest
// columns' text is wrapped at spaces, down to their longest word.
func fitRows(w io.Writer, width int, header []string, rows [][]string) error {
	if width > 0 {
		header, rows = fitCells(width, header, rows)
	}
	return simpleTable(w, header, rows)
}

// fitCells wraps the cells of the widest columns so that the table's lines (cells, one space of
// padding each side, borders) fit in width, as far as the longest words allow.
func fitCells(width int, header []string, rows [][]string) ([]string, [][]string) {
	cols := len(header)
	natural, least := make([]int, cols), make([]int, cols)
	measure := func(c int, s string) {
		for _, line := range strings.Split(s, "\n") {
			natural[c] = max(natural[c], len([]rune(line)))
		}
		for _, word := range strings.Fields(s) {
			least[c] = max(least[c], len([]rune(word)))
		}
	}
	for c, h := range header {
		measure(c, h)
	}
	for _, r := range rows {
		for c := range min(cols, len(r)) {
			measure(c, r[c])
		}
	}
	target := slices.Clone(natural)
	total := func() int {
		t := 3*cols + 1
		for _, v := range target {
			t += v
		}
		return t
	}
	for total() > width {
		widest := -1
		for c := range cols {
			if target[c] > least[c] && (widest < 0 || target[c] > target[widest]) {
				widest = c
			}
		}
		if widest < 0 {
			break // no column can give more
		}
		target[widest]--
	}
	wrap := func(c int, s string) string {
		if target[c] >= natural[c] {
			return s
		}
		return wrapText(s, target[c])
	}
	h := make([]string, cols)
	for c := range header {
		h[c] = wrap(c, header[c])
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for c := range r {
			if c < cols {
				out[i][c] = wrap(c, r[c])
			} else {
				out[i][c] = r[c]
			}
		}
	}
	return h, out
}

// transpose turns a table of one row per item into one column per item.
func transpose(header []string, rows [][]string) ([]string, [][]string) {
	h := []string{""}
	for _, r := range rows {
		h = append(h, r[0])
	}
	out := make([][]string, 0, len(header)-1)
	for c := 1; c < len(header); c++ {
		row := []string{header[c]}
		for _, r := range rows {
			row = append(row, r[c])
		}
		out = append(out, row)
	}
	return h, out
}

// wrapText breaks a paragraph into lines of at most width characters at spaces (0: one line).
func wrapText(s string, width int) string {
	if width <= 0 {
		return s
	}
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		n := len([]rune(word))
		if i > 0 {
			if line+1+n > width {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(word)
		line += n
	}
	return b.String()
}
