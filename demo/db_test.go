package demo

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmigrate/crmigrate/internal/pgtest"
	"github.com/crmigrate/crmigrate/plans"
)

func connect(t *testing.T) (context.Context, *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return ctx, conn
}

func count(t *testing.T, ctx context.Context, conn *pgx.Conn, table string) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateOldCRM(t *testing.T) {
	t.Parallel()
	ctx, conn := connect(t)
	o := DefaultOptions()
	var sum *Summary
	for i := 0; i < 2; i++ { // the second run drops and recreates
		var err error
		if sum, err = CreateOldCRM(ctx, conn, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range OldTables {
		if got := count(t, ctx, conn, table); got != sum.Tables[table] || got == 0 {
			t.Errorf("%s: %d rows, summary says %d", table, got, sum.Tables[table])
		}
	}
	for table, want := range map[string]int{"accounts": o.Companies, "contacts": o.Contacts, "opportunities": o.Deals, "leads": o.Contacts * 2 / 5, "activities": o.Contacts + o.Deals} {
		if sum.Tables[table] != int64(want) {
			t.Errorf("%s: %d rows, want %d", table, sum.Tables[table], want)
		}
	}
	if sum.Entities != newGen(o).entities() {
		t.Errorf("entities %+v", sum.Entities)
	}
	if err := CreateNewCRM(ctx, conn, o); err == nil || !strings.Contains(err.Error(), "separate databases") {
		t.Errorf("CreateNewCRM over the old CRM: err = %v", err)
	}

	// The plan's old mappings run on this schema and expose exactly the ids of the ground truth.
	dir := t.TempDir()
	if _, err := WriteFiles(dir, o); err != nil {
		t.Fatal(err)
	}
	p, err := plans.Load(filepath.Join(dir, FilePlan))
	if err != nil {
		t.Fatal(err)
	}
	truthFile := map[string]string{"company": FileTruthCompanies, "contact": FileTruthContacts, "deal": FileTruthDeals}
	for _, obj := range p.Objects {
		m := obj.Mapping(plans.SystemOld)
		from := pgx.Identifier{m.Table}.Sanitize()
		if m.Query != "" {
			from = "(" + m.Query + ")"
		}
		cols := []string{pgx.Identifier{m.ID}.Sanitize() + "::text"}
		for _, f := range obj.Fields {
			if c, ok := f.Column(plans.SystemOld); ok {
				cols = append(cols, pgx.Identifier{c}.Sanitize()+"::text")
			}
		}
		rows, err := conn.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+from+" q")
		if err != nil {
			t.Fatalf("%s: the plan's old mapping does not run: %v", obj.Name, err)
		}
		ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			v, err := r.Values()
			if err != nil {
				return "", err
			}
			return v[0].(string), nil
		})
		if err != nil {
			t.Fatalf("%s: %v", obj.Name, err)
		}
		if f, ok := truthFile[obj.Name]; ok {
			readTruth(t, filepath.Join(dir, filepath.FromSlash(f))).expectIDs(t, f, TruthSourceOld, ids)
		} else if int64(len(ids)) != sum.Tables["activities"] {
			t.Errorf("%s: %d rows", obj.Name, len(ids))
		}
	}
}

