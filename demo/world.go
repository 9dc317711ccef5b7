package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The world is laid out so that every row of every table is a pure function
// of (seed, table, row index): the generator never holds more than one row
// and a small per-company memo, and any table can be regenerated on its own.
//
// Entities come first. Account entity k (0 <= k < K) is account row k; the
// rows K..A-1 are later duplicates of random earlier companies. Contact
// person q (0 <= q < P) is contact row q; rows P..N-1 are duplicates. Persons
// are assigned to companies in contiguous blocks (q*K/P), which keeps the
// "is this e-mail address already taken in this company" check local. Leads,
// deals and their duplicates follow the same pattern.

// Rates of each kind of mess. Each is applied by an independent hashed or
// seeded draw, so the realised counts vary around rate*rows.
const (
	rateAccountDup     = 0.04 // account rows that are a second record of a company
	rateContactDup     = 0.03 // contact rows that are a second record of a person
	rateLeadDup        = 0.03 // lead rows that are a second record of a lead's person
	rateDealDup        = 0.02 // opportunity rows that re-enter an existing deal
	rateHubCompanyDup  = 0.03 // marketing company records duplicating a prospect
	rateLeadConverted  = 0.35 // base leads who are (also) a contact person
	rateHubContactSync = 0.20 // contact persons also in the marketing export
	rateHubCompanySync = 0.30 // account companies also in the marketing export
	rateContactOrphan  = 0.02 // contacts whose account_id is a deleted account
	rateContactNoAcct  = 0.01 // contacts without account
	rateActivityOrphan = 0.03 // activities whose contact_id is a deleted contact
	rateFreeMail       = 0.06 // persons whose own address is at a free-mail provider
	rateForeign        = 0.08 // persons living in another country than their company
	rateSubscribedWon  = 0.85 // won deals with a subscription id
	rateSupport        = 0.60 // account companies with a support summary

	// Per-record e-mail mess on a person's main record.
	rateEmailEmpty   = 0.03
	rateEmailInvalid = 0.03
	rateEmailMessy   = 0.07 // capitals and/or surrounding spaces
)

var epochStart = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)

// refNow is the generator's fixed "today" (see ReferenceTime).
var refNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// ReferenceTime is the generated world's "today", 2025-06-01 UTC: creation
// and modification times are before it (scheduled meetings and close dates
// may be after), so the data never depends on the clock.
func ReferenceTime() time.Time { return refNow }

type layout struct {
	A, K, M int // account rows, account entities, prospect companies (marketing only)
	N, P    int // contact rows, contact persons
	L, LB   int // lead rows, base lead rows
	D, DB   int // opportunity rows, deal entities
	T       int // activity rows
	U       int // sales reps (old users table)
	HD      int // duplicate marketing company records
}

func newLayout(o Options) layout {
	l := layout{A: o.Companies, N: o.Contacts, D: o.Deals}
	l.K = l.A - int(float64(l.A)*rateAccountDup)
	l.M = l.A / 2
	l.HD = int(float64(l.M) * rateHubCompanyDup)
	l.P = l.N - int(float64(l.N)*rateContactDup)
	l.L = l.N * 2 / 5
	l.LB = l.L - int(float64(l.L)*rateLeadDup)
	l.DB = l.D - int(float64(l.D)*rateDealDup)
	l.T = l.N + l.D
	l.U = min(10+l.A/40, len(repFirst)*len(repLast))
	return l
}

// blockOf returns the block of item i when n items are spread over b blocks.
func blockOf(i, n, b int) int { return int(int64(i) * int64(b) / int64(n)) }

// blockRange returns the items [lo, hi) of block k when n items are spread over b blocks.
func blockRange(k, n, b int) (lo, hi int) {
	lo = int((int64(k)*int64(n) + int64(b) - 1) / int64(b))
	hi = int((int64(k+1)*int64(n) + int64(b) - 1) / int64(b))
	return lo, hi
}

