package normalize

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzNormalize checks, for every field type, that normalization never
// panics, returns valid UTF-8, keeps its status promises and is idempotent:
// a canonical value normalizes to itself, Unchanged, and an Invalid value
// comes back the same, Invalid. Run it with
//
//	go test ./normalize/ -run '^$' -fuzz FuzzNormalize -fuzztime 30s -fuzzminimizetime 3s
//
// (with the default minimize time of 60 s, minimizing each new input stalls
// the run). The seed corpus runs with the normal tests.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", " ", "\t\n", "\u00a0", "\u200b", "\xff", "\xc3\x28", "a\x00b",
		"Acme  AB", "JEAN-LUC O'NEIL", "o'neil", "Café", "Cafe\u0301", "ǆǆ", "İSTANBUL", "ΟΔΥΣΣΕΥΣ",
		"Jane.Doe@ACME.se", "mailto:jane@acme.se", "Jane <jane@acme.se>", "jane@münchen.de", "jane@xn--mnchen-3ya.de",
		"jane@@acme.se", "a b@c.com", "@acme.se", "jane@acme",
		"+33 6 12 34 56 78", "06 12 34 56 78", "0033 6 12 34 56 78", "070-123 45 67", "+49 (0)151 23456789",
		"07700 900123", "(415) 555-2671", "415.555.2671 x123", "415-555-2671 ext. 45", "+14155552671;ext=123",
		"n/a", "123", "call me", "1-800-FLOWERS", "0 0000000", "+39 06 1234 5678",
		"https://www.Acme.se/contact?x=1", "WWW.ACME.SE:443", "acme.se.", "sub.acme.se:8080", "münchen.de",
		"192.168.1.1", "localhost", "co.uk", "http://[::1]:8080/", "acme.se:8080/x", "//acme.se",
		"1 234,50", "1,234.50", "1.234,50", "12e3", "-0", "(12.5)", "1.234", "1,234", "0,125", "1e-100",
		"12 500,00 EUR", "$12,500.00", "EUR 12.500", "12 500 kr", "12 500:-", "¥1,000", "12.500 KWD", "1234.567 EUR",
		"2024-03-05", "05/03/2024", "5.3.2024", "20240305", "March 5, 2024", "5 Mar 2024", "31/02/2024", "05/03/24",
		"2024-03-05T23:30:00Z", "2024-03-05 14:30", "1709645400", "1709645400000", "Tue, 05 Mar 2024 13:30:00 GMT",
		"March 5, 2024 2:30 PM", "2024-03-05 14:30:00.123456+01",
		"true", "Yes", "x", "nej", "maybe",
		"MQL", "closed-won", "won", "Closed", " (Closed Won) ",
	} {
		f.Add(s)
	}
	n := New(Options{Region: "SE", Location: normFuzzLocation(f), FreeMailDomains: []string{"fastpost.example"}})
	spec := FieldSpec{Values: []EnumValue{
		{Old: "MQL", New: "marketing_qualified"}, {Old: "SQL", New: "sales_qualified"},
		{Old: "Closed Won", New: "won"}, {Old: "Closed Lost", New: "lost"},
	}}
	f.Fuzz(func(t *testing.T, in string) {
		for _, typ := range normAllTypes {
			got, st := n.Value(typ, in, spec)
			if !utf8.ValidString(got) {
				t.Fatalf("%s(%q) = %q, %v: not valid UTF-8", typ, in, got, st)
			}
			switch st {
			case Empty:
				if got != "" {
					t.Fatalf("%s(%q) = %q, empty", typ, in, got)
				}
				continue
			case Unchanged:
				if got != in {
					t.Fatalf("%s(%q) = %q, unchanged", typ, in, got)
				}
			case Normalized:
				if got == in {
					t.Fatalf("%s(%q) = %q, normalized but equal to the input", typ, in, got)
				}
			case Invalid:
				if got != normValidUTF8(normTrim(in)) {
					t.Fatalf("%s(%q) = %q, invalid but not the trimmed input", typ, in, got)
				}
			default:
				t.Fatalf("%s(%q): status %d", typ, in, st)
			}
			again, st2 := n.Value(typ, got, spec)
			if again != got {
				t.Fatalf("%s not idempotent: (%q) = %q, %v; then (%q) = %q, %v", typ, in, got, st, got, again, st2)
			}
			if st == Invalid && st2 != Invalid {
				t.Fatalf("%s(%q) = %q, invalid; then %v", typ, in, got, st2)
			}
			if st != Invalid && st2 != Unchanged {
				t.Fatalf("%s(%q) = %q, %v; then %v, want unchanged", typ, in, got, st, st2)
			}
			if typ == "domain" {
				// CompanyDomain agrees with Domain except for free mail.
				c, cst := n.CompanyDomain(in)
				if n.IsFreeMail(got) && st != Invalid {
					if c != "" || cst != Empty {
						t.Fatalf("CompanyDomain(%q) = %q, %v for free mail %q", in, c, cst, got)
					}
				} else if c != got || cst != st {
					t.Fatalf("CompanyDomain(%q) = %q, %v; Domain = %q, %v", in, c, cst, got, st)
				}
			}
		}
		if got, st := n.Name(in); !utf8.ValidString(got) {
			t.Fatalf("Name(%q) = %q: not valid UTF-8", in, got)
		} else if again, st2 := n.Name(got); st != Empty && (again != got || st2 != Unchanged) {
			t.Fatalf("Name not idempotent: (%q) = %q, %v; then %q, %v", in, got, st, again, st2)
		}
	})
}

func normFuzzLocation(f *testing.F) *time.Location {
	return normTestNormalizer(f).loc
}
