package demo

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Generated files, relative to WriteFiles' dir, with forward slashes.
const (
	FilePlan              = "crmigrate.yaml"
	FileHubSpotContacts   = "exports/hubspot/contacts.csv"
	FileHubSpotCompanies  = "exports/hubspot/companies.csv"
	FileSalesforceAccount = "exports/salesforce/Account.csv"
	FileSalesforceContact = "exports/salesforce/Contact.csv"
	FileSalesforceOpp     = "exports/salesforce/Opportunity.csv"
	FileTruthContacts     = "truth/contacts.csv"
	FileTruthCompanies    = "truth/companies.csv"
	FileTruthDeals        = "truth/deals.csv"
)

// Sources in the ground truth (the `source` column of truth/*.csv).
const (
	TruthSourceOld        = "old"        // the old CRM database: the plan's `old` system
	TruthSourceMarketing  = "marketing"  // the HubSpot export: the plan's `marketing` system
	TruthSourceSalesforce = "salesforce" // the old CRM's Salesforce-style export (not in the plan)
)

const (
	truthEntityCompanyFmt = "CO-%07d"
	truthEntityPersonFmt  = "PE-%07d"
	truthEntityDealFmt    = "DE-%07d"

	hubspotTimeLayout    = "2006-01-02 15:04"
	salesforceTimeLayout = "2006-01-02T15:04:05.000Z"

	salesforceAccountKey     = "001" // Salesforce key prefixes
	salesforceContactKey     = "003"
	salesforceOpportunityKey = "006"
)

// Files lists every file WriteFiles writes.
var Files = []string{FilePlan, FileHubSpotContacts, FileHubSpotCompanies, FileSalesforceAccount, FileSalesforceContact,
	FileSalesforceOpp, FileTruthContacts, FileTruthCompanies, FileTruthDeals}

var (
	hubContactHeader = []string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name", "Website URL", "Lifecycle Stage", "Create Date", "Last Modified Date"}
	hubCompanyHeader = []string{"Record ID", "Company name", "Company Domain Name", "Phone Number", "Country/Region", "Last Modified Date"}
	sfAccountHeader  = []string{"Account ID", "Account Name", "Website", "Phone", "Billing Country", "Industry", "Owner Email", "Created Date", "Last Modified Date"}
	sfContactHeader  = []string{"Contact ID", "First Name", "Last Name", "Email", "Phone", "Mobile", "Title", "Account ID", "Account: Account Name", "Lifecycle Stage", "Mailing Country", "Owner Email", "Created Date", "Last Modified Date"}
	sfOppHeader      = []string{"Opportunity ID", "Opportunity Name", "Account ID", "Account: Account Name", "Amount", "Stage", "Close Date", "Subscription ID", "Owner Email", "Created Date", "Last Modified Date"}
	truthHeader      = []string{"source", "source_id", "entity_id"}
)

// csvFile is a CSV file written atomically: rows go to a temporary file in
// the same folder, which replaces the target on commit.
type csvFile struct {
	path, tmp string
	f         *os.File
	buf       *bufio.Writer
	w         *csv.Writer
	rows      int64
	rec       []string
}

func createCSV(path string, bom, crlf bool, header []string) (*csvFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	c := &csvFile{path: path, tmp: f.Name(), f: f, buf: bufio.NewWriterSize(f, 256<<10)}
	if bom {
		c.buf.WriteString("\uFEFF")
	}
	c.w = csv.NewWriter(c.buf)
	c.w.UseCRLF = crlf
	if err := c.w.Write(header); err != nil {
		c.abort()
		return nil, err
	}
	return c, nil
}

func (c *csvFile) write(rec ...string) error {
	c.rows++
	return c.w.Write(rec)
}

func (c *csvFile) commit() error {
	c.w.Flush()
	err := errors.Join(c.w.Error(), c.buf.Flush(), c.f.Chmod(0o644), c.f.Sync(), c.f.Close())
	if err == nil {
		err = os.Rename(c.tmp, c.path)
	}
	if err != nil {
		os.Remove(c.tmp)
		return fmt.Errorf("write %s: %w", c.path, err)
	}
	return nil
}

func (c *csvFile) abort() {
	c.f.Close()
	os.Remove(c.tmp)
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o644), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func hsTime(t time.Time) string { return t.UTC().Format(hubspotTimeLayout) }
func sfTime(t time.Time) string { return t.UTC().Format(salesforceTimeLayout) }
func itoa(n int64) string       { return strconv.FormatInt(n, 10) }

