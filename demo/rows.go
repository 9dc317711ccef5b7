package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Records of each table, as the generator makes them. Empty strings are
// NULL in the database. The unexported meta fields (entity, kinds) feed the
// ground truth, the Summary and the tests.

type userRec struct {
	id           int
	email, name  string
	active, gone bool
}

type accountRec struct {
	row, entity                                    int
	id                                             int64
	name, website, phone, country, industry, owner string
	created, modified                              time.Time
	phoneKind                                      string
}

type contactRec struct {
	row, person                              int
	id                                       int64
	first, last, email, phone, mobile, title string
	accountID                                int64 // 0: NULL
	accountRow                               int   // the account row it means (also for orphans), -1: none
	orphan                                   bool  // accountID is a deleted account
	owner, lifecycle, country                string
	created, modified                        time.Time
	emailKind                                emailKind
	phoneKind, mobileKind                    string
}

type leadRec struct {
	row, person                                     int
	id                                              int64
	first, last, email, phone, companyName, website string
	source, status                                  string
	score                                           int
	created, modified                               time.Time
	emailKind                                       emailKind
	phoneKind                                       string
	converted                                       bool
}

type oppRec struct {
	row, deal                              int
	id                                     string
	name                                   string
	accountID                              int64
	accountRow                             int
	contactID                              int64 // 0: NULL
	amount, stage, closeDate, subID, owner string
	created, modified                      time.Time
}

type activityRec struct {
	row                       int
	id                        int64
	kind, subject             string
	contactID                 int64
	orphan                    bool
	oppID                     string
	startsAt                  time.Time
	duration                  int // -1: NULL
	outcome, direction, owner string
	modified                  time.Time
}

type supportRec struct {
	accountID int64
	open      int
	severity  string
	updated   time.Time
}

type subscriptionRec struct {
	subID        string
	accountID    int64
	status, plan string
	updated      time.Time
}

type hubContactRec struct {
	h, person                                              int
	recordID                                               int64
	first, last, email, phone, companyName, website, stage string
	created, modified                                      time.Time
}

type hubCompanyRec struct {
	h, entity                    int
	recordID                     int64
	name, domain, phone, country string
	modified                     time.Time
}

// personalNum numbers the records that may carry a personal free-mail
// address, after the person ids, so that every such address is unique.
func (g *gen) personalNum(space, i int) int {
	base := g.lay.P + g.lay.LB
	switch space {
	case 1: // contact rows
		return base + i
	case 2: // lead rows
		return base + g.lay.N + i
	}
	return base + g.lay.N + g.lay.L + i // marketing records
}

// ---- users ----

func (g *gen) rep(u int) userRec { return g.reps[u] }

func (g *gen) makeRep(u int) userRec {
	n := len(repFirst) * len(repLast)
	x := (u*7919 + int(g.seed%uint64(n))) % n
	first, last := repFirst[x/len(repLast)], repLast[x%len(repLast)]
	return userRec{
		id:    u + 1,
		name:  first + " " + last,
		email: ascii(first) + "." + ascii(last) + "@" + vendorDomain,
		gone:  g.repGone(u),
	}
}

func (g *gen) userAt(u int, rec *userRec) bool {
	*rec = g.rep(u)
	rec.active = !rec.gone
	return true
}

// ownerEmail writes rep u's address as a record's owner.
func (g *gen) ownerEmail(r *rand.Rand, u int) string {
	if g.lay.U == 0 {
		return ""
	}
	e := g.rep(u % g.lay.U).email
	switch x := r.Float64(); {
	case x < 0.02:
		return titleCase(e)
	case x < 0.03:
		return ""
	}
	return e
}

// ---- accounts ----

