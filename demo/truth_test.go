package demo

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/clean/dedup"
)

// truthSet is a truth file: (source, source id) -> entity.
type truthSet map[[2]string]string

func readTruth(t testing.TB, path string) truthSet {
	t.Helper()
	header, rows := readCSV(t, path)
	if strings.Join(header, ",") != "source,source_id,entity_id" {
		t.Fatalf("%s: header %q", path, header)
	}
	ts := truthSet{}
	for _, r := range rows {
		k := [2]string{r[0], r[1]}
		if _, dup := ts[k]; dup {
			t.Errorf("%s: %s %s appears twice", path, r[0], r[1])
		}
		ts[k] = r[2]
	}
	return ts
}

func (ts truthSet) entities() int {
	e := map[string]bool{}
	for _, v := range ts {
		e[v] = true
	}
	return len(e)
}

// expectIDs checks that the truth rows of source are exactly ids.
func (ts truthSet) expectIDs(t testing.TB, file, source string, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s: %s record %s written twice", file, source, id)
		}
		seen[id] = true
		if _, ok := ts[[2]string{source, id}]; !ok {
			t.Errorf("%s: %s record %s is missing", file, source, id)
		}
	}
	n := 0
	for k := range ts {
		if k[0] == source {
			n++
			if !seen[k[1]] {
				t.Errorf("%s: %s record %s is not in the data", file, source, k[1])
			}
		}
	}
	if n != len(ids) {
		t.Errorf("%s: %d %s rows, data has %d records", file, n, source, len(ids))
	}
}

