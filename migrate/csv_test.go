package migrate_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/crmigrate/crmigrate/demo/demotest"
	"github.com/crmigrate/crmigrate/migrate"
)

func readCSV(t *testing.T, path string) [][]string {
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
	return rows
}

// A CRM that only takes CSV imports: migrate writes one file per object, whole, atomically, with
// references as the referenced rows' ids in their files.
func TestCSVTargetWritesImportFiles(t *testing.T) {
	t.Parallel()
	d := demotest.CSVTarget(t, small())
	dir := d.Dir
	w := &world{t: t, dir: dir, plan: d.Plan, db: d.DB, old: d.Old}
	w.clean()
	first := w.mustMigrate(migrate.Options{})
	companies := readCSV(t, filepath.Join(dir, "import", "companies.csv"))
	contacts := readCSV(t, filepath.Join(dir, "import", "contacts.csv"))
	if got := companies[0]; len(got) != 3 || got[0] != "Record ID" || got[1] != "Company name" {
		t.Errorf("companies header: %q", got)
	}
	if int64(len(companies)-1) != first.Objects[0].Inserted || int64(len(contacts)-1) != first.Objects[1].Inserted {
		t.Errorf("files have %d and %d rows; inserted %+v %+v", len(companies)-1, len(contacts)-1, first.Objects[0], first.Objects[1])
	}
	ids := map[string]bool{}
	for _, r := range companies[1:] {
		ids[r[0]] = true
	}
	linked := 0
	for _, r := range contacts[1:] {
		if ref := r[3]; ref != "" {
			if !ids[ref] {
				t.Fatalf("contact %s refers to company %q, which is not in companies.csv", r[0], ref)
			}
			linked++
		}
	}
	if linked == 0 {
		t.Error("no contact refers to a company")
	}
	// Again with nothing changed: the files are written whole again, byte for byte the same.
	before, _ := os.ReadFile(filepath.Join(dir, "import", "contacts.csv"))
	again := w.mustMigrate(migrate.Options{})
	after, _ := os.ReadFile(filepath.Join(dir, "import", "contacts.csv"))
	if string(before) != string(after) || again.Inserted+again.Updated != 0 || again.Unchanged != first.Inserted {
		t.Errorf("second run: %+v (file changed: %v)", again, string(before) != string(after))
	}
	// A delta run still writes whole files: the changed company is in, and nothing is missing.
	w.exec(d.Old, `UPDATE accounts SET account_name = 'Renamed In Delta AB', modified_at = now() + interval '1 day' WHERE account_id = (SELECT min(account_id) FROM accounts)`)
	delta := w.mustMigrate(migrate.Options{Delta: true})
	after2 := readCSV(t, filepath.Join(dir, "import", "companies.csv"))
	renamed := false
	for _, r := range after2 {
		renamed = renamed || r[1] == "Renamed In Delta AB"
	}
	if len(after2) != len(companies) || !renamed || delta.Recleaned == 0 {
		t.Errorf("delta into files: %d rows (had %d), renamed %v, re-cleaned %d", len(after2)-1, len(companies)-1, renamed, delta.Recleaned)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "import", ".*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
