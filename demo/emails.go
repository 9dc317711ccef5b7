package demo

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
)

// emailKind is what the generator planted in an e-mail field.
type emailKind uint8

const (
	emailCanonical emailKind = iota // trimmed, lower-case, valid
	emailMessy                      // valid after trimming and lower-casing
	emailInvalid                    // not an address
	emailEmpty                      // NULL or blank
)

// emailPattern is the validity test shared by Profile's Go and SQL code:
// something, one "@", something with a dot, no spaces. Applied to the trimmed value.
const emailPattern = `^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$`

var emailRe = regexp.MustCompile(emailPattern)

// extRe finds a phone extension at the end of a value: "x123", "ext. 45", "extension 7".
var extRe = regexp.MustCompile(`(?i)\s*(?:x|ext\.?|extension)\s*\d{1,6}$`)

// emailTrim is the set of characters trimmed before checking an address (SQL btrim uses the same).
const emailTrim = " \t\r\n"

// normalizeEmail trims and lower-cases an address (ASCII lower-casing, as PostgreSQL's lower() does for ASCII).
func normalizeEmail(s string) string { return strings.ToLower(strings.Trim(s, emailTrim)) }

func validEmail(s string) bool { return matchEmail(strings.Trim(s, emailTrim)) }

// matchEmail is emailRe.MatchString without the regexp engine (Profile calls
// it for every address): one "@" with something before it, and after it
// something with a dot that has characters on both sides; no white space.
func matchEmail(s string) bool {
	at := -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return false
		case '@':
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	if at <= 0 {
		return false
	}
	d := s[at+1:]
	for i := 1; i < len(d)-1; i++ {
		if d[i] == '.' {
			return true
		}
	}
	return false
}

func isFreeMail(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	d := addr[at+1:]
	for _, f := range FreeMailDomains {
		if d == f {
			return true
		}
	}
	return false
}

// messyEmail writes a valid address with capitals and/or surrounding spaces.
func messyEmail(r *rand.Rand, e string) string {
	switch r.IntN(5) {
	case 0:
		return titleCase(e)
	case 1:
		return strings.ToUpper(e)
	case 2:
		return " " + e
	case 3:
		return e + " "
	}
	return " " + titleCase(e) + "  "
}

// invalidEmail writes something a person typed into the e-mail field that is not an address.
func invalidEmail(r *rand.Rand, e string) string {
	at := strings.IndexByte(e, '@')
	local, domain := e[:at], e[at+1:]
	switch r.IntN(8) {
	case 0:
		return local + "@"
	case 1:
		return "no email"
	case 2:
		return local + "@@" + domain
	case 3:
		return local + "@" + domain[:strings.IndexByte(domain, '.')]
	case 4:
		return local + "." + domain
	case 5:
		return strings.Replace(local, ".", " ", 1) + " @" + domain
	case 6:
		return "n/a"
	}
	return local + "@" + strings.ReplaceAll(domain, ".", ",")
}

// personalEmail is a free-mail address unique to (person, n): n makes it unique.
func personalEmail(r *rand.Rand, p person, n int) string {
	return ascii(p.first) + ascii(p.last)[:1] + "." + strconv.Itoa(n) + "@" + oneOf(r, freeMailAll)
}

// emailMix gives the weights of each variant of a person's address on one kind of record.
type emailMix struct{ canonical, messy, personal, invalid, empty float64 }

var (
	mixMainEmail      = emailMix{canonical: 1 - rateEmailEmpty - rateEmailInvalid - rateEmailMessy, messy: rateEmailMessy, invalid: rateEmailInvalid, empty: rateEmailEmpty}
	mixDupEmail       = emailMix{canonical: 0.45, messy: 0.25, personal: 0.12, invalid: 0.08, empty: 0.10}
	mixConvertedEmail = emailMix{canonical: 0.70, messy: 0.15, personal: 0.08, invalid: 0.04, empty: 0.03}
)

// emailFor writes person p's address on a record, drawn from mix. n is the
// record's number in the personal-address space (see gen.personalNum).
func emailFor(r *rand.Rand, p person, mix emailMix, n int) (string, emailKind) {
	switch weighted(r, []float64{mix.canonical, mix.messy, mix.personal, mix.invalid, mix.empty}) {
	case 1:
		return messyEmail(r, p.email), emailMessy
	case 2:
		return personalEmail(r, p, n), emailCanonical
	case 3:
		return invalidEmail(r, p.email), emailInvalid
	case 4:
		if r.IntN(4) == 0 {
			return "  ", emailEmpty
		}
		return "", emailEmpty
	}
	return p.email, emailCanonical
}
