package normalize

import (
	"strings"
	"testing"
)

func TestNormEmail(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	normRunCases(t, n.Email, []testcase{
		{"canonical", "jane.doe@acme.se", "jane.doe@acme.se", Unchanged},
		{"plus and apostrophe", "o'neil+crm@acme.co.uk", "o'neil+crm@acme.co.uk", Unchanged},
		{"capitals", "Jane.Doe@ACME.se", "jane.doe@acme.se", Normalized},
		{"all upper", "JANE.DOE@ACME.SE", "jane.doe@acme.se", Normalized},
		{"spaces around", "  jane.doe@acme.se ", "jane.doe@acme.se", Normalized},
		{"tab and NBSP around", "\tjane.doe@acme.se\u00a0", "jane.doe@acme.se", Normalized},
		{"zero-width space around", "\u200bjane.doe@acme.se\u200b", "jane.doe@acme.se", Normalized},
		{"mailto", "mailto:Jane@Acme.se", "jane@acme.se", Normalized},
		{"MAILTO with query", "MAILTO:jane@acme.se?subject=Hello", "jane@acme.se", Normalized},
		{"angle brackets", "<jane@acme.se>", "jane@acme.se", Normalized},
		{"display name", "Jane Doe <Jane.Doe@Acme.se>", "jane.doe@acme.se", Normalized},
		{"quoted display name", "\"Doe, Jane\" < jane@acme.se >", "jane@acme.se", Normalized},
		{"trailing dot", "jane@acme.se.", "jane@acme.se", Normalized},
		{"subdomain kept", "jane@sales.acme.co.uk", "jane@sales.acme.co.uk", Unchanged},
		{"unicode local upper", "JOSÉ@acme.se", "josé@acme.se", Normalized},
		{"unicode local decomposed", "jose\u0301@acme.se", "josé@acme.se", Normalized},
		{"unicode local canonical", "josé@acme.se", "josé@acme.se", Unchanged},
		{"IDN domain", "jane@münchen.de", "jane@xn--mnchen-3ya.de", Normalized},
		{"IDN domain upper", "Jane@MÜNCHEN.DE", "jane@xn--mnchen-3ya.de", Normalized},
		{"punycode domain", "jane@xn--mnchen-3ya.de", "jane@xn--mnchen-3ya.de", Unchanged},
		{"punycode domain upper", "jane@XN--MNCHEN-3YA.DE", "jane@xn--mnchen-3ya.de", Normalized},
		{"reserved TLD", "revops@nordlys.example", "revops@nordlys.example", Unchanged},
		{"empty", "", "", Empty},
		{"blank", "   ", "", Empty},
		{"no domain", "jane.doe@", "jane.doe@", Invalid},
		{"not an address", "no email", "no email", Invalid},
		{"double at", "jane@@acme.se", "jane@@acme.se", Invalid},
		{"two ats", "jane@doe@acme.se", "jane@doe@acme.se", Invalid},
		{"space in local", "a b@c.com", "a b@c.com", Invalid},
		{"space before at", "jane doe @acme.se", "jane doe @acme.se", Invalid},
		{"no local", "@acme.se", "@acme.se", Invalid},
		{"no dot in domain", "jane@acme", "jane@acme", Invalid},
		{"comma in domain", "jane@acme,se", "jane@acme,se", Invalid},
		{"domain without at", "jane.acme.se", "jane.acme.se", Invalid},
		{"double dot", "jane..doe@acme.se", "jane..doe@acme.se", Invalid},
		{"leading dot", ".jane@acme.se", ".jane@acme.se", Invalid},
		{"trailing dot local", "jane.@acme.se", "jane.@acme.se", Invalid},
		{"hyphen label", "jane@-acme.se", "jane@-acme.se", Invalid},
		{"empty label", "jane@acme..se", "jane@acme..se", Invalid},
		{"IP domain", "jane@192.168.1.1", "jane@192.168.1.1", Invalid},
		{"IP literal", "jane@[192.168.1.1]", "jane@[192.168.1.1]", Invalid},
		{"one-letter TLD", "jane@acme.s", "jane@acme.s", Invalid},
		{"quoted local", "\"jane doe\"@acme.se", "\"jane doe\"@acme.se", Invalid},
		{"unclosed bracket", "jane@acme.se>", "jane@acme.se>", Invalid},
		{"n/a", " n/a ", "n/a", Invalid},
		{"mailto alone", "mailto:", "mailto:", Invalid},
		{"long local", strings.Repeat("a", 65) + "@acme.se", strings.Repeat("a", 65) + "@acme.se", Invalid},
		{"long label", "jane@" + strings.Repeat("a", 64) + ".se", "jane@" + strings.Repeat("a", 64) + ".se", Invalid},
		{"invalid UTF-8", "jane\xff@acme.se", "jane\uFFFD@acme.se", Invalid},
		{"bad punycode", "jane@xn--.se", "jane@xn--.se", Invalid},
	})
}

