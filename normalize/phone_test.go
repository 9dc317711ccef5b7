package normalize

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestNormPhone(t *testing.T) {
	type testcase struct {
		name, in, region, want string
		wantStatus             Status
	}
	n := normTestNormalizer(t) // default region SE
	cases := []testcase{
		// France: every spelling is one number.
		{"FR E.164", "+33612345678", "FR", "+33612345678", Unchanged},
		{"FR international spaced", "+33 6 12 34 56 78", "FR", "+33612345678", Normalized},
		{"FR national spaced", "06 12 34 56 78", "FR", "+33612345678", Normalized},
		{"FR national", "0612345678", "FR", "+33612345678", Normalized},
		{"FR without trunk 0", "612345678", "FR", "+33612345678", Normalized},
		{"FR 00 prefix", "0033 6 12 34 56 78", "FR", "+33612345678", Normalized},
		{"FR 00 prefix from SE", "0033 6 12 34 56 78", "", "+33612345678", Normalized},
		{"FR dots", "06.12.34.56.78", "FR", "+33612345678", Normalized},
		{"FR (0)", "+33 (0)6 12 34 56 78", "", "+33612345678", Normalized},
		{"FR NBSP", "06\u00a012\u00a034\u00a056\u00a078", "FR", "+33612345678", Normalized},
		{"FR international in default region", "+33 6 12 34 56 78", "", "+33612345678", Normalized},
		{"FR tel URI", "tel:+33-6-12-34-56-78", "", "+33612345678", Normalized},
		{"FR lower-case region", "06 12 34 56 78", "fr", "+33612345678", Normalized},
		// Sweden (the default region).
		{"SE mobile", "070-123 45 67", "", "+46701234567", Normalized},
		{"SE mobile explicit region", "070-123 45 67", "SE", "+46701234567", Normalized},
		{"SE international", "+46 70 123 45 67", "", "+46701234567", Normalized},
		{"SE international from FR", "+46 70 123 45 67", "FR", "+46701234567", Normalized},
		{"SE 0046", "0046 70 123 45 67", "", "+46701234567", Normalized},
		{"SE Stockholm", "08-123 456 78", "", "+46812345678", Normalized},
		{"SE E.164", "+46701234567", "", "+46701234567", Unchanged},
		// Germany.
		{"DE mobile", "0151 23456789", "DE", "+4915123456789", Normalized},
		{"DE (0)", "+49 (0)151 23456789", "DE", "+4915123456789", Normalized},
		{"DE (0) from SE", "+49 (0)151 23456789", "", "+4915123456789", Normalized},
		{"DE slash", "0151/23456789", "DE", "+4915123456789", Normalized},
		{"DE Berlin", "030 12345678", "DE", "+493012345678", Normalized},
		// United Kingdom.
		{"GB mobile", "07700 900123", "GB", "+447700900123", Normalized},
		{"GB international", "+44 7700 900123", "GB", "+447700900123", Normalized},
		{"GB London (0)", "+44 (0)20 7946 0123", "", "+442079460123", Normalized},
		{"GB London", "020 7946 0123", "GB", "+442079460123", Normalized},
		// United States.
		{"US parentheses", "(415) 555-2671", "US", "+14155552671", Normalized},
		{"US international", "+1 415-555-2671", "US", "+14155552671", Normalized},
		{"US international from SE", "+1 415-555-2671", "", "+14155552671", Normalized},
		{"US with 1", "1-415-555-2671", "US", "+14155552671", Normalized},
		{"US fictional 555-01XX", "(212) 555-0199", "US", "+12125550199", Normalized},
		{"US dots and x", "415.555.2671 x123", "US", "+14155552671;ext=123", Normalized},
		{"US ext.", "415-555-2671 ext. 45", "US", "+14155552671;ext=45", Normalized},
		{"US extension", "(415) 555-2671 extension 7", "US", "+14155552671;ext=7", Normalized},
		{"US x with space", "+1 415 555 2671 x 99", "", "+14155552671;ext=99", Normalized},
		{"US hash", "+1 415 555 2671 #12", "", "+14155552671;ext=12", Normalized},
		{"US canonical with ext", "+14155552671;ext=123", "", "+14155552671;ext=123", Unchanged},
		{"US EXT upper", "415-555-2671 EXT 45", "US", "+14155552671;ext=45", Normalized},
		// Italy keeps the leading 0 of landlines.
		{"IT landline", "+39 06 1234 5678", "", "+390612345678", Normalized},
		// Junk.
		{"empty", "", "", "", Empty},
		{"blank", "   ", "", "", Empty},
		{"n/a", "n/a", "", "n/a", Invalid},
		{"short", "123", "", "123", Invalid},
		{"words", "call me", "", "call me", Invalid},
		{"TBD", " TBD ", "", "TBD", Invalid},
		{"dash", "-", "", "-", Invalid},
		{"zeros", "0000", "", "0000", Invalid},
		{"zeros after trunk prefix", "0 0000000", "", "0 0000000", Invalid},
		{"country code only", "+46 70", "", "+46 70", Invalid},
		{"note after number", "06 12 34 56 78 (mobile)", "FR", "06 12 34 56 78 (mobile)", Invalid},
		{"two numbers", "06 12 34 56 78 / 01 23 45 67 89", "FR", "06 12 34 56 78 / 01 23 45 67 89", Invalid},
		{"vanity", "1-800-FLOWERS", "US", "1-800-FLOWERS", Invalid},
		{"local only", "555-2671", "US", "555-2671", Invalid},
		{"extension without digits", "+46 70 123 45 67 ext", "", "+46 70 123 45 67 ext", Invalid},
		{"extension too long", "+46 70 123 45 67 x12345678901", "", "+46 70 123 45 67 x12345678901", Invalid},
		{"plus inside", "070+1234567", "", "070+1234567", Invalid},
		{"too long", strings.Repeat("1", 65), "", strings.Repeat("1", 65), Invalid},
		{"unknown region", "0612345678", "XX", "0612345678", Invalid},
		{"invalid UTF-8", "+46\xff70 123 45 67", "", "+46\uFFFD70 123 45 67", Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, st := n.Phone(tc.in, tc.region)
			if got != tc.want || st != tc.wantStatus {
				t.Fatalf("Phone(%q, %q) = %q, %v; want %q, %v", tc.in, tc.region, got, st, tc.want, tc.wantStatus)
			}
			normCheckOutput(t, tc.in, got, st, func(s string) (string, Status) { return n.Phone(s, tc.region) })
			// A second call is served by the cache and agrees.
			if got2, st2 := n.Phone(tc.in, tc.region); got2 != got || st2 != st {
				t.Fatalf("cached Phone(%q, %q) = %q, %v; first call gave %q, %v", tc.in, tc.region, got2, st2, got, st)
			}
		})
	}
}

