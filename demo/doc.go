// Package demo generates a realistic, messy B2B CRM to migrate: an old CRM
// (PostgreSQL, legacy names), an empty new CRM, CSV exports, the example
// plan and the ground truth that dedup quality is measured against.
//
// # Determinism and cost
//
// The same Options (Seed included) give byte-identical data, within one
// build of the program. Every row is a pure function of (seed, table, row
// index): structural decisions (is row i a duplicate, of what) come from a
// hash of the index, attributes from a PCG stream reseeded per entity
// (math/rand/v2). Nothing is held in memory but one row and a small
// per-company memo, so a 1M-contact world loads with constant memory.
// CreateOldCRM streams rows into COPY (pgx.CopyFromSource); WriteFiles
// streams them into CSV files. Measured on 2 cores (Xeon): the default world
// loads in about 50 ms and its files are written in about 15 ms; contacts are
// generated at 550,000-850,000 rows/s (BenchmarkGenerateContacts); the
// 1M-contact / 100k-company / 300k-deal world (3.3M rows in all) loads in
// about 11 s, its files take about 9 s, and Profile reads it in about 4 s.
//
// # Sizes
//
// Options.Companies, Contacts and Deals are the rows of accounts, contacts
// and opportunities (duplicates included). Derived: leads = 2/5 of
// contacts; activities = contacts + deals; sales reps = 10 + companies/40
// (at most 400); prospect companies known only to marketing = companies/2.
//
// # The old CRM
//
// Legacy naming, no foreign keys (hence orphans), unvalidated text for
// amounts, close dates and picklists, timestamp without time zone. Ids are
// bigint except opportunities (text "OPP-0012345") and subscriptions
// (billing's "sub_…"); ids have gaps, and orphans point into the gaps.
//
//	users             (user_id, email, name, active)
//	accounts          (account_id, account_name, website, phone, country, industry, owner_email, created_at, modified_at)
//	contacts          (contact_id, first_name, last_name, email, phone, mobile, title, account_id, owner_email, lifecycle, country, created_at, modified_at)
//	leads             (lead_id, first_name, last_name, email, phone, company_name, website, source, score, status, created_at, modified_at)
//	opportunities     (opp_id, name, account_id, contact_id, amount, stage, close_date, subscription_id, owner_email, created_at, modified_at)
//	activities        (activity_id, type, subject, contact_id, opp_id, starts_at, duration_min, outcome, direction, owner_email, modified_at)
//	support_summaries (account_id, open_tickets, highest_severity, updated_at)           -- from the support tool
//	subscriptions     (subscription_id, account_id, status, plan, updated_at)            -- from billing
//
// Contacts are created by sales reps, leads by marketing automation: 35% of
// the base leads are people who are also contacts, the rest never converted.
//
// # The new CRM
//
// Its own names, surrogate ids, canonical keys as UNIQUE constraints,
// legacy_id (UNIQUE) for the crosswalk, foreign keys, picklists as CHECK
// constraints. Only users are seeded: the reps still with the company, the
// default owner (DefaultOwner) and two new hires.
//
//	users         (id serial, email UNIQUE, full_name, active, created_at)
//	companies     (id, name NOT NULL, domain_name UNIQUE, phone, country, industry, legacy_id UNIQUE, owner_id → users,
//	               support_open_tickets, support_highest_severity, subscription_status, subscription_plan, created_at, updated_at)
//	people        (id, first_name, last_name, email UNIQUE, phone, mobile, job_title, company_id → companies, owner_id → users,
//	               stage, legacy_id UNIQUE, created_at, updated_at)
//	opportunities (id, title, company_id, person_id, amount numeric(14,2), currency char(3), stage, close_date date,
//	               subscription_ref UNIQUE, owner_id, legacy_id UNIQUE, created_at, updated_at)
//	activities    (id, kind, subject, person_id, opportunity_id, starts_at timestamptz, duration_min, direction, outcome,
//	               legacy_id UNIQUE, updated_at)
//
// The two CRMs share table names, so they live in two databases (the plan
// uses local:demo_old and local:demo_new).
//
// # Files (WriteFiles)
//
//	crmigrate.yaml                     the demo plan (Plan)
//	exports/hubspot/contacts.csv       the marketing tool: every lead and 20% of contacts, with its own Record IDs
//	exports/hubspot/companies.csv      every prospect company, 30% of account companies, 3% of prospects twice
//	exports/salesforce/Account.csv     the old CRM's own export (18-character Salesforce ids, UTF-8 BOM, CRLF)
//	exports/salesforce/Contact.csv
//	exports/salesforce/Opportunity.csv
//	truth/companies.csv                ground truth: source,source_id,entity_id
//	truth/contacts.csv
//	truth/deals.csv
//
// # Ground truth
//
// One row per record of every source; records with the same entity_id are
// the same real-world company, person or deal. Sources and ids are those the
// plan exposes: old (accounts.account_id; 'C-'||contact_id and 'L-'||lead_id;
// opp_id), marketing (the HubSpot Record ID) and salesforce (the export's
// ids). By construction a valid e-mail address (trimmed, lower-cased)
// belongs to one person only, a domain to one company and a subscription id
// to one deal, so exact-key dedup has no false merges; the fuzzy cases are
// records without the key (empty, invalid, personal free-mail address).
//
// # Mess, and how much
//
// Rates are probabilities of independent seeded draws; realised counts vary
// around them and are reported in Summary.Planted.
//
//	duplicates     accounts 4% of rows (same company: other legal suffix, typo, no suffix, upper case, www. or not);
//	               contacts 3% (name: nickname 20%, last-name typo 30%, case 10%, accents dropped 10%;
//	               e-mail: same 45%, capitals/spaces 25%, personal free-mail 12%, invalid 8%, empty 10%;
//	               half under a duplicate account); leads 3%; opportunities 2% (40% of them without the
//	               subscription id); marketing companies 3% of prospects
//	e-mail         on a person's main record: empty 3%, invalid 3% ("jane.doe@", "no email", "jane@@acme.se",
//	               "jane@acme", "jane doe @acme.se", "jane@acme,se"), capitals/spaces 7%;
//	               persons whose own address is free-mail 6% (gmail.com, outlook.com, hotmail.com, yahoo.com,
//	               icloud.com, gmx.de, web.de, orange.fr)
//	phones         SE, FR, DE, GB, US numbers of realistic lengths; phone columns: E.164 15%, international with
//	               spaces 20%, national with trunk 0 35%, national without trunk 7%, with extension 5%, empty 13%,
//	               junk 5%; mobiles: 15/20/35/8/0/17/5%; leads: 25/25/20/5/2/18/5%. US national numbers are
//	               "(415) 555-01XX" (no trunk prefix).
//	orphans        contacts with a deleted account 2% (no account 1%); activities with a deleted contact 3%
//	companies      websites: URL with path 20%, "HTTP://Acme.se" 8%, bare domain 25%, "www." 20%,
//	               "https://www." 15%, "http://…/" 7%, empty 5%; name on the main row: other suffix 5%,
//	               typo 3%, upper case 2%; country as "Sweden"/"UK"/"de"… 5%, empty 2%
//	picklists      contacts.lifecycle odd values 5% ("customer ", "Prospect?", "CUSTOMER", …); stage odd 5%;
//	               lead status odd 2%; meeting outcome odd 2%; support severity odd 1%
//	money & dates  amounts in 7 formats ("12 500,00 EUR", "$12,500.00", "12500", "€12.500,00", …), negative 1%,
//	               empty 2%, text 1%; close dates in 9 formats, empty 5%, invalid 2% ("31/02/2024")
//	owners         owner e-mail capitalised 2%, empty 1%; about 20% of old reps have left (not in the new CRM)
//
// Profile reads an old CRM and reports these findings; reports.RenderProfile
// prints them.
package demo
