package clean_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/clean"
	"github.com/crmigrate/crmigrate/crm"
	_ "github.com/crmigrate/crmigrate/crm/csvfile"
	"github.com/crmigrate/crmigrate/plans"
)

// figures are a clean's counts without its timings.
func figures(t *testing.T, s *clean.Summary) string {
	t.Helper()
	c := *s
	c.Seconds, c.RecordsPerSec, c.Timing, c.PeakRSSMB = 0, 0, clean.Timing{}, 0
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Same data, same figures: repeated cleans, with any number of workers, find the same exact and
// fuzzy duplicates, clusters and golden records (exact duplicates by a canonical key that
// placeholders, case and spacing disguise; fuzzy ones among typos).
func TestCleanFiguresDoNotDependOnRunOrWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,email,first_name,last_name,phone,updated\n")
	for i := 0; i < 3000; i++ {
		email := fmt.Sprintf("person%d@example.com", i%1100)
		switch i % 7 {
		case 0:
			email = "n/a"
		case 1:
			email = strings.ToUpper(email)
		case 2:
			email = "  " + email + " "
		}
		last := []string{"Andersson", "Anderson", "Johansson", "Johanson", "Karlsson"}[i%5]
		fmt.Fprintf(&b, "%d,%s,Name%d,%s,+4670%07d,2024-01-%02d\n", i, email, i%900, last, i%1300, 1+i%28)
	}
	if err := os.WriteFile(filepath.Join(dir, "people.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := `name: same
default_region: SE
systems:
  old: {kind: csv, dir: .}
objects:
  contact:
    key: email
    old: {file: people.csv, id: id, updated_at: updated}
    fields:
      email: {type: email, old: email}
      first_name: {type: text, old: first_name}
      last_name: {type: text, old: last_name}
      phone: {type: phone, old: phone, merge: most_recent}
    dedup:
      block: [phone, "last_name:soundex+first_name:prefix2"]
      compare: {first_name: {method: jaro_winkler}, last_name: {method: jaro_winkler}, phone: {method: exact}}
`
	path := filepath.Join(dir, "crmigrate.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{path, filepath.Join("..", "testdata", "febrl", "dataset1.yaml")} {
		sameFigures(t, path)
	}
}

func sameFigures(t *testing.T, path string) {
	t.Helper()
	p, err := plans.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for i, workers := range []int{1, 4, 2, 4, 3} {
		sum, err := clean.Run(context.Background(), p, clean.Options{Workers: workers, Env: crm.Env{Plan: p}})
		if err != nil {
			t.Fatal(err)
		}
		got := figures(t, sum)
		if i == 0 {
			first = got
			if sum.Objects[0].ExactDuplicates+sum.Objects[0].FuzzyDuplicates == 0 {
				t.Fatalf("%s: the data has no duplicates: %s", path, got)
			}
			continue
		}
		if got != first {
			t.Fatalf("%s: run %d with %d workers differs:\n%s\nfirst:\n%s", path, i+1, workers, got, first)
		}
	}
}
