package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/demo"
	"github.com/crmigrate/crmigrate/internal/pii"
)

func testProfile() *demo.ProfileResult {
	str := func(s string) *string { return &s }
	return &demo.ProfileResult{
		Tables: []demo.TableCount{{Table: "accounts", Rows: 200}, {Table: "contacts", Rows: 12345}},
		Emails: demo.EmailStats{
			Columns: []string{"contacts.email", "leads.email"}, Total: 1400, Missing: 30, Invalid: 51,
			InvalidExample:      demo.NewExample("jane.doe@", pii.MaskEmail("jane.doe@")),
			NeedsCleanup:        131,
			NeedsCleanupExample: demo.NewExample(" Jane.Doe@Acme.se", pii.MaskEmail(" Jane.Doe@Acme.se")),
			FreeMail:            79,
			FreeMailExample:     demo.NewExample("bob.smith7@gmail.com", pii.MaskEmail("bob.smith7@gmail.com")),
		},
		Phones: demo.PhoneStats{
			Columns: []string{"contacts.phone"}, Total: 100,
			Formats: []demo.PhoneFormatCount{
				{Format: demo.PhoneInternational, Count: 60, Example: demo.NewExample("+33 6 12 34 56 78", pii.MaskPhone("+33 6 12 34 56 78"))},
				{Format: demo.PhoneNationalTrunk, Count: 30, Example: demo.NewExample("06 12 34 56 78", pii.MaskPhone("06 12 34 56 78"))},
				{Format: demo.PhoneEmpty, Count: 10},
			},
		},
		Duplicates: demo.DuplicateStats{Method: "exact e-mail", Emails: 137, Records: 291,
			Example: demo.NewExample("anna.berg@acme.se", pii.MaskEmail("anna.berg@acme.se"))},
		Orphans: []demo.Orphan{{Table: "contacts", Column: "account_id", References: "accounts.account_id", Count: 13, ExampleID: "1040"}},
		Picklists: []demo.Picklist{{Table: "contacts", Column: "lifecycle", Distinct: 4,
			Values: []demo.ValueCount{{Value: str("Customer"), Count: 466}, {Value: str("customer "), Count: 3}, {Value: nil, Count: 2}}}},
	}
}

func TestRenderProfile(t *testing.T) {
	t.Parallel()
	type testcase struct {
		name     string
		format   string
		showPII  bool
		want     []string
		dontWant []string
		wantErr  string
	}
	pii := []string{"jane.doe@", "Jane.Doe@Acme.se", "bob.smith7@gmail.com", "+33 6 12 34 56 78", "06 12 34 56 78", "anna.berg@acme.se"}
	for _, tc := range []testcase{
		{name: "table", format: "table",
			want: []string{"Old CRM profile", "contacts", "12,345", "j***@", "J***@Acme.se", "b***@gmail.com", "+33 6 ** ** ** 78",
				"06 ** ** ** 78", "national, with trunk 0", "137 addresses are shared by 291 records", "a***@acme.se",
				"contacts.account_id", "1040", `"customer " 3`, "(null) 2", "… 1 more", "3.6%"},
			dontWant: pii},
		{name: "default is table", format: "", want: []string{"Old CRM profile", "┌"}, dontWant: pii},
		{name: "markdown", format: "md",
			want:     []string{"# Old CRM profile", "## Phone formats", "| Format | Values | Share | Example |", `j\*\*\*@`, "contacts.account_id"},
			dontWant: pii},
		{name: "json", format: "json", want: []string{`"invalid_example": "j***@"`, `"example": "+33 6 ** ** ** 78"`}, dontWant: pii},
		{name: "table with pii", format: "table", showPII: true, want: pii[1:]},
		{name: "json with pii", format: "json", showPII: true, want: []string{`"invalid_example": "jane.doe@"`, `"+33 6 12 34 56 78"`}},
		{name: "bad format", format: "html", wantErr: `unknown format "html"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			err := RenderProfile(&b, testProfile(), tc.format, tc.showPII)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.dontWant {
				if strings.Contains(out, s) {
					t.Errorf("output shows %q:\n%s", s, out)
				}
			}
			if tc.format == "json" {
				var back demo.ProfileResult
				if err := json.Unmarshal(b.Bytes(), &back); err != nil {
					t.Fatalf("json does not read back: %v", err)
				}
				if back.Emails.Invalid != 51 || back.Duplicates.Records != 291 {
					t.Errorf("json read back: %+v", back)
				}
			}
		})
	}
	if err := RenderProfile(&bytes.Buffer{}, nil, "table", false); err == nil {
		t.Errorf("nil profile: no error")
	}
}
