package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The old CRM's schema: a legacy system with its own naming, no foreign
// keys (which is how it came to have orphans), text columns for values that
// were never validated (amounts, close dates, picklists) and timestamps
// without time zone. Ids are bigint except opportunities (text "OPP-0012345")
// and subscriptions (billing's "sub_..." ids).
const oldSchema = `
CREATE TABLE users (
	user_id     integer NOT NULL,
	email       text NOT NULL,
	name        text,
	active      boolean NOT NULL DEFAULT true
);
CREATE TABLE accounts (
	account_id   bigint NOT NULL,
	account_name text,
	website      text,
	phone        text,
	country      text,
	industry     text,
	owner_email  text,
	created_at   timestamp,
	modified_at  timestamp
);
CREATE TABLE contacts (
	contact_id  bigint NOT NULL,
	first_name  text,
	last_name   text,
	email       text,
	phone       text,
	mobile      text,
	title       text,
	account_id  bigint,
	owner_email text,
	lifecycle   text,
	country     text,
	created_at  timestamp,
	modified_at timestamp
);
CREATE TABLE leads (
	lead_id      bigint NOT NULL,
	first_name   text,
	last_name    text,
	email        text,
	phone        text,
	company_name text,
	website      text,
	source       text,
	score        integer,
	status       text,
	created_at   timestamp,
	modified_at  timestamp
);
CREATE TABLE opportunities (
	opp_id          text NOT NULL,
	name            text,
	account_id      bigint,
	contact_id      bigint,
	amount          text,
	stage           text,
	close_date      text,
	subscription_id text,
	owner_email     text,
	created_at      timestamp,
	modified_at     timestamp
);
CREATE TABLE activities (
	activity_id  bigint NOT NULL,
	type         text,
	subject      text,
	contact_id   bigint,
	opp_id       text,
	starts_at    timestamp,
	duration_min integer,
	outcome      text,
	direction    text,
	owner_email  text,
	modified_at  timestamp
);
CREATE TABLE support_summaries (
	account_id       bigint NOT NULL,
	open_tickets     integer,
	highest_severity text,
	updated_at       timestamp
);
CREATE TABLE subscriptions (
	subscription_id text NOT NULL,
	account_id      bigint,
	status          text,
	plan            text,
	updated_at      timestamp
);
`

// Keys and indexes are added after the load (faster than maintaining them row by row).
const oldIndexes = `
ALTER TABLE users ADD PRIMARY KEY (user_id);
ALTER TABLE accounts ADD PRIMARY KEY (account_id);
ALTER TABLE contacts ADD PRIMARY KEY (contact_id);
ALTER TABLE leads ADD PRIMARY KEY (lead_id);
ALTER TABLE opportunities ADD PRIMARY KEY (opp_id);
ALTER TABLE activities ADD PRIMARY KEY (activity_id);
ALTER TABLE support_summaries ADD PRIMARY KEY (account_id);
ALTER TABLE subscriptions ADD PRIMARY KEY (subscription_id);
CREATE INDEX accounts_modified_at ON accounts (modified_at);
CREATE INDEX contacts_modified_at ON contacts (modified_at);
CREATE INDEX contacts_account_id ON contacts (account_id);
CREATE INDEX leads_modified_at ON leads (modified_at);
CREATE INDEX opportunities_modified_at ON opportunities (modified_at);
CREATE INDEX opportunities_account_id ON opportunities (account_id);
CREATE INDEX activities_modified_at ON activities (modified_at);
CREATE INDEX subscriptions_account_id ON subscriptions (account_id);
`

// OldTables lists the old CRM's tables in load order.
var OldTables = []string{"users", "accounts", "contacts", "leads", "opportunities", "activities", "support_summaries", "subscriptions"}

// tableSpec generates one old-CRM table: rows [0, count) of an index space,
// some of which may be skipped (fill returns false).
type tableSpec struct {
	name    string
	columns []string
	count   func(g *gen) int
	// fill writes row i into vals; tally (may be nil) records planted mess.
	fill func(g *gen, i int, vals []any, tally func(string)) bool
}