func TestNormPhoneNoDefaultRegion(t *testing.T) {
	n := New(Options{})
	for in, want := range map[string]string{"+33 6 12 34 56 78": "+33612345678", "0033612345678": "+33612345678"} {
		if got, st := n.Phone(in, ""); got != want || st != Normalized {
			t.Errorf("Phone(%q) without region = %q, %v; want %q", in, got, st, want)
		}
	}
	if got, st := n.Phone("0612345678", ""); st != Invalid || got != "0612345678" {
		t.Errorf("national number without region = %q, %v; want invalid", got, st)
	}
	if got, st := n.Phone("0612345678", "FR"); st != Normalized || got != "+33612345678" {
		t.Errorf("national number with region FR = %q, %v", got, st)
	}
}

// TestNormPhoneCacheConcurrent hammers the cache from several goroutines (run
// with -race) and checks that results do not depend on the cache.
func TestNormPhoneCacheConcurrent(t *testing.T) {
	n := New(Options{Region: "SE"})
	fresh := New(Options{Region: "SE"})
	values := make([]string, 300)
	for i := range values {
		switch i % 3 {
		case 0:
			values[i] = fmt.Sprintf("070-%03d %02d %02d", i, i%100, (i*7)%100)
		case 1:
			values[i] = fmt.Sprintf("+33 6 %02d %02d %02d %02d", i%100, (i*3)%100, (i*7)%100, (i*11)%100)
		default:
			values[i] = fmt.Sprintf("junk %d", i)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 20; r++ {
				for i := range values {
					v := values[(i+g*37)%len(values)]
					region := ""
					if (i+r)%5 == 0 {
						region = "FR"
					}
					got, st := n.Phone(v, region)
					want, wst := fresh.phoneUncached(v, region)
					if got != want || st != wst {
						select {
						case errs <- fmt.Sprintf("Phone(%q, %q) = %q, %v; uncached %q, %v", v, region, got, st, want, wst):
						default:
						}
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// phoneUncached is Phone without the cache, for tests.
func (n *Normalizer) phoneUncached(raw, region string) (string, Status) {
	s := normTrim(raw)
	if s == "" {
		return "", Empty
	}
	if len(s) > normMaxPhone {
		return normInvalid(s)
	}
	if region == "" {
		region = n.region
	}
	e, ok := normPhone(s, normUpperASCII(region))
	if !ok {
		return normInvalid(s)
	}
	return normResult(raw, e)
}

// TestNormPhoneCacheBounded fills the cache past its cap: it must stay bounded.
func TestNormPhoneCacheBounded(t *testing.T) {
	n := New(Options{Region: "SE"})
	total := normPhoneShards*normPhoneShardCap + normPhoneShardCap*4
	for i := 0; i < total; i++ {
		n.Phone(fmt.Sprintf("%d", 100+i), "") // mostly too short: cheap to parse
	}
	size := 0
	for i := range n.phones.shards {
		sh := &n.phones.shards[i]
		sh.mu.RLock()
		if len(sh.m) > normPhoneShardCap {
			t.Errorf("shard %d holds %d entries, cap %d", i, len(sh.m), normPhoneShardCap)
		}
		size += len(sh.m)
		sh.mu.RUnlock()
	}
	if size == 0 || size > normPhoneShards*normPhoneShardCap {
		t.Errorf("cache holds %d entries after %d values", size, total)
	}
	if got, st := n.Phone("070-123 45 67", ""); got != "+46701234567" || st != Normalized {
		t.Errorf("after eviction: %q, %v", got, st)
	}
}
