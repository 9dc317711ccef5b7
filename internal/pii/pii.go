// Package pii masks personal data (emails, phone numbers) for reports. Reports show values masked
// unless the user asks for them with --show-pii.
package pii

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// extRe finds a phone extension at the end of a value: "x123", "ext. 45", "extension 7", ";ext=12".
var extRe = regexp.MustCompile(`(?i)\s*(?:;ext=|x|ext\.?|extension)\s*\d{1,6}$`)

// Mask masks a value by field type: email, phone and user (owner emails) are masked, other types
// are returned unchanged.
func Mask(typ, v string) string {
	switch typ {
	case "email":
		return MaskEmail(v)
	case "user": // an owner, usually an employee's email
		if strings.Contains(v, "@") {
			return MaskEmail(v)
		}
	case "phone":
		return MaskPhone(v)
	}
	return v
}

// MaskEmail keeps the first character of the local part and the domain:
// "jane.doe@acme.se" -> "j***@acme.se". Values without "@" keep their first
// character only.
func MaskEmail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	at := strings.IndexByte(s, '@')
	if at < 0 {
		_, n := utf8.DecodeRuneInString(s)
		return s[:n] + "***"
	}
	if at == 0 {
		return "***" + s
	}
	_, n := utf8.DecodeRuneInString(s)
	if n > at {
		n = at
	}
	return s[:n] + "***" + s[at:]
}

// MaskPhone replaces the digits of a phone number with '*' except the
// country code and first digit (or the first two digits of a national
// number) and the last two, keeping separators and any extension:
// "+33 6 12 34 56 78" -> "+33 6 ** ** ** 78". Values with 4 digits or fewer
// are masked entirely.
func MaskPhone(s string) string {
	if loc := extRe.FindStringIndex(s); strings.ContainsAny(s, "xXeE=") && loc != nil && loc[0] > 0 {
		return MaskPhone(s[:loc[0]]) + s[loc[0]:] // an extension is not personal
	}
	nd := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			nd++
		}
	}
	keepHead := 2
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "+1"):
		keepHead = 2
	case strings.HasPrefix(t, "+"):
		keepHead = 3
	case strings.HasPrefix(t, "00"):
		keepHead = 5
	}
	keepTail := 2
	if nd <= 4 {
		keepHead, keepTail = 0, 0
	}
	b := []byte(s)
	d := 0
	for i, c := range b {
		if c < '0' || c > '9' {
			continue
		}
		if d >= keepHead && d < nd-keepTail {
			b[i] = '*'
		}
		d++
	}
	return string(b)
}