func TestNormDomain(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	normRunCases(t, n.Domain, []testcase{
		{"canonical", "acme.se", "acme.se", Unchanged},
		{"canonical co.uk", "acme.co.uk", "acme.co.uk", Unchanged},
		{"URL with www path and query", "https://www.Acme.se/contact?x=1", "acme.se", Normalized},
		{"URL co.uk", "https://www.acme.co.uk/x", "acme.co.uk", Normalized},
		{"scheme upper", "HTTP://Acme.se", "acme.se", Normalized},
		{"email", "jane@sales.acme.co.uk", "acme.co.uk", Normalized},
		{"email with display name", "Jane <jane@acme.se>", "acme.se", Normalized},
		{"mailto", "mailto:jane@acme.se", "acme.se", Normalized},
		{"host upper with port", "WWW.ACME.SE:443", "acme.se", Normalized},
		{"trailing dot", "acme.se.", "acme.se", Normalized},
		{"subdomain and port", "sub.acme.se:8080", "acme.se", Normalized},
		{"userinfo port fragment", "https://user:pw@www.acme.se:8443/x#top", "acme.se", Normalized},
		{"scheme-relative", "//cdn.acme.se/x.js", "acme.se", Normalized},
		{"www only", "www.acme.se", "acme.se", Normalized},
		{"spaces", "  acme.se  ", "acme.se", Normalized},
		{"punycode", "xn--mnchen-3ya.de", "xn--mnchen-3ya.de", Unchanged},
		{"punycode upper", "XN--MNCHEN-3YA.DE", "xn--mnchen-3ya.de", Normalized},
		{"unicode IDN", "münchen.de", "xn--mnchen-3ya.de", Normalized},
		{"unicode IDN in URL", "https://www.München.de/über", "xn--mnchen-3ya.de", Normalized},
		{"unicode email domain", "anna@bücher.example", "xn--bcher-kva.example", Normalized},
		{"private suffix kept", "acme.github.io", "acme.github.io", Unchanged},
		{"private suffix subdomain", "shop.acme.github.io", "acme.github.io", Normalized},
		{"reserved TLD", "nordlys.example", "nordlys.example", Unchanged},
		{"free mail is a domain", "jane@gmail.com", "gmail.com", Normalized},
		{"empty", "", "", Empty},
		{"blank", " \t ", "", Empty},
		{"IPv4", "192.168.1.1", "192.168.1.1", Invalid},
		{"IPv4 URL", "http://192.168.1.1/admin", "http://192.168.1.1/admin", Invalid},
		{"IPv6 URL", "http://[::1]:8080/", "http://[::1]:8080/", Invalid},
		{"localhost", "localhost", "localhost", Invalid},
		{"localhost URL", "http://localhost:8080", "http://localhost:8080", Invalid},
		{"public suffix", "co.uk", "co.uk", Invalid},
		{"TLD", "com", "com", Invalid},
		{"www public suffix", "www.co.uk", "www.co.uk", Invalid},
		{"single label", "acme", "acme", Invalid},
		{"words", "not a domain", "not a domain", Invalid},
		{"space inside", "acme .se", "acme .se", Invalid},
		{"underscore", "acme_corp.se", "acme_corp.se", Invalid},
		{"leading hyphen", "-acme.se", "-acme.se", Invalid},
		{"bad port", "acme.se:http", "acme.se:http", Invalid},
		{"scheme only", "https://", "https://", Invalid},
		{"n/a", "n/a", "n/a", Invalid},
		{"invalid UTF-8", "m\xfcnchen.de", "m\uFFFDnchen.de", Invalid},
	})
}

func TestNormCompanyDomain(t *testing.T) {
	type testcase = normTestCase
	n := New(Options{FreeMailDomains: []string{"Fastpost.Example", " https://www.mailbox-corp.example/ "}})
	for _, tc := range []testcase{
		{"company", "https://www.acme.se", "acme.se", Normalized},
		{"company email", "jane@sales.acme.co.uk", "acme.co.uk", Normalized},
		{"canonical", "acme.se", "acme.se", Unchanged},
		{"gmail", "gmail.com", "", Empty},
		{"gmail address", "Jane.Doe@GMAIL.com", "", Empty},
		{"hotmail UK", "jane@hotmail.co.uk", "", Empty},
		{"yahoo subdomain", "jane@mail.yahoo.fr", "", Empty},
		{"orange", "https://www.orange.fr", "", Empty},
		{"extra from options", "jane@fastpost.example", "", Empty},
		{"extra from options as URL", "mailbox-corp.example", "", Empty},
		{"not free", "jane@nordlys.example", "nordlys.example", Normalized},
		{"empty", "", "", Empty},
		{"invalid stays invalid", "localhost", "localhost", Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := n.CompanyDomain(tc.in)
			if got != tc.want || st != tc.wantStatus {
				t.Fatalf("CompanyDomain(%q) = %q, %v; want %q, %v", tc.in, got, st, tc.want, tc.wantStatus)
			}
		})
	}
}

