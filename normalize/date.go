package normalize

import (
	"strings"
	"time"
	"unicode/utf8"
)

// normMaxDate caps the length of a date or datetime value (after trimming).
const normMaxDate = 64

// normMonthFirstRegions write numeric dates month first (03/05/2024 is
// March 5). Everywhere else writes them day first.
var normMonthFirstRegions = map[string]bool{
	"US": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "UM": true,
	"FM": true, "MH": true, "PW": true, "PH": true, "BZ": true,
}

// normDateTime is a parsed date, with a time and zone when written.
type normDateTime struct {
	y, mo, d       int
	hasTime        bool
	h, mi, sec, ns int
	hasZone        bool
	offset         int // seconds east of UTC
	unix           bool
	t              time.Time // for unix timestamps
}

// Date normalizes a calendar date to "YYYY-MM-DD". It reads:
//   - ISO dates: "2024-03-05", "2024/3/5", "2024.03.05", "20240305";
//   - numeric dates with a four-digit year: "05/03/2024", "5-3-2024" (day
//     first, or month first when the default region is the US or one of
//     its territories, the Philippines or Belize; when only one order gives
//     a real date, that order) and "5.3.2024" (always day first);
//   - dates with month names in English, French, German or Swedish, full or
//     abbreviated, in any order with a four-digit year: "March 5, 2024",
//     "5 Mar 2024", "5-Mar-2024", "Tue, 5th March 2024", "5. März 2024",
//     "5 mars 2024";
//   - any of these followed by a time, and RFC 3339 or RFC 1123 timestamps;
//   - Unix timestamps in seconds (10 digits) or milliseconds (13 digits).
//
// A value with a time and an offset (or a Unix timestamp) is an instant:
// its date is the date in the Normalizer's Location ("2024-03-05T23:30:00Z"
// in Europe/Stockholm → "2024-03-06"), except at exactly midnight UTC, which
// is how many systems (HubSpot, JSON exports) store a plain date: then the
// date is the UTC date as written. A time without an offset is local and
// does not move the date.
//
// Impossible dates ("31/02/2024", "2024-13-01", "00/00/0000") are Invalid,
// and so are two-digit years ("05/03/24"): the century and, often, the order
// of the fields are guesses, so such values are flagged, not guessed.
func (n *Normalizer) Date(raw string) (string, Status) {
	if normISODate(raw) {
		return raw, Unchanged
	}
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxDate {
		return normInvalid(s)
	}
	dt, ok := n.parseDateTime(s)
	if !ok {
		return normInvalid(s)
	}
	y, mo, d := dt.y, dt.mo, dt.d
	if dt.unix || dt.hasZone && dt.hasTime {
		var t time.Time
		if dt.unix {
			t = dt.t
		} else {
			t = time.Date(y, time.Month(mo), d, dt.h, dt.mi, dt.sec, dt.ns, time.FixedZone("", dt.offset))
		}
		u := t.UTC()
		if u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0 {
			t = u
		} else {
			t = t.In(n.loc)
		}
		var m time.Month
		y, m, d = t.Date()
		mo = int(m)
	}
	if y < 1 || y > 9999 {
		return normInvalid(s)
	}
	var buf [10]byte
	return normResult(raw, string(normAppendDate(buf[:0], y, mo, d)))
}