func TestCreateNewCRM(t *testing.T) {
	t.Parallel()
	ctx, conn := connect(t)
	o := DefaultOptions()
	for i := 0; i < 2; i++ {
		if err := CreateNewCRM(ctx, conn, o); err != nil {
			t.Fatal(err)
		}
	}
	// Old and new CRM refuse to share a database.
	if _, err := CreateOldCRM(ctx, conn, o); err == nil || !strings.Contains(err.Error(), "separate databases") {
		t.Errorf("CreateOldCRM over the new CRM: err = %v", err)
	}
	// Every table and column the plan maps on the new system exists.
	dir := t.TempDir()
	if _, err := WriteFiles(dir, o); err != nil {
		t.Fatal(err)
	}
	p, err := plans.Load(filepath.Join(dir, FilePlan))
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range p.Objects {
		m := obj.Mapping(plans.SystemNew)
		cols := []string{m.ID, m.UpdatedAt, m.ExternalID}
		for _, f := range obj.Fields {
			if c, ok := f.Column(plans.SystemNew); ok {
				cols = append(cols, c)
			}
		}
		for i, c := range cols {
			cols[i] = pgx.Identifier{c}.Sanitize()
		}
		if _, err := conn.Exec(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+pgx.Identifier{m.Table}.Sanitize()+" LIMIT 0"); err != nil {
			t.Errorf("%s: the plan's new mapping does not match the schema: %v", obj.Name, err)
		}
	}
	emails, _ := newUsers(o)
	if got := count(t, ctx, conn, "users"); got != int64(len(emails)) {
		t.Errorf("users: %d, want %d", got, len(emails))
	}
	for _, table := range []string{"companies", "people", "opportunities", "activities"} {
		if n := count(t, ctx, conn, table); n != 0 {
			t.Errorf("%s: %d rows, want none", table, n)
		}
	}
	var owner int
	if err := conn.QueryRow(ctx, "SELECT id FROM users WHERE email = $1", DefaultOwner).Scan(&owner); err != nil {
		t.Fatalf("default owner: %v", err)
	}
	exec := func(sql string, args ...any) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if err := exec(sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO companies (name, domain_name, legacy_id, owner_id) VALUES ('Acme AB', 'acme.se', '1001', $1)`, owner)
	mustExec(`INSERT INTO people (first_name, email, company_id, stage, legacy_id) SELECT 'Jane', 'jane@acme.se', id, 'customer', 'C-1' FROM companies`)
	mustExec(`INSERT INTO opportunities (title, subscription_ref, amount, currency, stage, legacy_id) VALUES ('Deal', 'sub_1', 12500.00, 'EUR', 'won', 'OPP-1')`)
	mustExec(`INSERT INTO activities (kind, person_id, legacy_id) SELECT 'meeting', id, '1' FROM people`)
	for _, tc := range []struct {
		name, sql, code string
	}{
		{"duplicate person email", `INSERT INTO people (first_name, email) VALUES ('Janet', 'jane@acme.se')`, "23505"},
		{"duplicate company domain", `INSERT INTO companies (name, domain_name) VALUES ('Acme', 'acme.se')`, "23505"},
		{"duplicate subscription", `INSERT INTO opportunities (title, subscription_ref) VALUES ('Deal 2', 'sub_1')`, "23505"},
		{"duplicate legacy id", `INSERT INTO people (email, legacy_id) VALUES ('x@acme.se', 'C-1')`, "23505"},
		{"unknown stage", `INSERT INTO people (email, stage) VALUES ('y@acme.se', 'Prospect?')`, "23514"},
		{"unknown owner", `INSERT INTO companies (name, owner_id) VALUES ('Z', 999999)`, "23503"},
		{"company without name", `INSERT INTO companies (domain_name) VALUES ('z.se')`, "23502"},
	} {
		err := exec(tc.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != tc.code {
			t.Errorf("%s: err = %v, want SQLSTATE %s", tc.name, err, tc.code)
		}
	}
}

func TestProfile(t *testing.T) {
	t.Parallel()
	ctx, conn := connect(t)
	o := DefaultOptions()
	sum, err := CreateOldCRM(ctx, conn, o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Profile(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range p.Tables {
		if tc.Rows != sum.Tables[tc.Table] {
			t.Errorf("profile: %s has %d rows, summary says %d", tc.Table, tc.Rows, sum.Tables[tc.Table])
		}
	}
	e := p.Emails
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"total", e.Total, sum.Tables["contacts"] + sum.Tables["leads"]},
		{"invalid", e.Invalid, sum.Planted["emails.invalid"]},
		{"missing", e.Missing, sum.Planted["emails.empty"]},
		{"needs cleanup", e.NeedsCleanup, sum.Planted["emails.messy"]},
		{"free-mail", e.FreeMail, sum.Planted["emails.free_mail"]},
		{"orphan contacts", p.Orphans[0].Count, sum.Planted["contacts.orphan_account"]},
	} {
		if c.got != c.want || c.want == 0 {
			t.Errorf("%s: profile %d, planted %d", c.name, c.got, c.want)
		}
	}
	if p.Orphans[0].Table != "contacts" || p.Orphans[0].Column != "account_id" {
		t.Errorf("first orphan check is %+v", p.Orphans[0])
	}
	for _, or := range p.Orphans[1:] {
		want := int64(0)
		if or.Table == "activities" && or.Column == "contact_id" {
			want = sum.Planted["activities.orphan_contact"]
		}
		if or.Count != want {
			t.Errorf("orphans %s.%s: %d, want %d", or.Table, or.Column, or.Count, want)
		}
	}
	var phones int64
	for _, f := range p.Phones.Formats {
		phones += f.Count
		if f.Count != sum.Planted["phones."+f.Format] {
			t.Errorf("phones %s: profile %d, planted %d", f.Format, f.Count, sum.Planted["phones."+f.Format])
		}
		if f.Format != PhoneEmpty && !strings.Contains(f.Example.String(), "*") && f.Format != PhoneOther {
			t.Errorf("phones %s: example %q is not masked", f.Format, f.Example)
		}
	}
	if len(p.Phones.Formats) != len(PhoneFormats) || phones != p.Phones.Total {
		t.Errorf("phone formats %+v, total %d", p.Phones.Formats, p.Phones.Total)
	}
	if !strings.Contains(e.InvalidExample.String(), "***") || e.InvalidExample.Raw() == e.InvalidExample.String() {
		t.Errorf("invalid example %q (raw %q) is not masked", e.InvalidExample, e.InvalidExample.Raw())
	}

	// Duplicates by exact e-mail, from the generator's rows.
	g := newGen(o)
	perAddr := map[string]int64{}
	var c contactRec
	for r := 0; r < g.lay.N; r++ {
		g.contactAt(r, &c)
		if validEmail(c.email) {
			perAddr[normalizeEmail(c.email)]++
		}
	}
	var l leadRec
	for r := 0; r < g.lay.L; r++ {
		g.leadAt(r, &l)
		if validEmail(l.email) {
			perAddr[normalizeEmail(l.email)]++
		}
	}
	var wantEmails, wantRecords int64
	for _, n := range perAddr {
		if n > 1 {
			wantEmails++
			wantRecords += n
		}
	}
	if p.Duplicates.Emails != wantEmails || p.Duplicates.Records != wantRecords || wantEmails == 0 {
		t.Errorf("duplicates: profile %d addresses / %d records, generator %d / %d",
			p.Duplicates.Emails, p.Duplicates.Records, wantEmails, wantRecords)
	}
	if len(p.Picklists) == 0 || p.Picklists[0].Distinct < 6 {
		t.Errorf("picklists: %+v", p.Picklists)
	}
}
