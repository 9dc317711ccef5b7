package normalize

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/crmigrate/crmigrate/plans"
)

// Status says what normalization did to a value.
type Status uint8

const (
	// Empty: the value is blank after trimming; the canonical value is "".
	Empty Status = iota
	// Unchanged: the value was already canonical; it is returned as given.
	Unchanged
	// Normalized: the value was changed into its canonical form.
	Normalized
	// Invalid: the value could not be understood. The canonical value is the
	// raw value trimmed (and made valid UTF-8): it is kept and flagged, never
	// dropped or guessed.
	Invalid
)

// String returns "empty", "unchanged", "normalized" or "invalid".
func (s Status) String() string {
	switch s {
	case Empty:
		return "empty"
	case Unchanged:
		return "unchanged"
	case Normalized:
		return "normalized"
	case Invalid:
		return "invalid"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// EnumValue maps one old picklist value (Old) to a new one (New). It is
// plans.EnumValue, so a field's value map passes through unchanged.
type EnumValue = plans.EnumValue

// FieldSpec is what Value needs to know about a field beyond its type.
type FieldSpec struct {
	// Region is the ISO 3166 region for phones written without a country
	// code ("SE"); "" means the Normalizer's default.
	Region string
	// Currency is the field's ISO 4217 currency for amounts written without
	// one; "" means the Normalizer's default.
	Currency string
	// Values is the enum value map (old → new), in plan order.
	Values []EnumValue
}

// FieldSpecOf returns the spec of a plan field (its currency and enum value
// map; the region comes from the plan or the record).
func FieldSpecOf(f *plans.Field) FieldSpec {
	return FieldSpec{Currency: f.Currency, Values: f.Values}
}

// Options configure a Normalizer.
type Options struct {
	// Region is the default ISO 3166 region for phone numbers written
	// without a country code ("SE"); "" means none: such numbers are
	// Invalid. It also decides the order of numeric dates: month first for
	// the US and its territories, day first everywhere else.
	Region string
	// Location is the plan's time zone, used for dates and datetimes written
	// without an offset (nil means UTC).
	Location *time.Location
	// FreeMailDomains are added to the built-in list of free-mail domains.
	FreeMailDomains []string
	// Currency is the default ISO 4217 currency for money written without
	// one; "" means none: the canonical value is then the amount alone.
	Currency string
}

// OptionsFromPlan returns the normalizer options a plan sets: its default
// region, time zone and extra free-mail domains.
func OptionsFromPlan(p *plans.Plan) Options {
	return Options{Region: p.DefaultRegion, Location: p.Location, FreeMailDomains: p.Clean.FreeMailDomains}
}

// Normalizer turns raw field values into canonical strings, one method per
// field type. Each method returns the canonical value and a Status; an
// Invalid value comes back as the raw value trimmed (and made valid UTF-8),
// so nothing is dropped silently. Canonical output is itself canonical:
// normalizing it again returns it Unchanged.
//
// A Normalizer is safe for concurrent use by several goroutines. Its only
// mutable state is a bounded, sharded cache of parsed phone numbers.
// Methods allocate little: nothing or one small string for a canonical value
// (Phone on a cache miss allocates for parsing), and every method but Text
// caps the length it parses, so a huge value costs at most one linear scan.
type Normalizer struct {
	region     string
	monthFirst bool
	loc        *time.Location
	currency   string
	freeMail   map[string]struct{}
	phones     *normPhoneCache
}

// New returns a Normalizer configured by opts.
func New(opts Options) *Normalizer {
	n := &Normalizer{
		region:   normUpperASCII(strings.TrimSpace(opts.Region)),
		loc:      opts.Location,
		currency: normCurrencyCode(opts.Currency),
		phones:   newNormPhoneCache(),
	}
	if n.loc == nil {
		n.loc = time.UTC
	}
	n.monthFirst = normMonthFirstRegions[n.region]
	n.freeMail = make(map[string]struct{}, len(normFreeMail)+len(opts.FreeMailDomains))
	for _, d := range normFreeMail {
		n.freeMail[d] = struct{}{}
	}
	for _, d := range opts.FreeMailDomains {
		if c, st := n.Domain(d); st == Normalized || st == Unchanged {
			n.freeMail[c] = struct{}{}
		} else if t := strings.ToLower(strings.TrimSpace(d)); t != "" {
			n.freeMail[t] = struct{}{}
		}
	}
	return n
}

// Value normalizes raw by field type name (the plans.Type* constants):
// text, email, phone, domain, url, number, money, date, datetime, bool,
// enum, ref (trimmed only) and user (an owner: email-normalized when it
// contains an "@", else Text). An unknown type is treated as text.
func (n *Normalizer) Value(fieldType, raw string, spec FieldSpec) (string, Status) {
	switch fieldType {
	case plans.TypeText:
		return n.Text(raw)
	case plans.TypeEmail:
		return n.Email(raw)
	case plans.TypePhone:
		return n.Phone(raw, spec.Region)
	case plans.TypeDomain:
		return n.Domain(raw)
	case plans.TypeURL:
		return n.URL(raw)
	case plans.TypeNumber:
		return n.Number(raw)
	case plans.TypeMoney:
		return n.Money(raw, spec.Currency)
	case plans.TypeDate:
		return n.Date(raw)
	case plans.TypeDateTime:
		return n.DateTime(raw)
	case plans.TypeBool:
		return n.Bool(raw)
	case plans.TypeEnum:
		if len(spec.Values) == 0 {
			return n.Text(raw)
		}
		return n.Enum(raw, spec.Values)
	case plans.TypeRef:
		return n.ref(raw)
	case plans.TypeUser:
		if strings.IndexByte(raw, '@') >= 0 {
			return n.Email(raw)
		}
		return n.Text(raw)
	}
	return n.Text(raw)
}

// ref trims a reference (an id in the source system) and makes it valid
// UTF-8; ids are otherwise compared as written.
func (n *Normalizer) ref(raw string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	return normResult(raw, normValidUTF8(s))
}

// Text trims the value, collapses every run of internal whitespace
// (including tabs, newlines and no-break spaces) to one space, removes
// control characters and invisible format characters (zero-width space,
// word joiner, byte-order mark, soft hyphen, direction marks and
// embeddings; the joiners U+200C and U+200D are kept, since they change
// how some scripts and emoji read), replaces invalid UTF-8 with U+FFFD and
// puts the result in Unicode NFC. Text never returns Invalid.
func (n *Normalizer) Text(raw string) (string, Status) {
	if normTextCanonical(raw) {
		if raw == "" {
			return "", Empty
		}
		return raw, Unchanged
	}
	return normResult(raw, normCleanText(raw))
}

// Name is Text for a person's name, plus letter case: a name written all
// in upper case or all in lower case (with more than one cased letter) is
// title-cased word by word, where words are separated by anything but
// letters, digits, combining marks and apostrophes ("JEAN-LUC" → "Jean-Luc").
// After an apostrophe that follows a single letter the next letter is
// upper case ("o'neil" → "O'Neil"), otherwise lower ("JANE'S" → "Jane's").
// Mixed case is kept as written ("McDonald", "van der Berg").
func (n *Normalizer) Name(raw string) (string, Status) {
	s, st := n.Text(raw)
	if st == Empty || !normSingleCase(s) {
		return s, st
	}
	t := normTitle(s)
	if t == s {
		return s, st
	}
	return normResult(raw, t)
}

// Bool reads true/false, yes/no, y/n, t/f, 1/0, -1 (true in Access-based
// systems), on/off, x (a ticked box), checked/unchecked, ✓ and the French,
// German and Swedish words (oui/non, vrai/faux, ja/nein/nej, wahr/falsch,
// sant/falskt), in any case. The canonical values are "true" and "false";
// anything else is Invalid.
func (n *Normalizer) Bool(raw string) (string, Status) {
	if raw == "true" || raw == "false" {
		return raw, Unchanged
	}
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > 16 {
		return normInvalid(s)
	}
	var buf [16]byte
	l := normLowerInto(buf[:0], s)
	switch string(l) {
	case "true", "t", "yes", "y", "1", "-1", "on", "x", "oui", "vrai", "ja", "j", "wahr", "sant", "si", "sí", "checked", "✓", "✔", "☑":
		return normResult(raw, "true")
	case "false", "f", "no", "n", "0", "off", "non", "faux", "nein", "nej", "falsch", "falskt", "unchecked":
		return normResult(raw, "false")
	}
	return normInvalid(s)
}

// Enum maps a picklist value through values (old → new). The trimmed value
// is matched exactly against the old values first, then against the new
// values (a value already in the new system's vocabulary is accepted as is),
// then both again ignoring case, surrounding spaces and punctuation, and
// treating runs of spaces, "_" and "-" inside the value as one separator
// ("closed-won" matches "Closed Won"). A loose match that two different
// mappings share is ambiguous and Invalid. An unknown value is Invalid:
// it is flagged, never guessed.
//
// A value that is both an old and a new value maps as an old value, so values
// read from the new system should be normalized with a spec whose Values map
// each new value to itself.
func (n *Normalizer) Enum(raw string, values []EnumValue) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	for i := range values {
		if values[i].Old == s {
			return normResult(raw, values[i].New)
		}
	}
	for i := range values {
		if values[i].New == s {
			return normResult(raw, s)
		}
	}
	if len(s) > 1024 {
		return normInvalid(s)
	}
	found, match := false, ""
	for i := range values {
		v := &values[i]
		if normFoldEqual(v.Old, s) || normFoldEqual(v.New, s) {
			if found && match != v.New {
				return normInvalid(s)
			}
			found, match = true, v.New
		}
	}
	if found {
		return normResult(raw, match)
	}
	return normInvalid(s)
}

// normResult returns out with Unchanged when it is raw, Empty when it is
// blank, and Normalized otherwise.
func normResult(raw, out string) (string, Status) {
	switch {
	case out == raw:
		return raw, Unchanged
	case out == "":
		return "", Empty
	}
	return out, Normalized
}

// normInvalid returns the trimmed raw value s, made valid UTF-8, as Invalid.
func normInvalid(s string) (string, Status) {
	return normValidUTF8(s), Invalid
}

func normValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// normDropped reports whether Text removes r: control characters that are
// not whitespace and invisible format characters.
func normDropped(r rune) bool {
	switch {
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return !normSpace(r)
	case r < 0xad:
		return false
	}
	switch r {
	case 0xad, 0x180e, 0x200b, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
		0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff:
		return true
	}
	return false
}

// normSpace reports whether r is whitespace (Unicode White_Space).
func normSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.IsSpace(r)
}

