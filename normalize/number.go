package normalize

import (
	"strings"
	"unicode/utf8"
)

// Length caps for numbers and amounts (after trimming). A canonical value
// is never longer than the cap, so it always reads back.
const (
	normMaxNumber   = 256
	normMaxMoney    = 256
	normMaxExponent = 100
	normMaxDigits   = 200
)

// Number normalizes a decimal number to its canonical form: an optional
// "-", the integer part without leading zeros ("0" for none), and, when
// there is a fraction, "." and its digits without trailing zeros:
// "1 234,50" → "1234.5", "1,234.50" → "1234.5", "1.234,50" → "1234.5",
// "-12" → "-12", "12e3" → "12000", "(12.5)" → "-12.5". It works on the
// digits as written (exact decimal arithmetic, never float64).
//
// Separators are read by these rules:
//   - Spaces (also no-break and thin spaces) and apostrophes ("1'234.50")
//     only group thousands.
//   - When two kinds of separator appear, the last one is the decimal
//     separator and may appear once; the other groups thousands.
//   - A separator that appears more than once groups thousands
//     ("1.234.567", "1,234,567").
//   - A single "," is a thousands separator when exactly three digits
//     follow it and one to three digits (not starting with 0) precede it
//     ("1,234" → "1234"); otherwise it is the decimal comma ("1,5",
//     "0,125", "1234,567").
//   - A single "." is always the decimal point ("1.234" → "1.234"), since
//     databases and most exports write numbers that way; Money reads it
//     differently (see there).
//
// Thousands groups must have three digits after a first group of one to
// three. A leading "+" or "-" (or U+2212) or surrounding parentheses give the
// sign, and an exponent ("e3", "E-2", at most ±100) is applied to the digits.
// Anything else (currency symbols, units, percent signs, two numbers) is
// Invalid.
func (n *Normalizer) Number(raw string) (string, Status) {
	if normNumberCanonical(raw) {
		return raw, Unchanged
	}
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxNumber {
		return normInvalid(s)
	}
	var buf [normMaxDigits + 8]byte
	d, ok := normParseDecimal(s, false, buf[:0])
	if !ok {
		return normInvalid(s)
	}
	var obuf [64]byte
	out := d.appendTo(obuf[:0], -1)
	return normResult(raw, string(out))
}

// normNumberCanonical reports whether s matches -?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?
// and is no longer than normMaxNumber.
func normNumberCanonical(s string) bool {
	if s == "" || len(s) > normMaxNumber {
		return false
	}
	i := 0
	if s[0] == '-' {
		i = 1
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	switch {
	case i == start:
		return false
	case s[start] == '0' && i-start > 1:
		return false
	}
	if i == len(s) {
		return !(start == 1 && s[1:] == "0") // "-0"
	}
	if s[i] != '.' || i == len(s)-1 || s[len(s)-1] == '0' {
		return false
	}
	for i++; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normDecimal is a parsed decimal number: digits with the decimal point
// after the first point digits, no leading zeros in the integer part and no
// trailing zeros in the fraction.
type normDecimal struct {
	neg    bool
	signed bool // a sign or parentheses were written
	digits []byte
	point  int
}

// appendTo writes the canonical number to dst. minFrac < 0 writes the
// fraction without trailing zeros; otherwise the fraction is padded to at
// least minFrac digits, and to four when it would have exactly three and
// minFrac is not three (so that Money reads it back as a fraction).
func (d *normDecimal) appendTo(dst []byte, minFrac int) []byte {
	zero := len(d.digits) == 0
	if d.neg && !zero {
		dst = append(dst, '-')
	}
	if d.point == 0 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, d.digits[:d.point]...)
	}
	frac := d.digits[d.point:]
	nf := len(frac)
	if minFrac >= 0 {
		if nf < minFrac {
			nf = minFrac
		}
		if nf == 3 && minFrac != 3 {
			nf = 4
		}
	}
	if nf > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
		for i := len(frac); i < nf; i++ {
			dst = append(dst, '0')
		}
	}
	return dst
}

// Separator kinds.
const (
	normSepDot = iota + 1
	normSepComma
	normSepSpace
	normSepApos
)

func normSepKind(r rune) int {
	switch r {
	case '.':
		return normSepDot
	case ',':
		return normSepComma
	case ' ', '\u00a0', '\u202f', '\u2009', '\u2007':
		return normSepSpace
	case '\'', '\u2019', '\u02bc':
		return normSepApos
	}
	return 0
}