func websiteFor(r *rand.Rand, domain string) string {
	switch weighted(r, []float64{0.2, 0.08, 0.25, 0.2, 0.15, 0.07, 0.05}) {
	case 0:
		return "https://www." + domain + oneOf(r, []string{"/contact", "/en/", "/about-us", "/", "/?utm_source=crm", "/fr/accueil"})
	case 1:
		return "HTTP://" + titleCase(domain)
	case 2:
		return domain
	case 3:
		return "www." + domain
	case 4:
		return "https://www." + domain
	case 5:
		return "http://" + domain + "/"
	}
	return ""
}

var countryVariants = map[string][]string{
	"SE": {"Sweden", "se", "Sverige"}, "FR": {"France", "fr"}, "DE": {"Germany", "Deutschland", "de"},
	"GB": {"UK", "United Kingdom", "gb"}, "US": {"USA", "United States", "us"},
}

var countryNames = map[string]string{"SE": "Sweden", "FR": "France", "DE": "Germany", "GB": "United Kingdom", "US": "United States"}

func countryField(r *rand.Rand, c string) string {
	switch x := r.Float64(); {
	case x < 0.05:
		return oneOf(r, countryVariants[c])
	case x < 0.07:
		return ""
	}
	return c
}

// companyNameVariant writes a company's name as someone typed it.
func companyNameVariant(r *rand.Rand, c company, dup bool) string {
	if !dup {
		switch x := r.Float64(); {
		case x < 0.05:
			return c.stem + " " + oneOf(r, legalSuffixes[c.country][1:])
		case x < 0.08:
			return typo(r, c.stem) + " " + c.suffix
		case x < 0.10:
			return strings.ToUpper(c.name)
		}
		return c.name
	}
	switch weighted(r, []float64{0.25, 0.2, 0.2, 0.15, 0.2}) {
	case 0:
		return c.stem + " " + oneOf(r, legalSuffixes[c.country][1:])
	case 1:
		return typo(r, c.stem) + " " + c.suffix
	case 2:
		return c.stem
	case 3:
		return strings.ToUpper(c.stem)
	}
	return c.name
}

func (g *gen) accountAt(a int, rec *accountRec) bool {
	k := g.accountEntity(a)
	c := g.company(k)
	r := g.rowS.rng(tagAccountRow, a)
	dup := a >= g.lay.K
	*rec = accountRec{row: a, entity: k, id: g.accountID(a)}
	rec.name = companyNameVariant(r, c, dup)
	rec.website = websiteFor(r, c.domain)
	rec.phone, rec.phoneKind = c.phone.format(r, mixPhone)
	rec.country = countryField(r, c.country)
	if r.Float64() < 0.9 {
		rec.industry = c.industry
	}
	owner := c.owner
	if dup {
		owner = r.IntN(max(g.lay.U, 1))
	}
	rec.owner = g.ownerEmail(r, owner)
	rec.created = c.created
	if dup {
		rec.created = randTime(r, c.created, refNow.Add(-24*time.Hour))
	}
	rec.modified = modifiedAfter(r, rec.created)
	return true
}

// ---- contacts ----

var lifecycles = []string{"Lead", "MQL", "SQL", "Customer", "Churned"}
var lifecycleWeights = []float64{0.2, 0.1, 0.12, 0.48, 0.1}
var oddLifecycles = []string{"customer ", "Prospect?", "CUSTOMER", "lead", "Cust.", "Partner", "sql", "Ex-customer"}

func lifecycle(r *rand.Rand) string {
	if r.Float64() < 0.05 {
		return oneOf(r, oddLifecycles)
	}
	return lifecycles[weighted(r, lifecycleWeights)]
}

// nameVariant writes a person's name on a second record of the same person.
func nameVariant(r *rand.Rand, p person) (string, string) {
	switch weighted(r, []float64{0.3, 0.2, 0.15, 0.15, 0.1, 0.1}) {
	case 1:
		if n, ok := nicknames[p.first]; ok {
			return n, p.last
		}
		return p.first, p.last
	case 2, 3:
		return p.first, typo(r, p.last)
	case 4:
		if r.IntN(2) == 0 {
			return p.first, strings.ToUpper(p.last)
		}
		return strings.ToLower(p.first), strings.ToLower(p.last)
	case 5:
		return stripAccents(p.first), stripAccents(p.last)
	}
	return p.first, p.last
}

