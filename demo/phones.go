package demo

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Phone formats, as Profile classifies them and the generator plants them.
const (
	PhoneE164          = "e164"           // "+33612345678"
	PhoneInternational = "international"  // "+33 6 12 34 56 78", "+44 (0)20 7946 0123", "0046 70 123 45 67"
	PhoneNationalTrunk = "national_trunk" // "06 12 34 56 78", "070-123 45 67", "0151/23456789"
	PhoneNational      = "national"       // no trunk prefix: "612345678", "(415) 555-0134"
	PhoneExtension     = "extension"      // any of the above + "x123" / "ext. 45"
	PhoneEmpty         = "empty"          // NULL or blank
	PhoneOther         = "other"          // junk: "n/a", "123", "+46 70", two numbers in one field
)

// PhoneFormats lists the formats in report order.
var PhoneFormats = []string{PhoneE164, PhoneInternational, PhoneNationalTrunk, PhoneNational, PhoneExtension, PhoneEmpty, PhoneOther}

var callingCodes = map[string]string{"SE": "46", "FR": "33", "DE": "49", "GB": "44", "US": "1"}

// phone is a number as digits: area code and subscriber part, without the
// trunk prefix or the country code.
type phone struct {
	country string
	area    string
	rest    string
}

func (p phone) valid() bool { return p.country != "" }

func digits(r *rand.Rand, n int) string {
	var b [16]byte
	for i := 0; i < n; i++ {
		b[i] = byte('0' + r.IntN(10))
	}
	b[0] = byte('1' + r.IntN(9)) // subscriber numbers do not start with 0
	return string(b[:n])
}

func landline(r *rand.Rand, country string) phone {
	p := phone{country: country}
	switch country {
	case "SE":
		if r.IntN(2) == 0 {
			p.area, p.rest = "8", digits(r, 8)
		} else {
			p.area, p.rest = oneOf(r, []string{"31", "40", "18", "13"}), digits(r, 7)
		}
	case "FR":
		p.area, p.rest = strconv.Itoa(1+r.IntN(5)), digits(r, 8)
	case "DE":
		if r.IntN(4) == 0 {
			p.area, p.rest = "221", digits(r, 7)
		} else {
			p.area, p.rest = oneOf(r, []string{"30", "40", "89", "69"}), digits(r, 8)
		}
	case "GB":
		if r.IntN(3) == 0 {
			p.area, p.rest = oneOf(r, []string{"161", "113", "117"}), digits(r, 7)
		} else {
			p.area, p.rest = "20", digits(r, 8)
		}
	default: // US: fictional 555-01XX numbers
		p.area = strconv.Itoa(2+r.IntN(8)) + strconv.Itoa(r.IntN(10)) + strconv.Itoa(r.IntN(10))
		p.rest = "55501" + strconv.Itoa(r.IntN(10)) + strconv.Itoa(r.IntN(10))
	}
	return p
}