// normParseDecimal parses s (trimmed, at most normMaxMoney bytes) by
// Number's rules; dotThousands makes a single "." followed by exactly three
// digits a thousands separator (Money's rule). Digits go into buf.
func normParseDecimal(s string, dotThousands bool, buf []byte) (normDecimal, bool) {
	var d normDecimal
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		d.neg, d.signed = true, true
		s = normTrim(s[1 : len(s)-1])
	}
	switch {
	case strings.HasPrefix(s, "-"), strings.HasPrefix(s, "+"):
		if d.signed {
			return d, false
		}
		d.neg, d.signed = s[0] == '-', true
		s = normTrim(s[1:])
	case strings.HasPrefix(s, "\u2212"):
		if d.signed {
			return d, false
		}
		d.neg, d.signed = true, true
		s = normTrim(s[len("\u2212"):])
	}
	if s == "" {
		return d, false
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, ok := normParseExponent(s[i+1:])
		if !ok {
			return d, false
		}
		exp = e
		s = s[:i]
		// The mantissa is plain: digits and at most one ".".
		for j := 0; j < len(s); j++ {
			if (s[j] < '0' || s[j] > '9') && s[j] != '.' {
				return d, false
			}
		}
	}

	// Split into digit groups and the separators between them.
	type group struct{ start, end int }
	var groups [64]group
	var seps [64]int
	ng := 0
	groups[0].start = 0
	prevSep := true // a separator may not follow another (or start, except . and ,)
	counts := [5]int{}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= '0' && c <= '9' {
			i++
			prevSep = false
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		k := normSepKind(r)
		if k == 0 || (prevSep && !(i == 0 && (k == normSepDot || k == normSepComma))) {
			return d, false
		}
		if ng+1 >= len(groups) {
			return d, false
		}
		groups[ng].end = i
		seps[ng] = k
		counts[k]++
		ng++
		i += size
		groups[ng].start = i
		prevSep = true
	}
	groups[ng].end = len(s)
	ng++
	nseps := ng - 1

	dec := -1 // index of the decimal separator in seps, or -1
	if nseps > 0 {
		kinds := 0
		for _, c := range counts {
			if c > 0 {
				kinds++
			}
		}
		last := seps[nseps-1]
		switch {
		case kinds > 2:
			return d, false
		case kinds == 2:
			if (last != normSepDot && last != normSepComma) || counts[last] != 1 {
				return d, false
			}
			dec = nseps - 1
		case last == normSepSpace || last == normSepApos || counts[last] > 1:
			// thousands only
		default: // one "." or ","
			before := groups[0].end - groups[0].start
			after := groups[1].end - groups[1].start
			grouped := after == 3 && before >= 1 && before <= 3 && s[groups[0].start] != '0'
			if !grouped || (last == normSepDot && !dotThousands) {
				dec = 0
			}
		}
	}
	nint := ng
	if dec >= 0 {
		nint = dec + 1
	}
	if nint > 1 { // thousands groups
		if l := groups[0].end - groups[0].start; l < 1 || l > 3 || s[groups[0].start] == '0' {
			return d, false
		}
		for g := 1; g < nint; g++ {
			if groups[g].end-groups[g].start != 3 {
				return d, false
			}
		}
	}
	digits := buf
	for g := 0; g < nint; g++ {
		digits = append(digits, s[groups[g].start:groups[g].end]...)
	}
	point := len(digits)
	if dec >= 0 {
		digits = append(digits, s[groups[nint].start:groups[nint].end]...)
	}
	if len(digits) == 0 {
		return d, false // "." alone
	}
	point += exp
	if point < 0 {
		pad := -point
		if len(digits)+pad > normMaxDigits {
			return d, false
		}
		digits = append(digits, make([]byte, pad)...)
		copy(digits[pad:], digits[:len(digits)-pad])
		for i := 0; i < pad; i++ {
			digits[i] = '0'
		}
		point = 0
	}
	for len(digits) < point {
		if len(digits) >= normMaxDigits {
			return d, false
		}
		digits = append(digits, '0')
	}
	lead := 0
	for lead < point && digits[lead] == '0' {
		lead++
	}
	digits, point = digits[lead:], point-lead
	for len(digits) > point && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if point == 0 {
		allZero := true
		for _, c := range digits {
			if c != '0' {
				allZero = false
				break
			}
		}
		if allZero {
			digits = digits[:0]
		}
	}
	if len(digits) > normMaxDigits {
		return d, false
	}
	d.digits, d.point = digits, point
	return d, true
}