// Structural decision tags (hash3), apart from the attribute streams.
const (
	sAccountIDOff uint64 = 100 + iota
	sAccountDupTarget
	sContactIDOff
	sContactDupViaAccount
	sContactDupAccount
	sContactDupPerson
	sLeadIDOff
	sLeadConverted
	sLeadConvertedPerson
	sLeadDupTarget
	sDealIDOff
	sDealDupTarget
	sActivityIDOff
	sHubContactIDOff
	sHubContactSync
	sHubCompanyIDOff
	sHubCompanySync
	sHubCompanyDupTarget
	sRepGone
	sSupport
)

// gen derives the world for one Options. It is not safe for concurrent use;
// every pass (one table, one file) makes its own.
type gen struct {
	o    Options
	seed uint64
	lay  layout
	perm affinePerm

	rowS, perS, comS, scanS *stream

	compCache [4]company
	compValid [4]bool
	compNext  int

	reps []userRec // the sales reps (at most a few hundred)

	contactMemo emailMemo // e-mail locals taken so far in the current company block (contact persons)
	leadMemo    emailMemo // same for lead-only persons in prospect companies
}

func newGen(o Options) *gen {
	g := &gen{o: o, seed: o.Seed, lay: newLayout(o)}
	g.rowS, g.perS, g.comS, g.scanS = newStream(o.Seed), newStream(o.Seed), newStream(o.Seed), newStream(o.Seed)
	g.perm = newAffinePerm(len(companyStems)*len(companyNouns), hash3(o.Seed, tagNamePerm, 0))
	g.reps = make([]userRec, g.lay.U)
	for u := range g.reps {
		g.reps[u] = g.makeRep(u)
	}
	return g
}

// affinePerm is a bijection of [0, n): x -> (a*x + b) mod n with gcd(a, n) = 1.
type affinePerm struct{ n, a, b uint64 }

func newAffinePerm(n int, h uint64) affinePerm {
	p := affinePerm{n: uint64(n)}
	p.a = h%p.n | 1
	for gcd(p.a, p.n) != 1 {
		p.a = (p.a + 2) % p.n
	}
	p.b = (h >> 32) % p.n
	return p
}

func (p affinePerm) at(x int) int { return int((p.a*uint64(x) + p.b) % p.n) }

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ---- ids ----

// Old-CRM ids have gaps, like a system where records were deleted: each
// record takes one of two (three for contacts) consecutive numbers, and the
// other one is a "deleted" id that orphans point to.

func (g *gen) accountID(a int) int64 {
	return 1000 + 2*int64(a) + int64(hash3(g.seed, sAccountIDOff, a)&1)
}
func (g *gen) deletedAccountID(a int) int64 {
	return 1000 + 2*int64(a) + 1 - int64(hash3(g.seed, sAccountIDOff, a)&1)
}
func (g *gen) contactID(r int) int64 {
	return 100000 + 3*int64(r) + int64(hash3(g.seed, sContactIDOff, r)%3)
}
func (g *gen) deletedContactID(r int) int64 {
	return 100000 + 3*int64(r) + int64((hash3(g.seed, sContactIDOff, r)+1)%3)
}
func (g *gen) leadID(l int) int64 {
	return 5_000_000 + 2*int64(l) + int64(hash3(g.seed, sLeadIDOff, l)&1)
}
func (g *gen) oppNum(o int) int64 {
	return 10000 + 2*int64(o) + int64(hash3(g.seed, sDealIDOff, o)&1)
}
func (g *gen) oppID(o int) string { return fmt.Sprintf("OPP-%07d", g.oppNum(o)) }
func (g *gen) activityID(t int) int64 {
	return 20_000_000 + 2*int64(t) + int64(hash3(g.seed, sActivityIDOff, t)&1)
}
func (g *gen) hubContactID(h int) int64 {
	return 1001 + 3*int64(h) + int64(hash3(g.seed, sHubContactIDOff, h)%3)
}
func (g *gen) hubCompanyID(h int) int64 {
	return 80_000_001 + 3*int64(h) + int64(hash3(g.seed, sHubCompanyIDOff, h)%3)
}

