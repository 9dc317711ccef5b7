package normalize

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"
)

// Length caps: values longer than these (after trimming) are Invalid
// without further parsing.
const (
	normMaxEmail  = 320  // 64-byte local part, "@", 255-byte domain
	normMaxDomain = 2048 // Domain accepts whole URLs
	normMaxURL    = 4096
	normMaxHost   = 253
	normMaxLocal  = 64
	normMaxLabel  = 63
)

// Email normalizes an e-mail address: it trims the value, removes a
// "mailto:" prefix (and its ?query), takes the address out of "<…>" or
// "Display Name <…>", lower-cases it (Unicode), puts it in NFC and checks
// its syntax: one "@", a local part of at most 64 bytes made of letters,
// digits and the RFC 5322 atext symbols with no leading, trailing or
// doubled dot, and a domain name with at least one dot, LDH labels and an
// alphabetic top-level label. Quoted local parts, IP-address literals and
// spaces are Invalid.
//
// The domain is written in its ASCII (punycode) form, like Domain and URL:
// "jane@münchen.de" → "jane@xn--mnchen-3ya.de". One form for every
// spelling of a domain keeps keys and diffs comparable; the local part
// keeps its Unicode letters (RFC 6531).
func (n *Normalizer) Email(raw string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxEmail+64 {
		return normInvalid(s)
	}
	e, ok := normEmail(s)
	if !ok {
		return normInvalid(s)
	}
	return normResult(raw, e)
}

// normEmail returns the canonical form of the trimmed address s.
func normEmail(s string) (string, bool) {
	if normHasPrefixFold(s, "mailto:") {
		s = s[len("mailto:"):]
		if i := strings.IndexByte(s, '?'); i >= 0 {
			s = s[:i]
		}
		s = normTrim(s)
	}
	if strings.HasSuffix(s, ">") {
		i := strings.LastIndexByte(s, '<')
		if i < 0 {
			return "", false
		}
		s = normTrim(s[i+1 : len(s)-1])
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || len(s) > normMaxEmail {
		return "", false
	}
	local, ok := normEmailLocal(s[:at])
	if !ok {
		return "", false
	}
	domain, ok := normHost(s[at+1:])
	if !ok {
		return "", false
	}
	if len(local) == at && local == s[:at] && domain == s[at+1:] {
		return s, true
	}
	return local + "@" + domain, true
}

// normEmailLocal checks a local part and returns it lower-cased in NFC.
func normEmailLocal(l string) (string, bool) {
	if l == "" || len(l) > normMaxLocal*4 || l[0] == '.' || l[len(l)-1] == '.' {
		return "", false
	}
	ascii, upper := true, false
	prev := byte(0)
	for i := 0; i < len(l); {
		c := l[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				upper = true
			case c == '.':
				if prev == '.' {
					return "", false
				}
			case strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0:
			default:
				return "", false
			}
			prev = c
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(l[i:])
		if size == 1 || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
			return "", false
		}
		ascii = false
		prev = 0
		i += size
	}
	if ascii {
		if upper {
			l = normLowerASCII(l)
		}
	} else {
		l = string(normLowerInto(make([]byte, 0, len(l)), l))
		if !norm.NFC.IsNormalString(l) {
			l = norm.NFC.String(l)
		}
	}
	if len(l) > normMaxLocal {
		return "", false
	}
	return l, true
}

// normHost returns the canonical ASCII form of a domain name: lower case,
// IDNA (UTS #46 lookup profile) to punycode, without a trailing dot. It
// requires at least two labels, LDH labels of 1–63 bytes without a leading
// or trailing hyphen, at most 253 bytes, and an alphabetic top-level label
// (or a punycode one), so IP addresses and "localhost" fail.
func normHost(h string) (string, bool) {
	if strings.HasSuffix(h, ".") {
		h = h[:len(h)-1]
	}
	if h == "" || len(h) > normMaxHost*4 {
		return "", false
	}
	ascii, upper, puny := true, false, false
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.':
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= utf8.RuneSelf:
			ascii = false
		default:
			return "", false
		}
	}
	if ascii && upper {
		h = normLowerASCII(h)
	}
	if ascii {
		puny = strings.HasPrefix(h, "xn--") || strings.Contains(h, ".xn--")
	}
	if !ascii || puny {
		if !utf8.ValidString(h) {
			return "", false
		}
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", false
		}
		h = a
		if strings.HasSuffix(h, ".") {
			h = h[:len(h)-1]
		}
	}
	if !normHostLabelsOK(h) {
		return "", false
	}
	return h, true
}

