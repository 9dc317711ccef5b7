package validate

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

func execAll(t *testing.T, url string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range sqls {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// The anchor benchmark's changes, at 20,000 rows: the diff finds exactly the 1,000 updated, 500
// deleted and 500 inserted ids, and which columns changed.
func TestIdentityDiffFindsTheAnchorChanges(t *testing.T) {
	t.Parallel()
	gen, err := os.ReadFile("../bench/anchor-contacts/gen.sql")
	if err != nil {
		t.Fatal(err)
	}
	mutate, err := os.ReadFile("../bench/anchor-contacts/mutate.sql")
	if err != nil {
		t.Fatal(err)
	}
	small := strings.Replace(string(gen), "generate_series(1, 1000000)", "generate_series(1, 20000)", 1)
	if small == string(gen) {
		t.Fatal("gen.sql changed: cannot scale it down")
	}
	oldURL, newURL := pgtest.NewDB(t), pgtest.NewDB(t)
	execAll(t, oldURL, small)
	// psql runs the script statement by statement; VACUUM cannot run in the one transaction that
	// a multi-statement Exec is.
	execAll(t, newURL, small, strings.Replace(string(mutate), "VACUUM ANALYZE contacts;", "", 1), "VACUUM ANALYZE contacts")

	want := map[string]string{}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, newURL)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := c.Query(ctx, `SELECT id::text, kind FROM expected_changes`)
	for rows.Next() {
		var id, kind string
		_ = rows.Scan(&id, &kind)
		want[id] = map[string]string{"U": FieldMismatch, "D": MissingInNew, "I": MissingInOld}[kind]
	}
	c.Close(ctx)
	if len(want) != 2000 {
		t.Fatalf("expected_changes has %d rows", len(want))
	}

	got := map[string]string{}
	var order []string
	d, err := DiffTables(ctx, TableSpec{OldURL: oldURL, NewURL: newURL, Table: "contacts", Key: "id", Limit: 5,
		OnDifference: func(diff Difference) error {
			got[diff.Key] = diff.Class
			order = append(order, diff.Key)
			if diff.Class == FieldMismatch {
				cols := map[string]bool{}
				for _, f := range diff.Fields {
					cols[f.Field] = true
				}
				// updated_at always changes, with one of email, phone, last_name.
				if len(diff.Fields) != 2 || !cols["updated_at"] {
					return fmt.Errorf("key %s: columns %v", diff.Key, diff.Fields)
				}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("found %d differences, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("id %s: %q, want %q", k, got[k], v)
		}
	}
	if d.Old != 20000 || d.New != 20000 || d.Matched != 19500 || d.Identical != 18500 || d.Mismatched != 1000 || d.MissingInNew != 500 || d.MissingInOld != 500 {
		t.Errorf("counts %+v", d)
	}
	if d.Fields["updated_at"] != 1000 || d.Fields["email"]+d.Fields["phone"]+d.Fields["last_name"] != 1000 {
		t.Errorf("fields %v", d.Fields)
	}
	if len(d.Differences) != 5 || !d.Truncated {
		t.Errorf("listed %d differences (truncated %v), want the first 5", len(d.Differences), d.Truncated)
	}
	if !sort.SliceIsSorted(order, func(i, j int) bool {
		return len(order[i]) < len(order[j]) || len(order[i]) == len(order[j]) && order[i] < order[j]
	}) {
		t.Error("differences are not in key order")
	}
}

// Raw values: NULL is not "", tabs, newlines and backslashes are compared as values, text keys
// (hostile ones included) are ordered byte by byte, duplicate keys are counted on their side,
// columns on one side only are listed and skipped, and hostile table and column names are quoted.
func TestIdentityDiffRawValues(t *testing.T) {
	t.Parallel()
	oldURL, newURL := pgtest.NewDB(t), pgtest.NewDB(t)
	create := `CREATE SCHEMA "s p"; CREATE TABLE "s p"."We""ird; DROP" (k text, "the value" text, n numeric, at timestamptz, only_here int)`
	execAll(t, oldURL, create, `INSERT INTO "s p"."We""ird; DROP" VALUES
		('a', NULL, 1.0, '2024-01-01 00:00:00+00', 1),
		('b\tx', 'tab	in', 2, NULL, 1),
		('Z', 'same', 3, NULL, 1),
		('é', 'line
break', 4, NULL, 1),
		('dup', 'x', 5, NULL, 1), ('dup', 'x', 5, NULL, 1),
		('gone', 'x', 6, NULL, 1)`)
	execAll(t, newURL, `SET TimeZone = 'Europe/Paris'`,
		`CREATE SCHEMA "s p"; CREATE TABLE "s p"."We""ird; DROP" (k text, "the value" text, n numeric, at timestamptz, extra text)`,
		`INSERT INTO "s p"."We""ird; DROP" VALUES
		('a', '', 1.00, '2024-01-01 01:00:00+01', 'e'),
		('b\tx', 'tab	in', 2, NULL, 'e'),
		('Z', 'same', 3, NULL, 'e'),
		('é', 'line
break!', 4, NULL, 'e'),
		('dup', 'x', 5, NULL, 'e'),
		('new', 'x', 7, NULL, 'e')`)
	var diffs []Difference
	d, err := DiffTables(context.Background(), TableSpec{OldURL: oldURL, NewURL: newURL, Table: `s p.We"ird; DROP`, Key: "k", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	diffs = d.Differences
	var lines []string
	for _, x := range diffs {
		s := x.Key + " " + x.Class
		for _, f := range x.Fields {
			s += fmt.Sprintf(" %s:%v→%v", f.Field, val(f.Old), val(f.New))
		}
		lines = append(lines, s)
	}
	got := strings.Join(lines, "\n")
	wantText := strings.Join([]string{
		// Byte order of the keys as text: "Z" < "a" < "b\tx" < "dup" < "gone" < "new" < "é".
		`a field_mismatch the value:NULL→"" n:"1.0"→"1.00"`,
		`dup duplicate_in_old`,
		`gone missing_in_new`,
		`new missing_in_old`,
		`é field_mismatch the value:"line\nbreak"→"line\nbreak!"`,
	}, "\n")
	if got != wantText {
		t.Errorf("differences:\n%s\nwant:\n%s", got, wantText)
	}
	if strings.Join(d.OnlyOld, ",") != "only_here" || strings.Join(d.OnlyNew, ",") != "extra" {
		t.Errorf("one-sided columns %v %v", d.OnlyOld, d.OnlyNew)
	}
	if d.Identical != 3 || d.Matched != 5 || d.DuplicatesInOld != 1 || d.Same() {
		t.Errorf("counts %+v", d)
	}
	// A missing table or key column is a clear error.
	if _, err := DiffTables(context.Background(), TableSpec{OldURL: oldURL, NewURL: newURL, Table: "nope", Key: "k"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing table: %v", err)
	}
	if _, err := DiffTables(context.Background(), TableSpec{OldURL: oldURL, NewURL: newURL, Table: `s p.We"ird; DROP`, Key: "only_here"}); err == nil || !strings.Contains(err.Error(), "not in both") {
		t.Errorf("one-sided key: %v", err)
	}
}

func val(p *string) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *p)
}

// NULL keys sort last on both sides and never match a key written N; a char(n) key is compared as
// the server orders it.
func TestIdentityDiffNullAndPaddedKeys(t *testing.T) {
	t.Parallel()
	oldURL, newURL := pgtest.NewDB(t), pgtest.NewDB(t)
	execAll(t, oldURL, `CREATE TABLE t (k char(4), v text)`, `INSERT INTO t VALUES ('N', 'a'), (NULL, 'b'), ('a', 'c'), ('b', 'x')`)
	execAll(t, newURL, `CREATE TABLE t (k char(4), v text)`, `INSERT INTO t VALUES ('a', 'c'), ('b', 'y'), (NULL, 'b')`)
	d, err := DiffTables(context.Background(), TableSpec{OldURL: oldURL, NewURL: newURL, Table: "t", Key: "k", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range d.Differences {
		got = append(got, x.Key+" "+x.Class)
	}
	if strings.Join(got, ", ") != `N missing_in_new, b field_mismatch` || d.Matched != 3 || d.Identical != 2 {
		t.Fatalf("differences %v, counts %+v", got, d)
	}
}