// subscriptionID is billing's id for deal entity o: "sub_" and 14 base-62
// characters, 6 hashed and 8 from a bijective scramble of o (so ids are unique).
func (g *gen) subscriptionID(o int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const space = 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62 // 62^8
	h := hash3(g.seed, tagSubscription, o)
	var b [18]byte
	copy(b[:], "sub_")
	for i := 4; i < 10; i++ {
		b[i] = alphabet[h%62]
		h /= 62
	}
	// 0x9E3779B1 is odd and not a multiple of 31, so it is invertible mod 62^8.
	x := (uint64(o)*0x9E3779B1 + hash3(g.seed, tagSubscription, -1)%space) % space
	for i := 17; i >= 10; i-- {
		b[i] = alphabet[x%62]
		x /= 62
	}
	return string(b[:])
}

// sfID makes an 18-character Salesforce id (key prefix, 12 characters, and
// the case-safe checksum suffix) from a legacy number.
func sfID(prefix string, n int64) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [18]byte
	copy(b[:], prefix)
	b[3], b[4], b[5] = '5', 'g', '0'
	x := uint64(n)
	for i := 14; i >= 6; i-- {
		b[i] = alphabet[x%62]
		x /= 62
	}
	const suffix = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	for chunk := 0; chunk < 3; chunk++ {
		v := 0
		for j := 0; j < 5; j++ {
			c := b[chunk*5+j]
			if c >= 'A' && c <= 'Z' {
				v |= 1 << j
			}
		}
		b[15+chunk] = suffix[v]
	}
	return string(b[:])
}

// ---- structure ----

// accountEntity returns the company entity of account row a.
func (g *gen) accountEntity(a int) int {
	if a < g.lay.K {
		return a
	}
	return pick(g.seed, sAccountDupTarget, a, g.lay.K)
}

// companyOfPerson returns the company entity of contact person q.
func (g *gen) companyOfPerson(q int) int { return blockOf(q, g.lay.P, g.lay.K) }

// personsOfCompany returns the contact persons [lo, hi) of account entity k.
func (g *gen) personsOfCompany(k int) (int, int) { return blockRange(k, g.lay.P, g.lay.K) }

// dealsOfCompany returns the deal entities [lo, hi) of account entity k.
func (g *gen) dealsOfCompany(k int) (int, int) {
	if g.lay.DB == 0 {
		return 0, 0
	}
	return blockRange(k, g.lay.DB, g.lay.K)
}

// contactRowPerson returns the person of contact row r, and for duplicate
// rows created under a duplicate account, that account row (else -1).
func (g *gen) contactRowPerson(r int) (q, viaAccount int) {
	if r < g.lay.P {
		return r, -1
	}
	j := r - g.lay.P
	if g.lay.A > g.lay.K && chance(g.seed, sContactDupViaAccount, j, 0.5) {
		a := g.lay.K + pick(g.seed, sContactDupAccount, j, g.lay.A-g.lay.K)
		lo, hi := g.personsOfCompany(g.accountEntity(a))
		if hi > lo {
			return lo + pick(g.seed, sContactDupPerson, j, hi-lo), a
		}
	}
	return pick(g.seed, sContactDupPerson, j, g.lay.P), -1
}

// leadBase returns the base lead row of lead row l (itself for base rows).
func (g *gen) leadBase(l int) int {
	if l < g.lay.LB {
		return l
	}
	return pick(g.seed, sLeadDupTarget, l, g.lay.LB)
}

// leadConverted reports whether base lead row l is a contact person, and which.
func (g *gen) leadConverted(l int) (int, bool) {
	if g.lay.P > 0 && chance(g.seed, sLeadConverted, l, rateLeadConverted) {
		return pick(g.seed, sLeadConvertedPerson, l, g.lay.P), true
	}
	return 0, false
}

// leadPerson returns the person entity of lead row l: a contact person q, or
// P+b for the lead-only person of base lead row b.
func (g *gen) leadPerson(l int) int {
	b := g.leadBase(l)
	if q, ok := g.leadConverted(b); ok {
		return q
	}
	return g.lay.P + b
}

