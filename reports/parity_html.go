package reports

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/crmigrate/crmigrate/parallelrun"
)

// The parity report as one self-contained HTML file: no scripts, fonts or styles from elsewhere,
// charts as inline SVG; readable on a phone (390 px) and printable on A4.

var parityPage = template.Must(template.New("parity").Funcs(template.FuncMap{
	"pct":     func(f float64) string { return fmt.Sprintf("%.2f %%", 100*f) },
	"signed":  signed,
	"signedp": func(f float64) string { return fmt.Sprintf("%+.2f", 100*f) },
	"upper":   strings.ToUpper,
	"age":     age,
	"record":  func(d parallelrun.Drift) string { return driftRecord(d.Drift) },
	"detail":  func(d parallelrun.Drift) string { return driftDetail(d.Drift) },
	"count":   func(m map[string]int64, k string) int64 { return m[k] },
	"subf":    func(a float64, b *float64) float64 { return a - *b },
	"change": func(o parallelrun.ObjectParity, k string) string {
		if o.SinceYesterday == nil || o.SinceYesterday[k] == 0 && o.SinceDay1[k] == 0 {
			return ""
		}
		return fmt.Sprintf("%s / %s", signed(o.SinceYesterday[k]), signed(o.SinceDay1[k]))
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parity report: {{.R.Plan}}, day {{.R.Day}} ({{.R.Date}})</title>
<style>
*{box-sizing:border-box}
body{-webkit-print-color-adjust:exact;print-color-adjust:exact;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#fff;margin:0 auto;padding:12px;max-width:980px}
h1{font-size:1.35rem;margin:.2rem 0 .4rem}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:2px solid #e3e7ef;padding-bottom:.2rem}
p{margin:.4rem 0}
.summary{font-size:1.05rem}
.muted{color:#5b6475;font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px;margin:.8rem 0}
.card{border:1px solid #e3e7ef;border-radius:8px;padding:8px 10px}
.card .v{font-size:1.5rem;font-weight:650}
.card .l{font-size:.8rem;color:#5b6475}
.pass{color:#136f3a}.fail{color:#b3261e}
.badge{display:inline-block;font-size:.75rem;font-weight:700;border-radius:4px;padding:1px 6px;color:#fff}
.badge.pass{background:#1f8a4c}.badge.fail{background:#c0392b}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{padding:5px 6px;border-bottom:1px solid #e8ebf1;text-align:right;vertical-align:top}
td{white-space:nowrap}
th{font-weight:600;color:#3a4254;background:#f6f7fa}
td.t,th.t{text-align:left}
td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:12rem;text-align:left}
.chg{display:block;font-size:.75rem;color:#5b6475}
ul.gates{list-style:none;padding:0;margin:0}
ul.gates li{padding:6px 0;border-bottom:1px solid #eef0f4}
svg{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.85rem;margin:.3rem 0}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.warn{background:#fff4e5;border:1px solid #f3c98b;border-radius:6px;padding:6px 10px}
@media (max-width:640px){
table.rt thead{display:none}
table.rt tr{display:block;border:1px solid #e3e7ef;border-radius:8px;margin:0 0 8px;padding:4px 10px}
table.rt td{display:flex;justify-content:flex-end;align-items:baseline;gap:8px;border:0;padding:3px 0;text-align:right}
table.rt td::before{content:attr(data-label);color:#5b6475;text-align:left;flex:none;margin-right:auto}
table.rt td.t:first-child{font-weight:650;justify-content:flex-start}
.chg:empty{display:none}
table.rt td.t:first-child::before{content:none}
table.rt td.wrap{display:block;min-width:0;text-align:left}
table.rt td.wrap::before{display:block}
.chg{display:inline;margin-left:6px}
}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;padding:0;font-size:10pt}.scroll{overflow:visible}section{break-inside:avoid}h2{break-after:avoid}
svg{max-width:14cm;margin:0 auto}table{font-size:8.5pt}th,td{padding:3px 4px}}
</style>
</head>
<body>
<header>
<h1>Parity report: {{.R.Plan}}</h1>
<p class="muted">Parallel-run day {{.R.Day}} of {{.R.MinDays}}–{{.R.MaxDays}} · {{.R.Date}} · snapshot run {{.R.RunID}}</p>
<p class="summary" id="summary">{{.R.Headline.Summary}}</p>
{{range .R.Warnings}}<p class="warn">{{.}}</p>{{end}}
<div class="cards">
<div class="card"><div class="v" id="parity">{{pct .R.Parity}}</div><div class="l">parity{{if .R.Headline.Previous}} ({{signedp .R.Headline.ParityChange}} since day {{.R.Headline.Previous.Day}}){{end}}</div></div>
<div class="card"><div class="v" id="drifted">{{.R.Headline.Drifted}}</div><div class="l">records drift{{if .R.Headline.Previous}} ({{signed .R.Headline.DriftedChange}}){{end}}</div></div>
<div class="card"><div class="v {{if .R.Headline.Critical}}fail{{end}}" id="critical">{{.R.Headline.Critical}}</div><div class="l">critical differences</div></div>
<div class="card"><div class="v" id="gates">{{.R.Headline.GatesPassed}} / {{.R.Headline.GatesTotal}}</div><div class="l">cutover gates pass</div></div>
<div class="card"><div class="v">{{.R.Headline.Opened}} / {{.R.Headline.Closed}}</div><div class="l">opened / closed on the day</div></div>
<div class="card"><div class="v">{{.R.Ages.Older3}}</div><div class="l">open longer than 3 days</div></div>
</div>
</header>
{{if .R.Gates}}<section id="gate-list"><h2>Cutover gates</h2><ul class="gates">
{{range .R.Gates}}<li><span class="badge {{.Result}}">{{upper .Result}}</span> {{.Gate}}<br><span class="muted">{{.Observed}}</span></li>
{{end}}</ul></section>{{end}}
{{if .R.Critical}}<section id="critical-list"><h2>Critical differences</h2><div class="scroll"><table class="rt">
<thead><tr><th class="t">class</th><th class="t">record</th><th>age</th><th class="t">detail</th></tr></thead>
<tbody>{{range .R.Critical}}<tr><td data-label="class" class="t">{{.Class}}</td><td data-label="record" class="t">{{record .}}</td><td data-label="age">{{age .AgeDays}}</td><td data-label="detail" class="wrap">{{detail .}}</td></tr>{{end}}</tbody></table></div></section>{{end}}
<section><h2>Parity over the run</h2>
{{.ParityChart}}
<div class="legend">{{range .Legend}}<span><i style="background:{{.Color}}"></i>{{.Name}}</span>{{end}}</div>
</section>
<section><h2>Differences opened and closed per day</h2>
{{.FlowChart}}
<div class="legend"><span><i style="background:#c0392b"></i>opened</span><span><i style="background:#1f8a4c"></i>closed</span></div>
</section>
<section id="objects"><h2>Objects</h2>
<p class="muted">Small figures: change since the day before / since day 1.</p>
<div class="scroll"><table class="rt">
<thead><tr><th class="t">object</th><th>parity</th><th>expected</th><th>in new</th><th>identical</th><th>missing in new</th><th>missing in old</th><th>mismatched</th><th>duplicates in new</th><th>broken refs</th><th>in flight</th><th>ignored</th></tr></thead>
<tbody>{{range .R.Objects}}<tr><td data-label="object" class="t">{{.Object}}</td><td data-label="parity">{{pct .Parity}}{{if .ParityYesterday}}<span class="chg">{{signedp (subf .Parity .ParityYesterday)}}</span>{{end}}</td>
<td data-label="expected">{{count .Counts "old"}}</td><td data-label="in new">{{count .Counts "new"}}</td>
<td data-label="identical">{{count .Counts "identical"}}<span class="chg">{{change . "identical"}}</span></td>
<td data-label="missing in new">{{count .Counts "missing_in_new"}}<span class="chg">{{change . "missing_in_new"}}</span></td>
<td data-label="missing in old">{{count .Counts "missing_in_old"}}<span class="chg">{{change . "missing_in_old"}}</span></td>
<td data-label="mismatched">{{count .Counts "mismatched"}}<span class="chg">{{change . "mismatched"}}</span></td>
<td data-label="duplicates in new">{{count .Counts "duplicates_in_new"}}<span class="chg">{{change . "duplicates_in_new"}}</span></td>
<td data-label="broken refs">{{count .Counts "broken_refs"}}<span class="chg">{{change . "broken_refs"}}</span></td>
<td data-label="in flight">{{count .Counts "in_flight"}}</td><td data-label="ignored">{{count .Counts "ignored"}}</td></tr>
{{end}}</tbody></table></div>
{{if .Fields}}<h2>Mismatched fields</h2><div class="scroll"><table class="rt">
<thead><tr><th class="t">field</th><th>mismatched records</th><th>since the day before</th><th>since day 1</th></tr></thead>
<tbody>{{range .Fields}}<tr><td data-label="field" class="t">{{.Object}}.{{.F.Field}}</td><td data-label="mismatched records">{{.F.Mismatched}}</td><td data-label="since the day before">{{signed .F.SinceYesterday}}</td><td data-label="since day 1">{{signed .F.SinceDay1}}</td></tr>{{end}}</tbody></table></div>{{end}}
</section>
<section id="ages"><h2>Age of the open differences</h2>
{{.AgeChart}}
{{if .R.SlowFields}}<h2>Slowest fields to converge</h2><div class="scroll"><table class="rt">
<thead><tr><th class="t">field</th><th>open</th><th>older than 3 days</th><th>drifting since</th></tr></thead>
<tbody>{{range .R.SlowFields}}<tr><td data-label="field" class="t">{{.Object}}.{{.Field}}</td><td data-label="open">{{.Open}}</td><td data-label="older than 3 days">{{.Older3}}</td><td data-label="drifting since">day {{.FirstDay}}</td></tr>{{end}}</tbody></table></div>{{end}}
</section>
{{if .R.Actions}}<section id="actions"><h2>What to do</h2><div class="scroll"><table class="rt">
<thead><tr><th class="t">difference</th><th>open</th><th class="t">right side</th><th class="t">action</th></tr></thead>
<tbody>{{range .R.Actions}}<tr><td data-label="difference" class="t">{{.Object}}: {{.Class}}{{if .Field}} of {{.Field}}{{end}}</td><td data-label="open">{{.Count}}{{if .Critical}} <span class="fail">({{.Critical}} critical)</span>{{end}}</td><td data-label="right side" class="t">{{.Right}}</td><td data-label="action" class="wrap">{{.Action}}</td></tr>{{end}}</tbody></table></div></section>{{end}}
{{if .R.Pipeline}}<section id="pipeline"><h2>What duplicates overstated</h2>
<p class="muted">Money fields summed over every source record (duplicates counted as often as they occur, as a report before clean would) and over the golden records.</p>
<div class="scroll"><table class="rt">
<thead><tr><th class="t">field</th><th class="t">currency</th><th>before clean</th><th>after clean</th><th>overstated by</th></tr></thead>
<tbody>{{range .R.Pipeline}}<tr><td data-label="field" class="t">{{.Object}}.{{.Field}}</td><td data-label="currency" class="t">{{or .Currency "(none given)"}}</td><td data-label="before clean">{{.Before}}</td><td data-label="after clean">{{.After}}</td><td data-label="overstated by">{{.Overstated}} ({{printf "%.1f" .Percent}} %)</td></tr>{{end}}</tbody></table></div></section>{{end}}
{{if .R.Samples}}<section id="samples"><h2>Samples of the open differences</h2>{{if not .ShowPII}}<p class="muted">Emails and phone numbers are masked.</p>{{end}}<div class="scroll"><table class="rt">
<thead><tr><th class="t">class</th><th class="t">record</th><th>age</th><th class="t">detail</th></tr></thead>
<tbody>{{range .R.Samples}}<tr><td data-label="class" class="t">{{.Class}}</td><td data-label="record" class="t">{{record .}}</td><td data-label="age">{{age .AgeDays}}</td><td data-label="detail" class="wrap">{{detail .}}</td></tr>{{end}}</tbody></table></div></section>{{end}}
<footer><p class="muted">Made by crmigrate from the stored snapshots of the parallel run (report schema version {{.R.Version}}).</p></footer>
</body>
</html>
`))

// chartColors are the series' colors (color-blind friendly).
var chartColors = []string{"#1b6ac9", "#e07b00", "#2a9d5c", "#b03a8c", "#6b4fbb", "#8c6d1f", "#0f8b8d", "#c0392b"}

type legendItem struct{ Name, Color string }

type fieldRow struct {
	Object string
	F      parallelrun.FieldCount
}

// renderParityHTML writes the report as one HTML page.
func renderParityHTML(w io.Writer, r *parallelrun.ParityReport, showPII bool) error {
	names := make([]string, 0, len(r.Objects))
	for _, o := range r.Objects {
		names = append(names, o.Object)
	}
	var legend []legendItem
	legend = append(legend, legendItem{"all objects", "#1d2330"})
	for i, n := range names {
		legend = append(legend, legendItem{n, chartColors[i%len(chartColors)]})
	}
	var fields []fieldRow
	for _, o := range r.Objects {
		for _, f := range o.Fields {
			fields = append(fields, fieldRow{o.Object, f})
		}
	}
	return parityPage.Execute(w, map[string]any{
		"R": r, "ShowPII": showPII, "Legend": legend, "Fields": fields,
		"ParityChart": parityChart(r, names), "FlowChart": flowChart(r), "AgeChart": ageChart(r),
	})
}

// parityChart draws parity per object per day: one line per object and one for all of them.
func parityChart(r *parallelrun.ParityReport, names []string) template.HTML {
	const W, H, l, rt, t, b = 420.0, 230.0, 54.0, 10.0, 10.0, 28.0
	lo := 1.0
	for _, d := range r.Trend {
		lo = min(lo, d.Parity)
		for _, v := range d.Objects {
			lo = min(lo, v)
		}
	}
	// The scale: from a round percentage below the lowest value to 100 %.
	lo = math.Floor(lo*100-0.5) / 100
	lo = max(lo, 0)
	if lo > 0.995 {
		lo = 0.99
	}
	n := len(r.Trend)
	x := func(i int) float64 {
		if n == 1 {
			return l + (W-l-rt)/2
		}
		return l + float64(i)*(W-l-rt)/float64(n-1)
	}
	y := func(v float64) float64 { return t + (1-(v-lo)/(1-lo))*(H-t-b) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="parity-chart" viewBox="0 0 %g %g" role="img" aria-label="parity per object per day, from %s to 100 %%">`, W, H, pctLabel(lo))
	for k := 0; k <= 4; k++ {
		v := lo + (1-lo)*float64(k)/4
		fmt.Fprintf(&s, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#e3e7ef"/><text x="%g" y="%.1f" font-size="12" text-anchor="end" fill="#5b6475">%s</text>`,
			l, W-rt, y(v), y(v), l-6, y(v)+4, pctLabel(v))
	}
	step := max(1, n/10)
	for i, d := range r.Trend {
		if i%step == 0 || i == n-1 {
			fmt.Fprintf(&s, `<text x="%.1f" y="%g" font-size="12" text-anchor="middle" fill="#5b6475">%d</text>`, x(i), H-10, d.Day)
		}
	}
	line := func(id, color string, width float64, val func(parallelrun.TrendDay) float64) {
		fmt.Fprintf(&s, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="%g" points="`, template.HTMLEscapeString(id), color, width)
		for i, d := range r.Trend {
			fmt.Fprintf(&s, "%.1f,%.1f ", x(i), y(val(d)))
		}
		s.WriteString(`"/>`)
		for i, d := range r.Trend {
			fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s, day %d: %s</title></circle>`,
				x(i), y(val(d)), color, template.HTMLEscapeString(id), d.Day, pctLabel(val(d)))
		}
	}
	for i, name := range names {
		line(name, chartColors[i%len(chartColors)], 2, func(d parallelrun.TrendDay) float64 { return d.Objects[name] })
	}
	line("all objects", "#1d2330", 3, func(d parallelrun.TrendDay) float64 { return d.Parity })
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

func pctLabel(v float64) string {
	if v >= 0.9995 {
		return "100 %"
	}
	return fmt.Sprintf("%.1f %%", 100*v)
}

// flowChart draws the differences opened (up) and closed (down) per day.
func flowChart(r *parallelrun.ParityReport) template.HTML {
	const W, H, l, rt, t, b = 420.0, 170.0, 34.0, 10.0, 10.0, 22.0
	var top int64 = 1
	for _, d := range r.Trend {
		top = max(top, d.Opened, d.Closed)
	}
	n := len(r.Trend)
	slot := (W - l - rt) / float64(n)
	bw := min(slot*0.7, 28)
	mid := t + (H-t-b)/2
	h := func(v int64) float64 { return float64(v) / float64(top) * (H - t - b) / 2 }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="flow-chart" viewBox="0 0 %g %g" role="img" aria-label="differences opened and closed per day">`, W, H)
	fmt.Fprintf(&s, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#9aa3b5"/>`, l, W-rt, mid, mid)
	fmt.Fprintf(&s, `<text x="%g" y="%.1f" font-size="12" text-anchor="end" fill="#5b6475">%d</text><text x="%g" y="%.1f" font-size="12" text-anchor="end" fill="#5b6475">%d</text>`,
		l-6, t+8, top, l-6, H-b, top)
	step := max(1, n/10)
	for i, d := range r.Trend {
		cx := l + slot*(float64(i)+0.5)
		if d.Opened > 0 {
			fmt.Fprintf(&s, `<rect class="opened" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#c0392b"><title>day %d: %d opened</title></rect>`,
				cx-bw/2, mid-h(d.Opened), bw, h(d.Opened), d.Day, d.Opened)
		}
		if d.Closed > 0 {
			fmt.Fprintf(&s, `<rect class="closed" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f8a4c"><title>day %d: %d closed</title></rect>`,
				cx-bw/2, mid, bw, h(d.Closed), d.Day, d.Closed)
		}
		if i%step == 0 || i == n-1 {
			fmt.Fprintf(&s, `<text x="%.1f" y="%g" font-size="12" text-anchor="middle" fill="#5b6475">%d</text>`, cx, H-6, d.Day)
		}
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// ageChart draws the open differences by age as horizontal bars.
func ageChart(r *parallelrun.ParityReport) template.HTML {
	const W, rowH, l, rt = 420.0, 26.0, 112.0, 44.0
	var top int64 = 1
	for _, b := range r.Ages.Buckets {
		top = max(top, b.Count)
	}
	H := rowH*float64(len(r.Ages.Buckets)) + 6
	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="age-chart" viewBox="0 0 %g %g" role="img" aria-label="open differences by age">`, W, H)
	for i, b := range r.Ages.Buckets {
		yy := float64(i)*rowH + 4
		wd := float64(b.Count) / float64(top) * (W - l - rt)
		color := "#1b6ac9"
		if i >= 3 {
			color = "#c0392b"
		}
		fmt.Fprintf(&s, `<text x="%g" y="%.1f" font-size="12" text-anchor="end" fill="#3a4254">%s</text>`, l-8, yy+14, template.HTMLEscapeString(b.Label))
		fmt.Fprintf(&s, `<rect x="%g" y="%.1f" width="%.1f" height="%g" fill="%s"/>`, l, yy+2, wd, rowH-8, color)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" font-size="12" fill="#3a4254">%d</text>`, l+wd+6, yy+14, b.Count)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