// normHostLabelsOK checks the lower-case ASCII host h label by label.
func normHostLabelsOK(h string) bool {
	if len(h) > normMaxHost {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			c := h[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		l := h[start:i]
		if l == "" || len(l) > normMaxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		if i == len(h) { // top-level label
			if len(l) < 2 {
				return false
			}
			if !strings.HasPrefix(l, "xn--") {
				for j := 0; j < len(l); j++ {
					if l[j] < 'a' || l[j] > 'z' {
						return false
					}
				}
			}
		}
		start = i + 1
	}
	return labels >= 2
}

// Domain returns the registrable domain (public suffix + 1 label) of a URL
// ("https://www.Acme.se/contact?x=1" → "acme.se"), an e-mail address
// ("jane@sales.acme.co.uk" → "acme.co.uk") or a bare host ("WWW.ACME.SE:443"
// → "acme.se"). It removes the scheme, user info, port, path, query,
// fragment and trailing dot, lower-cases the host and converts an
// internationalized name to ASCII punycode ("münchen.de" →
// "xn--mnchen-3ya.de"), the canonical form because it is what DNS, most
// CRMs and every byte-wise comparison agree on. "www." and other
// subdomains go with the reduction to the registrable domain, which uses
// the public suffix list (golang.org/x/net/publicsuffix); private suffixes
// count, so "acme.github.io" stays itself.
//
// IP addresses, single-label hosts ("localhost"), bare public suffixes
// ("co.uk", also "www.co.uk") and anything that is not a host name are Invalid. A free-mail
// domain is a valid Domain; see CompanyDomain and IsFreeMail.
func (n *Normalizer) Domain(raw string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxDomain {
		return normInvalid(s)
	}
	d, ok := normDomain(s)
	if !ok {
		return normInvalid(s)
	}
	return normResult(raw, d)
}

func normDomain(s string) (string, bool) {
	h, ok := normHostPart(s)
	if !ok {
		return "", false
	}
	h, ok = normHost(h)
	if !ok {
		return "", false
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil || strings.HasPrefix(d, "www.") {
		return "", false // a public suffix, or "www." on one
	}
	return d, true
}

// normHostPart extracts the host from a URL, an e-mail address or a bare
// host with an optional port.
func normHostPart(s string) (string, bool) {
	if normHasPrefixFold(s, "mailto:") {
		s = s[len("mailto:"):]
	}
	if strings.HasSuffix(s, ">") {
		if i := strings.LastIndexByte(s, '<'); i >= 0 {
			s = s[i+1 : len(s)-1]
		}
	}
	if i := strings.Index(s, "://"); i > 0 && normIsScheme(s[:i]) {
		s = s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	}
	if i := strings.IndexAny(s, "/?#\\"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		return "", false // IPv6 literal
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		for j := i + 1; j < len(s); j++ {
			if s[j] < '0' || s[j] > '9' {
				return "", false
			}
		}
		s = s[:i]
	}
	return s, s != ""
}

// normIsScheme reports whether s is a URL scheme: a letter followed by
// letters, digits, "+", "-" and ".".
func normIsScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// CompanyDomain is Domain for a value that should identify a company (a
// website, or a contact's e-mail address): a free-mail domain (IsFreeMail)
// never identifies a company, so it returns ("", Empty) for one, as for a
// blank value. Other values get Domain's result. Value never calls it: a
// field of type domain keeps "gmail.com"; CompanyDomain is for deriving
// keys.
func (n *Normalizer) CompanyDomain(raw string) (string, Status) {
	d, st := n.Domain(raw)
	if (st == Normalized || st == Unchanged) && n.isFreeMail(d) {
		return "", Empty
	}
	return d, st
}

// IsFreeMail reports whether domain (a registrable domain, a host, a URL or
// an e-mail address) belongs to a free-mail provider: the built-in list
// (gmail.com, outlook.com, hotmail.*, yahoo.*, gmx.*, web.de, orange.fr,
// telia.com, …) plus the options' FreeMailDomains.
func (n *Normalizer) IsFreeMail(domain string) bool {
	if n.isFreeMail(domain) {
		return true
	}
	d, st := n.Domain(domain)
	return st == Normalized && n.isFreeMail(d)
}

func (n *Normalizer) isFreeMail(d string) bool {
	_, ok := n.freeMail[d]
	return ok
}

// URL normalizes a web address: it adds "https://" when the scheme is
// missing, lower-cases the scheme and host, converts an internationalized
// host to punycode, removes a trailing dot from the host, the default port
// (80 for http, 443 for https) and the "/" of an empty path. User info,
// path, query and fragment are kept as written. Only http and https URLs
// with a domain name or an IP address as host are valid; values with
// spaces or control characters are Invalid.
func (n *Normalizer) URL(raw string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxURL {
		return normInvalid(s)
	}
	u, ok := normURL(s)
	if !ok {
		return normInvalid(s)
	}
	return normResult(raw, u)
}

func normURL(s string) (string, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				return "", false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || normSpace(r) || normDropped(r) {
			return "", false // U+FFFD: a broken encoding
		}
		i += size
	}
	scheme, rest := "https", s
	if i := strings.Index(s, "://"); i > 0 && normIsScheme(s[:i]) {
		scheme, rest = normLowerASCII(s[:i]), s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		rest = s[2:]
	} else if i := strings.IndexByte(s, ':'); i > 0 && normIsScheme(s[:i]) && !normIsPortAfter(s[i+1:]) {
		return "", false // mailto:, javascript:, …
	}
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	auth, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	user := ""
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		user, auth = auth[:i+1], auth[i+1:]
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		end := strings.IndexByte(auth, ']')
		if end < 0 {
			return "", false
		}
		host, port = auth[:end+1], auth[end+1:]
		if port != "" && port[0] != ':' {
			return "", false
		}
	} else if i := strings.LastIndexByte(auth, ':'); i >= 0 {
		host, port = auth[:i], auth[i:]
	}
	if port != "" {
		p := port[1:]
		if p == "" {
			port = ""
		} else {
			v, err := strconv.Atoi(p)
			if err != nil || v < 1 || v > 65535 || p[0] < '0' || p[0] > '9' {
				return "", false
			}
			if (scheme == "http" && v == 80) || (scheme == "https" && v == 443) {
				port = ""
			} else {
				port = ":" + strconv.Itoa(v)
			}
		}
	}
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		host = "[" + a.String() + "]"
	} else if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return "", false
		}
		host = a.String()
	} else {
		h, ok := normHost(host)
		if !ok {
			return "", false
		}
		host = h
	}
	if tail == "/" {
		tail = ""
	}
	out := scheme + "://" + user + host + port + tail
	if out == s {
		return s, true
	}
	if len(out) > normMaxURL {
		return "", false // a punycode host can make it longer
	}
	return out, true
}