// csvColumn returns the values of one column of a CSV file.
func csvColumn(t testing.TB, path, name string) []string {
	t.Helper()
	header, rows := readCSV(t, path)
	i := -1
	for j, h := range header {
		if h == name {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("%s: no column %q", path, name)
	}
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}

// oldIDs returns the ids the plan's old mappings expose, from the generator
// (the same rows CreateOldCRM loads; the database test compares them with
// the loaded tables).
func oldIDs(o Options) (companies, contacts, deals []string) {
	g := newGen(o)
	for a := 0; a < g.lay.A; a++ {
		companies = append(companies, itoa(g.accountID(a)))
	}
	for r := 0; r < g.lay.N; r++ {
		contacts = append(contacts, "C-"+itoa(g.contactID(r)))
	}
	for l := 0; l < g.lay.L; l++ {
		contacts = append(contacts, "L-"+itoa(g.leadID(l)))
	}
	for d := 0; d < g.lay.D; d++ {
		deals = append(deals, g.oppID(d))
	}
	return
}

// checkTruth re-derives what it can of the ground truth from the files
// (and the old-CRM rows) and compares.
func checkTruth(t *testing.T, dir string, o Options, sum *Summary) {
	t.Helper()
	path := func(f string) string { return filepath.Join(dir, filepath.FromSlash(f)) }
	companies := readTruth(t, path(FileTruthCompanies))
	contacts := readTruth(t, path(FileTruthContacts))
	deals := readTruth(t, path(FileTruthDeals))

	// Every record written appears exactly once, under the id its system exposes.
	oc, op, od := oldIDs(o)
	companies.expectIDs(t, FileTruthCompanies, TruthSourceOld, oc)
	contacts.expectIDs(t, FileTruthContacts, TruthSourceOld, op)
	deals.expectIDs(t, FileTruthDeals, TruthSourceOld, od)
	companies.expectIDs(t, FileTruthCompanies, TruthSourceMarketing, csvColumn(t, path(FileHubSpotCompanies), "Record ID"))
	contacts.expectIDs(t, FileTruthContacts, TruthSourceMarketing, csvColumn(t, path(FileHubSpotContacts), "Record ID"))
	companies.expectIDs(t, FileTruthCompanies, TruthSourceSalesforce, csvColumn(t, path(FileSalesforceAccount), "Account ID"))
	contacts.expectIDs(t, FileTruthContacts, TruthSourceSalesforce, csvColumn(t, path(FileSalesforceContact), "Contact ID"))
	deals.expectIDs(t, FileTruthDeals, TruthSourceSalesforce, csvColumn(t, path(FileSalesforceOpp), "Opportunity ID"))

	// The entity counts match the summary.
	if got := int64(companies.entities()); got != sum.Entities.Companies {
		t.Errorf("truth has %d companies, summary says %d", got, sum.Entities.Companies)
	}
	if got := int64(contacts.entities()); got != sum.Entities.Contacts {
		t.Errorf("truth has %d persons, summary says %d", got, sum.Entities.Contacts)
	}
	if got := int64(deals.entities()); got != sum.Entities.Deals {
		t.Errorf("truth has %d deals, summary says %d", got, sum.Entities.Deals)
	}
	for f, n := range sum.Files {
		if strings.HasSuffix(f, ".csv") {
			if _, rows := readCSV(t, path(f)); int64(len(rows)) != n {
				t.Errorf("%s: %d rows, summary says %d", f, len(rows), n)
			}
		}
	}
	checkPersons(t, dir, o, contacts)
	checkCompanies(t, dir, companies)
	checkDeals(t, dir, o, deals)
}

type personRecord struct {
	source, id         string
	first, last, email string
}

// checkPersons: records the truth calls one person look alike (names within
// a typo or a nickname), and a valid address never belongs to two persons,
// so exact-email dedup can never merge two different people.
func checkPersons(t *testing.T, dir string, o Options, truth truthSet) {
	g := newGen(o)
	var recs []personRecord
	var c contactRec
	for r := 0; r < g.lay.N; r++ {
		g.contactAt(r, &c)
		recs = append(recs, personRecord{TruthSourceOld, "C-" + itoa(c.id), c.first, c.last, c.email})
	}
	var l leadRec
	for r := 0; r < g.lay.L; r++ {
		g.leadAt(r, &l)
		recs = append(recs, personRecord{TruthSourceOld, "L-" + itoa(l.id), l.first, l.last, l.email})
	}
	_, rows := readCSV(t, filepath.Join(dir, filepath.FromSlash(FileHubSpotContacts)))
	for _, r := range rows {
		recs = append(recs, personRecord{TruthSourceMarketing, r[0], r[1], r[2], r[3]})
	}
	byEntity := map[string][]personRecord{}
	byEmail := map[string]map[string]bool{}
	for _, r := range recs {
		e, ok := truth[[2]string{r.source, r.id}]
		if !ok {
			t.Fatalf("person record %s %s not in the truth", r.source, r.id)
		}
		byEntity[e] = append(byEntity[e], r)
		if validEmail(r.email) {
			n := normalizeEmail(r.email)
			if byEmail[n] == nil {
				byEmail[n] = map[string]bool{}
			}
			byEmail[n][e] = true
		}
	}
	for addr, ents := range byEmail {
		if len(ents) > 1 {
			t.Errorf("address %s belongs to %d different persons: %v", addr, len(ents), ents)
		}
	}
	multi := 0
	for e, rs := range byEntity {
		if len(rs) > 1 {
			multi++
		}
		for _, r := range rs[1:] {
			if !sameName(rs[0], r) {
				t.Errorf("person %s: %q %q (%s %s) and %q %q (%s %s) do not look like one person",
					e, rs[0].first, rs[0].last, rs[0].source, rs[0].id, r.first, r.last, r.source, r.id)
			}
		}
	}
	g2 := newGen(o)
	if g2.lay.N-g2.lay.P > 0 && multi == 0 {
		t.Errorf("no person has more than one record, though %d duplicate contact rows were planted", g2.lay.N-g2.lay.P)
	}
}

func sameName(a, b personRecord) bool {
	la, lb := ascii(strings.TrimSpace(a.last)), ascii(strings.TrimSpace(b.last))
	fa, fb := ascii(strings.TrimSpace(a.first)), ascii(strings.TrimSpace(b.first))
	if dedup.Levenshtein(la, lb) > 4 { // a typo on each side at most
		return false
	}
	if dedup.Levenshtein(fa, fb) <= 1 {
		return true
	}
	for long, short := range nicknames {
		l, s := ascii(long), ascii(short)
		if (fa == l && fb == s) || (fa == s && fb == l) {
			return true
		}
	}
	return false
}

// registrableDomain reduces a website to its domain: scheme, "www.", path and case removed.
func registrableDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"https://", "http://"} {
		s = strings.TrimPrefix(s, p)
	}
	s = strings.TrimPrefix(s, "www.")
	if i := strings.IndexAny(s, "/?"); i >= 0 {
		s = s[:i]
	}
	return s
}