// mainName writes a person's name on its main record: mostly right.
func mainName(r *rand.Rand, p person) (string, string) {
	switch x := r.Float64(); {
	case x < 0.02:
		return strings.ToLower(p.first), strings.ToLower(p.last)
	case x < 0.03:
		return p.first + " ", p.last
	case x < 0.04:
		return p.first, strings.ToUpper(p.last)
	}
	return p.first, p.last
}

func (g *gen) contactAt(row int, rec *contactRec) bool {
	q, viaAccount := g.contactRowPerson(row)
	p := g.contactPerson(q)
	r := g.rowS.rng(tagContactRow, row)
	dup := row >= g.lay.P
	*rec = contactRec{row: row, person: q, id: g.contactID(row)}
	if dup {
		rec.first, rec.last = nameVariant(r, p)
		rec.email, rec.emailKind = emailFor(r, p, mixDupEmail, g.personalNum(1, row))
	} else {
		rec.first, rec.last = mainName(r, p)
		rec.email, rec.emailKind = emailFor(r, p, mixMainEmail, 0)
	}
	rec.phone, rec.phoneKind = p.direct.format(r, mixPhone)
	rec.mobile, rec.mobileKind = p.mobile.format(r, mixMobile)
	rec.title = p.title
	k := g.companyOfPerson(q)
	rec.accountRow = k
	if viaAccount >= 0 {
		rec.accountRow = viaAccount
	}
	switch x := r.Float64(); {
	case x < rateContactNoAcct:
		rec.accountRow = -1
	case x < rateContactNoAcct+rateContactOrphan:
		rec.accountID, rec.orphan = g.deletedAccountID(rec.accountRow), true
	default:
		rec.accountID = g.accountID(rec.accountRow)
	}
	owner := g.company(k).owner
	if r.Float64() < 0.3 {
		owner = r.IntN(max(g.lay.U, 1))
	}
	rec.owner = g.ownerEmail(r, owner)
	rec.lifecycle = lifecycle(r)
	rec.country = countryField(r, p.country)
	rec.created = randTime(r, g.company(k).created, refNow.Add(-7*24*time.Hour))
	rec.modified = modifiedAfter(r, rec.created)
	return true
}

// ---- leads ----

func (g *gen) leadAt(l int, rec *leadRec) bool {
	b := g.leadBase(l)
	q, converted := g.leadConverted(b)
	var p person
	if converted {
		p = g.contactPerson(q)
	} else {
		p = g.leadOnlyPerson(b)
	}
	r := g.rowS.rng(tagLeadRow, l)
	dup := l >= g.lay.LB
	*rec = leadRec{row: l, person: p.id, id: g.leadID(l), converted: converted}
	switch {
	case dup:
		rec.first, rec.last = nameVariant(r, p)
		rec.email, rec.emailKind = emailFor(r, p, mixDupEmail, g.personalNum(2, l))
	case converted:
		if r.Float64() < 0.8 {
			rec.first, rec.last = p.first, p.last
		} else {
			rec.first, rec.last = nameVariant(r, p)
		}
		rec.email, rec.emailKind = emailFor(r, p, mixConvertedEmail, g.personalNum(2, l))
	default:
		rec.first, rec.last = mainName(r, p)
		rec.email, rec.emailKind = emailFor(r, p, mixMainEmail, 0)
	}
	num := p.mobile
	if r.IntN(3) == 0 {
		num = p.direct
	}
	rec.phone, rec.phoneKind = num.format(r, mixLead)
	if p.company >= 0 {
		c := g.company(p.company)
		switch x := r.Float64(); {
		case x < 0.4:
			rec.companyName = c.stem
		case x < 0.7:
			rec.companyName = c.name
		case x < 0.82:
			rec.companyName = strings.ToLower(c.stem)
		case x < 0.87:
			rec.companyName = typo(r, c.stem)
		case x < 0.9:
			rec.companyName = strings.Fields(c.stem)[0]
		}
		rec.website = websiteFor(r, c.domain)
	} else if r.IntN(3) == 0 {
		rec.companyName = oneOf(r, []string{"Freelance", "Self-employed", "n/a", "Student"})
	}
	rec.source = oneOf(r, leadSources)
	rec.score = r.IntN(101)
	if r.Float64() < 0.01 {
		rec.score = -r.IntN(20) - 1
	}
	switch {
	case converted && r.Float64() < 0.75:
		rec.status = "Converted"
	case r.Float64() < 0.02:
		rec.status = oneOf(r, []string{"qualified?", "Working ", "OPEN", "Recycled"})
	default:
		rec.status = oneOf(r, leadStatuses[:4])
	}
	rec.created = randTime(r, epochStart.AddDate(1, 0, 0), refNow.Add(-24*time.Hour))
	rec.modified = modifiedAfter(r, rec.created)
	return true
}