// normTrim removes whitespace, control characters and invisible format
// characters from both ends of s. It never allocates.
func normTrim(s string) string {
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				s = s[1:]
				continue
			}
			break
		}
		r, size := utf8.DecodeRuneInString(s)
		if size == 1 || !(normSpace(r) || normDropped(r)) {
			break
		}
		s = s[size:]
	}
	for len(s) > 0 {
		c := s[len(s)-1]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				s = s[:len(s)-1]
				continue
			}
			break
		}
		r, size := utf8.DecodeLastRuneInString(s)
		if size == 1 || !(normSpace(r) || normDropped(r)) {
			break
		}
		s = s[:len(s)-size]
	}
	return s
}

// normTextCanonical reports whether Text would return s unchanged.
func normTextCanonical(s string) bool {
	if s == "" {
		return true
	}
	ascii := true
	prevSpace := true // no leading space
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c == ' ' {
				if prevSpace {
					return false
				}
				prevSpace = true
				continue
			}
			if c < ' ' || c == 0x7f {
				return false
			}
			prevSpace = false
			continue
		}
		ascii = false
		r, size := utf8.DecodeRuneInString(s[i:])
		if size == 1 || normSpace(r) || normDropped(r) {
			return false
		}
		i += size
		prevSpace = false
	}
	if prevSpace {
		return false // trailing space
	}
	return ascii || norm.NFC.IsNormalString(s)
}

