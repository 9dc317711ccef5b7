package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/jackc/pgx/v5"
)

// ProfileResult is what Profile found in an old CRM. Examples are masked
// when marshalled or printed (see Example); counts are exact.
type ProfileResult struct {
	// Tables: rows per table of the old CRM (OldTables order).
	Tables []TableCount `json:"tables"`
	Emails EmailStats   `json:"emails"`
	Phones PhoneStats   `json:"phones"`
	// Duplicates are likely duplicates by exact e-mail address.
	Duplicates DuplicateStats `json:"duplicates"`
	// Orphans: references to records that do not exist; the first is
	// contacts.account_id -> accounts.
	Orphans []Orphan `json:"orphans"`
	// Picklists: values seen in picklist columns, most frequent first.
	Picklists []Picklist `json:"picklists"`
}

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// EmailStats classify the e-mail columns of contacts and leads.
type EmailStats struct {
	Columns []string `json:"columns"`
	// Total is the number of values examined (rows, NULLs included).
	Total int64 `json:"total"`
	// Missing: NULL or blank.
	Missing int64 `json:"missing"`
	// Invalid: not an address after trimming ("jane.doe@", "no email", "jane@@acme.se").
	Invalid        int64   `json:"invalid"`
	InvalidExample Example `json:"invalid_example"`
	// NeedsCleanup: valid only after trimming spaces and lower-casing.
	NeedsCleanup        int64   `json:"needs_cleanup"`
	NeedsCleanupExample Example `json:"needs_cleanup_example"`
	// FreeMail: valid addresses at a free-mail provider (FreeMailDomains);
	// they say nothing about the person's company.
	FreeMail        int64   `json:"free_mail"`
	FreeMailExample Example `json:"free_mail_example"`
}

// PhoneStats count the phone formats seen in the phone columns.
type PhoneStats struct {
	Columns []string `json:"columns"`
	Total   int64    `json:"total"`
	// Formats in PhoneFormats order, only those seen.
	Formats []PhoneFormatCount `json:"formats"`
}

// PhoneFormatCount is one phone format (PhoneE164, …), how often it was
// seen, and one example.
type PhoneFormatCount struct {
	Format  string  `json:"format"`
	Count   int64   `json:"count"`
	Example Example `json:"example"`
}

// DuplicateStats count e-mail addresses (trimmed, lower-cased, valid)
// shared by more than one record across contacts and leads.
type DuplicateStats struct {
	Method string `json:"method"`
	// Emails is the number of shared addresses; Records the number of
	// records carrying one of them.
	Emails  int64   `json:"emails"`
	Records int64   `json:"records"`
	Example Example `json:"example"`
}

// Orphan counts rows whose reference column names a row that does not exist.
type Orphan struct {
	Table      string `json:"table"`
	Column     string `json:"column"`
	References string `json:"references"` // "accounts.account_id"
	Count      int64  `json:"count"`
	// ExampleID is the smallest dangling value (an id, not PII).
	ExampleID string `json:"example_id,omitempty"`
}

// Picklist is the distribution of values of one picklist column.
type Picklist struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	// Distinct is the number of distinct values (NULL counts as one).
	Distinct int64 `json:"distinct"`
	// Values: the most frequent values, at most picklistTop.
	Values []ValueCount `json:"values"`
}

// ValueCount is one picklist value; Value is nil for NULL.
type ValueCount struct {
	Value *string `json:"value"`
	Count int64   `json:"count"`
}

// Example is one value seen in the data. It holds the value and a masked
// form; String and MarshalJSON give the masked form, so a result can be
// logged or stored without leaking PII. Raw gives the value itself, for
// reports run with --show-pii.
type Example struct {
	masked, raw string
}

func newExample(raw string, mask func(string) string) Example {
	return Example{masked: mask(raw), raw: raw}
}

// NewExample returns an example holding raw and its masked form.
func NewExample(raw, masked string) Example { return Example{masked: masked, raw: raw} }