func nz(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nzID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func tallyEmail(tally func(string), e string, k emailKind) {
	switch k {
	case emailInvalid:
		tally("emails.invalid")
		return
	case emailEmpty:
		tally("emails.empty")
		return
	case emailMessy:
		tally("emails.messy")
	}
	if isFreeMail(normalizeEmail(e)) {
		tally("emails.free_mail")
	}
}

var oldSpecs = []tableSpec{
	{
		name:    "users",
		columns: []string{"user_id", "email", "name", "active"},
		count:   func(g *gen) int { return g.lay.U },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var u userRec
			g.userAt(i, &u)
			v[0], v[1], v[2], v[3] = int32(u.id), u.email, u.name, u.active
			return true
		},
	},
	{
		name:    "accounts",
		columns: []string{"account_id", "account_name", "website", "phone", "country", "industry", "owner_email", "created_at", "modified_at"},
		count:   func(g *gen) int { return g.lay.A },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var a accountRec
			g.accountAt(i, &a)
			v[0], v[1], v[2], v[3], v[4] = a.id, nz(a.name), nz(a.website), nz(a.phone), nz(a.country)
			v[5], v[6], v[7], v[8] = nz(a.industry), nz(a.owner), a.created, a.modified
			if tally != nil {
				if i >= g.lay.K {
					tally("accounts.duplicate_rows")
				}
				tally("phones." + a.phoneKind)
			}
			return true
		},
	},
	{
		name:    "contacts",
		columns: []string{"contact_id", "first_name", "last_name", "email", "phone", "mobile", "title", "account_id", "owner_email", "lifecycle", "country", "created_at", "modified_at"},
		count:   func(g *gen) int { return g.lay.N },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var c contactRec
			g.contactAt(i, &c)
			v[0], v[1], v[2], v[3], v[4], v[5], v[6] = c.id, nz(c.first), nz(c.last), nz(c.email), nz(c.phone), nz(c.mobile), nz(c.title)
			v[7], v[8], v[9], v[10], v[11], v[12] = nzID(c.accountID), nz(c.owner), nz(c.lifecycle), nz(c.country), c.created, c.modified
			if tally != nil {
				if i >= g.lay.P {
					tally("contacts.duplicate_rows")
				}
				if c.orphan {
					tally("contacts.orphan_account")
				}
				if c.accountRow < 0 {
					tally("contacts.no_account")
				}
				tallyEmail(tally, c.email, c.emailKind)
				tally("phones." + c.phoneKind)
				tally("phones." + c.mobileKind)
			}
			return true
		},
	},
	{
		name:    "leads",
		columns: []string{"lead_id", "first_name", "last_name", "email", "phone", "company_name", "website", "source", "score", "status", "created_at", "modified_at"},
		count:   func(g *gen) int { return g.lay.L },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var l leadRec
			g.leadAt(i, &l)
			v[0], v[1], v[2], v[3], v[4], v[5] = l.id, nz(l.first), nz(l.last), nz(l.email), nz(l.phone), nz(l.companyName)
			v[6], v[7], v[8], v[9], v[10], v[11] = nz(l.website), nz(l.source), int32(l.score), nz(l.status), l.created, l.modified
			if tally != nil {
				if i >= g.lay.LB {
					tally("leads.duplicate_rows")
				} else if l.converted {
					tally("leads.converted")
				}
				tallyEmail(tally, l.email, l.emailKind)
				tally("phones." + l.phoneKind)
			}
			return true
		},
	},
	{
		name:    "opportunities",
		columns: []string{"opp_id", "name", "account_id", "contact_id", "amount", "stage", "close_date", "subscription_id", "owner_email", "created_at", "modified_at"},
		count:   func(g *gen) int { return g.lay.D },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var o oppRec
			g.oppAt(i, &o)
			v[0], v[1], v[2], v[3], v[4], v[5] = o.id, nz(o.name), nzID(o.accountID), nzID(o.contactID), nz(o.amount), nz(o.stage)
			v[6], v[7], v[8], v[9], v[10] = nz(o.closeDate), nz(o.subID), nz(o.owner), o.created, o.modified
			if tally != nil && i >= g.lay.DB {
				tally("opportunities.duplicate_rows")
			}
			return true
		},
	},
	{
		name:    "activities",
		columns: []string{"activity_id", "type", "subject", "contact_id", "opp_id", "starts_at", "duration_min", "outcome", "direction", "owner_email", "modified_at"},
		count:   func(g *gen) int { return g.lay.T },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var a activityRec
			g.activityAt(i, &a)
			var dur any
			if a.duration >= 0 {
				dur = int32(a.duration)
			}
			v[0], v[1], v[2], v[3], v[4], v[5] = a.id, a.kind, nz(a.subject), nzID(a.contactID), nz(a.oppID), a.startsAt
			v[6], v[7], v[8], v[9], v[10] = dur, nz(a.outcome), nz(a.direction), nz(a.owner), a.modified
			if tally != nil && a.orphan {
				tally("activities.orphan_contact")
			}
			return true
		},
	},
	{
		name:    "support_summaries",
		columns: []string{"account_id", "open_tickets", "highest_severity", "updated_at"},
		count:   func(g *gen) int { return g.lay.K },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var s supportRec
			if !g.supportAt(i, &s) {
				return false
			}
			v[0], v[1], v[2], v[3] = s.accountID, int32(s.open), nz(s.severity), s.updated
			return true
		},
	},
	{
		name:    "subscriptions",
		columns: []string{"subscription_id", "account_id", "status", "plan", "updated_at"},
		count:   func(g *gen) int { return g.lay.DB },
		fill: func(g *gen, i int, v []any, tally func(string)) bool {
			var s subscriptionRec
			if !g.subscriptionAt(i, &s) {
				return false
			}
			v[0], v[1], v[2], v[3], v[4] = s.subID, s.accountID, s.status, s.plan, s.updated
			return true
		},
	},
}