func sfOrEmpty(prefix string, id int64) string {
	if id == 0 {
		return ""
	}
	return sfID(prefix, id)
}

// WriteFiles writes the demo's files under dir (created if needed): the plan
// crmigrate.yaml, the marketing tool's HubSpot export, the old CRM's
// Salesforce-style export (UTF-8 with BOM, CRLF) and the ground truth. Each
// file is written to a temporary file and renamed into place, so a reader
// never sees half a file; on error, files already renamed stay. Companies,
// contacts and deals are written concurrently; memory does not grow with opts.
func WriteFiles(dir string, opts Options) (*Summary, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	sum := newSummary(opts)
	sum.Files = map[string]int64{}
	if err := writeAtomic(filepath.Join(dir, FilePlan), Plan(opts)); err != nil {
		return nil, err
	}
	sum.Files[FilePlan] = 0
	var mu sync.Mutex
	var eg errgroup.Group
	for _, part := range []func(*fileWriter) error{(*fileWriter).companies, (*fileWriter).contacts, (*fileWriter).deals} {
		w := &fileWriter{dir: dir, g: newGen(opts), sum: sum, mu: &mu}
		eg.Go(func() error {
			if err := part(w); err != nil {
				w.abortAll()
				return err
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	sum.Entities = newGen(opts).entities()
	return sum, nil
}

// fileWriter writes one group of files with its own generator.
type fileWriter struct {
	dir  string
	g    *gen
	sum  *Summary
	mu   *sync.Mutex // guards sum
	open []*csvFile
}

func (w *fileWriter) create(rel string, bom, crlf bool, header []string) (*csvFile, error) {
	c, err := createCSV(filepath.Join(w.dir, filepath.FromSlash(rel)), bom, crlf, header)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", rel, err)
	}
	w.open = append(w.open, c)
	return c, nil
}

func (w *fileWriter) abortAll() {
	for _, c := range w.open {
		c.abort()
	}
	w.open = nil
}

func (w *fileWriter) commit(rel string, c *csvFile) error {
	for i, o := range w.open {
		if o == c {
			w.open = append(w.open[:i], w.open[i+1:]...)
			break
		}
	}
	if err := c.commit(); err != nil {
		return err
	}
	w.mu.Lock()
	w.sum.Files[rel] = c.rows
	w.mu.Unlock()
	return nil
}

func (w *fileWriter) plant(kind string, n int64) {
	w.mu.Lock()
	w.sum.plant(kind, n)
	w.mu.Unlock()
}

// companies writes Account.csv, the marketing companies.csv and truth/companies.csv.
func (w *fileWriter) companies() error {
	g := w.g
	truth, err := w.create(FileTruthCompanies, false, false, truthHeader)
	if err != nil {
		return err
	}
	acc, err := w.create(FileSalesforceAccount, true, true, sfAccountHeader)
	if err != nil {
		return err
	}
	var a accountRec
	for i := 0; i < g.lay.A; i++ {
		g.accountAt(i, &a)
		sf := sfID(salesforceAccountKey, a.id)
		if err := acc.write(sf, a.name, a.website, a.phone, a.country, a.industry, a.owner, sfTime(a.created), sfTime(a.modified)); err != nil {
			return err
		}
		ent := fmt.Sprintf(truthEntityCompanyFmt, a.entity)
		if err := truth.write(TruthSourceOld, itoa(a.id), ent); err != nil {
			return err
		}
	}
	if err := w.commit(FileSalesforceAccount, acc); err != nil {
		return err
	}
	// Second pass for the Salesforce rows keeps truth grouped by source without holding rows.
	for i := 0; i < g.lay.A; i++ {
		if err := truth.write(TruthSourceSalesforce, sfID(salesforceAccountKey, g.accountID(i)),
			fmt.Sprintf(truthEntityCompanyFmt, g.accountEntity(i))); err != nil {
			return err
		}
	}
	hub, err := w.create(FileHubSpotCompanies, false, false, hubCompanyHeader)
	if err != nil {
		return err
	}
	var h hubCompanyRec
	for i := 0; i < g.hubCompanyCount(); i++ {
		if !g.hubCompanyAt(i, &h) {
			continue
		}
		id := itoa(h.recordID)
		if err := hub.write(id, h.name, h.domain, h.phone, h.country, hsTime(h.modified)); err != nil {
			return err
		}
		if err := truth.write(TruthSourceMarketing, id, fmt.Sprintf(truthEntityCompanyFmt, h.entity)); err != nil {
			return err
		}
		if i >= g.lay.M+g.lay.K {
			w.plant("marketing.companies.duplicate_rows", 1)
		}
	}
	if err := w.commit(FileHubSpotCompanies, hub); err != nil {
		return err
	}
	return w.commit(FileTruthCompanies, truth)
}

// contacts writes Contact.csv, the marketing contacts.csv and truth/contacts.csv.
func (w *fileWriter) contacts() error {
	g := w.g
	truth, err := w.create(FileTruthContacts, false, false, truthHeader)
	if err != nil {
		return err
	}
	con, err := w.create(FileSalesforceContact, true, true, sfContactHeader)
	if err != nil {
		return err
	}
	var c contactRec
	var a accountRec
	for i := 0; i < g.lay.N; i++ {
		g.contactAt(i, &c)
		accName := ""
		if c.accountID != 0 && !c.orphan {
			g.accountAt(c.accountRow, &a)
			accName = a.name
		}
		sf := sfID(salesforceContactKey, c.id)
		if err := con.write(sf, c.first, c.last, c.email, c.phone, c.mobile, c.title, sfOrEmpty(salesforceAccountKey, c.accountID),
			accName, c.lifecycle, c.country, c.owner, sfTime(c.created), sfTime(c.modified)); err != nil {
			return err
		}
		if err := truth.write(TruthSourceOld, "C-"+itoa(c.id), fmt.Sprintf(truthEntityPersonFmt, c.person)); err != nil {
			return err
		}
	}
	if err := w.commit(FileSalesforceContact, con); err != nil {
		return err
	}
	var l leadRec
	for i := 0; i < g.lay.L; i++ {
		g.leadAt(i, &l)
		if err := truth.write(TruthSourceOld, "L-"+itoa(l.id), fmt.Sprintf(truthEntityPersonFmt, l.person)); err != nil {
			return err
		}
	}
	hub, err := w.create(FileHubSpotContacts, false, false, hubContactHeader)
	if err != nil {
		return err
	}
	var h hubContactRec
	for i := 0; i < g.lay.L+g.lay.P; i++ {
		if !g.hubContactAt(i, &h) {
			continue
		}
		id := itoa(h.recordID)
		if err := hub.write(id, h.first, h.last, h.email, h.phone, h.companyName, h.website, h.stage, hsTime(h.created), hsTime(h.modified)); err != nil {
			return err
		}
		if err := truth.write(TruthSourceMarketing, id, fmt.Sprintf(truthEntityPersonFmt, h.person)); err != nil {
			return err
		}
	}
	if err := w.commit(FileHubSpotContacts, hub); err != nil {
		return err
	}
	for i := 0; i < g.lay.N; i++ {
		q, _ := g.contactRowPerson(i)
		if err := truth.write(TruthSourceSalesforce, sfID(salesforceContactKey, g.contactID(i)), fmt.Sprintf(truthEntityPersonFmt, q)); err != nil {
			return err
		}
	}
	return w.commit(FileTruthContacts, truth)
}

// deals writes Opportunity.csv and truth/deals.csv.
func (w *fileWriter) deals() error {
	g := w.g
	truth, err := w.create(FileTruthDeals, false, false, truthHeader)
	if err != nil {
		return err
	}
	opp, err := w.create(FileSalesforceOpp, true, true, sfOppHeader)
	if err != nil {
		return err
	}
	var o oppRec
	var a accountRec
	for i := 0; i < g.lay.D; i++ {
		g.oppAt(i, &o)
		g.accountAt(o.accountRow, &a)
		sf := sfID(salesforceOpportunityKey, g.oppNum(i))
		if err := opp.write(sf, o.name, sfOrEmpty(salesforceAccountKey, o.accountID), a.name, o.amount, o.stage, o.closeDate,
			o.subID, o.owner, sfTime(o.created), sfTime(o.modified)); err != nil {
			return err
		}
		if err := truth.write(TruthSourceOld, o.id, fmt.Sprintf(truthEntityDealFmt, o.deal)); err != nil {
			return err
		}
	}
	if err := w.commit(FileSalesforceOpp, opp); err != nil {
		return err
	}
	for i := 0; i < g.lay.D; i++ {
		if err := truth.write(TruthSourceSalesforce, sfID(salesforceOpportunityKey, g.oppNum(i)),
			fmt.Sprintf(truthEntityDealFmt, g.dealBase(i))); err != nil {
			return err
		}
	}
	return w.commit(FileTruthDeals, truth)
}
