package csvfile

import (
	"strings"
	"unicode"
)

// aliasGroups are header names that mean the same column in exports of a dialect. The plan may
// name any of them; the file may use any other. Matching also ignores case, spaces and punctuation.
var aliasGroups = map[string][][]string{
	"hubspot": {
		{"Record ID", "hs_object_id", "Contact ID", "Company ID", "Deal ID", "Object ID"},
		{"Email", "Email Address", "email"},
		{"First Name", "firstname"},
		{"Last Name", "lastname"},
		{"Phone Number", "Phone", "phone"},
		{"Mobile Phone Number", "Mobile Phone", "mobilephone"},
		{"Company Name", "Company", "Associated Company", "company"},
		{"Company Domain Name", "Domain", "Website Domain", "domain"},
		{"Website URL", "Website", "website"},
		{"Lifecycle Stage", "lifecyclestage"},
		{"Create Date", "Created Date", "createdate"},
		{"Last Modified Date", "Last Modified", "lastmodifieddate", "hs_lastmodifieddate"},
		{"Country/Region", "Country", "country"},
		{"Job Title", "jobtitle"},
		{"Contact owner", "Owner", "hubspot_owner_id", "HubSpot Owner"},
	},
	"salesforce": {
		{"Id", "ID", "Record ID", "Account ID", "Contact ID", "Opportunity ID", "Lead ID"},
		{"Account: Account Name", "Account.Name", "Account Name", "AccountName"},
		{"Account ID", "AccountId", "Account: Account ID", "Account.Id"},
		{"First Name", "FirstName"},
		{"Last Name", "LastName"},
		{"Email", "Email Address"},
		{"Phone", "Business Phone", "Phone Number"},
		{"Mobile", "MobilePhone", "Mobile Phone"},
		{"Website", "Web Site"},
		{"Billing Country", "BillingCountry", "Account: Billing Country"},
		{"Opportunity Name", "Name"},
		{"Amount", "Opportunity Amount"},
		{"Stage", "StageName"},
		{"Close Date", "CloseDate"},
		{"Last Modified Date", "LastModifiedDate", "Last Modified"},
		{"Created Date", "CreatedDate"},
		{"Owner: Email", "Owner.Email", "Owner Email", "Account Owner: Email", "Opportunity Owner: Email"},
		{"Title", "Job Title"},
	},
}

// headerIndex finds a plan's column name in a file's header.
type headerIndex struct {
	exact  map[string]int
	folded map[string]int
	groups [][]string
}

func newHeaderIndex(dialect string, header []string) headerIndex {
	h := headerIndex{exact: map[string]int{}, folded: map[string]int{}, groups: aliasGroups[strings.ToLower(dialect)]}
	for i, name := range header {
		if _, dup := h.exact[name]; !dup {
			h.exact[name] = i
		}
		if k := foldHeader(name); k != "" {
			if _, dup := h.folded[k]; !dup {
				h.folded[k] = i
			}
		}
	}
	return h
}

// find returns the header index for col, or -1.
func (h headerIndex) find(col string) int {
	if i, ok := h.exact[col]; ok {
		return i
	}
	if i, ok := h.folded[foldHeader(col)]; ok {
		return i
	}
	k := foldHeader(col)
	for _, g := range h.groups {
		in := false
		for _, name := range g {
			if foldHeader(name) == k {
				in = true
				break
			}
		}
		if !in {
			continue
		}
		for _, name := range g {
			if i, ok := h.folded[foldHeader(name)]; ok {
				return i
			}
		}
	}
	return -1
}

// aliasNames lists the names in the dialect's alias groups that the header answers to, so that
// `plan check --connect` accepts a plan naming any alias.
func aliasNames(dialect string, header []string) []string {
	h := newHeaderIndex(dialect, header)
	var out []string
	for _, g := range h.groups {
		for _, name := range g {
			if _, direct := h.folded[foldHeader(name)]; direct {
				continue
			}
			if h.find(name) >= 0 {
				out = append(out, name)
			}
		}
	}
	return out
}

// foldHeader lower-cases a header name and keeps letters and digits only.
func foldHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