// ---- opportunities ----

var stages = []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
var stageWeights = []float64{0.1, 0.1, 0.1, 0.1, 0.4, 0.2}
var oddStages = []string{"closed won", "Won", "On hold", "Closed Won ", "Lost - no budget", "Negotiation/Review"}

var currencies = map[string]string{"SE": "SEK", "FR": "EUR", "DE": "EUR", "GB": "GBP", "US": "USD"}

type deal struct {
	base      int
	company   int
	noun      string
	cents     int64
	currency  string
	stage     string
	close     time.Time
	contact   int // contact person, -1: none
	subID     string
	owner     int
	created   time.Time
	subStatus string
	plan      string
}

func (g *gen) dealEntity(o int) deal {
	k := blockOf(o, g.lay.DB, g.lay.K)
	c := g.company(k)
	r := g.perS.rng(tagDealEntity, o)
	d := deal{base: o, company: k, contact: -1}
	d.noun = oneOf(r, dealNouns)
	d.currency = currencies[c.country]
	amount := math.Exp(math.Log(1000) + r.Float64()*(math.Log(250000)-math.Log(1000)))
	if d.currency == "SEK" {
		amount *= 10
	}
	d.cents = int64(amount/100) * 100 * 100
	if r.IntN(5) == 0 {
		d.cents += int64(r.IntN(100)) * 100 // some amounts have cents-free odd euros
	}
	d.stage = stages[weighted(r, stageWeights)]
	d.created = randTime(r, c.created, refNow.Add(-30*24*time.Hour))
	d.close = d.created.AddDate(0, 0, 30+r.IntN(150)).Truncate(24 * time.Hour)
	if lo, hi := g.personsOfCompany(k); hi > lo && r.Float64() < 0.9 {
		d.contact = lo + r.IntN(hi-lo)
	}
	switch {
	case d.stage == "Closed Won" && r.Float64() < rateSubscribedWon:
		d.subID = g.subscriptionID(o)
		d.subStatus = []string{"active", "past_due", "cancelled"}[weighted(r, []float64{0.75, 0.1, 0.15})]
	case d.stage == "Negotiation" && r.Float64() < 0.2:
		d.subID = g.subscriptionID(o)
		d.subStatus = "trialing"
	}
	switch {
	case amount < 10000:
		d.plan = "starter"
	case amount < 60000:
		d.plan = "growth"
	default:
		d.plan = "enterprise"
	}
	d.owner = c.owner
	if r.Float64() < 0.2 {
		d.owner = r.IntN(max(g.lay.U, 1))
	}
	return d
}