// checkCompanies: one domain per company, never shared by two companies.
func checkCompanies(t *testing.T, dir string, truth truthSet) {
	type rec struct{ source, id, site string }
	var recs []rec
	_, rows := readCSV(t, filepath.Join(dir, filepath.FromSlash(FileSalesforceAccount)))
	for _, r := range rows {
		recs = append(recs, rec{TruthSourceSalesforce, r[0], r[2]})
	}
	_, rows = readCSV(t, filepath.Join(dir, filepath.FromSlash(FileHubSpotCompanies)))
	for _, r := range rows {
		recs = append(recs, rec{TruthSourceMarketing, r[0], r[2]})
	}
	domainOf := map[string]string{} // entity -> domain
	entityOf := map[string]string{} // domain -> entity
	for _, r := range recs {
		e, ok := truth[[2]string{r.source, r.id}]
		if !ok {
			t.Fatalf("company record %s %s not in the truth", r.source, r.id)
		}
		d := registrableDomain(r.site)
		if d == "" {
			continue
		}
		if prev, ok := domainOf[e]; ok && prev != d {
			t.Errorf("company %s has two domains: %s and %s", e, prev, d)
		}
		domainOf[e] = d
		if prev, ok := entityOf[d]; ok && prev != e {
			t.Errorf("domain %s belongs to companies %s and %s", d, prev, e)
		}
		entityOf[d] = e
	}
}

// checkDeals: a subscription id names one deal; a deal has one subscription id.
func checkDeals(t *testing.T, dir string, o Options, truth truthSet) {
	_, rows := readCSV(t, filepath.Join(dir, filepath.FromSlash(FileSalesforceOpp)))
	subOf, dealOf := map[string]string{}, map[string]string{}
	for _, r := range rows {
		e := truth[[2]string{TruthSourceSalesforce, r[0]}]
		s := strings.TrimSpace(r[7])
		if s == "" {
			continue
		}
		if prev, ok := subOf[e]; ok && prev != s {
			t.Errorf("deal %s has two subscriptions: %s and %s", e, prev, s)
		}
		subOf[e] = s
		if prev, ok := dealOf[s]; ok && prev != e {
			t.Errorf("subscription %s belongs to deals %s and %s", s, prev, e)
		}
		dealOf[s] = e
	}
	// The billing side: one subscriptions row per subscribed deal.
	g := newGen(o)
	var sub subscriptionRec
	n := 0
	for d := 0; d < g.lay.DB; d++ {
		if g.subscriptionAt(d, &sub) {
			n++
			if e := fmt.Sprintf(truthEntityDealFmt, d); subOf[e] != "" && subOf[e] != sub.subID {
				t.Errorf("deal %s: opportunity says %s, billing says %s", e, subOf[e], sub.subID)
			}
		}
	}
	if n < len(dealOf) {
		t.Errorf("%d subscription ids on opportunities, %d in billing", len(dealOf), n)
	}
}

func TestTruthConsistent(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{DefaultOptions(), {Companies: 1000, Contacts: 8000, Deals: 3000, Seed: 42},
		{Companies: 3, Contacts: 5000, Deals: 50, Seed: 3}} { // big company blocks: numbered addresses
		t.Run(fmt.Sprint(o.Seed), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			sum, err := WriteFiles(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, dir, o, sum)
		})
	}
}