// prospectOfLead returns the prospect company (as company entity K+m) of a
// lead-only base lead row, or -1 when there are no prospects.
func (g *gen) prospectOfLead(b int) int {
	if g.lay.M == 0 {
		return -1
	}
	return g.lay.K + blockOf(b, g.lay.LB, g.lay.M)
}

func (g *gen) dealBase(o int) int {
	if o < g.lay.DB {
		return o
	}
	return pick(g.seed, sDealDupTarget, o, g.lay.DB)
}

func (g *gen) dealCompany(o int) int { return blockOf(g.dealBase(o), g.lay.DB, g.lay.K) }

func (g *gen) repGone(u int) bool { return u >= 2 && chance(g.seed, sRepGone, u, 0.2) }

// ---- companies ----

type company struct {
	e        int    // entity index: accounts 0..K-1, prospects K..K+M-1
	stem     string // "Nordvik Logistics" (with a city for big worlds)
	suffix   string // canonical legal suffix
	name     string // stem + " " + suffix
	domain   string
	country  string
	industry string
	phone    phone
	style    int // e-mail convention
	owner    int // rep index
	created  time.Time
}

func (g *gen) company(e int) company {
	for i := range g.compCache {
		if g.compValid[i] && g.compCache[i].e == e {
			return g.compCache[i]
		}
	}
	c := g.makeCompany(e)
	g.compCache[g.compNext], g.compValid[g.compNext] = c, true
	g.compNext = (g.compNext + 1) % len(g.compCache)
	return c
}

func (g *gen) makeCompany(e int) company {
	r := g.comS.rng(tagCompany, e)
	n := len(companyStems) * len(companyNouns)
	x := g.perm.at(e % n)
	stem := companyStems[x/len(companyNouns)] + " " + companyNouns[x%len(companyNouns)]
	level := e / n
	slug := slugify(stem)
	if level > 0 {
		city := cities[(level-1)%len(cities)]
		if level > len(cities) {
			city += " " + strconv.Itoa((level-1)/len(cities)+1)
		}
		stem += " " + city
		slug += "-" + slugify(city)
	}
	c := company{e: e, stem: stem}
	c.country = countries[weighted(r, countryWeights)]
	c.suffix = legalSuffixes[c.country][0]
	c.name = stem + " " + c.suffix
	tld := tlds[c.country]
	if c.country != "US" && r.Float64() < 0.15 {
		tld = "com"
	}
	c.domain = slug + "." + tld
	c.industry = oneOf(r, industries)
	c.phone = landline(r, c.country)
	c.style = weighted(r, []float64{0.55, 0.2, 0.1, 0.1, 0.05})
	c.owner = r.IntN(max(g.lay.U, 1))
	c.created = randTime(r, epochStart, refNow.Add(-90*24*time.Hour))
	return c
}

// slugify lower-cases s, transliterates it to ASCII and joins words with "-".
func slugify(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(ascii(w))
	}
	return b.String()
}

// asciiNames caches ascii() of every name in the word lists.
var asciiNames = func() map[string]string {
	m := map[string]string{}
	for _, nl := range names {
		for _, l := range [][]string{nl.female, nl.male, nl.last} {
			for _, n := range l {
				m[n] = asciiSlow(n)
			}
		}
	}
	for _, l := range [][]string{repFirst, repLast} {
		for _, n := range l {
			m[n] = asciiSlow(n)
		}
	}
	return m
}()

// ascii lower-cases and transliterates a name for e-mail addresses and domains.
func ascii(s string) string {
	if a, ok := asciiNames[s]; ok {
		return a
	}
	return asciiSlow(s)
}

