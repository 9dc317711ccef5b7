package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/internal/browsertest"
)

// demo --days simulates the parallel run; every day's snapshot shows exactly the drift the ground
// truth (truth/parallel-run.json) says its faults leave, beyond what day 1 found; the last seven
// days are clean, and the final validate passes.
func TestDemoDaysFollowTheGroundTruth(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	code, stdout, stderr := run(t, "demo", "--dir", demoDir, "--contacts", "200", "--days", "10", "--verify", "--json")
	if code != 0 {
		t.Fatalf("demo --days 10: exit %d\n%s", code, stderr)
	}
	var res struct {
		Days []struct {
			Day        int    `json:"day"`
			Snapshot   int64  `json:"snapshot"`
			Summary    string `json:"summary"`
			Fix        bool   `json:"fix"`
			Reconciled int64  `json:"reconciled"`
		} `json:"days"`
		Final struct {
			Result string `json:"result"`
		} `json:"final_validate"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Days) != 10 || res.Final.Result != "passed" {
		t.Fatalf("demo --json: %v, %d days, final validate %q", err, len(res.Days), res.Final.Result)
	}
	raw, err := os.ReadFile(filepath.Join(demoDir, "truth", "parallel-run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth []struct {
		Day    int            `json:"day"`
		Faults []string       `json:"faults"`
		Fix    bool           `json:"fix"`
		Expect map[string]int `json:"expect"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil || len(truth) != 10 {
		t.Fatalf("truth: %v (%d days)", err, len(truth))
	}
	faults := 0
	for _, d := range truth {
		faults += len(d.Faults)
	}
	if faults != 6 || !truth[3].Fix {
		t.Fatalf("truth lays out %d faults, fix day 4: %v", faults, truth[3].Fix)
	}
	// The fix day's reconcile wrote the lost sync writes back (3 titles) and the day's stage
	// overwrites (before the rule made them known).
	if d := res.Days[3]; !d.Fix || d.Reconciled < 3 {
		t.Errorf("fix day: %+v", d)
	}
	if code, _, stderr := run(t, "db", "start", "--plan", plan); code != 0 {
		t.Fatalf("db start: exit %d\n%s", code, stderr)
	}
	_, url, _ := run(t, "db", "url", "--plan", plan)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, strings.TrimSpace(url))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i, d := range res.Days {
		var body []byte
		if err := conn.QueryRow(ctx, `SELECT body FROM crmigrate.pr_snapshots WHERE run_id = $1`, d.Snapshot).Scan(&body); err != nil {
			t.Fatal(err)
		}
		var snap struct {
			Day     int `json:"day"`
			Objects []struct {
				Object   string `json:"object"`
				InFlight int    `json:"in_flight"`
				Drift    []struct {
					Class    string `json:"class"`
					Field    string `json:"field"`
					State    string `json:"state"`
					FirstDay int    `json:"first_day"`
				} `json:"drift"`
			} `json:"objects"`
		}
		if err := json.Unmarshal(body, &snap); err != nil || snap.Day != d.Day {
			t.Fatalf("snapshot of day %d: %v (day %d)", d.Day, err, snap.Day)
		}
		got := map[string]int{}
		for _, o := range snap.Objects {
			if o.InFlight > 0 {
				got["in_flight "+o.Object] = o.InFlight
			}
			for _, x := range o.Drift {
				if x.FirstDay > 1 && x.State != "in_flight" {
					f := x.Field
					if f == "" {
						f = "-"
					}
					got[fmt.Sprintf("%s %s %s", x.Class, f, x.State)]++
				}
			}
		}
		if want := truth[i].Expect; !maps.Equal(got, want) {
			t.Errorf("day %d (%v): drift beyond day 1 %v, ground truth %v", d.Day, truth[i].Faults, show(got), show(want))
		}
	}
	checkParityReport(t, plan, res.Days[len(res.Days)-1].Day)

	// The other reports and the status read the same control database.
	code, stdout, stderr = run(t, "report", "migration", "--plan", plan, "--format", "json")
	var mig struct {
		Run     struct{ Phase string } `json:"run"`
		Rejects []struct {
			Object, Field string
			Count         int64
		} `json:"rejects"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &mig) != nil || mig.Run.Phase != "migrate" {
		t.Fatalf("report migration: exit %d, %s\n%s", code, stderr, stdout)
	}
	if code, stdout, stderr := run(t, "status", "--plan", plan); code != 0 || !strings.Contains(stdout, "Next: crmigrate ") {
		t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
	}
	// The crosswalk for the integrations: every contact written, old id → new id, keys masked.
	code, stdout, stderr = run(t, "crosswalk", "export", "--plan", plan, "--object", "contact")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) < 100 || lines[0] != "object,source,old_id,new_id,golden_id,canonical_key" {
		t.Fatalf("crosswalk export: exit %d, %d lines, %q\n%s", code, len(lines), lines[0], stderr)
	}
	for _, l := range lines[1:] {
		if f := strings.Split(l, ","); len(f) != 6 || f[0] != "contact" || f[3] == "" || strings.Contains(f[5], "@") && !strings.Contains(f[5], "***@") {
			t.Fatalf("crosswalk line %q", l)
		}
	}

	// Ten days of a parallel run that must last thirty: NO-GO, exit 3, with each gate's evidence.
	code, stdout, stderr = run(t, "cutover", "check", "--plan", plan, "--at", "2031-03-04T10:00", "--format", "json")
	var check struct {
		Result string
		Items  []struct{ Group, Result, Observed string }
	}
	if code != 3 || json.Unmarshal([]byte(stdout), &check) != nil || check.Result != "NO-GO" {
		t.Fatalf("cutover check: exit %d, %s\n%s", code, stderr, stdout)
	}
	for _, it := range check.Items {
		if it.Group == "parallel run" && (it.Result != "fail" || it.Observed != "10 days with a snapshot") {
			t.Errorf("the parallel run's length: %+v", it)
		}
		if it.Group == "phases" && it.Result != "pass" {
			t.Errorf("phases: %+v", it)
		}
	}
}

// checkParityReport writes the demo's parity reports (report parity --out-dir) and reads the last
// day's HTML in Chromium as a reader would: on a phone (390 px wide: nothing overflows, the
// headline, gates, charts and tables are there with the JSON's numbers) and printed on A4.
// Screenshots and the PDF are the test's artifacts (go test -artifacts keeps them).
func checkParityReport(t *testing.T, plan string, lastDay int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "reports")
	if code, _, stderr := run(t, "report", "parity", "--plan", plan, "--out-dir", out); code != 0 {
		t.Fatalf("report parity --out-dir: exit %d\n%s", code, stderr)
	}
	htmls, _ := filepath.Glob(filepath.Join(out, "parity-*.html"))
	if len(htmls) != lastDay {
		t.Fatalf("%d daily HTML reports for %d days", len(htmls), lastDay)
	}
	last := htmls[len(htmls)-1]
	raw, err := os.ReadFile(strings.TrimSuffix(last, ".html") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Day      int     `json:"day"`
		Parity   float64 `json:"parity"`
		Headline struct {
			Drifted int64  `json:"drifted"`
			Summary string `json:"summary"`
		} `json:"headline"`
		Gates   []struct{ Result string } `json:"gates"`
		Objects []struct{ Object string } `json:"objects"`
		Trend   []struct{ Day int }       `json:"trend"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil || rep.Day != lastDay || len(rep.Trend) != lastDay {
		t.Fatalf("the last day's JSON: %v, day %d, %d trend days", err, rep.Day, len(rep.Trend))
	}
	ctx := browsertest.New(t)
	art := t.ArtifactDir()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate("file://"+last)); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Summary, Parity, Drifted string
		Gates, Series, Points    int
		ObjectRows, Overflow     int
		Title                    string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[page](`(() => {
		const q = s => document.querySelector(s);
		const over = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).length;
		return {
			Title: document.title,
			Summary: q('#summary').textContent.trim(),
			Parity: q('#parity').textContent.trim(),
			Drifted: q('#drifted').textContent.trim(),
			Gates: document.querySelectorAll('#gate-list li').length,
			Series: document.querySelectorAll('#parity-chart polyline').length,
			Points: document.querySelectorAll('#parity-chart polyline[data-series="all objects"]')[0].getAttribute('points').trim().split(/\s+/).length,
			ObjectRows: document.querySelectorAll('#objects table tbody tr').length,
			Overflow: over + (document.documentElement.scrollWidth > window.innerWidth ? 1 : 0),
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != rep.Headline.Summary || got.Parity != fmt.Sprintf("%.2f %%", 100*rep.Parity) || got.Drifted != fmt.Sprint(rep.Headline.Drifted) ||
		got.Gates != len(rep.Gates) || got.Series != len(rep.Objects)+1 || got.Points != lastDay || !strings.Contains(got.Title, "day "+fmt.Sprint(lastDay)) {
		t.Errorf("the report as a reader sees it: %+v; the JSON says parity %.4f, %d drifted, %d gates, %d objects, %d days, %q",
			got, rep.Parity, rep.Headline.Drifted, len(rep.Gates), len(rep.Objects), lastDay, rep.Headline.Summary)
	}
	if got.ObjectRows != len(rep.Objects) {
		t.Errorf("%d object rows for %d objects", got.ObjectRows, len(rep.Objects))
	}
	if got.Overflow != 0 {
		t.Errorf("%d elements overflow a 390 px wide screen", got.Overflow)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize())) // the page asks for A4
	if err != nil {
		t.Fatal(err)
	}
	if len(shot) < 10000 || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Errorf("screenshot of %d bytes, PDF starting %q", len(shot), pdf[:min(8, len(pdf))])
	}
	for name, b := range map[string][]byte{"parity-390px.png": shot, "parity-a4.pdf": pdf} {
		if err := os.WriteFile(filepath.Join(art, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The go/no-go as a page: the verdict and every gate, on a phone.
	cut := filepath.Join(out, "cutover.html")
	if code, _, stderr := run(t, "report", "cutover", "--plan", plan, "--format", "html", "--out", cut); code != 0 {
		t.Fatalf("report cutover: exit %d\n%s", code, stderr)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+cut)); err != nil {
		t.Fatal(err)
	}
	type cutPage struct {
		Verdict         string
		Gates, Overflow int
	}
	cp, err := chromedp.Run(ctx, chromedp.Evaluate[cutPage](`(() => ({
		Verdict: document.querySelector('#verdict').textContent.trim(),
		Gates: document.querySelectorAll('#gates li').length,
		Overflow: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).length,
	}))()`))
	if err != nil || cp.Verdict != "NO-GO" || cp.Gates < 8 || cp.Overflow != 0 {
		t.Errorf("the cutover page: %v %+v", err, cp)
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(art, "cutover-390px.png"), shot, 0o644)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("file://"+filepath.Join(out, "index.html"))); err != nil {
		t.Fatal(err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tbody tr').length`))
	if err != nil || rows != lastDay {
		t.Errorf("index.html lists %d days (%v), want %d", rows, err, lastDay)
	}
}

func show(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
