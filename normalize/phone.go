package normalize

import (
	"hash/maphash"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// normMaxPhone caps the length of a phone value (after trimming); longer
// values are Invalid without parsing.
const normMaxPhone = 64

// Phone cache bounds: normPhoneShards shards of at most normPhoneShardCap
// entries each (about 130,000 values, a few MB); a full shard is emptied
// and refilled.
const (
	normPhoneShards   = 64
	normPhoneShardCap = 2048
)

// Phone normalizes a phone number to E.164 ("+33612345678"), with an
// extension in RFC 3966 style ("+14155552671;ext=123"). Numbers without a
// country code are read in region (ISO 3166, "FR"), or in the Normalizer's
// default region when region is ""; "00" followed by a country code is read
// as "+". Parsing uses github.com/nyaruka/phonenumbers (libphonenumber):
// national trunk prefixes ("06 12 34 56 78"), "(0)" after the country code
// ("+49 (0)151 …"), separators and a "tel:" prefix are handled there.
//
// A number must be possible for its country (the right length:
// IsPossibleNumber; a number only dialable locally, without its area code,
// is Invalid, since its E.164 form would be wrong). It need not be valid in libphonenumber's metadata
// (IsValidNumber): number plans change faster than the metadata, and ranges
// reserved for fiction or tests ("07700 900123") are real values in CRM data.
//
// Extensions are recognised after "x", "ext", "ext.", "extension", "#",
// "poste" or ";ext=". Any other letters ("call me", "0612345678 (mobile)",
// vanity numbers such as "1-800-FLOWERS"), two numbers in one value, and
// numbers that are too short or too long are Invalid.
//
// Parsing costs about 10–20 µs, so results are cached by (region, value)
// in a bounded, sharded cache safe for concurrent use.
func (n *Normalizer) Phone(raw, region string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxPhone {
		return normInvalid(s)
	}
	if region = normUpperASCII(strings.TrimSpace(region)); region == "" {
		region = n.region
	}
	e, ok := n.phones.get(region, s)
	if !ok {
		return normInvalid(s)
	}
	return normResult(raw, e)
}

// normPhone parses the trimmed value s in region.
func normPhone(s, region string) (string, bool) {
	key, ext, ok := normPhoneCompact(s)
	if !ok {
		return "", false
	}
	out, ok := normPhoneParse(key, region)
	if !ok {
		return "", false
	}
	if ext != "" {
		out += ";ext=" + ext
	}
	return out, true
}

// normPhoneCompact reduces the trimmed value s to what libphonenumber reads of it: "+" (for a
// leading "+" or "00") and the digits, without separators; the extension's digits apart. Values
// that differ only in separators ("06 12 34 56 78", "06.12.34.56.78") share one compact form, and
// parsing it gives the same number as parsing them (checked against the library by the tests),
// in half the time.
func normPhoneCompact(s string) (key, ext string, ok bool) {
	if normHasPrefixFold(s, "tel:") {
		s = s[len("tel:"):]
	}
	main, ext, ok := normPhoneSplitExt(s)
	if !ok {
		return "", "", false
	}
	if normPhoneIsCompact(main) { // already compact (E.164 as stored): no copy
		return main, ext, true
	}
	// Only digits, spaces, "+", "(", ")", "-", ".", "/" and dashes.
	var b strings.Builder
	b.Grow(len(main))
	plus, first := false, -1
	for i, r := range main {
		switch {
		case r >= '0' && r <= '9':
			if first < 0 {
				first = i
			}
			b.WriteRune(r)
		case r == '+':
			if b.Len() > 0 {
				return "", "", false
			}
			plus = true
		case r == ' ', r == '(', r == ')', r == '-', r == '.', r == '/':
		case r >= utf8.RuneSelf && (normSpace(r) || r == '\u2010' || r == '\u2011' || r == '\u2012' || r == '\u2013' || r == '\u2014' || r == '\u2212'):
		case r >= utf8.RuneSelf && unicode.IsDigit(r):
			if first < 0 {
				first = i
			}
			b.WriteRune(r)
		default:
			return "", "", false
		}
	}
	digits := b.String()
	if digits == "" {
		return "", "", false
	}
	if plus {
		return "+" + digits, ext, true
	}
	if strings.HasPrefix(main[first:], "00") { // as written: "0 0…" is not an international prefix
		return "+" + digits[2:], ext, true
	}
	return digits, ext, true
}

// normPhoneIsCompact reports whether s is "+" and digits, or digits not starting with "00".
func normPhoneIsCompact(s string) bool {
	d := strings.TrimPrefix(s, "+")
	if d == "" || (len(d) == len(s) && strings.HasPrefix(d, "00")) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// normPhoneParse parses a compact number (see normPhoneCompact) in region to E.164.
func normPhoneParse(key, region string) (string, bool) {
	num, err := phonenumbers.Parse(key, region)
	if err != nil || phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return "", false
	}
	out := phonenumbers.Format(num, phonenumbers.E164)
	if num.GetItalianLeadingZero() {
		// Numbers with leading zeros in the national number (Italy's
		// landlines, but also junk such as "0 0000000") must read back as
		// themselves, or they are not canonical.
		again, err := phonenumbers.Parse(out, region)
		if err != nil || phonenumbers.Format(again, phonenumbers.E164) != out ||
			phonenumbers.IsPossibleNumberWithReason(again) != phonenumbers.IS_POSSIBLE {
			return "", false
		}
	}
	return out, true
}

// normPhoneSplitExt splits s into the number and the digits of an
// extension. The extension starts at the first letter, "#" or ";"; what
// follows must be a known marker and 1–10 digits.
func normPhoneSplitExt(s string) (main, ext string, ok bool) {
	k := strings.IndexFunc(s, func(r rune) bool {
		return r == '#' || r == ';' || r == ',' || unicode.IsLetter(r)
	})
	if k < 0 {
		return s, "", true
	}
	main, tail := s[:k], s[k:]
	var marker string
	for _, m := range [...]string{";ext=", "extension", "ext", "poste", "x", "#"} {
		if normHasPrefixFold(tail, m) {
			marker = m
			break
		}
	}
	if marker == "" {
		return "", "", false
	}
	tail = tail[len(marker):]
	tail = strings.TrimLeft(tail, " .:-#\u00a0")
	i := 0
	for i < len(tail) && tail[i] >= '0' && tail[i] <= '9' {
		i++
	}
	if i == 0 || i > 10 {
		return "", "", false
	}
	if strings.TrimRight(tail[i:], " #") != "" {
		return "", "", false
	}
	return strings.TrimRight(main, " \u00a0,"), tail[:i], true
}

type normPhoneKey struct{ region, raw string }

type normPhoneVal struct {
	e164 string
	ok   bool
}

type normPhoneShard struct {
	mu sync.RWMutex
	m  map[normPhoneKey]normPhoneVal
	_  [40]byte // keep shards on separate cache lines
}

// normPhoneCache caches parsed phone numbers by (region, trimmed value).
type normPhoneCache struct {
	seed   maphash.Seed
	shards [normPhoneShards]normPhoneShard
}

func newNormPhoneCache() *normPhoneCache {
	c := &normPhoneCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[normPhoneKey]normPhoneVal)
	}
	return c
}

// get returns the E.164 form of s in region, parsing it on a cache miss. The cache holds
// compact forms, so that the differently written numbers of duplicate records share an entry.
func (c *normPhoneCache) get(region, s string) (string, bool) {
	key, ext, ok := normPhoneCompact(s)
	if !ok {
		return "", false
	}
	e, ok := c.parse(region, key)
	if ok && ext != "" {
		e += ";ext=" + ext
	}
	return e, ok
}

func (c *normPhoneCache) parse(region, s string) (string, bool) {
	sh := &c.shards[maphash.String(c.seed, s)%normPhoneShards]
	key := normPhoneKey{region, s}
	sh.mu.RLock()
	v, hit := sh.m[key]
	sh.mu.RUnlock()
	if hit {
		return v.e164, v.ok
	}
	v.e164, v.ok = normPhoneParse(s, region)
	key = normPhoneKey{strings.Clone(region), strings.Clone(s)}
	sh.mu.Lock()
	if len(sh.m) >= normPhoneShardCap {
		clear(sh.m)
	}
	sh.m[key] = v
	sh.mu.Unlock()
	return v.e164, v.ok
}