// DateTime normalizes an instant to RFC 3339 in UTC with whole seconds
// ("2024-03-05T13:30:00Z"). It reads RFC 3339 and RFC 1123 timestamps,
// PostgreSQL's "2024-03-05 14:30:00.123+01", "2024-03-05 14:30[:00]",
// "2024-03-05T14:30", every date Date reads followed by a time
// ("05/03/2024 14:30", "March 5, 2024 2:30 PM"), a date alone (midnight),
// and Unix timestamps in seconds (10 digits) or milliseconds (13 digits).
// Offsets may be "Z", "UTC", "GMT", "+01", "+0100" or "+01:00". A value
// without an offset is in the Normalizer's Location. Fractions of a second
// are dropped, so that systems that store milliseconds and systems that do
// not compare equal.
func (n *Normalizer) DateTime(raw string) (string, Status) {
	if normISODateTimeUTC(raw) {
		return raw, Unchanged
	}
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxDate {
		return normInvalid(s)
	}
	dt, ok := n.parseDateTime(s)
	if !ok {
		return normInvalid(s)
	}
	var t time.Time
	switch {
	case dt.unix:
		t = dt.t
	case dt.hasZone:
		t = time.Date(dt.y, time.Month(dt.mo), dt.d, dt.h, dt.mi, dt.sec, 0, time.FixedZone("", dt.offset))
	default:
		t = time.Date(dt.y, time.Month(dt.mo), dt.d, dt.h, dt.mi, dt.sec, 0, n.loc)
	}
	t = t.UTC().Truncate(time.Second)
	if y := t.Year(); y < 1 || y > 9999 {
		return normInvalid(s)
	}
	var buf [20]byte
	return normResult(raw, string(t.AppendFormat(buf[:0], "2006-01-02T15:04:05Z")))
}

// normISODate reports whether s is exactly a valid "YYYY-MM-DD".
func normISODate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := normDigits(s[0:4])
	m, ok2 := normDigits(s[5:7])
	d, ok3 := normDigits(s[8:10])
	return ok1 && ok2 && ok3 && y >= 1 && normValidDate(y, m, d)
}

// normISODateTimeUTC reports whether s is exactly a valid
// "YYYY-MM-DDTHH:MM:SSZ".
func normISODateTimeUTC(s string) bool {
	if len(s) != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || !normISODate(s[:10]) {
		return false
	}
	h, ok1 := normDigits(s[11:13])
	mi, ok2 := normDigits(s[14:16])
	sec, ok3 := normDigits(s[17:19])
	return ok1 && ok2 && ok3 && h < 24 && mi < 60 && sec < 60
}

// normDigits parses s, which must be all ASCII digits.
func normDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func normValidDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return d <= days
}

func normAppendDate(dst []byte, y, m, d int) []byte {
	return append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d/10), byte('0'+d%10))
}

// normDigitRun returns the length of the run of ASCII digits at the start of s.
func normDigitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// parseDateTime reads a date, an optional time and an optional offset.
func (n *Normalizer) parseDateTime(s string) (normDateTime, bool) {
	var dt normDateTime
	if k := normDigitRun(s); k == len(s) {
		switch k {
		case 8: // YYYYMMDD
			dt.y, _ = normDigits(s[0:4])
			dt.mo, _ = normDigits(s[4:6])
			dt.d, _ = normDigits(s[6:8])
			return dt, normValidDate(dt.y, dt.mo, dt.d) && dt.y >= 1
		case 10, 13: // Unix seconds or milliseconds
			if s[0] == '0' {
				return dt, false
			}
			v := int64(0)
			for i := 0; i < k; i++ {
				v = v*10 + int64(s[i]-'0')
			}
			if k == 10 {
				dt.t = time.Unix(v, 0)
			} else {
				dt.t = time.UnixMilli(v)
			}
			dt.unix = true
			return dt, true
		}
		return dt, false
	}
	rest, ok := n.parseDatePart(s, &dt)
	if !ok || !normValidDate(dt.y, dt.mo, dt.d) || dt.y < 1 {
		return dt, false
	}
	return dt, normParseTimePart(rest, &dt)
}