func (e Example) String() string { return e.masked }

// Raw returns the unmasked value.
func (e Example) Raw() string { return e.raw }

// IsZero reports whether no example was recorded.
func (e Example) IsZero() bool { return e.masked == "" && e.raw == "" }

// MarshalJSON writes the masked value.
func (e Example) MarshalJSON() ([]byte, error) { return json.Marshal(e.masked) }

// UnmarshalJSON reads a (masked) value; Raw then returns the masked value too.
func (e *Example) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	e.masked, e.raw = s, s
	return nil
}

// Unmasked returns the example with its raw value in place of the masked one.
func (e Example) Unmasked() Example { return Example{masked: e.raw, raw: e.raw} }

// WithPII returns a copy of p whose examples print and marshal unmasked.
func (p *ProfileResult) WithPII() *ProfileResult {
	c := *p
	c.Emails.InvalidExample = p.Emails.InvalidExample.Unmasked()
	c.Emails.NeedsCleanupExample = p.Emails.NeedsCleanupExample.Unmasked()
	c.Emails.FreeMailExample = p.Emails.FreeMailExample.Unmasked()
	c.Duplicates.Example = p.Duplicates.Example.Unmasked()
	c.Phones.Formats = append([]PhoneFormatCount(nil), p.Phones.Formats...)
	for i := range c.Phones.Formats {
		c.Phones.Formats[i].Example = c.Phones.Formats[i].Example.Unmasked()
	}
	return &c
}

// ClassifyPhone returns the format of a phone value (PhoneE164, …).
func ClassifyPhone(s string) string {
	t := strings.TrimSpace(s)
	if t == "" {
		return PhoneEmpty
	}
	if strings.ContainsAny(t, "xXeE") && extRe.MatchString(t) {
		loc := extRe.FindStringIndex(t)
		base := strings.TrimSpace(t[:loc[0]])
		if f := ClassifyPhone(base); f != PhoneEmpty && f != PhoneOther && f != PhoneExtension {
			return PhoneExtension
		}
		return PhoneOther
	}
	nd, plus := 0, 0
	var digits strings.Builder
	for _, c := range t {
		switch {
		case c >= '0' && c <= '9':
			nd++
			digits.WriteRune(c)
		case c == '+':
			plus++
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return PhoneOther
		}
	}
	ds := digits.String()
	switch {
	case nd == 0:
		return PhoneOther
	case plus == 1 && t[0] == '+':
		if nd < 8 || nd > 15 {
			return PhoneOther
		}
		if nd == len(t)-1 {
			return PhoneE164
		}
		return PhoneInternational
	case plus > 0:
		return PhoneOther
	case strings.HasPrefix(t, "00") && nd >= 10 && nd <= 17:
		return PhoneInternational
	case ds[0] == '0':
		if nd >= 9 && nd <= 12 {
			return PhoneNationalTrunk
		}
		return PhoneOther
	case nd >= 7 && nd <= 11:
		return PhoneNational
	}
	return PhoneOther
}

// Profile reads the old CRM that conn points to (the schema CreateOldCRM
// makes) and reports counts per table, e-mail quality, phone formats,
// likely duplicates by exact e-mail, orphans and picklist values. It reads
// each e-mail and phone column once (streamed; memory does not grow with the
// tables) and leaves grouping and anti-joins to PostgreSQL.
func Profile(ctx context.Context, conn *pgx.Conn) (*ProfileResult, error) {
	p := &ProfileResult{}
	for _, t := range OldTables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("profile: count %s: %w", t, err)
		}
		p.Tables = append(p.Tables, TableCount{Table: t, Rows: n})
	}
	if err := profileValues(ctx, conn, p); err != nil {
		return nil, err
	}
	if err := profileDuplicates(ctx, conn, p); err != nil {
		return nil, err
	}
	if err := profileOrphans(ctx, conn, p); err != nil {
		return nil, err
	}
	if err := profilePicklists(ctx, conn, p); err != nil {
		return nil, err
	}
	return p, nil
}

