package demo

import (
	"errors"
	"fmt"
)

// Options size and seed the generated world. The zero value generates
// nothing; start from DefaultOptions.
type Options struct {
	// Companies is the number of rows in the old CRM's accounts table
	// (duplicates included). The marketing export adds Companies/2
	// prospect companies that are not accounts.
	Companies int `json:"companies"`
	// Contacts is the number of rows in the old CRM's contacts table
	// (duplicates included). Leads are 2/5 of it, activities Contacts+Deals.
	Contacts int `json:"contacts"`
	// Deals is the number of rows in the old CRM's opportunities table.
	Deals int `json:"deals"`
	// Seed selects the world; the same Options always give byte-identical data.
	Seed uint64 `json:"seed"`
}

// DefaultOptions returns the small world used by the demo and most tests:
// 200 companies, 1000 contacts, 400 deals, seed 1.
func DefaultOptions() Options {
	return Options{Companies: 200, Contacts: 1000, Deals: 400, Seed: 1}
}

// Limits keep the word lists and id ranges meaningful.
const (
	maxCompanies = 5_000_000
	maxContacts  = 50_000_000
	maxDeals     = 50_000_000
)

// Validate reports options the generator cannot honour.
func (o Options) Validate() error {
	var errs []error
	check := func(name string, v, max int) {
		if v < 0 || v > max {
			errs = append(errs, fmt.Errorf("demo options: %s = %d; must be between 0 and %d", name, v, max))
		}
	}
	check("companies", o.Companies, maxCompanies)
	check("contacts", o.Contacts, maxContacts)
	check("deals", o.Deals, maxDeals)
	if o.Companies == 0 && (o.Contacts > 0 || o.Deals > 0) {
		errs = append(errs, errors.New("demo options: contacts and deals need at least 1 company"))
	}
	return errors.Join(errs...)
}

// Summary says what a call wrote: rows per table or file and the size of the
// ground truth.
type Summary struct {
	Options Options `json:"options"`
	// Tables: old-CRM table name -> rows loaded (CreateOldCRM).
	Tables map[string]int64 `json:"tables,omitempty"`
	// Files: path relative to the output directory, with forward slashes ->
	// data rows (CSV rows after the header; 0 for the plan) (WriteFiles).
	Files map[string]int64 `json:"files,omitempty"`
	// Entities counts the distinct real-world entities of the whole
	// generated world: the distinct entity_id values of truth/*.csv.
	Entities Entities `json:"entities"`
	// Planted counts the mess the generator put into what this call wrote,
	// by kind. CreateOldCRM: accounts.duplicate_rows, contacts.duplicate_rows,
	// contacts.orphan_account, contacts.no_account, leads.duplicate_rows,
	// leads.converted, opportunities.duplicate_rows, activities.orphan_contact,
	// emails.{invalid,empty,messy,free_mail} (contacts and leads) and
	// phones.<format> (accounts.phone, contacts.phone, contacts.mobile,
	// leads.phone; formats as in PhoneFormats). WriteFiles:
	// marketing.companies.duplicate_rows. Kinds with a zero count are left out.
	Planted map[string]int64 `json:"planted,omitempty"`
}

// Entities are ground-truth entity counts.
type Entities struct {
	Companies int64 `json:"companies"`
	Contacts  int64 `json:"contacts"`
	Deals     int64 `json:"deals"`
}

func newSummary(o Options) *Summary {
	return &Summary{Options: o, Planted: map[string]int64{}}
}

func (s *Summary) plant(kind string, n int64) {
	if n != 0 {
		s.Planted[kind] += n
	}
}

// Counts are the rows generated per old-CRM table, stored with the demo's run.
func (s *Summary) Counts() map[string]int64 {
	c := make(map[string]int64, len(s.Tables))
	for k, v := range s.Tables {
		c[k] = v
	}
	return c
}
