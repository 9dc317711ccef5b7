package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/plans"
)

// A target table with hostile names, constraints of every kind and a varchar(8).
func writerSetup(t *testing.T) (*plans.Plan, *pgx.Conn) {
	t.Helper()
	url := pgtest.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	for _, s := range []string{
		`CREATE SCHEMA "New CRM"`,
		`CREATE TABLE "New CRM"."pe""ople" (
			id bigserial PRIMARY KEY,
			"e-mail" text UNIQUE,
			"Name; DROP TABLE x" text NOT NULL,
			code varchar(8),
			score integer CHECK (score >= 0),
			born date,
			created timestamptz NOT NULL DEFAULT now(),
			legacy text UNIQUE)`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	y := fmt.Sprintf(`name: t
systems:
  old: {kind: postgres, url: %[1]q}
  new: {kind: postgres, url: %[1]q}
objects:
  contact:
    key: email
    old: {table: x, id: id}
    new: {table: 'New CRM.pe"ople', id: id, external_id: legacy}
    fields:
      email: {type: email, old: e, new: "e-mail"}
      name: {type: text, old: n, new: "Name; DROP TABLE x"}
      code: {type: text, old: c, new: code}
      score: {type: number, old: s, new: score}
      born: {type: date, old: b, new: born}
      created: {type: datetime, old: d, new: created}
`, url)
	p, err := plans.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(y), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return p, conn
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func TestWriterUpsertsAndRejectsOnlyTheRefusedRows(t *testing.T) {
	t.Parallel()
	p, conn := writerSetup(t)
	ctx := context.Background()
	src, err := crm.Open(ctx, p.New(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	obj := p.Object("contact")
	spec := crm.WriteSpec{Columns: []string{"e-mail", "Name; DROP TABLE x", "code", "score", "born", "created"}, KeyColumn: "legacy"}
	w, err := src.(crm.Target).Writer(ctx, obj, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	row := func(key, email, name, code, score, born string) crm.Row {
		return crm.Row{Key: key, Values: []*string{str(email), str(name), str(code), str(score), str(born), nil}}
	}
	var rows []crm.Row
	for i := 0; i < 200; i++ {
		rows = append(rows, row(fmt.Sprintf("g%03d", i), fmt.Sprintf("p%d@x.se", i), fmt.Sprintf("Person '%d'; --", i), "ok", "1", "2020-01-02"))
	}
	bad := map[int]string{
		7:   "violates check constraint", // score -1
		31:  "value too long",            // code longer than varchar(8): refused, not cut
		64:  "invalid input syntax",      // score "many"
		99:  "duplicate key value",       // e-mail of row 3
		120: "not-null constraint",       // no name
		150: "out of range",              // born 2021-02-31
		151: "out of range",              // born 2021-02-30: a second bad date, same query
	}
	rows[7].Values[3] = str("-1")
	rows[31].Values[2] = str("much-too-long")
	rows[64].Values[3] = str("many")
	rows[99].Values[0] = str("p3@x.se")
	rows[120].Values[1] = nil
	rows[150].Values[4] = str("2021-02-31")
	rows[151].Values[4] = str("2021-02-30")
	var journaled int
	out, err := w.Write(ctx, rows, func(imgs []crm.Image) error { journaled = len(imgs); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if journaled != len(rows) {
		t.Errorf("journal saw %d images, want %d", journaled, len(rows))
	}
	for i, o := range out {
		want, refused := bad[i]
		switch {
		case refused && (o.Action != crm.Rejected || !strings.Contains(o.Reason, want)):
			t.Errorf("row %d: %v %q, want rejected for %q", i, o.Action, o.Reason, want)
		case !refused && (o.Action != crm.Inserted || o.ID == ""):
			t.Errorf("row %d: %v %q, want inserted", i, o.Action, o.Reason)
		}
	}
	var n int
	var code string
	_ = conn.QueryRow(ctx, `SELECT count(*), max(code) FROM "New CRM"."pe""ople"`).Scan(&n, &code)
	if n != len(rows)-len(bad) || code != "ok" {
		t.Errorf("%d rows written (max code %q), want %d", n, code, len(rows)-len(bad))
	}
	// The next batch, with the same kinds of refusals, is checked before it is written (the writer
	// has seen refusals): the same rows are rejected for the same reasons.
	var next []crm.Row
	for i := 0; i < 200; i++ {
		next = append(next, row(fmt.Sprintf("h%03d", i), fmt.Sprintf("q%d@x.se", i), "Q", "ok", "2", "2021-03-04"))
	}
	next[7].Values[3] = str("-1")
	next[31].Values[2] = str("much-too-long")
	next[64].Values[3] = str("many")
	next[99].Values[0] = str("p3@x.se") // collides with a row of the first batch
	next[120].Values[1] = nil
	next[150].Values[4] = str("2021-02-31")
	next[151].Values[4] = str("2021-02-30")
	out, err = w.Write(ctx, next, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		want, refused := bad[i]
		switch {
		case refused && (o.Action != crm.Rejected || !strings.Contains(o.Reason, want)):
			t.Errorf("second batch, row %d: %v %q, want rejected for %q", i, o.Action, o.Reason, want)
		case !refused && o.Action != crm.Inserted:
			t.Errorf("second batch, row %d: %v %q, want inserted", i, o.Action, o.Reason)
		}
	}
	if !w.(*writer).dirty || w.(*writer).precheckSQL == "" {
		t.Error("the writer did not switch to checking batches before writing them")
	}
	if _, err := conn.Exec(ctx, `DELETE FROM "New CRM"."pe""ople" WHERE legacy LIKE 'h%'`); err != nil {
		t.Fatal(err)
	}
	// Written again with one change: one update, the rest unchanged (matched on the external id,
	// since the ids are not passed), and the before-image of the changed row is journaled.
	rows[0].Values[1] = str("Renamed")
	var before []crm.Image
	out, err = w.Write(ctx, rows[:5], func(imgs []crm.Image) error { before = imgs; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Action != crm.Updated || out[1].Action != crm.Unchanged || !strings.Contains(string(before[0].JSON), `Person '0'`) {
		t.Errorf("second write: %+v, image %s", out, before[0].JSON)
	}
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM "New CRM"."pe""ople"`).Scan(&n)
	if n != len(rows)-len(bad) {
		t.Errorf("a re-write added rows: %d", n)
	}
	// A dry run reports the same outcome and writes nothing.
	spec.DryRun = true
	dw, err := src.(crm.Target).Writer(ctx, obj, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close(ctx)
	out, err = dw.Write(ctx, []crm.Row{row("new1", "new1@x.se", "New", "", "", "")}, nil)
	if err != nil || out[0].Action != crm.Inserted {
		t.Fatalf("dry run: %+v %v", out, err)
	}
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM "New CRM"."pe""ople" WHERE legacy = 'new1'`).Scan(&n)
	if n != 0 {
		t.Error("the dry run wrote")
	}
}

func TestWriterNeedsAUniqueKeyColumn(t *testing.T) {
	t.Parallel()
	p, conn := writerSetup(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `ALTER TABLE "New CRM"."pe""ople" DROP CONSTRAINT "pe""ople_legacy_key"`); err != nil {
		t.Fatal(err)
	}
	src, err := crm.Open(ctx, p.New(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = src.(crm.Target).Writer(ctx, p.Object("contact"), crm.WriteSpec{Columns: []string{"e-mail"}, KeyColumn: "legacy"})
	if err == nil || !strings.Contains(err.Error(), "no unique index") || !strings.Contains(err.Error(), "CREATE UNIQUE INDEX") {
		t.Fatalf("writer on a table without a unique key column: %v", err)
	}
}

// Keep: a kept column keeps the row's value when it has one, whether the row is known by its id or
// found by its key (both take the update path: the before-images find rows by key), and is filled
// when empty; new rows get the value. (The insert's ON CONFLICT path, taken only when a row with
// the key appears between the images and the insert, keeps it by the same expression.)
func TestWriterKeepsColumnsTheTargetOwns(t *testing.T) {
	t.Parallel()
	p, conn := writerSetup(t)
	ctx := context.Background()
	src, err := crm.Open(ctx, p.New(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cols := []string{"e-mail", "Name; DROP TABLE x", "code", "score", "born", "created"}
	write := func(keep []string, rows []crm.Row) []crm.Outcome {
		t.Helper()
		w, err := src.(crm.Target).Writer(ctx, p.Object("contact"), crm.WriteSpec{Columns: cols, KeyColumn: "legacy", Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close(ctx)
		out, err := w.Write(ctx, rows, func([]crm.Image) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	row := func(key, id, code string) crm.Row {
		return crm.Row{Key: key, ID: id, Values: []*string{str(key + "@x.se"), str("N " + key), str(code), str("1"), nil, nil}}
	}
	out := write(nil, []crm.Row{row("a", "", "old"), row("b", "", "old"), row("c", "", "")})
	// The target owns code now: a has its own, b's is set by the CRM, c has none.
	if _, err := conn.Exec(ctx, `UPDATE "New CRM"."pe""ople" SET code = CASE legacy WHEN 'a' THEN 'mine' WHEN 'b' THEN 'crm' END`); err != nil {
		t.Fatal(err)
	}
	// a by its id, b and c by their key, d is new.
	out = write([]string{"code"}, []crm.Row{row("a", out[0].ID, "src"), row("b", "", "src"), row("c", "", "src"), row("d", "", "src")})
	got := map[string]string{}
	rows, err := conn.Query(ctx, `SELECT legacy, coalesce(code, '') FROM "New CRM"."pe""ople"`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, c string
		if err := rows.Scan(&k, &c); err != nil {
			t.Fatal(err)
		}
		got[k] = c
	}
	if want := map[string]string{"a": "mine", "b": "crm", "c": "src", "d": "src"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("codes %v, want %v (outcomes %+v)", got, want, out)
	}
}
