package clean

import "testing"

func BenchmarkNormScratch(b *testing.B) {
	n := normTestNormalizer(b)
	for _, v := range []string{"12500.00 EUR", "12 500,00 EUR", "$12,500.00", "12500", "€12.500,00", "EUR 12,500", "12 500 kr", "TBD"} {
		b.Run("money/"+v, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n.Money(v, "EUR")
			}
		})
	}
	for _, v := range []string{"Acme AB", "  Acme   AB ", "Café Åkesson", "Nordlys Consulting – Stockholm", "Cafe\u0301"} {
		b.Run("text/"+v, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n.Text(v)
			}
		})
	}
	for _, v := range []string{"acme.se", "https://www.Acme.se/contact?x=1", "jane@sales.acme.co.uk", "WWW.ACME.SE:443", "nordlys.example", "münchen.de", "localhost", "http://192.168.1.1/"} {
		b.Run("domain/"+v, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n.Domain(v)
			}
		})
	}
}
