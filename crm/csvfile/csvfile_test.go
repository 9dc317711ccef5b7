package csvfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// testPlan is a plan with one csv system holding contacts.csv.
func testPlan(t *testing.T, dir, dialect, encoding string, cols map[string]string) *plans.Plan {
	t.Helper()
	y := fmt.Sprintf("name: t\nsystems:\n  old: {kind: csv, dir: %q, dialect: %s", dir, dialect)
	if encoding != "" {
		y += ", encoding: " + encoding
	}
	y += "}\nobjects:\n  contact:\n    key: email\n    old: {file: contacts.csv, id: " + fmt.Sprintf("%q", cols["id"]) + "}\n    fields:\n"
	for _, f := range []string{"email", "name"} {
		typ := "text"
		if f == "email" {
			typ = "email"
		}
		y += fmt.Sprintf("      %s: {type: %s, old: %q}\n", f, typ, cols[f])
	}
	p, err := plans.Parse(filepath.Join(dir, "plan.yaml"), []byte(y), nil)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, y)
	}
	return p
}

type readResult struct {
	recs    []crm.Record
	rejects []crm.Reject
}

func readAll(t *testing.T, content []byte, dialect, encoding string, cols map[string]string) readResult {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	return readObject(t, testPlan(t, dir, dialect, encoding, cols), "contact")
}

