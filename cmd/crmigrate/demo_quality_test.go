package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/plans"
)

// TestDemoDedupQuality measures duplicate detection on the demo's ground truth, as a user would:
// generate the demo, run clean --export-clusters with the demo plan, and compare the clusters with
// truth/*.csv pair by pair. Contacts must reach precision 0.99 and recall 0.97, companies precision
// and recall 0.99, deals precision 0.99 (their recall is logged: they have few duplicate pairs).
//
// By default the demo has 20k contacts, 2k companies and 6k deals and stops after clean (about 10 s
// on two cores; measured there: contacts P 0.9988 R 0.9814, companies P 1 R 0.9973). With
// CRMIGRATE_TEST_LARGE=1 it has 100k contacts, 10k companies and 30k deals and migrates too, as
// `crmigrate demo` does (75 s; contacts P 0.9990 R 0.9790, companies P 1 R 0.9957). Skipped with
// -short.
func TestDemoDedupQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and cleans a 20k-contact demo; run without -short")
	}
	t.Parallel()
	args := []string{"--contacts", "20000", "--companies", "2000", "--deals", "6000", "--migrate=false"}
	if largeTests() {
		args = []string{"--contacts", "100000", "--companies", "10000", "--deals", "30000"}
	}
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	t.Cleanup(func() { run(t, "db", "stop", "--plan", plan) })

	start := time.Now()
	code, _, stderr := run(t, append([]string{"demo", "--dir", demoDir}, args...)...)
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	t.Logf("demo %v: %.1f s", args, time.Since(start).Seconds())
	start = time.Now()
	export := filepath.Join(dir, "clusters.csv")
	code, stdout, stderr := run(t, "clean", "--plan", plan, "--json", "--export-clusters", export)
	if code != 0 {
		t.Fatalf("clean: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("clean: %.1f s", time.Since(start).Seconds())

	p, err := plans.Load(plan)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, s := range p.Systems {
		if s.Name != plans.SystemNew {
			sources[s.Name] = true
		}
	}
	for _, tc := range []struct {
		object, truth string
		minP, minR    float64
	}{
		{"contact", "contacts.csv", 0.99, 0.97},
		{"company", "companies.csv", 0.99, 0.99},
		{"deal", "deals.csv", 0.99, 0},
	} {
		pred := readClusters(t, export, tc.object)
		truth := demoTruth(t, filepath.Join(demoDir, "truth", tc.truth), sources)
		if len(pred) != len(truth) {
			t.Errorf("%s: %d records exported, %d in the truth from sources %v", tc.object, len(pred), len(truth), sources)
		}
		for rec := range pred {
			if _, ok := truth[rec]; !ok {
				t.Fatalf("%s: exported record %s is not in the truth", tc.object, rec)
			}
		}
		prec, rec, tp, fp, fn := pairQuality(pred, truth)
		t.Logf("%s: %d records, precision %.4f recall %.4f (tp %d, fp %d, fn %d)", tc.object, len(pred), prec, rec, tp, fp, fn)
		if prec < tc.minP || rec < tc.minR {
			t.Errorf("%s: precision %.4f recall %.4f; want at least %.2f and %.2f", tc.object, prec, rec, tc.minP, tc.minR)
		}
	}
}

// demoTruth reads a demo truth file (source,source_id,entity_id) into record (source:id) →
// entity, keeping the given sources only.
func demoTruth(t *testing.T, path string, sources map[string]bool) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || len(rows[0]) != 3 || rows[0][0] != "source" {
		t.Fatalf("%s: unexpected header %v", path, rows)
	}
	out := make(map[string]string, len(rows))
	for _, row := range rows[1:] {
		if sources[row[0]] {
			out[row[0]+":"+row[1]] = row[2]
		}
	}
	return out
}

// largeTests reports whether CRMIGRATE_TEST_LARGE asks for the full-size cases of the tests that
// have a smaller default.
func largeTests() bool {
	v := os.Getenv("CRMIGRATE_TEST_LARGE")
	return v != "" && v != "0"
}
