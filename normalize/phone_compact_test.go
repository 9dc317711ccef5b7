package normalize

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// libphonenumberReading parses s the way normPhone did before compact forms: the value with its
// separators handed to the library as it is.
func libphonenumberReading(s, region string) (string, bool) {
	if normHasPrefixFold(s, "tel:") {
		s = s[len("tel:"):]
	}
	main, ext, ok := normPhoneSplitExt(s)
	if !ok {
		return "", false
	}
	first := -1
	for i, r := range main {
		switch {
		case r >= '0' && r <= '9' || r >= utf8.RuneSelf && unicode.IsDigit(r):
			if first < 0 {
				first = i
			}
		case r == '+':
			if first >= 0 {
				return "", false
			}
		case r == ' ', r == '(', r == ')', r == '-', r == '.', r == '/':
		case r >= utf8.RuneSelf && (normSpace(r) || r == '\u2010' || r == '\u2011' || r == '\u2012' || r == '\u2013' || r == '\u2014' || r == '\u2212'):
		default:
			return "", false
		}
	}
	if first < 0 {
		return "", false
	}
	if !strings.Contains(main[:first], "+") && strings.HasPrefix(main[first:], "00") {
		main = "+" + main[first+2:]
	}
	num, err := phonenumbers.Parse(main, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	out := phonenumbers.Format(num, phonenumbers.E164)
	if num.GetItalianLeadingZero() {
		again, err := phonenumbers.Parse(out, region)
		if err != nil || phonenumbers.Format(again, phonenumbers.E164) != out || phonenumbers.IsPossibleNumberWithReason(again) != phonenumbers.IS_POSSIBLE {
			return "", false
		}
	}
	if ext != "" {
		out += ";ext=" + ext
	}
	return out, true
}

// Reading the compact form gives what the library gives for the value as written, for numbers of
// many countries written in many ways, junk included.
func TestCompactPhonesReadAsWritten(t *testing.T) {
	t.Parallel()
	bases := []string{
		"0612345678", "+33612345678", "0033612345678", "4155550132", "+14155550132", "14155550132", "011441234567890",
		"+4915112345678", "+49015112345678", "015112345678", "+442071234567", "02071234567", "+390612345678", "0612345678",
		"+5511987654321", "11987654321", "+919876543210", "09876543210", "+81312345678", "0312345678", "+8613812345678",
		"0", "00", "12", "123", "0000000", "00000000000", "1234567890123456789", "+1", "+999123456", "07700900123",
		"+3225551234", "025551234", "+61212345678", "+7 495 123 45 67", "84951234567", "+971501234567",
	}
	regions := []string{"FR", "US", "DE", "GB", "IT", "BR", "IN", "JP", "BE", "ZZ", ""}
	rng := rand.New(rand.NewPCG(1, 2))
	seps := []string{" ", "-", ".", "/", "\u00a0", "\u2013", " - "}
	write := func(b string) string {
		var out strings.Builder
		digits := strings.TrimPrefix(b, "+")
		if len(digits) != len(b) {
			out.WriteString("+")
			if rng.IntN(3) == 0 {
				out.WriteString(" ")
			}
		}
		for i, r := range digits {
			if i > 0 && rng.IntN(3) == 0 {
				out.WriteString(seps[rng.IntN(len(seps))])
			}
			if i == 2 && rng.IntN(6) == 0 {
				out.WriteString("(0)")
			}
			if rng.IntN(40) == 0 {
				out.WriteRune('\u0660' + (r - '0')) // Arabic-Indic digits
				continue
			}
			out.WriteRune(r)
		}
		if rng.IntN(8) == 0 {
			out.WriteString(" ext. 12")
		}
		if rng.IntN(10) == 0 {
			return "(" + out.String() + ")"
		}
		return out.String()
	}
	n := 0
	for _, b := range bases {
		for _, region := range regions {
			for range 12 {
				s := normTrim(write(b))
				want, wok := libphonenumberReading(s, region)
				got, gok := normPhone(s, region)
				if got != want || gok != wok {
					t.Errorf("%q in %q: compact reads %q %v, the library %q %v", s, region, got, gok, want, wok)
				}
				n++
			}
		}
	}
	if n < 4000 {
		t.Fatalf("only %d cases", n)
	}
}

func BenchmarkPhone(b *testing.B) {
	n := New(Options{Region: "FR"})
	vals := []string{"06 12 34 56 78", "+33 6 12 34 56 78", "(415) 555-0132", "+49 (0)151 1234 5678"}
	for i := 0; b.Loop(); i++ {
		// A fresh cache each time: what a value costs the first time it is seen.
		n.phones = newNormPhoneCache()
		n.Phone(vals[i%len(vals)], "")
	}
}
