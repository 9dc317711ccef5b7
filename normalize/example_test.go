package normalize_test

import (
	"fmt"
	"time"

	"github.com/crmigrate/crmigrate/normalize"
)

func ExampleNormalizer() {
	loc, _ := time.LoadLocation("Europe/Stockholm")
	n := normalize.New(normalize.Options{Region: "SE", Location: loc})

	for _, v := range []struct{ typ, raw string }{
		{"email", " Jane.Doe@ACME.se "},
		{"phone", "070-123 45 67"},
		{"phone", "+33 6 12 34 56 78"},
		{"domain", "https://www.Acme.co.uk/contact"},
		{"money", "12 500,00 EUR"},
		{"date", "05/03/2024"},
		{"datetime", "2024-03-05 14:30"},
		{"phone", "call me"},
	} {
		canonical, status := n.Value(v.typ, v.raw, normalize.FieldSpec{})
		fmt.Printf("%-8s %-34q %-24q %s\n", v.typ, v.raw, canonical, status)
	}
	d, status := n.CompanyDomain("erik.holm@gmail.com") // free mail: no company domain
	fmt.Printf("%q %s\n", d, status)
	// Output:
	// email    " Jane.Doe@ACME.se "               "jane.doe@acme.se"       normalized
	// phone    "070-123 45 67"                    "+46701234567"           normalized
	// phone    "+33 6 12 34 56 78"                "+33612345678"           normalized
	// domain   "https://www.Acme.co.uk/contact"   "acme.co.uk"             normalized
	// money    "12 500,00 EUR"                    "12500.00 EUR"           normalized
	// date     "05/03/2024"                       "2024-03-05"             normalized
	// datetime "2024-03-05 14:30"                 "2024-03-05T13:30:00Z"   normalized
	// phone    "call me"                          "call me"                invalid
	// "" empty
}