// normIsPortAfter reports whether s (what follows "host:") starts with a
// port number, so "acme.se:8080/x" is a host and port, not a scheme.
func normIsPortAfter(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

// FreeMailDomains returns the built-in list of free-mail registrable domains (a Normalizer adds
// its Options' FreeMailDomains to them).
func FreeMailDomains() []string { return slices.Clone(normFreeMail) }

// normFreeMail is the built-in list of free-mail registrable domains.
var normFreeMail = []string{
	// Google, Microsoft, Yahoo, AOL, Apple
	"gmail.com", "googlemail.com",
	"outlook.com", "outlook.fr", "outlook.de", "outlook.se", "outlook.co.uk", "outlook.es", "outlook.it",
	"hotmail.com", "hotmail.fr", "hotmail.de", "hotmail.co.uk", "hotmail.se", "hotmail.it", "hotmail.es",
	"hotmail.nl", "hotmail.be", "hotmail.ch", "hotmail.dk", "hotmail.no",
	"live.com", "live.fr", "live.de", "live.co.uk", "live.se", "live.nl", "live.be", "live.it", "live.dk", "live.no",
	"msn.com", "passport.com",
	"yahoo.com", "yahoo.fr", "yahoo.de", "yahoo.co.uk", "yahoo.se", "yahoo.es", "yahoo.it", "yahoo.ca",
	"yahoo.com.au", "yahoo.co.in", "yahoo.co.jp", "ymail.com", "rocketmail.com",
	"aol.com", "aol.fr", "aol.de", "aol.co.uk", "aim.com",
	"icloud.com", "me.com", "mac.com",
	// Germany, Austria, Switzerland
	"gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch", "gmx.fr", "web.de", "t-online.de", "freenet.de",
	"arcor.de", "posteo.de", "mailbox.org", "bluewin.ch",
	// France, Belgium, Italy, Spain, Netherlands
	"orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "neuf.fr", "bbox.fr", "club-internet.fr",
	"skynet.be", "libero.it", "virgilio.it", "tiscali.it", "terra.es", "ziggo.nl", "kpnmail.nl",
	// Nordics
	"telia.com", "spray.se", "bredband.net", "bahnhof.se", "comhem.se", "tele2.se", "online.no", "jubii.dk",
	// UK, US, Canada
	"btinternet.com", "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com", "blueyonder.co.uk",
	"comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "charter.net",
	"earthlink.net", "juno.com", "optonline.net", "shaw.ca", "rogers.com", "sympatico.ca",
	// privacy and independent providers
	"protonmail.com", "protonmail.ch", "proton.me", "pm.me", "tutanota.com", "tutanota.de", "tuta.io",
	"fastmail.com", "fastmail.fm", "hey.com", "mail.com", "email.com", "zoho.com", "zohomail.com", "hushmail.com",
	"inbox.com", "gmx.us",
	// Russia, Eastern Europe, Asia, elsewhere
	"yandex.com", "yandex.ru", "ya.ru", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "rambler.ru",
	"seznam.cz", "wp.pl", "o2.pl", "onet.pl", "interia.pl",
	"qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sohu.com", "aliyun.com",
	"naver.com", "hanmail.net", "daum.net", "rediffmail.com", "uol.com.br", "bol.com.br",
}