// parseDatePart reads the date at the start of s and returns what follows.
func (n *Normalizer) parseDatePart(s string, dt *normDateTime) (string, bool) {
	k := normDigitRun(s)
	switch {
	case k == 4 && len(s) > 5 && (s[4] == '-' || s[4] == '/' || s[4] == '.'):
		// Y-M-D
		sep := s[4]
		dt.y, _ = normDigits(s[:4])
		r := s[5:]
		a := normDigitRun(r)
		if a < 1 || a > 2 || len(r) <= a || r[a] != sep {
			return n.parseTextDate(s, dt)
		}
		dt.mo, _ = normDigits(r[:a])
		r = r[a+1:]
		b := normDigitRun(r)
		if b < 1 || b > 2 {
			return "", false
		}
		dt.d, _ = normDigits(r[:b])
		return r[b:], true
	case k == 8 && len(s) > 8 && (s[8] == 'T' || s[8] == 't'):
		dt.y, _ = normDigits(s[0:4])
		dt.mo, _ = normDigits(s[4:6])
		dt.d, _ = normDigits(s[6:8])
		return s[8:], true
	case (k == 1 || k == 2) && len(s) > k && (s[k] == '/' || s[k] == '.' || s[k] == '-'):
		sep := s[k]
		r := s[k+1:]
		b := normDigitRun(r)
		if b < 1 || b > 2 || len(r) <= b || r[b] != sep {
			return n.parseTextDate(s, dt)
		}
		first, _ := normDigits(s[:k])
		second, _ := normDigits(r[:b])
		r = r[b+1:]
		c := normDigitRun(r)
		if c != 4 {
			return "", false // two-digit (or odd) year
		}
		dt.y, _ = normDigits(r[:4])
		dayFirst := sep == '.' || !n.monthFirst
		d, m := first, second
		if !dayFirst {
			d, m = second, first
		}
		if !normValidDate(dt.y, m, d) && normValidDate(dt.y, d, m) {
			d, m = m, d
		}
		dt.d, dt.mo = d, m
		return r[4:], true
	}
	return n.parseTextDate(s, dt)
}

// normMonths maps lower-case month names and abbreviations (English,
// French, German, Swedish) to month numbers.
var normMonths = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
	"september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
	"oct": 10, "nov": 11, "dec": 12,
	"janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
	"août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
	"janv": 1, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "avr": 4, "juil": 7, "déc": 12,
	"januar": 1, "jänner": 1, "februar": 2, "märz": 3, "maerz": 3, "juni": 6, "juli": 7,
	"oktober": 10, "dezember": 12, "mär": 3, "mrz": 3, "okt": 10, "dez": 12,
	"januari": 1, "februari": 2, "maj": 5, "augusti": 8,
}

// normWeekdays are weekday names and abbreviations a date may start with;
// they are skipped.
var normWeekdays = map[string]bool{
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true,
	"mon": true, "tue": true, "tues": true, "wed": true, "thu": true, "thur": true, "thurs": true, "fri": true, "sat": true, "sun": true,
	"lundi": true, "mardi": true, "mercredi": true, "jeudi": true, "vendredi": true, "samedi": true, "dimanche": true,
	"montag": true, "dienstag": true, "mittwoch": true, "donnerstag": true, "freitag": true, "samstag": true, "sonntag": true,
	"måndag": true, "tisdag": true, "onsdag": true, "torsdag": true, "fredag": true, "lördag": true, "söndag": true,
	"lun": true, "mer": true, "jeu": true, "ven": true, "sam": true, "dim": true,
	"mo": true, "di": true, "mi": true, "do": true, "fr": true, "sa": true, "so": true,
}

// parseTextDate reads a date written with a month name: a day, a month name
// and a four-digit year in any order, separated by spaces, commas, dots,
// hyphens or slashes, with an optional weekday and ordinal suffixes.
func (n *Normalizer) parseTextDate(s string, dt *normDateTime) (string, bool) {
	day, month, year := 0, 0, 0
	var lower [16]byte
	i := 0
	prevNum := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == ',' || c == '.' || c == '-' || c == '/':
			i++
			prevNum = false
		case c >= '0' && c <= '9':
			k := normDigitRun(s[i:])
			if i+k < len(s) && s[i+k] == ':' {
				goto done // the time
			}
			v, _ := normDigits(s[i : i+k])
			switch {
			case k == 4 && year == 0:
				year = v
			case (k == 1 || k == 2) && day == 0:
				day = v
			default:
				return "", false
			}
			i += k
			prevNum = true
		default:
			j := i
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0xc0 && r <= 0x24f) {
					break
				}
				j += size
			}
			if j == i || j-i > len(lower) {
				if j == i && year != 0 && month != 0 && day != 0 {
					goto done
				}
				return "", false
			}
			w := string(normLowerInto(lower[:0], s[i:j]))
			switch {
			case prevNum && (w == "st" || w == "nd" || w == "rd" || w == "th" || w == "er"):
			case normMonths[w] != 0:
				if month != 0 {
					return "", false
				}
				month = normMonths[w]
			case normWeekdays[w] && month == 0 && day == 0 && year == 0:
			case w == "t" && year != 0 && month != 0 && day != 0:
				goto done // "…2024T14:30"
			case w == "at" || w == "um" || w == "à" || w == "kl":
				if year == 0 || month == 0 || day == 0 {
					return "", false
				}
				i = j
				goto done
			default:
				if year != 0 && month != 0 && day != 0 {
					goto done // AM/PM or a zone after a time is not allowed here; let the time parser decide
				}
				return "", false
			}
			i = j
			prevNum = false
		}
	}