func TestNormIsFreeMail(t *testing.T) {
	n := New(Options{FreeMailDomains: []string{"fastpost.example"}})
	for in, want := range map[string]bool{
		"gmail.com": true, "GMail.com": true, "jane@gmail.com": true, "googlemail.com": true,
		"outlook.com": true, "hotmail.fr": true, "hotmail.de": true, "hotmail.co.uk": true, "live.com": true,
		"yahoo.co.uk": true, "ymail.com": true, "icloud.com": true, "me.com": true, "gmx.net": true, "web.de": true,
		"t-online.de": true, "orange.fr": true, "wanadoo.fr": true, "free.fr": true, "laposte.net": true,
		"proton.me": true, "telia.com": true, "spray.se": true, "bredband.net": true, "btinternet.com": true,
		"comcast.net": true, "qq.com": true, "mail.ru": true, "https://www.web.de/": true,
		"fastpost.example": true, "anna@fastpost.example": true,
		"acme.se": false, "google.com": false, "nordlys.example": false, "": false, "localhost": false, "not a domain": false,
	} {
		if got := n.IsFreeMail(in); got != want {
			t.Errorf("IsFreeMail(%q) = %v, want %v", in, got, want)
		}
	}
	// The built-in list holds registrable domains only, so lookups of
	// canonical domains hit it directly.
	for _, d := range normFreeMail {
		if c, st := n.Domain(d); c != d || st != Unchanged {
			t.Errorf("built-in free-mail domain %q is not canonical: Domain = %q, %v", d, c, st)
		}
	}
}

func TestNormURL(t *testing.T) {
	type testcase = normTestCase
	n := normTestNormalizer(t)
	normRunCases(t, n.URL, []testcase{
		{"canonical", "https://acme.se", "https://acme.se", Unchanged},
		{"canonical with path", "https://www.acme.se/contact?x=1#top", "https://www.acme.se/contact?x=1#top", Unchanged},
		{"no scheme", "acme.se", "https://acme.se", Normalized},
		{"no scheme with www and path", "www.acme.se/contact", "https://www.acme.se/contact", Normalized},
		{"upper scheme and host", "HTTP://WWW.Acme.SE/Path?Q=1", "http://www.acme.se/Path?Q=1", Normalized},
		{"trailing slash of empty path", "https://acme.se/", "https://acme.se", Normalized},
		{"trailing slash of path kept", "https://acme.se/about/", "https://acme.se/about/", Unchanged},
		{"slash before query kept", "https://acme.se/?x=1", "https://acme.se/?x=1", Unchanged},
		{"default https port", "https://acme.se:443/x", "https://acme.se/x", Normalized},
		{"default http port", "http://acme.se:80", "http://acme.se", Normalized},
		{"other port kept", "http://acme.se:8080/", "http://acme.se:8080", Normalized},
		{"port leading zero", "https://acme.se:08080", "https://acme.se:8080", Normalized},
		{"empty port", "https://acme.se:/x", "https://acme.se/x", Normalized},
		{"no scheme with port", "acme.se:8080/x", "https://acme.se:8080/x", Normalized},
		{"host trailing dot", "https://acme.se./x", "https://acme.se/x", Normalized},
		{"scheme-relative", "//acme.se/x", "https://acme.se/x", Normalized},
		{"IDN host", "https://münchen.de/über", "https://xn--mnchen-3ya.de/über", Normalized},
		{"userinfo kept", "https://Anna@acme.se", "https://Anna@acme.se", Unchanged},
		{"IPv4 host", "https://192.168.1.1/admin", "https://192.168.1.1/admin", Unchanged},
		{"IPv6 host", "http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080", Normalized},
		{"spaces around", "  https://acme.se  ", "https://acme.se", Normalized},
		{"empty", "", "", Empty},
		{"ftp", "ftp://acme.se/file", "ftp://acme.se/file", Invalid},
		{"mailto", "mailto:jane@acme.se", "mailto:jane@acme.se", Invalid},
		{"javascript", "javascript:alert(1)", "javascript:alert(1)", Invalid},
		{"scheme only", "https://", "https://", Invalid},
		{"localhost", "http://localhost:3000", "http://localhost:3000", Invalid},
		{"space in host", "https://acme .se", "https://acme .se", Invalid},
		{"space in path", "https://acme.se/about us", "https://acme.se/about us", Invalid},
		{"words", "see website", "see website", Invalid},
		{"port too big", "https://acme.se:99999", "https://acme.se:99999", Invalid},
		{"unclosed IPv6", "https://[::1", "https://[::1", Invalid},
		{"invalid UTF-8", "https://acme.se/\xff", "https://acme.se/\uFFFD", Invalid},
	})
}