type column struct{ table, name string }

func (c column) String() string { return c.table + "." + c.name }

// scanColumns streams the text columns cols of table in one pass; fn gets
// one value per column (nil for NULL) and the column index.
func scanColumns(ctx context.Context, conn *pgx.Conn, table string, cols []string, fn func(col int, v []byte)) error {
	ids := make([]string, len(cols))
	for i, c := range cols {
		ids[i] = pgx.Identifier{c}.Sanitize() + "::text"
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(ids, ", ")+" FROM "+pgx.Identifier{table}.Sanitize())
	if err != nil {
		return fmt.Errorf("profile: read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		for i, v := range rows.RawValues() { // text format: the bytes are the value
			fn(i, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("profile: read %s: %w", table, err)
	}
	return nil
}

// The columns Profile classifies, read in one pass per table.
var (
	emailColumns = []column{{"contacts", "email"}, {"leads", "email"}}
	phoneColumns = []column{{"accounts", "phone"}, {"contacts", "phone"}, {"contacts", "mobile"}, {"leads", "phone"}}
)

type valueStats struct {
	p             *ProfileResult
	phoneCounts   map[string]int64
	phoneExamples map[string]string
}

func (s *valueStats) email(v []byte) {
	e := &s.p.Emails
	e.Total++
	t := strings.Trim(string(v), emailTrim)
	switch {
	case v == nil || t == "":
		e.Missing++
	case !matchEmail(t):
		e.Invalid++
		if e.InvalidExample.IsZero() {
			e.InvalidExample = newExample(string(v), pii.MaskEmail)
		}
	default:
		n := strings.ToLower(t)
		if n != string(v) {
			e.NeedsCleanup++
			if e.NeedsCleanupExample.IsZero() {
				e.NeedsCleanupExample = newExample(string(v), pii.MaskEmail)
			}
		}
		if isFreeMail(n) {
			e.FreeMail++
			if e.FreeMailExample.IsZero() {
				e.FreeMailExample = newExample(n, pii.MaskEmail)
			}
		}
	}
}

func (s *valueStats) phone(v []byte) {
	s.p.Phones.Total++
	f := ClassifyPhone(string(v))
	s.phoneCounts[f]++
	if _, ok := s.phoneExamples[f]; !ok && strings.TrimSpace(string(v)) != "" {
		s.phoneExamples[f] = string(v)
	}
}

// profileValues classifies the e-mail and phone columns.
func profileValues(ctx context.Context, conn *pgx.Conn, p *ProfileResult) error {
	s := &valueStats{p: p, phoneCounts: map[string]int64{}, phoneExamples: map[string]string{}}
	for _, c := range emailColumns {
		p.Emails.Columns = append(p.Emails.Columns, c.String())
	}
	for _, c := range phoneColumns {
		p.Phones.Columns = append(p.Phones.Columns, c.String())
	}
	for _, t := range []string{"accounts", "contacts", "leads"} {
		var cols []string
		var kinds []func([]byte)
		for _, c := range emailColumns {
			if c.table == t {
				cols, kinds = append(cols, c.name), append(kinds, s.email)
			}
		}
		for _, c := range phoneColumns {
			if c.table == t {
				cols, kinds = append(cols, c.name), append(kinds, s.phone)
			}
		}
		if err := scanColumns(ctx, conn, t, cols, func(i int, v []byte) { kinds[i](v) }); err != nil {
			return err
		}
	}
	for _, f := range PhoneFormats {
		if s.phoneCounts[f] == 0 {
			continue
		}
		fc := PhoneFormatCount{Format: f, Count: s.phoneCounts[f]}
		if ex, ok := s.phoneExamples[f]; ok {
			fc.Example = newExample(ex, pii.MaskPhone)
		}
		p.Phones.Formats = append(p.Phones.Formats, fc)
	}
	return nil
}

func profileDuplicates(ctx context.Context, conn *pgx.Conn, p *ProfileResult) error {
	const q = `
WITH e AS (
	SELECT lower(btrim(email, E' \t\r\n')) AS e FROM contacts WHERE email IS NOT NULL
	UNION ALL
	SELECT lower(btrim(email, E' \t\r\n')) FROM leads WHERE email IS NOT NULL
), d AS (
	SELECT e, count(*) AS n FROM e WHERE e ~ $1 GROUP BY e HAVING count(*) > 1
)
SELECT count(*), coalesce(sum(n), 0)::bigint, min(e) FROM d`
	var ex *string
	d := &p.Duplicates
	d.Method = "exact e-mail (trimmed, lower-case, valid) across contacts and leads"
	if err := conn.QueryRow(ctx, q, emailPattern).Scan(&d.Emails, &d.Records, &ex); err != nil {
		return fmt.Errorf("profile: duplicate e-mails: %w", err)
	}
	if ex != nil {
		d.Example = newExample(*ex, pii.MaskEmail)
	}
	return nil
}

var orphanChecks = []struct{ table, column, refTable, refColumn string }{
	{"contacts", "account_id", "accounts", "account_id"},
	{"opportunities", "account_id", "accounts", "account_id"},
	{"opportunities", "contact_id", "contacts", "contact_id"},
	{"activities", "contact_id", "contacts", "contact_id"},
	{"activities", "opp_id", "opportunities", "opp_id"},
	{"support_summaries", "account_id", "accounts", "account_id"},
	{"subscriptions", "account_id", "accounts", "account_id"},
}

func profileOrphans(ctx context.Context, conn *pgx.Conn, p *ProfileResult) error {
	for _, o := range orphanChecks {
		t, c := pgx.Identifier{o.table}.Sanitize(), pgx.Identifier{o.column}.Sanitize()
		rt, rc := pgx.Identifier{o.refTable}.Sanitize(), pgx.Identifier{o.refColumn}.Sanitize()
		q := fmt.Sprintf(`SELECT count(*), min(x.%s::text) FROM %s x WHERE x.%s IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.%s = x.%s)`, c, t, c, rt, rc, c)
		var n int64
		var ex *string
		if err := conn.QueryRow(ctx, q).Scan(&n, &ex); err != nil {
			return fmt.Errorf("profile: orphans %s.%s: %w", o.table, o.column, err)
		}
		or := Orphan{Table: o.table, Column: o.column, References: o.refTable + "." + o.refColumn, Count: n}
		if ex != nil {
			or.ExampleID = *ex
		}
		p.Orphans = append(p.Orphans, or)
	}
	return nil
}

const picklistTop = 20

var picklistColumns = []column{
	{"contacts", "lifecycle"}, {"leads", "status"}, {"opportunities", "stage"},
	{"activities", "outcome"}, {"support_summaries", "highest_severity"}, {"subscriptions", "status"},
}

func profilePicklists(ctx context.Context, conn *pgx.Conn, p *ProfileResult) error {
	for _, c := range picklistColumns {
		q := fmt.Sprintf(`SELECT v, n, count(*) OVER () FROM (SELECT %s AS v, count(*) AS n FROM %s GROUP BY 1) g
ORDER BY n DESC, v NULLS FIRST LIMIT %d`, pgx.Identifier{c.name}.Sanitize(), pgx.Identifier{c.table}.Sanitize(), picklistTop)
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("profile: picklist %s: %w", c, err)
		}
		pl := Picklist{Table: c.table, Column: c.name}
		for rows.Next() {
			var vc ValueCount
			if err := rows.Scan(&vc.Value, &vc.Count, &pl.Distinct); err != nil {
				rows.Close()
				return fmt.Errorf("profile: picklist %s: %w", c, err)
			}
			pl.Values = append(pl.Values, vc)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("profile: picklist %s: %w", c, err)
		}
		p.Picklists = append(p.Picklists, pl)
	}
	return nil
}