// groupThousands writes n with sep between groups of three digits.
func groupThousands(n int64, sep string) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// amountText writes an amount the many ways people type money.
func amountText(r *rand.Rand, cents int64, cur string) string {
	units, frac := cents/100, cents%100
	switch x := r.Float64(); {
	case x < 0.01:
		return "-" + strconv.FormatInt(units, 10)
	case x < 0.03:
		return ""
	case x < 0.04:
		return oneOf(r, []string{"TBD", "see quote", "?"})
	}
	switch r.IntN(7) {
	case 0:
		return groupThousands(units, " ") + fmt.Sprintf(",%02d ", frac) + cur
	case 1:
		sym := map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "SEK": "kr "}[cur]
		if cur == "SEK" {
			return groupThousands(units, " ") + " kr"
		}
		return sym + groupThousands(units, ",") + fmt.Sprintf(".%02d", frac)
	case 2:
		return strconv.FormatInt(units, 10)
	case 3:
		return "€" + groupThousands(units, ".") + fmt.Sprintf(",%02d", frac)
	case 4:
		return fmt.Sprintf("%d.%02d", units, frac)
	case 5:
		return cur + " " + groupThousands(units, ",")
	}
	return groupThousands(units, " ") + " " + cur
}

// dateText writes a date in one of the formats found in a legacy CRM.
func dateText(r *rand.Rand, t time.Time) string {
	switch x := r.Float64(); {
	case x < 0.05:
		return ""
	case x < 0.07:
		return oneOf(r, []string{fmt.Sprintf("31/02/%d", t.Year()), fmt.Sprintf("%d-13-01", t.Year()), "00/00/0000", "TBD", fmt.Sprintf("%d-02-30", t.Year())})
	}
	return t.Format(oneOf(r, []string{"2006-01-02", "2006-01-02", "02/01/2006", "01/02/2006", "02.01.2006", "January 2, 2006", "2006-01-02T15:04:05Z", "2 Jan 2006", "2006/01/02"}))
}

func (g *gen) oppAt(o int, rec *oppRec) bool {
	base := g.dealBase(o)
	d := g.dealEntity(base)
	c := g.company(d.company)
	r := g.rowS.rng(tagDealRow, o)
	dup := o >= g.lay.DB
	*rec = oppRec{row: o, deal: base, id: g.oppID(o), accountRow: d.company, accountID: g.accountID(d.company)}
	rec.name = c.stem + " - " + d.noun
	if dup {
		switch r.IntN(4) {
		case 0:
			rec.name += " (copy)"
		case 1:
			rec.name = strings.ToLower(rec.name)
		case 2:
			rec.name = c.stem + " – " + d.noun
		}
	}
	if d.contact >= 0 {
		rec.contactID = g.contactID(d.contact)
	}
	rec.amount = amountText(r, d.cents, d.currency)
	rec.stage = d.stage
	if r.Float64() < 0.05 {
		rec.stage = oneOf(r, oddStages)
	}
	rec.closeDate = dateText(r, d.close)
	rec.subID = d.subID
	switch {
	case dup && r.Float64() < 0.4:
		rec.subID = ""
	case rec.subID != "" && r.Float64() < 0.02:
		rec.subID = " " + rec.subID
	}
	rec.owner = g.ownerEmail(r, d.owner)
	rec.created = d.created
	if dup {
		rec.created = randTime(r, d.created, refNow.Add(-24*time.Hour))
	}
	rec.modified = modifiedAfter(r, rec.created)
	return true
}

// ---- activities ----