// normCleanText does Text's work on a value that is not canonical.
func normCleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || (c >= '\t' && c <= '\r'):
				space = true
				continue
			case c < ' ' || c == 0x7f:
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if size > 1 || r != utf8.RuneError {
			if normSpace(r) {
				space = true
				continue
			}
			if normDropped(r) {
				continue
			}
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r) // an invalid byte is written as U+FFFD
	}
	out := b.String()
	if !norm.NFC.IsNormalString(out) {
		out = norm.NFC.String(out)
	}
	return out
}

// normSingleCase reports whether s has more than one cased letter and all
// of them are upper case, or all lower case.
func normSingleCase(s string) bool {
	upper, lower, n := true, true, 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case r >= 'A' && r <= 'Z':
				lower = false
				n++
			case r >= 'a' && r <= 'z':
				upper = false
				n++
			}
			continue
		}
		switch {
		case unicode.IsUpper(r):
			lower = false
			n++
		case unicode.IsLower(r):
			upper = false
			n++
		case unicode.IsTitle(r):
			return false
		}
		if !upper && !lower {
			return false
		}
	}
	return n > 1 && (upper || lower)
}

func normIsApostrophe(r rune) bool { return r == '\'' || r == '\u2019' || r == '\u02bc' }

// normTitle title-cases s word by word (see Name).
func normTitle(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	capNext, letters := true, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			if capNext {
				r = unicode.ToTitle(r)
				capNext = false
			} else {
				r = unicode.ToLower(r)
			}
			letters++
		case unicode.IsMark(r) || unicode.IsDigit(r):
			capNext = false
		case normIsApostrophe(r):
			capNext = letters == 1
			letters = 0
		default:
			capNext, letters = true, 0
		}
		b.WriteRune(r)
	}
	out := b.String()
	if !norm.NFC.IsNormalString(out) {
		out = norm.NFC.String(out)
	}
	return out
}

