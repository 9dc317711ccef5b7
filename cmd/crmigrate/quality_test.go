package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

// pairQuality compares predicted clusters with true entities over all pairs of records:
// precision = true pairs predicted / pairs predicted, recall = true pairs predicted / true pairs.
func pairQuality(pred, truth map[string]string) (precision, recall float64, tp, fp, fn int) {
	pairs := func(groups map[string]string) map[[2]string]bool {
		by := map[string][]string{}
		for rec, g := range groups {
			by[g] = append(by[g], rec)
		}
		out := map[[2]string]bool{}
		for _, members := range by {
			for i := range members {
				for j := range members {
					if members[i] < members[j] {
						out[[2]string{members[i], members[j]}] = true
					}
				}
			}
		}
		return out
	}
	p, t := pairs(pred), pairs(truth)
	for k := range p {
		if t[k] {
			tp++
		} else {
			fp++
		}
	}
	for k := range t {
		if !p[k] {
			fn++
		}
	}
	precision, recall = 1, 1
	if tp+fp > 0 {
		precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		recall = float64(tp) / float64(tp+fn)
	}
	return
}

// readClusters reads an --export-clusters file: record (source:id) → cluster id, for one object.
func readClusters(t *testing.T, path, object string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "object,source,source_id,cluster_id,decision,score" {
		t.Fatalf("export header: %v", rows[0])
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		if r[0] == object {
			out[r[1]+":"+r[2]] = r[3]
		}
	}
	return out
}

// febrlEntity turns rec-N-org / rec-N-dup-k into N.
func febrlEntity(recID string) string {
	parts := strings.Split(recID, "-")
	return parts[1]
}

func TestCleanFEBRLQuality(t *testing.T) {
	t.Parallel()
	type testcase struct {
		name    string
		plan    string
		records int
		pairs   int
	}
	for _, tc := range []testcase{
		{"dataset1", "dataset1.yaml", 1000, 500},
		{"dataset4a+4b", "dataset4.yaml", 10000, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "clusters.csv")
			code, stdout, stderr := run(t, "clean", "--plan", filepath.Join("..", "..", "testdata", "febrl", tc.plan),
				"--state-url", pgtest.NewDB(t), "--export-clusters", out)
			if code != 0 {
				t.Fatalf("clean: exit %d\n%s%s", code, stdout, stderr)
			}
			pred := readClusters(t, out, "person")
			if len(pred) != tc.records {
				t.Fatalf("%d records exported, want %d", len(pred), tc.records)
			}
			truth := map[string]string{}
			for rec := range pred {
				_, id, _ := strings.Cut(rec, ":")
				truth[rec] = febrlEntity(id)
			}
			p, r, tp, fp, fn := pairQuality(pred, truth)
			t.Logf("%s: precision %.4f recall %.4f (tp %d, fp %d, fn %d)", tc.name, p, r, tp, fp, fn)
			if tp+fn != tc.pairs {
				t.Fatalf("ground truth has %d pairs, want %d", tp+fn, tc.pairs)
			}
			if p < 0.99 || r < 0.99 {
				t.Fatalf("precision %.4f recall %.4f; both must be at least 0.99", p, r)
			}
		})
	}
}

func TestPairQuality(t *testing.T) {
	t.Parallel()
	truth := map[string]string{"a": "1", "b": "1", "c": "1", "d": "2"}
	pred := map[string]string{"a": "x", "b": "x", "c": "y", "d": "y"}
	p, r, tp, fp, fn := pairQuality(pred, truth)
	if tp != 1 || fp != 1 || fn != 2 || p != 0.5 || r != 1.0/3 {
		t.Fatalf("got p %v r %v tp %d fp %d fn %d", p, r, tp, fp, fn)
	}
}