func (g *gen) activityAt(t int, rec *activityRec) bool {
	r := g.rowS.rng(tagActivityRow, t)
	*rec = activityRec{row: t, id: g.activityID(t), duration: -1}
	var k int
	if g.lay.P > 0 {
		q := r.IntN(g.lay.P)
		if r.Float64() < rateActivityOrphan {
			rec.contactID, rec.orphan = g.deletedContactID(q), true
		} else {
			rec.contactID = g.contactID(q)
		}
		k = g.companyOfPerson(q)
	} else {
		k = r.IntN(g.lay.K)
	}
	if r.Float64() < 0.4 {
		if lo, hi := g.dealsOfCompany(k); hi > lo {
			rec.oppID = g.oppID(lo + r.IntN(hi-lo))
		}
	}
	rec.startsAt = randTime(r, refNow.AddDate(-3, 0, 0), refNow)
	switch weighted(r, []float64{0.4, 0.35, 0.25}) {
	case 0:
		rec.kind = "meeting"
		rec.subject = oneOf(r, meetingSubjects)
		rec.duration = oneOf(r, []int{30, 30, 45, 60, 60, 90})
		rec.outcome = []string{"held", "cancelled", "no_show"}[weighted(r, []float64{0.75, 0.15, 0.1})]
		if r.Float64() < 0.02 {
			rec.outcome = oneOf(r, []string{"Held", "no-show", "rescheduled", ""})
		}
		if r.Float64() < 0.05 {
			rec.startsAt = randTime(r, refNow, refNow.AddDate(0, 0, 30))
			rec.outcome = ""
		}
	case 1:
		rec.kind = "call"
		rec.subject = oneOf(r, callSubjects)
		rec.direction = oneOf(r, []string{"inbound", "outbound", "outbound"})
		rec.outcome = []string{"connected", "no_answer", "voicemail"}[weighted(r, []float64{0.6, 0.25, 0.15})]
		rec.duration = 0
		if rec.outcome == "connected" {
			rec.duration = 1 + r.IntN(45)
		}
	default:
		rec.kind = "email"
		rec.subject = oneOf(r, emailSubjects)
		rec.direction = oneOf(r, []string{"inbound", "outbound"})
	}
	rec.owner = g.ownerEmail(r, r.IntN(max(g.lay.U, 1)))
	rec.modified = rec.startsAt.Add(time.Duration(r.IntN(72*60)) * time.Minute)
	if rec.modified.After(refNow) {
		rec.modified = refNow.Add(-time.Duration(1+r.IntN(600)) * time.Minute)
	}
	return true
}

// ---- integrations: support and billing ----

func (g *gen) supportAt(k int, rec *supportRec) bool {
	if !chance(g.seed, sSupport, k, rateSupport) {
		return false
	}
	r := g.rowS.rng(tagSupport, k)
	*rec = supportRec{accountID: g.accountID(k)}
	rec.open = int(r.ExpFloat64() * 2)
	switch {
	case rec.open == 0:
		rec.severity = "low"
		if r.IntN(2) == 0 {
			rec.severity = ""
		}
	default:
		rec.severity = []string{"low", "normal", "high", "urgent"}[weighted(r, []float64{0.3, 0.45, 0.18, 0.07})]
	}
	if r.Float64() < 0.01 {
		rec.severity = oneOf(r, []string{"URGENT", "critical", "Normal"})
	}
	rec.updated = randTime(r, refNow.AddDate(0, -2, 0), refNow)
	return true
}

func (g *gen) subscriptionAt(o int, rec *subscriptionRec) bool {
	d := g.dealEntity(o)
	if d.subID == "" {
		return false
	}
	r := g.rowS.rng(tagSubscription, o)
	*rec = subscriptionRec{subID: d.subID, accountID: g.accountID(d.company), status: d.subStatus, plan: d.plan}
	rec.updated = randTime(r, minTime(d.close, refNow.Add(-24*time.Hour)), refNow)
	return true
}

// ---- marketing export ----

var hubStages = map[string]string{"Open": "lead", "Working": "marketingqualifiedlead", "Nurturing": "subscriber", "Unqualified": "other", "Converted": "salesqualifiedlead"}

