package normalize

import (
	"strconv"
	"testing"
)

// Benchmarks cycle through realistic mixes of canonical and messy values.

func normBench(b *testing.B, values []string, f func(string) (string, Status)) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f(values[i%len(values)])
	}
}

func BenchmarkEmail(b *testing.B) {
	n := normTestNormalizer(b)
	normBench(b, []string{
		"jane.doe@acme.se", "Jane.Doe@ACME.se", " anna.berg@nordlys.example ", "erik.holm@gmail.com",
		"mailto:sara@acme.co.uk", "jane@münchen.de", "no email", "jane@@acme.se",
	}, n.Email)
}

func normBenchPhones(k int) []string {
	out := make([]string, 0, k)
	for i := 0; len(out) < k; i++ {
		d := strconv.Itoa(1000000 + i*7919%9000000)
		switch i % 4 {
		case 0:
			out = append(out, "070-"+d[:3]+" "+d[3:5]+" "+d[5:])
		case 1:
			out = append(out, "+46 70 "+d[:3]+" "+d[3:5]+" "+d[5:])
		case 2:
			out = append(out, "+33 6 1"+d[:1]+" "+d[1:3]+" "+d[3:5]+" "+d[5:])
		default:
			out = append(out, "+4670"+d)
		}
	}
	return out
}

// BenchmarkPhoneCached normalizes values that are already in the cache.
func BenchmarkPhoneCached(b *testing.B) {
	n := New(Options{Region: "SE"})
	values := normBenchPhones(1000)
	for _, v := range values {
		n.Phone(v, "")
	}
	normBench(b, values, func(s string) (string, Status) { return n.Phone(s, "") })
}

// BenchmarkPhoneUncached normalizes values never seen before: a parse and a
// cache insert each.
func BenchmarkPhoneUncached(b *testing.B) {
	n := New(Options{Region: "SE"})
	values := make([]string, b.N)
	for i := range values {
		d := strconv.Itoa(1000000 + i%9000000)
		switch i % 3 {
		case 0:
			values[i] = "070-" + d[:3] + " " + d[3:5] + " " + d[5:] + " "[:i/9000000%2]
		case 1:
			values[i] = "+46 70 " + d[:3] + " " + d[3:5] + " " + d[5:] + " "[:i/9000000%2]
		default:
			values[i] = "+33 6 1" + d[:1] + " " + d[1:3] + " " + d[3:5] + " " + d[5:] + " "[:i/9000000%2]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.Phone(values[i], "")
	}
}

func BenchmarkDomain(b *testing.B) {
	n := normTestNormalizer(b)
	normBench(b, []string{
		"acme.se", "https://www.Acme.se/contact?x=1", "jane@sales.acme.co.uk", "WWW.ACME.SE:443",
		"nordlys.example", "münchen.de", "localhost", "http://192.168.1.1/",
	}, n.Domain)
}

func BenchmarkMoney(b *testing.B) {
	n := normTestNormalizer(b)
	normBench(b, []string{
		"12500.00 EUR", "12 500,00 EUR", "$12,500.00", "12500", "€12.500,00", "EUR 12,500", "12 500 kr", "TBD",
	}, func(s string) (string, Status) { return n.Money(s, "EUR") })
}

func BenchmarkDate(b *testing.B) {
	n := normTestNormalizer(b)
	normBench(b, []string{
		"2024-03-05", "2024-03-05", "05/03/2024", "01/02/2024", "05.03.2024", "March 5, 2024",
		"2024-03-05T14:04:05Z", "5 Mar 2024", "2024/03/05", "31/02/2024",
	}, n.Date)
}

func BenchmarkNormNumber(b *testing.B) {
	n := normTestNormalizer(b)
	normBench(b, []string{"1234.5", "1 234,50", "1,234.50", "42", "12e3", "abc"}, n.Number)
}

func BenchmarkNormText(b *testing.B) {
	n := normTestNormalizer(b)
	normBench(b, []string{"Acme AB", "  Acme   AB ", "Café Åkesson", "Nordlys Consulting – Stockholm", "Cafe\u0301"}, n.Text)
}

// BenchmarkNormRecord normalizes a typical ten-field contact record; records/s
// is 1e9 / (ns/op).
func BenchmarkNormRecord(b *testing.B) {
	n := normTestNormalizer(b)
	type field struct {
		typ  string
		vals []string
	}
	spec := FieldSpec{Currency: "EUR", Values: []EnumValue{{Old: "MQL", New: "marketing_qualified"}, {Old: "SQL", New: "sales_qualified"}}}
	phones := normBenchPhones(500)
	fields := []field{
		{"text", []string{"Anna", "ERIK", " Sara ", "Johan"}},
		{"text", []string{"Lindqvist", "Berg", "Holm ", "Nyberg"}},
		{"email", []string{"anna.lindqvist@acme.se", "Erik.Berg@Acme.se", " sara.holm@gmail.com", "johan@nordlys.example"}},
		{"phone", phones},
		{"domain", []string{"acme.se", "https://www.acme.se/", "nordlys.example", "www.bolaget.se"}},
		{"enum", []string{"MQL", "SQL", "mql", "marketing_qualified"}},
		{"user", []string{"revops@nordlys.example", "Anna.Berg@nordlys.example"}},
		{"money", []string{"12500.00 EUR", "12 500,00 EUR", "$12,500.00", "12500"}},
		{"date", []string{"2024-03-05", "05/03/2024", "March 5, 2024"}},
		{"datetime", []string{"2024-03-05T13:30:00Z", "2024-03-05 14:30:00"}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range fields {
			n.Value(f.typ, f.vals[i%len(f.vals)], spec)
		}
	}
}