// normParseExponent reads an exponent: an optional sign and one to three
// digits, at most normMaxExponent.
func normParseExponent(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || len(s) > 3 {
		return 0, false
	}
	e := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		e = e*10 + int(s[i]-'0')
	}
	if e > normMaxExponent {
		return 0, false
	}
	if neg {
		e = -e
	}
	return e, true
}

// Money normalizes an amount of money to "AMOUNT CODE" ("12500.00 EUR"):
// the amount exact (never float64), with the currency's number of decimals
// (two for most, none for JPY, KRW, ISK, CLP…, three for KWD, BHD, JOD…),
// and the ISO 4217 code. Fraction digits beyond the currency's are kept, not
// rounded; a fraction of exactly three digits in a currency with two
// decimals is written with four ("12.3450 EUR"), so it reads back the same.
// Negative amounts are Normalized: flagging them is a validation check's job.
//
// The currency may come before or after the amount, as an ISO code (any
// case) or a symbol: $ US$ CA$ C$ A$ AU$ NZ$ HK$ S$ R$ € £ ¥ ₹ ₩ ₽ ₺ ₪ zł Kč
// kr kr. Fr. CHF. "$" is the currency argument (or the options' default)
// when that is a dollar currency, else USD; "kr" likewise SEK unless NOK,
// DKK or ISK is the default; "¥" JPY unless CNY is. The currency written in
// the value wins over the currency argument, which wins over the options'
// Currency; without any, the canonical value is the amount alone
// ("12500.00"). A value naming two different currencies is Invalid.
//
// The amount is read by Number's rules, with one difference: a single "."
// followed by exactly three digits, after one to three digits, groups
// thousands ("EUR 12.500" → "12500.00 EUR"), as people write amounts in
// most of Europe, unless the currency has three decimals. The Scandinavian
// and German "no cents" endings ":-", ",-" and ".-" are accepted
// ("12 500:-").
func (n *Normalizer) Money(raw, currency string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxMoney {
		return normInvalid(s)
	}
	pref := n.currency
	if c := normCurrencyCode(currency); c != "" {
		pref = c
	}
	code, amount, neg, ok := normMoneySplit(s, pref)
	if !ok {
		return normInvalid(s)
	}
	if code == "" {
		code = pref
	}
	minor := 2
	if code != "" {
		minor = int(normCurrencies[normCurrencyKey(code)].minor)
	}
	var buf [normMaxDigits + 8]byte
	d, ok := normParseDecimal(amount, minor != 3, buf[:0])
	if !ok || (neg && d.signed) {
		return normInvalid(s)
	}
	if neg {
		d.neg = true
	}
	var obuf [64]byte
	out := d.appendTo(obuf[:0], minor)
	if code != "" {
		out = append(out, ' ')
		out = append(out, code...)
	}
	if string(out) == raw {
		return raw, Unchanged
	}
	return normResult(raw, string(out))
}

// normMoneySplit separates a leading sign (or parentheses), the currency and
// the amount of s.
func normMoneySplit(s, pref string) (code, amount string, neg, ok bool) {
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg = true
		s = normTrim(s[1 : len(s)-1])
	}
	if !neg {
		switch {
		case strings.HasPrefix(s, "-"):
			neg, s = true, normTrim(s[1:])
		case strings.HasPrefix(s, "\u2212"):
			neg, s = true, normTrim(s[len("\u2212"):])
		case strings.HasPrefix(s, "+"):
			s = normTrim(s[1:])
		}
	}
	if c, size := normCurrencyPrefix(s, pref); size > 0 {
		code, s = c, normTrim(s[size:])
	}
	for range 2 {
		for _, end := range [...]string{":-", ",-", ".-", ",\u2013", ":\u2013"} {
			if strings.HasSuffix(s, end) {
				s = normTrim(s[:len(s)-len(end)])
				break
			}
		}
		if c, size := normCurrencySuffix(s, pref); size > 0 {
			if code != "" && c != code {
				return "", "", false, false
			}
			code, s = c, normTrim(s[:len(s)-size])
		}
	}
	if s == "" {
		return "", "", false, false
	}
	return code, s, neg, true
}