func (g *gen) hubContactAt(h int, rec *hubContactRec) bool {
	if h < g.lay.L {
		var lead leadRec
		g.leadAt(h, &lead)
		r := g.rowS.rng(tagHubContactRow, h) // after leadAt, which uses the same stream
		*rec = hubContactRec{h: h, person: lead.person, recordID: g.hubContactID(h)}
		rec.first, rec.last = lead.first, lead.last
		if validEmail(lead.email) {
			rec.email = normalizeEmail(lead.email) // the marketing tool stores addresses normalized
		}
		rec.phone = lead.phone
		if r.Float64() < 0.3 {
			p := g.person(lead.person)
			rec.phone, _ = p.mobile.format(r, mixLead)
		}
		rec.companyName, rec.website = lead.companyName, lead.website
		rec.stage = hubStages[lead.status]
		switch {
		case rec.stage == "":
			rec.stage = "lead"
		case lead.score >= 60 && rec.stage == "lead":
			rec.stage = "marketingqualifiedlead"
		}
		rec.created = lead.created.Add(-time.Duration(r.IntN(3600)) * time.Second)
		rec.modified = modifiedAfter(r, lead.created)
		return true
	}
	q := h - g.lay.L
	if !chance(g.seed, sHubContactSync, q, rateHubContactSync) {
		return false
	}
	p := g.contactPerson(q)
	r := g.rowS.rng(tagHubContactRow, h)
	c := g.company(p.company)
	*rec = hubContactRec{h: h, person: q, recordID: g.hubContactID(h)}
	rec.first, rec.last = p.first, p.last
	if r.Float64() < 0.1 {
		rec.first, rec.last = nameVariant(r, p)
	}
	rec.email = p.email
	if r.Float64() < 0.05 {
		rec.email = personalEmail(r, p, g.personalNum(3, h))
	}
	rec.phone, _ = p.mobile.format(r, mixLead)
	rec.companyName = c.stem
	rec.website = c.domain
	rec.stage = oneOf(r, []string{"customer", "customer", "opportunity", "salesqualifiedlead", "evangelist"})
	rec.created = randTime(r, c.created, refNow.Add(-24*time.Hour))
	rec.modified = modifiedAfter(r, rec.created)
	return true
}

func (g *gen) hubCompanyCount() int { return g.lay.M + g.lay.K + g.lay.HD }

func (g *gen) hubCompanyAt(h int, rec *hubCompanyRec) bool {
	var e int
	dup := false
	switch {
	case h < g.lay.M:
		e = g.lay.K + h
	case h < g.lay.M+g.lay.K:
		e = h - g.lay.M
		if !chance(g.seed, sHubCompanySync, e, rateHubCompanySync) {
			return false
		}
	default:
		e = g.lay.K + pick(g.seed, sHubCompanyDupTarget, h, g.lay.M)
		dup = true
	}
	c := g.company(e)
	r := g.rowS.rng(tagHubCompanyRow, h)
	*rec = hubCompanyRec{h: h, entity: e, recordID: g.hubCompanyID(h)}
	switch x := r.Float64(); {
	case dup && x < 0.5:
		rec.name = companyNameVariant(r, c, true)
	case x < 0.6:
		rec.name = c.stem
	case x < 0.85:
		rec.name = c.name
	case x < 0.95:
		rec.name = strings.ToLower(c.stem)
	default:
		rec.name = typo(r, c.stem)
	}
	switch x := r.Float64(); {
	case dup && x < 0.5:
		rec.domain = "www." + c.domain
	case x < 0.9:
		rec.domain = c.domain
	case x < 0.95:
		rec.domain = "www." + c.domain
	}
	rec.phone, _ = c.phone.format(r, mixLead)
	rec.country = countryNames[c.country]
	if r.Float64() < 0.05 {
		rec.country = ""
	}
	rec.modified = modifiedAfter(r, c.created)
	return true
}

// leadOnlyPersons counts the base leads who are not contact persons.
func (g *gen) leadOnlyPersons() int {
	n := 0
	for b := 0; b < g.lay.LB; b++ {
		if _, ok := g.leadConverted(b); !ok {
			n++
		}
	}
	return n
}

func (g *gen) entities() Entities {
	return Entities{
		Companies: int64(g.lay.K + g.lay.M),
		Contacts:  int64(g.lay.P + g.leadOnlyPersons()),
		Deals:     int64(g.lay.DB),
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