func mobileNumber(r *rand.Rand, country string) phone {
	p := phone{country: country}
	switch country {
	case "SE":
		p.area, p.rest = "7"+oneOf(r, []string{"0", "2", "3", "6", "9"}), digits(r, 7)
	case "FR":
		p.area, p.rest = oneOf(r, []string{"6", "7"}), digits(r, 8)
	case "DE":
		p.area = oneOf(r, []string{"151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "175", "176", "177", "178", "179"})
		p.rest = digits(r, 7+r.IntN(2))
	case "GB":
		p.area, p.rest = "7"+oneOf(r, []string{"4", "5", "7", "8", "9"})+digits(r, 2), digits(r, 6)
	default:
		return landline(r, "US")
	}
	return p
}

// withLocal returns another number on the same exchange (a direct line).
func (p phone) withLocal(r *rand.Rand) phone {
	if p.country == "US" {
		p.rest = "55501" + strconv.Itoa(r.IntN(10)) + strconv.Itoa(r.IntN(10))
		return p
	}
	p.rest = digits(r, len(p.rest))
	return p
}

func group(s string, sep string, sizes ...int) string {
	var b strings.Builder
	for _, n := range sizes {
		if n >= len(s) {
			break
		}
		b.WriteString(s[:n])
		b.WriteString(sep)
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// groupedRest writes the subscriber part the way the country writes it.
func (p phone) groupedRest(sep string) string {
	switch p.country {
	case "SE":
		if len(p.rest) == 8 {
			return group(p.rest, sep, 3, 3)
		}
		return group(p.rest, sep, 3, 2)
	case "FR":
		return group(p.rest, sep, 2, 2, 2)
	case "GB":
		if len(p.rest) == 8 {
			return group(p.rest, sep, 4)
		}
		if len(p.rest) == 7 {
			return group(p.rest, sep, 3)
		}
		return p.rest
	case "US":
		return group(p.rest, "-", 3)
	}
	return p.rest
}

func (p phone) e164() string { return "+" + callingCodes[p.country] + p.area + p.rest }

func (p phone) international(r *rand.Rand) string {
	cc := callingCodes[p.country]
	switch p.country {
	case "US":
		if r.IntN(2) == 0 {
			return "+1 (" + p.area + ") " + p.groupedRest("")
		}
		return "+1 " + p.area + "-" + p.groupedRest("")
	case "FR":
		return "+" + cc + " " + p.area + " " + p.groupedRest(" ")
	}
	switch r.IntN(5) {
	case 0:
		return "+" + cc + " (0)" + p.area + " " + p.groupedRest(" ")
	case 1:
		return "00" + cc + " " + p.area + " " + p.groupedRest(" ")
	}
	return "+" + cc + " " + p.area + " " + p.groupedRest(" ")
}

// national writes the number with its trunk prefix 0 (US: the usual
// "(415) 555-0134", which has none).
func (p phone) national(r *rand.Rand) string {
	switch p.country {
	case "SE":
		switch r.IntN(3) {
		case 0:
			return "0" + p.area + p.rest
		case 1:
			return "0" + p.area + " " + p.groupedRest(" ")
		}
		return "0" + p.area + "-" + p.groupedRest(" ")
	case "FR":
		sep := oneOf(r, []string{" ", " ", "", "."})
		return "0" + p.area + sep + p.groupedRest(sep)
	case "DE":
		return "0" + p.area + oneOf(r, []string{" ", "-", "/", ""}) + p.rest
	case "GB":
		if r.IntN(3) == 0 {
			return "0" + p.area + p.rest
		}
		return "0" + p.area + " " + p.groupedRest(" ")
	}
	switch r.IntN(3) {
	case 0:
		return p.area + "-" + p.groupedRest("")
	case 1:
		return p.area + "." + p.rest[:3] + "." + p.rest[3:]
	}
	return "(" + p.area + ") " + p.groupedRest("")
}

// phoneMix gives the weights of each format for one kind of column.
type phoneMix struct{ e164, intl, trunk, bare, ext, empty, other float64 }

var (
	mixPhone  = phoneMix{e164: 0.15, intl: 0.20, trunk: 0.35, bare: 0.07, ext: 0.05, empty: 0.13, other: 0.05}
	mixMobile = phoneMix{e164: 0.15, intl: 0.20, trunk: 0.35, bare: 0.08, empty: 0.17, other: 0.05}
	mixLead   = phoneMix{e164: 0.25, intl: 0.25, trunk: 0.20, bare: 0.05, ext: 0.02, empty: 0.18, other: 0.05}
)

var junkPhones = []string{"n/a", "-", "TBD", "123", "see notes", "0000", "switchboard", "?"}

// format writes p in a format drawn from mix and returns the value and its format.
func (p phone) format(r *rand.Rand, mix phoneMix) (string, string) {
	if !p.valid() {
		return "", PhoneEmpty
	}
	switch weighted(r, []float64{mix.e164, mix.intl, mix.trunk, mix.bare, mix.ext, mix.empty, mix.other}) {
	case 0:
		return p.e164(), PhoneE164
	case 1:
		return p.international(r), PhoneInternational
	case 2:
		if p.country == "US" {
			return p.national(r), PhoneNational
		}
		return p.national(r), PhoneNationalTrunk
	case 3:
		if p.country == "US" && r.IntN(2) == 0 {
			return p.national(r), PhoneNational
		}
		return p.area + p.rest, PhoneNational
	case 4:
		var base string
		if r.IntN(3) == 0 {
			base = p.international(r)
		} else {
			base = p.national(r)
		}
		ext := oneOf(r, []string{" ext. ", " x", " ext ", " extension ", " x "})
		return base + ext + strconv.Itoa(1+r.IntN(999)), PhoneExtension
	case 5:
		if r.IntN(3) == 0 {
			return " ", PhoneEmpty
		}
		return "", PhoneEmpty
	}
	switch r.IntN(4) {
	case 0:
		return p.national(r) + " (mobile)", PhoneOther
	case 1:
		return "+" + callingCodes[p.country] + " " + p.area, PhoneOther
	case 2:
		return p.national(r) + " / " + landline(r, p.country).national(r), PhoneOther
	}
	return oneOf(r, junkPhones), PhoneOther
}