func asciiSlow(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch c {
		case 'å', 'ä', 'à', 'â', 'á':
			b.WriteByte('a')
		case 'ö', 'ô', 'ó':
			b.WriteByte('o')
		case 'é', 'è', 'ê', 'ë':
			b.WriteByte('e')
		case 'ü', 'ù', 'û':
			b.WriteByte('u')
		case 'ï', 'î':
			b.WriteByte('i')
		case 'ç':
			b.WriteByte('c')
		case 'ß':
			b.WriteString("ss")
		default:
			if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c) || c == '-') {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

// ---- persons ----

type person struct {
	id       int // entity index: contact persons 0..P-1, lead-only persons P+b
	company  int // company entity, or -1
	country  string
	female   bool
	first    string
	last     string
	freeMail bool
	email    string // canonical: trimmed, lower-case, valid
	mobile   phone
	direct   phone
	title    string
}

// personCore draws the attributes that decide a person's e-mail address.
// It is the prefix of the person's stream, so block scans can call it alone.
func personCore(r *rand.Rand, companyCountry string) (country string, female bool, first, last string, freeMail bool) {
	country = companyCountry
	if r.Float64() < rateForeign || country == "" {
		country = countries[weighted(r, countryWeights)]
	}
	nl := names[country]
	female = r.IntN(2) == 0
	if female {
		first = oneOf(r, nl.female)
	} else {
		first = oneOf(r, nl.male)
	}
	last = oneOf(r, nl.last)
	freeMail = r.Float64() < rateFreeMail || companyCountry == ""
	return
}

func emailLocal(style int, first, last string) string {
	f, l := ascii(first), ascii(last)
	switch style {
	case 1:
		return f[:1] + "." + l
	case 2:
		return f + l
	case 3:
		return f
	case 4:
		return f + "_" + l
	}
	return f + "." + l
}

// emailMemo remembers the e-mail locals taken in one company block, so that
// generating the persons of a block in order costs O(1) each; random access
// costs a scan of the block.
type emailMemo struct {
	block int
	next  int
	taken map[string]int
}

// contactPerson returns contact person q.
func (g *gen) contactPerson(q int) person {
	k := g.companyOfPerson(q)
	c := g.company(k)
	lo, hi := g.personsOfCompany(k)
	return g.makePerson(q, g.perS.rng(tagPerson, q), c, &g.contactMemo, k, lo, hi, func(i int) (*rand.Rand, bool) {
		return g.scanS.rng(tagPerson, i), true
	})
}

// leadOnlyPerson returns the person of lead-only base lead row b.
func (g *gen) leadOnlyPerson(b int) person {
	e := g.prospectOfLead(b)
	if e < 0 {
		return g.makePerson(g.lay.P+b, g.perS.rng(tagLeadPerson, b), company{e: -1}, nil, 0, 0, 0, nil)
	}
	c := g.company(e)
	lo, hi := blockRange(e-g.lay.K, g.lay.LB, g.lay.M)
	return g.makePerson(g.lay.P+b, g.perS.rng(tagLeadPerson, b), c, &g.leadMemo, e, lo, hi, func(i int) (*rand.Rand, bool) {
		if _, conv := g.leadConverted(i); conv {
			return nil, false
		}
		return g.scanS.rng(tagLeadPerson, i), true
	})
}

// person returns person entity id (a contact person or a lead-only person).
func (g *gen) person(id int) person {
	if id < g.lay.P {
		return g.contactPerson(id)
	}
	return g.leadOnlyPerson(id - g.lay.P)
}

// maxEmailBlock is the largest company block whose addresses are made unique
// by looking at the block's earlier persons; bigger blocks (a world with
// very few companies) number every address instead, which keeps random
// access O(1).
const maxEmailBlock = 512

// makePerson derives person id from r. Within a company block [lo, hi)
// the e-mail local part of a person who shares the convention's local part
// with earlier persons gets a number ("anna2@"), so that two different
// persons never share an address. scan(i) returns the stream of the block's
// i-th item, or false when that item is not a person of this block.
func (g *gen) makePerson(id int, r *rand.Rand, c company, memo *emailMemo, block, lo, hi int, scan func(int) (*rand.Rand, bool)) person {
	p := person{id: id, company: c.e}
	p.country, p.female, p.first, p.last, p.freeMail = personCore(r, c.country)
	if p.freeMail {
		domains := freeMailAll
		if loc, ok := freeMailLocal[p.country]; ok && r.IntN(2) == 0 {
			domains = loc
		}
		p.email = ascii(p.first) + "." + ascii(p.last) + strconv.Itoa(id) + "@" + oneOf(r, domains)
	} else {
		base := emailLocal(c.style, p.first, p.last)
		if i := id - g.localOffset(id); hi-lo > maxEmailBlock {
			base += strconv.Itoa(i - lo + 1)
		} else if n := g.takenBefore(memo, block, lo, i, base, c, scan); n > 0 {
			base += strconv.Itoa(n + 1)
		}
		p.email = base + "@" + c.domain
	}
	p.mobile = mobileNumber(r, p.country)
	if r.Float64() < 0.7 {
		p.direct = c.phone.withLocal(r)
	} else {
		p.direct = c.phone
	}
	if r.Float64() < 0.9 {
		p.title = oneOf(r, titles)
	}
	return p
}

// localOffset converts a person entity id to its index in its block space.
func (g *gen) localOffset(id int) int {
	if id < g.lay.P {
		return 0
	}
	return g.lay.P
}

// takenBefore counts the persons of the block before index i whose
// corporate e-mail local part is base.
func (g *gen) takenBefore(memo *emailMemo, block, lo, i int, base string, c company, scan func(int) (*rand.Rand, bool)) int {
	if memo.taken == nil || memo.block != block || memo.next > i {
		memo.block, memo.next = block, lo
		if memo.taken == nil {
			memo.taken = map[string]int{}
		}
		clear(memo.taken)
	}
	for ; memo.next < i; memo.next++ {
		r, ok := scan(memo.next)
		if !ok {
			continue
		}
		_, _, first, last, free := personCore(r, c.country)
		if !free {
			memo.taken[emailLocal(c.style, first, last)]++
		}
	}
	n := memo.taken[base]
	memo.taken[base]++
	memo.next = i + 1
	return n
}

// ---- helpers ----

func randTime(r *rand.Rand, from, to time.Time) time.Time {
	span := to.Unix() - from.Unix()
	if span <= 0 {
		return from
	}
	return time.Unix(from.Unix()+r.Int64N(span), 0).UTC()
}

// modifiedAfter returns a modification time after created, skewed recent.
func modifiedAfter(r *rand.Rand, created time.Time) time.Time {
	span := refNow.Unix() - created.Unix()
	if span <= 1 {
		return created
	}
	f := r.Float64()
	f = 1 - f*f*f // most records were touched recently
	return time.Unix(created.Unix()+int64(f*float64(span-1)), 0).UTC()
}

// titleCase upper-cases the first letter of each dot-, dash- or space-separated part.
func titleCase(s string) string {
	b := []rune(s)
	up := true
	for i, c := range b {
		if up {
			b[i] = unicode.ToUpper(c)
		}
		up = c == '.' || c == '-' || c == ' ' || c == '@' || c == '_'
	}
	return string(b)
}

// typo transposes two adjacent letters or drops one (never the first).
func typo(r *rand.Rand, s string) string {
	rs := []rune(s)
	if len(rs) < 4 {
		return s
	}
	i := 1 + r.IntN(len(rs)-2)
	if r.IntN(2) == 0 && rs[i] != rs[i+1] {
		rs[i], rs[i+1] = rs[i+1], rs[i]
		return string(rs)
	}
	return string(append(rs[:i:i], rs[i+1:]...))
}

// stripAccents removes diacritics, keeping case ("Björn" -> "Bjorn").
func stripAccents(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < utf8.RuneSelf {
			b.WriteRune(c)
			continue
		}
		lower := unicode.ToLower(c)
		a := ascii(string(lower))
		switch {
		case a == "":
			b.WriteRune(c)
		case lower != c:
			b.WriteString(strings.ToUpper(a))
		default:
			b.WriteString(a)
		}
	}
	return b.String()
}