// normSymbols are the currency symbols Money recognises, longest first
// within each shared prefix. A code of "$", "kr" or "¥" is resolved by
// normResolveSymbol.
var normSymbols = []struct{ sym, code string }{
	{"US$", "USD"}, {"CA$", "CAD"}, {"C$", "CAD"}, {"AU$", "AUD"}, {"A$", "AUD"}, {"NZ$", "NZD"},
	{"HK$", "HKD"}, {"S$", "SGD"}, {"R$", "BRL"}, {"$", "$"},
	{"€", "EUR"}, {"£", "GBP"}, {"¥", "¥"}, {"￥", "¥"}, {"₹", "INR"}, {"₩", "KRW"}, {"₽", "RUB"},
	{"₺", "TRY"}, {"₪", "ILS"}, {"zł", "PLN"}, {"Kč", "CZK"},
	{"kr.", "kr"}, {"kr", "kr"}, {"Kr.", "kr"}, {"Kr", "kr"}, {"KR", "kr"},
	{"SFr.", "CHF"}, {"Fr.", "CHF"},
}

func normResolveSymbol(code, pref string) string {
	switch code {
	case "$":
		switch pref {
		case "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "TWD":
			return pref
		}
		return "USD"
	case "kr":
		switch pref {
		case "SEK", "NOK", "DKK", "ISK":
			return pref
		}
		return "SEK"
	case "¥":
		if pref == "CNY" {
			return pref
		}
		return "JPY"
	}
	return code
}

func normIsASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// normCurrencyPrefix returns the currency at the start of s and its length.
func normCurrencyPrefix(s, pref string) (string, int) {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return "", 0
	}
	if len(s) >= 3 && normIsASCIILetter(s[0]) && normIsASCIILetter(s[1]) && normIsASCIILetter(s[2]) &&
		(len(s) == 3 || !normIsASCIILetter(s[3])) {
		if c, ok := normCurrencies[normCurrencyKey(s[:3])]; ok {
			return c.code, 3
		}
	}
	for _, sy := range normSymbols {
		if strings.HasPrefix(s, sy.sym) {
			rest := s[len(sy.sym):]
			if rest != "" && normIsASCIILetter(rest[0]) {
				continue
			}
			return normResolveSymbol(sy.code, pref), len(sy.sym)
		}
	}
	return "", 0
}

// normCurrencySuffix returns the currency at the end of s and its length.
func normCurrencySuffix(s, pref string) (string, int) {
	if s == "" || s[len(s)-1] >= '0' && s[len(s)-1] <= '9' {
		return "", 0
	}
	l := len(s)
	if l >= 3 && normIsASCIILetter(s[l-1]) && normIsASCIILetter(s[l-2]) && normIsASCIILetter(s[l-3]) &&
		(l == 3 || !normIsASCIILetter(s[l-4])) {
		if c, ok := normCurrencies[normCurrencyKey(s[l-3:])]; ok {
			return c.code, 3
		}
	}
	for _, sy := range normSymbols {
		if strings.HasSuffix(s, sy.sym) {
			rest := s[:len(s)-len(sy.sym)]
			if rest != "" && normIsASCIILetter(rest[len(rest)-1]) {
				continue
			}
			return normResolveSymbol(sy.code, pref), len(sy.sym)
		}
	}
	return "", 0
}

type normCurrency struct {
	code  string
	minor uint8
}

// normCurrencyKey upper-cases a three-letter code into a map key.
func normCurrencyKey(s string) [3]byte {
	var k [3]byte
	if len(s) != 3 {
		return k
	}
	for i := 0; i < 3; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		k[i] = c
	}
	return k
}

// normCurrencyCode returns the ISO 4217 code s (any case, trimmed), or ""
// when s is not one.
func normCurrencyCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) != 3 {
		return ""
	}
	return normCurrencies[normCurrencyKey(s)].code
}

// normCurrencies holds the active ISO 4217 codes and their decimals.
var normCurrencies = func() map[[3]byte]normCurrency {
	const codes = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP " +
		"BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS " +
		"GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD " +
		"KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO " +
		"NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS " +
		"SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF " +
		"XCD XCG XOF XPF YER ZAR ZMW ZWG"
	const zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
	const three = "BHD IQD JOD KWD LYD OMR TND"
	m := make(map[[3]byte]normCurrency, 200)
	for _, c := range strings.Fields(codes) {
		m[normCurrencyKey(c)] = normCurrency{code: c, minor: 2}
	}
	for _, c := range strings.Fields(zero) {
		m[normCurrencyKey(c)] = normCurrency{code: c, minor: 0}
	}
	for _, c := range strings.Fields(three) {
		m[normCurrencyKey(c)] = normCurrency{code: c, minor: 3}
	}
	return m
}()

// SplitMoney splits a canonical money value into its amount and its currency
// ("12500.00 EUR" → "12500.00", "EUR"); a number is an amount alone.
func SplitMoney(canonical string) (amount, currency string) {
	amount, currency, _ = strings.Cut(canonical, " ")
	return amount, currency
}
