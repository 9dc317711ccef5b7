package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The new CRM's schema: its own names, surrogate ids, the canonical keys
// as unique constraints (companies.domain_name, people.email,
// opportunities.subscription_ref), legacy_id columns for the crosswalk,
// foreign keys, and picklists enforced with CHECK constraints.
const newSchema = `
CREATE TABLE users (
	id         serial PRIMARY KEY,
	email      text NOT NULL UNIQUE,
	full_name  text NOT NULL,
	active     boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE companies (
	id                       bigserial PRIMARY KEY,
	name                     text NOT NULL,
	domain_name              text UNIQUE,
	phone                    text,
	country                  text,
	industry                 text,
	legacy_id                text UNIQUE,
	owner_id                 integer REFERENCES users (id),
	support_open_tickets     integer CHECK (support_open_tickets >= 0),
	support_highest_severity text CHECK (support_highest_severity IN ('low', 'normal', 'high', 'urgent')),
	subscription_status      text CHECK (subscription_status IN ('active', 'past_due', 'cancelled', 'trialing')),
	subscription_plan        text CHECK (subscription_plan IN ('starter', 'growth', 'enterprise')),
	created_at               timestamptz NOT NULL DEFAULT now(),
	updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE people (
	id         bigserial PRIMARY KEY,
	first_name text,
	last_name  text,
	email      text UNIQUE,
	phone      text,
	mobile     text,
	job_title  text,
	company_id bigint REFERENCES companies (id) ON DELETE SET NULL,
	owner_id   integer REFERENCES users (id),
	stage      text CHECK (stage IN ('lead', 'marketing_qualified', 'sales_qualified', 'customer', 'churned')),
	legacy_id  text UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE opportunities (
	id               bigserial PRIMARY KEY,
	title            text NOT NULL,
	company_id       bigint REFERENCES companies (id) ON DELETE SET NULL,
	person_id        bigint REFERENCES people (id) ON DELETE SET NULL,
	amount           numeric(14,2),
	currency         char(3),
	stage            text CHECK (stage IN ('prospecting', 'qualification', 'proposal', 'negotiation', 'won', 'lost')),
	close_date       date,
	subscription_ref text UNIQUE,
	owner_id         integer REFERENCES users (id),
	legacy_id        text UNIQUE,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE activities (
	id             bigserial PRIMARY KEY,
	kind           text NOT NULL CHECK (kind IN ('meeting', 'call', 'email')),
	subject        text,
	person_id      bigint REFERENCES people (id) ON DELETE CASCADE,
	opportunity_id bigint REFERENCES opportunities (id) ON DELETE SET NULL,
	starts_at      timestamptz,
	duration_min   integer CHECK (duration_min >= 0),
	direction      text CHECK (direction IN ('inbound', 'outbound')),
	outcome        text,
	legacy_id      text UNIQUE,
	archived_at    timestamptz,
	updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX companies_updated_at ON companies (updated_at);
CREATE INDEX people_updated_at ON people (updated_at);
CREATE INDEX people_company_id ON people (company_id);
CREATE INDEX opportunities_updated_at ON opportunities (updated_at);
CREATE INDEX opportunities_company_id ON opportunities (company_id);
CREATE INDEX opportunities_person_id ON opportunities (person_id);
CREATE INDEX activities_updated_at ON activities (updated_at);
CREATE INDEX activities_person_id ON activities (person_id);
CREATE INDEX activities_opportunity_id ON activities (opportunity_id);
`

// NewTables lists the new CRM's tables in dependency order.
var NewTables = []string{"users", "companies", "people", "opportunities", "activities"}

// newUsers returns the new CRM's users: the old reps who are still with
// the company, the default owner, and two hires who never used the old CRM.
func newUsers(o Options) (emails, names []string) {
	g := newGen(o)
	for u := 0; u < g.lay.U; u++ {
		rep := g.rep(u)
		if rep.gone {
			continue
		}
		emails, names = append(emails, rep.email), append(names, rep.name)
	}
	emails = append(emails, DefaultOwner, "nora.quist@"+vendorDomain, "omar.haddad@"+vendorDomain)
	names = append(names, "RevOps", "Nora Quist", "Omar Haddad")
	return emails, names
}

// CreateNewCRM creates the new CRM's schema in the database conn points to,
// dropping its tables first if they exist, and seeds the users (sales reps)
// but no customer data, in one transaction. opts selects which old reps
// exist (the same Options as CreateOldCRM).
func CreateNewCRM(ctx context.Context, conn *pgx.Conn, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("create new crm: begin: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = tx.Rollback(ctx)
	}()
	if err := refuseForeign(ctx, tx, "contacts", "the old CRM"); err != nil {
		return fmt.Errorf("create new crm: %w", err)
	}
	drop := "DROP TABLE IF EXISTS " + strings.Join(NewTables, ", ") + " CASCADE"
	if _, err := tx.Exec(ctx, drop); err != nil {
		return fmt.Errorf("create new crm: drop tables: %w", err)
	}
	if _, err := tx.Exec(ctx, newSchema); err != nil {
		return fmt.Errorf("create new crm: create tables: %w", err)
	}
	emails, names := newUsers(opts)
	if _, err := tx.Exec(ctx,
		`INSERT INTO users (email, full_name, created_at) SELECT e, n, $3 FROM unnest($1::text[], $2::text[]) AS u (e, n)`,
		emails, names, refNow); err != nil {
		return fmt.Errorf("create new crm: seed users: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("create new crm: commit: %w", err)
	}
	return nil
}