done:
	if day == 0 || month == 0 || year == 0 {
		return "", false
	}
	dt.y, dt.mo, dt.d = year, month, day
	return s[i:], true
}

// normParseTimePart reads an optional time and offset after a date.
func normParseTimePart(s string, dt *normDateTime) bool {
	s = strings.TrimLeft(s, " ,")
	if s == "" {
		return true
	}
	if s[0] == 'T' || s[0] == 't' {
		s = s[1:]
	}
	if normHasPrefixFold(s, "at ") {
		s = strings.TrimLeft(s[3:], " ")
	}
	// H:MM[:SS[.frac]]
	a := normDigitRun(s)
	if a < 1 || a > 2 || len(s) < a+3 || s[a] != ':' {
		return false
	}
	dt.h, _ = normDigits(s[:a])
	s = s[a+1:]
	if normDigitRun(s) != 2 {
		return false
	}
	dt.mi, _ = normDigits(s[:2])
	s = s[2:]
	if len(s) > 0 && s[0] == ':' {
		if normDigitRun(s[1:]) != 2 {
			return false
		}
		dt.sec, _ = normDigits(s[1:3])
		s = s[3:]
		if len(s) > 1 && (s[0] == '.' || s[0] == ',') {
			f := normDigitRun(s[1:])
			if f < 1 || f > 9 {
				return false
			}
			ns, _ := normDigits(s[1 : 1+f])
			for i := f; i < 9; i++ {
				ns *= 10
			}
			dt.ns = ns
			s = s[1+f:]
		}
	}
	dt.hasTime = true
	s = strings.TrimLeft(s, " ")
	// AM/PM
	switch {
	case normHasPrefixFold(s, "am"), normHasPrefixFold(s, "a.m."), normHasPrefixFold(s, "pm"), normHasPrefixFold(s, "p.m."):
		pm := s[0] == 'p' || s[0] == 'P'
		if dt.h < 1 || dt.h > 12 {
			return false
		}
		if dt.h == 12 {
			dt.h = 0
		}
		if pm {
			dt.h += 12
		}
		if len(s) >= 4 && s[1] == '.' {
			s = s[4:]
		} else {
			s = s[2:]
		}
		if s != "" && normIsASCIILetter(s[0]) {
			return false
		}
		s = strings.TrimLeft(s, " ")
	}
	if dt.h > 23 || dt.mi > 59 || dt.sec > 59 {
		return false
	}
	if s == "" {
		return true
	}
	// offset
	switch {
	case s == "Z" || s == "z":
		dt.hasZone = true
		return true
	case normHasPrefixFold(s, "utc") || normHasPrefixFold(s, "gmt"):
		dt.hasZone = true
		s = s[3:]
		if s == "" {
			return true
		}
	}
	if s[0] != '+' && s[0] != '-' {
		return false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	var oh, om int
	switch k := normDigitRun(s); {
	case k == 2 && len(s) == 2:
		oh, _ = normDigits(s)
	case k == 4 && len(s) == 4:
		oh, _ = normDigits(s[:2])
		om, _ = normDigits(s[2:])
	case k == 2 && len(s) == 5 && s[2] == ':' && normDigitRun(s[3:]) == 2:
		oh, _ = normDigits(s[:2])
		om, _ = normDigits(s[3:])
	default:
		return false
	}
	if oh > 18 || om > 59 {
		return false
	}
	dt.hasZone = true
	dt.offset = sign * (oh*3600 + om*60)
	return true
}
