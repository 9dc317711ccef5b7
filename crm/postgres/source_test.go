package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/plans"
)

func setup(t *testing.T, mapping string) (*plans.Plan, *pgx.Conn) {
	t.Helper()
	url := pgtest.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	for _, s := range []string{
		`CREATE SCHEMA "Legacy CRM"`,
		`CREATE TABLE "Legacy CRM"."we""ird" ("ID" int, "e-mail" text, "Name; DROP TABLE x" text, modified timestamptz)`,
		`INSERT INTO "Legacy CRM"."we""ird" SELECT g, 'p' || g || '@x.se', CASE WHEN g % 10 = 0 THEN NULL ELSE 'Name ' || g END, '2024-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 4500) g`,
		`INSERT INTO "Legacy CRM"."we""ird" VALUES (NULL, 'noid@x.se', 'No Id', NULL)`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	y := fmt.Sprintf(`name: t
systems:
  old: {kind: postgres, url: %q}
objects:
  contact:
    key: email
    old: %s
    fields:
      email: {type: email, old: "e-mail"}
      name: {type: text, old: "Name; DROP TABLE x"}
`, url, mapping)
	p, err := plans.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(y), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return p, conn
}

func readAll(t *testing.T, p *plans.Plan) ([]crm.Record, []crm.Reject) {
	t.Helper()
	ctx := context.Background()
	src, err := crm.Open(ctx, p.Old(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var rejects []crm.Reject
	r, err := src.Reader(ctx, p.Object("contact"), func(rj crm.Reject) { rejects = append(rejects, rj) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []crm.Record
	batches := 0
	for {
		b, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > crm.BatchSize {
			t.Fatalf("batch of %d", len(b))
		}
		batches++
		recs = append(recs, b...)
	}
	if want := (len(recs) + crm.BatchSize - 1) / crm.BatchSize; batches != want {
		t.Fatalf("%d records came in %d batches", len(recs), batches)
	}
	return recs, rejects
}

func TestReadTableWithHostileIdentifiersAndNulls(t *testing.T) {
	t.Parallel()
	p, conn := setup(t, `{table: 'Legacy CRM.we"ird', id: ID, updated_at: modified}`)
	recs, rejects := readAll(t, p)
	if len(recs) != 4500 {
		t.Fatalf("read %d records, want 4500", len(recs))
	}
	if len(rejects) != 1 || rejects[0].Reason != "empty id" {
		t.Fatalf("rejects: %+v", rejects)
	}
	r := recs[9] // ordered by id (as text): 1, 10, 100, 1000, 1001, ...
	if r.ID == "" || r.Values[0] == "" || !strings.HasPrefix(r.UpdatedAt, "2024-") {
		t.Fatalf("record: %+v", r)
	}
	nulls := 0
	for _, r := range recs {
		if r.Values[1] == "" {
			nulls++
		}
	}
	if nulls != 450 {
		t.Fatalf("%d NULL names, want 450", nulls)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE schemaname = 'Legacy CRM'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("tables after reading: %d %v", n, err)
	}
}

func TestReadQueryMapping(t *testing.T) {
	t.Parallel()
	p, _ := setup(t, `{query: 'SELECT ''C-'' || "ID" AS id, "e-mail", "Name; DROP TABLE x" FROM "Legacy CRM"."we""ird" WHERE "ID" <= 2500', id: id}`)
	recs, _ := readAll(t, p)
	if len(recs) != 2500 || !strings.HasPrefix(recs[0].ID, "C-") || recs[0].UpdatedAt != "" {
		t.Fatalf("read %d, first %+v", len(recs), recs[0])
	}
}

func TestMissingTableAndColumns(t *testing.T) {
	t.Parallel()
	p, _ := setup(t, `{table: nope, id: ID}`)
	ctx := context.Background()
	src, err := crm.Open(ctx, p.Old(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Reader(ctx, p.Object("contact"), func(crm.Reject) {}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := src.(crm.Inspector).Columns(ctx, p.Object("contact").Mapping("old")); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("missing table columns: %v", err)
	}
}