// readObject reads every record of an object from the plan's old system, with its rejects.
func readObject(t *testing.T, p *plans.Plan, object string) readResult {
	t.Helper()
	ctx := context.Background()
	src, err := crm.Open(ctx, p.Old(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var res readResult
	r, err := src.Reader(ctx, p.Object(object), func(rj crm.Reject) { res.rejects = append(res.rejects, rj) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		b, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		res.recs = append(res.recs, b...)
	}
	return res
}

var plain = map[string]string{"id": "id", "email": "email", "name": "name"}

func TestReadFormats(t *testing.T) {
	utf16 := func(s string) []byte {
		b, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	cp1252 := func(s string) []byte {
		b, _ := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		return b
	}
	type testcase struct {
		name     string
		content  []byte
		encoding string
		want     [][3]string // id, email, name
	}
	for _, tc := range []testcase{
		{"plain", []byte("id,email,name\n1,a@x.se,Åsa\n2,b@x.se,Björn\n"), "", [][3]string{{"1", "a@x.se", "Åsa"}, {"2", "b@x.se", "Björn"}}},
		{"bom crlf", []byte("\xef\xbb\xbfid,email,name\r\n1,a@x.se,Åsa\r\n"), "", [][3]string{{"1", "a@x.se", "Åsa"}}},
		{"utf16 bom", utf16("id,email,name\r\n1,a@x.se,Zoë\r\n"), "", [][3]string{{"1", "a@x.se", "Zoë"}}},
		{"utf16 declared", utf16("id;email;name\n1;a@x.se;Zoë\n"), "utf-16", [][3]string{{"1", "a@x.se", "Zoë"}}},
		{"windows-1252 detected", cp1252("id,email,name\n1,a@x.fr,Hélène – “quoted”\n"), "", [][3]string{{"1", "a@x.fr", "Hélène – “quoted”"}}},
		{"windows-1252 declared", cp1252("id,email,name\n1,a@x.fr,Señor\n"), "windows-1252", [][3]string{{"1", "a@x.fr", "Señor"}}},
		{"semicolon", []byte("id;email;name\n1;a@x.se;\"Doe; Jane\"\n"), "", [][3]string{{"1", "a@x.se", "Doe; Jane"}}},
		{"tab", []byte("id\temail\tname\n1\ta@x.se\tJane\n"), "", [][3]string{{"1", "a@x.se", "Jane"}}},
		{"spaces after delimiter", []byte("id, email, name\n1, a@x.se, \"Jane, Q\"\n"), "", [][3]string{{"1", "a@x.se", "Jane, Q"}}},
		{"quoted newline and escaped quote", []byte("id,email,name\n1,a@x.se,\"line one\nline \"\"two\"\"\"\n2,b@x.se,x\n"), "", [][3]string{{"1", "a@x.se", "line one\nline \"two\""}, {"2", "b@x.se", "x"}}},
		{"blank lines and trailing empty fields", []byte("id,email,name\n\n1,a@x.se,J,,\n\n"), "", [][3]string{{"1", "a@x.se", "J"}}},
		{"no final newline", []byte("id,email,name\n1,a@x.se,J"), "", [][3]string{{"1", "a@x.se", "J"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, tc.content, "generic", tc.encoding, plain)
			if len(res.rejects) != 0 {
				t.Fatalf("rejects: %+v", res.rejects)
			}
			if len(res.recs) != len(tc.want) {
				t.Fatalf("got %d records, want %d: %+v", len(res.recs), len(tc.want), res.recs)
			}
			for i, w := range tc.want {
				r := res.recs[i]
				if r.ID != w[0] || r.Values[0] != w[1] || r.Values[1] != w[2] {
					t.Errorf("record %d = %q %q, want %q", i, r.ID, r.Values, w)
				}
			}
		})
	}
}

func TestBrokenQuoteOnLine3Of1000CostsOneRow(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,email,name\n")
	for i := 2; i <= 1000; i++ {
		if i == 3 {
			b.WriteString("2,broken@x.se,\"Jane Doe\n") // the quote never closes
			continue
		}
		fmt.Fprintf(&b, "%d,p%d@x.se,\"Person %d\"\n", i, i, i)
	}
	res := readAll(t, []byte(b.String()), "generic", "", plain)
	if len(res.rejects) != 1 || res.rejects[0].Line != 3 || !strings.Contains(res.rejects[0].Reason, "quote") {
		t.Fatalf("rejects = %+v, want one at line 3 about a quote", res.rejects)
	}
	if len(res.recs) != 998 {
		t.Fatalf("read %d records, want 998 (999 data lines minus the broken one)", len(res.recs))
	}
	if res.recs[1].ID != "4" || res.recs[1].Line != 4 || res.recs[1].Values[1] != "Person 4" {
		t.Fatalf("the line after the broken one: %+v", res.recs[1])
	}
}

func TestMalformedRowsGoToRejectsWithLineAndReason(t *testing.T) {
	huge := strings.Repeat("x", 2<<20)
	content := "id,email,name\n" +
		"1,a@x.se,ok\n" +
		"2,b@x.se\n" + // too few fields
		"3,c@x.se,a,b,c\n" + // too many, not empty
		",d@x.se,no id\n" +
		"5,e@x.se," + huge + "\n" + // a huge field is fine
		"6,f@x.se,\"unterminated at the end"
	res := readAll(t, []byte(content), "generic", "", plain)
	if len(res.recs) != 2 || res.recs[1].ID != "5" || len(res.recs[1].Values[1]) != len(huge) {
		t.Fatalf("records: %d", len(res.recs))
	}
	want := map[int64]string{3: "2 fields, the header has 3", 4: "5 fields", 5: "empty id", 7: "unterminated"}
	if len(res.rejects) != len(want) {
		t.Fatalf("rejects: %+v", res.rejects)
	}
	for _, rj := range res.rejects {
		if !strings.Contains(rj.Reason, want[rj.Line]) || rj.Raw == "" || rj.System != "old" || rj.Object != "contact" {
			t.Errorf("reject at line %d: %+v, want reason containing %q", rj.Line, rj, want[rj.Line])
		}
	}
}

func TestHeaderAliases(t *testing.T) {
	type testcase struct {
		name, dialect, header string
		cols                  map[string]string
	}
	for _, tc := range []testcase{
		{"hubspot api names", "hubspot", "hs_object_id,email,firstname", map[string]string{"id": "Record ID", "email": "Email", "name": "First Name"}},
		{"salesforce relation header", "salesforce", "Contact ID,Email,Account.Name", map[string]string{"id": "Id", "email": "Email", "name": "Account: Account Name"}},
		{"case and punctuation", "generic", "ID,E-mail,NAME", map[string]string{"id": "id", "email": "email", "name": "name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, []byte(tc.header+"\n7,a@x.se,Acme\n"), tc.dialect, "", tc.cols)
			if len(res.recs) != 1 || res.recs[0].ID != "7" || res.recs[0].Values[1] != "Acme" {
				t.Fatalf("got %+v %+v", res.recs, res.rejects)
			}
		})
	}
}

func TestMissingFileAndColumn(t *testing.T) {
	dir := t.TempDir()
	p := testPlan(t, dir, "generic", "", plain)
	ctx := context.Background()
	src, err := crm.Open(ctx, p.Old(), crm.Env{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Reader(ctx, p.Object("contact"), func(crm.Reject) {}); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := src.(crm.Inspector).Columns(ctx, p.Object("contact").Mapping("old")); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("missing file columns: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("id,mail\n1,a\n"), 0o644)
	if _, err := src.Reader(ctx, p.Object("contact"), func(crm.Reject) {}); err == nil || !strings.Contains(err.Error(), `"email"`) {
		t.Fatalf("missing column: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "contacts.csv"), nil, 0o644)
	if _, err := src.Reader(ctx, p.Object("contact"), func(crm.Reject) {}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
}

func BenchmarkRead(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("id,email,name\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "%d,person%d@example.com,\"Person, %d\"\n", i, i, i)
	}
	data := []byte(sb.String())
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "contacts.csv"), data, 0o644)
	p, err := plans.Parse(filepath.Join(dir, "p.yaml"), []byte("name: b\nsystems:\n  old: {kind: csv, dir: .}\nobjects:\n  contact:\n    key: email\n    old: {file: contacts.csv, id: id}\n    fields:\n      email: {type: email, old: email}\n      name: {type: text, old: name}\n"), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		src, _ := crm.Open(ctx, p.Old(), crm.Env{Plan: p})
		r, err := src.Reader(ctx, p.Object("contact"), func(crm.Reject) {})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			batch, err := r.Next(ctx)
			if err == io.EOF {
				break
			}
			n += len(batch)
		}
		r.Close()
		if n != 100000 {
			b.Fatalf("read %d", n)
		}
	}
}
