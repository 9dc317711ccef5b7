package reports

import (
	"html/template"
	"io"
	"strings"

	"github.com/crmigrate/crmigrate/cutover"
	"github.com/crmigrate/crmigrate/state"
)

// CutoverReport is the go/no-go with the journal of the integrations' switches: what
// `crmigrate report cutover` shows.
type CutoverReport struct {
	Checklist *cutover.Checklist  `json:"checklist"`
	Journal   []state.CutoverStep `json:"journal"` // the steps of the switches and rollbacks, oldest first
}

var checklistPage = template.Must(template.New("cutover").Funcs(template.FuncMap{"upper": strings.ToUpper}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cutover: {{.C.Plan}} ({{.C.Result}})</title>
<style>
*{box-sizing:border-box}
body{-webkit-print-color-adjust:exact;print-color-adjust:exact;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0 auto;padding:12px;max-width:980px}
h1{font-size:1.35rem;margin:.2rem 0 .4rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem;border-bottom:2px solid #e3e7ef;padding-bottom:.2rem}
.verdict{font-size:1.6rem;font-weight:700;padding:8px 12px;border-radius:8px;display:inline-block;color:#fff}
.verdict.GO{background:#1f8a4c}.verdict.NO-GO{background:#c0392b}
.muted{color:#5b6475;font-size:.9rem}
ul{list-style:none;padding:0;margin:0}
li{padding:8px 0;border-bottom:1px solid #eef0f4;overflow-wrap:anywhere}
.badge{display:inline-block;font-size:.75rem;font-weight:700;border-radius:4px;padding:1px 6px;color:#fff;margin-right:6px}
.badge.pass{background:#1f8a4c}.badge.fail{background:#c0392b}.badge.stale{background:#b26a00}
.todo{display:block;font-size:.9rem;color:#3a4254;margin-top:2px}
.ok{color:#136f3a}.bad{color:#b3261e}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;padding:0;font-size:10pt}li{break-inside:avoid}}
</style>
</head>
<body>
<h1>Cutover: {{.C.Plan}}</h1>
<p class="muted">For {{.C.At.Format "2006-01-02 15:04 UTC"}} · evidence {{.Short}}</p>
<p><span class="verdict {{.C.Result}}" id="verdict">{{.C.Result}}</span></p>
<h2>Gates</h2>
<ul id="gates">{{range .C.Items}}<li><span class="badge {{.Result}}">{{upper .Result}}</span><strong>{{.Group}}</strong>: {{.Gate}}<br><span class="muted">{{.Observed}}</span>{{if .Todo}}<span class="todo">To do: {{.Todo}}</span>{{end}}</li>
{{end}}</ul>
<h2>Switches</h2>
{{if .J}}<ul id="journal">{{range .J}}<li><strong>{{.Integration}}</strong> {{.Step}} (run {{.RunID}}, {{.At.Format "2006-01-02 15:04 UTC"}}): <span class="{{if .OK}}ok{{else}}bad{{end}}">{{if .OK}}ok{{else}}failed{{end}}</span> <span class="muted">{{.Detail}}</span></li>
{{end}}</ul>{{else}}<p class="muted">No integration switched yet.</p>{{end}}
<footer><p class="muted">Made by crmigrate from the control database.</p></footer>
</body>
</html>
`))

func renderCutoverHTML(w io.Writer, r *CutoverReport) error {
	short := r.Checklist.Evidence
	if len(short) > 12 {
		short = short[:12]
	}
	return checklistPage.Execute(w, map[string]any{"C": r.Checklist, "J": r.Journal, "Short": short})
}