// copySource feeds pgx.CopyFrom from a tableSpec, generating rows on the fly.
type copySource struct {
	ctx   context.Context
	g     *gen
	spec  *tableSpec
	n, i  int
	vals  []any
	tally func(string)
	err   error
}

func newCopySource(ctx context.Context, o Options, spec *tableSpec, tally func(string)) *copySource {
	g := newGen(o)
	return &copySource{ctx: ctx, g: g, spec: spec, n: spec.count(g), i: -1, vals: make([]any, len(spec.columns)), tally: tally}
}

func (s *copySource) Next() bool {
	for {
		s.i++
		if s.i >= s.n {
			return false
		}
		if s.i&4095 == 0 {
			if err := s.ctx.Err(); err != nil {
				s.err = err
				return false
			}
		}
		if s.spec.fill(s.g, s.i, s.vals, s.tally) {
			return true
		}
	}
}

func (s *copySource) Values() ([]any, error) { return s.vals, nil }
func (s *copySource) Err() error             { return s.err }

// CreateOldCRM creates the legacy schema in the database conn points to
// and loads the generated data with COPY, in one transaction: on error
// nothing is left behind. Existing tables of the same names are dropped
// first. The old CRM must live in its own database (it shares table names
// with the new CRM). Memory does not grow with the options; time is about
// linear in the number of rows (see BenchmarkGenerateContacts and the
// package documentation for measured rates).
func CreateOldCRM(ctx context.Context, conn *pgx.Conn, opts Options) (*Summary, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	sum := newSummary(opts)
	sum.Tables = map[string]int64{}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create old crm: begin: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = tx.Rollback(ctx) // no-op after commit
	}()
	if err := refuseForeign(ctx, tx, "people", "the new CRM"); err != nil {
		return nil, fmt.Errorf("create old crm: %w", err)
	}
	drop := "DROP TABLE IF EXISTS " + strings.Join(OldTables, ", ") + " CASCADE"
	if _, err := tx.Exec(ctx, drop); err != nil {
		return nil, fmt.Errorf("create old crm: drop tables: %w", err)
	}
	if _, err := tx.Exec(ctx, oldSchema); err != nil {
		return nil, fmt.Errorf("create old crm: create tables: %w", err)
	}
	tally := func(kind string) { sum.Planted[kind]++ }
	for i := range oldSpecs {
		spec := &oldSpecs[i]
		n, err := tx.CopyFrom(ctx, pgx.Identifier{spec.name}, spec.columns, newCopySource(ctx, opts, spec, tally))
		if err != nil {
			return nil, fmt.Errorf("create old crm: copy %s: %w", spec.name, err)
		}
		sum.Tables[spec.name] = n
	}
	if _, err := tx.Exec(ctx, oldIndexes); err != nil {
		return nil, fmt.Errorf("create old crm: add keys and indexes: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("create old crm: commit: %w", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE "+strings.Join(OldTables, ", ")); err != nil {
		return nil, fmt.Errorf("create old crm: analyze: %w", err)
	}
	sum.Entities = newGen(opts).entities()
	return sum, nil
}

// refuseForeign fails when the database holds the other CRM (recognised by
// one of its tables): both CRMs have tables named users, opportunities and
// activities, and dropping them would destroy the other one.
func refuseForeign(ctx context.Context, tx pgx.Tx, table, what string) error {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		return fmt.Errorf("look for table %s: %w", table, err)
	}
	if exists {
		return fmt.Errorf("the database holds %s (table %s); the old and the new CRM need separate databases", what, table)
	}
	return nil
}