// normUpperASCII upper-cases the ASCII letters of s.
func normUpperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'a' && c <= 'z' {
					b[j] = c - 'a' + 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// normLowerASCII lower-cases the ASCII letters of s; it allocates only
// when s has an upper-case ASCII letter.
func normLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// normLowerInto appends s lower-cased (Unicode simple case mapping) to dst.
func normLowerInto(dst []byte, s string) []byte {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// normHasPrefixFold reports whether s begins with the lower-case ASCII
// prefix, ignoring ASCII case.
func normHasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// normFoldIter yields the runes of a string folded for loose enum matching:
// lower case, surrounding spaces and punctuation skipped, and every inner
// run of spaces, "_" and "-" (with other punctuation around it) yielded as
// one ' '.
type normFoldIter struct {
	s string
	i int
}

func normFoldSkippable(r rune) bool {
	return normSpace(r) || unicode.IsPunct(r) || normDropped(r)
}

func normFoldSeparator(r rune) bool {
	return normSpace(r) || r == '_' || r == '-' || normDropped(r)
}

// next returns the next folded rune, or -1 at the end.
func (it *normFoldIter) next() rune {
	if it.i == 0 {
		// skip leading spaces and punctuation
		for it.i < len(it.s) {
			r, size := utf8.DecodeRuneInString(it.s[it.i:])
			if !normFoldSkippable(r) {
				break
			}
			it.i += size
		}
	}
	if it.i >= len(it.s) {
		return -1
	}
	r, size := utf8.DecodeRuneInString(it.s[it.i:])
	if !normFoldSkippable(r) {
		it.i += size
		return unicode.ToLower(r)
	}
	// A run of punctuation and spaces: the end if nothing but such runes
	// follow; one separator if it holds a space, "_" or "-"; else the
	// punctuation as written.
	j, sep := it.i, false
	for j < len(it.s) {
		r, size := utf8.DecodeRuneInString(it.s[j:])
		if !normFoldSkippable(r) {
			break
		}
		sep = sep || normFoldSeparator(r)
		j += size
	}
	if j >= len(it.s) {
		it.i = j
		return -1
	}
	if sep {
		it.i = j
		return ' '
	}
	it.i += size
	return r
}

// normFoldEqual reports whether a and b are equal under loose enum folding.
func normFoldEqual(a, b string) bool {
	x, y := normFoldIter{s: a}, normFoldIter{s: b}
	for {
		r1, r2 := x.next(), y.next()
		if r1 != r2 {
			return false
		}
		if r1 < 0 {
			return true
		}
	}
}
