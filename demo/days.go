package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The faults the parallel-run simulation injects, each on one day (see ParallelDays).
const (
	FaultMissedSync    = "missed_sync"       // the sync loses some writes: titles it wrote are back to their old values in new
	FaultLateSync      = "late_sync"         // old changes after the sync, just before the snapshot: in flight
	FaultPhoneFormat   = "phone_format"      // an integration writes phones in national format in new: no drift
	FaultDuplicates    = "duplicates_in_new" // an integration creates people that exist in new already
	FaultOverwrite     = "overwritten_field" // the new CRM's lifecycle automation overwrites contacts' stage
	FaultDeletedInNew  = "deleted_in_new"    // a deal deleted in new by hand (the next sync restores it)
	faultSize          = 3                   // records each fault touches
	simSyncHour        = 21                  // the daily old-to-new sync, local time
	simSnapshotHour    = 23                  // the daily snapshot, local time
	simLateChangeMinus = 5 * time.Minute     // late changes: this long before the snapshot
	missedTitle        = "Chief Customer Officer"
)

// Faults lists the injected faults in the order of their days.
var Faults = []string{FaultMissedSync, FaultLateSync, FaultPhoneFormat, FaultDuplicates, FaultOverwrite, FaultDeletedInNew}

// IgnoredField is the known difference the simulation's plan gains on its fix day: the field the
// new CRM overwrites (FaultOverwrite), and why.
var IgnoredField = struct{ Object, Field, Reason string }{"contact", "stage", "the new CRM's lifecycle automation sets it"}

// SimDay is one simulated day of the parallel run.
type SimDay struct {
	N      int       `json:"day"`
	Date   string    `json:"date"` // YYYY-MM-DD in the plan's time zone
	Sync   time.Time `json:"sync"` // when the old-to-new sync runs
	AsOf   time.Time `json:"as_of"`
	Faults []string  `json:"faults,omitempty"`
	// Fix is the day the faults are resolved: reconcile applied, the duplicates merged in new, the
	// known difference added to the plan. The days from it on are the last seven.
	Fix   bool `json:"fix,omitempty"`
	Dedup bool `json:"dedup,omitempty"` // the snapshot runs the dedup rules against the new CRM
	// Expect is the drift the day's snapshot must show open beyond what day 1 found (the records
	// the new CRM refused at migrate), by "CLASS FIELD STATE" (FIELD "-" for none) for drift and
	// ignored rows, and "in_flight OBJECT" for the records in flight: the ground truth.
	Expect map[string]int `json:"expect"`
}

// ParallelDays lays out n simulated days ending on today's date in loc (yesterday's before
// 23:30, so that no snapshot is in the future). With 9 days or more the
// faults are injected in the days before the last seven (Faults, spread from day 2), and the first
// of the last seven resolves them; shorter runs have ordinary days only.
func ParallelDays(n int, today time.Time, loc *time.Location) []SimDay {
	now := today.In(loc)
	y, m, d := now.Date()
	if now.Before(time.Date(y, m, d, simSnapshotHour, 30, 0, 0, loc)) {
		d-- // today's snapshot time has not come: the days end yesterday (a snapshot is never in the future)
	}
	days := make([]SimDay, n)
	fix := n - 6
	for i := range days {
		day := d + i - n + 1 // time.Date normalizes; hours are set by the clock, whatever daylight saving does
		days[i] = SimDay{N: i + 1, Date: time.Date(y, m, day, 0, 0, 0, 0, loc).Format(time.DateOnly),
			Sync: time.Date(y, m, day, simSyncHour, 0, 0, 0, loc), AsOf: time.Date(y, m, day, simSnapshotHour, 0, 0, 0, loc),
			Expect: map[string]int{}}
	}
	if n < 9 {
		return days
	}
	days[0].Dedup = true // the first snapshot runs the dedup pass anyway
	for i, f := range Faults {
		k := 2 + i*(fix-2)/len(Faults)
		days[k-1].Faults = append(days[k-1].Faults, f)
		if f == FaultDuplicates {
			days[k-1].Dedup = true
		}
	}
	days[fix-1].Fix, days[fix-1].Dedup = true, true
	// Ground truth: what each fault leaves open, and until when.
	for i := range days {
		day := &days[i]
		for j := 0; j <= i; j++ {
			for _, f := range days[j].Faults {
				fixed := day.N >= fix
				switch f {
				case FaultMissedSync:
					if !fixed {
						day.Expect["field_mismatch title drift"] += faultSize
					}
				case FaultLateSync:
					if j == i { // records in flight (whatever their fields); the next day's sync writes them
						day.Expect["in_flight contact"] += faultSize
					}
				case FaultDuplicates:
					// Named by the dedup pass of their day, open until the fix day's pass finds them
					// merged; as records only in new, missing in old until merged.
					if !fixed {
						day.Expect["duplicate_in_new - drift"] += faultSize
						day.Expect["missing_in_old - drift"] += faultSize
					}
				case FaultOverwrite:
					if fixed {
						day.Expect["field_mismatch stage ignored"] += faultSize
					} else {
						day.Expect["field_mismatch stage drift"] += faultSize
					}
				case FaultDeletedInNew:
					if j == i { // the next day's sync writes it again (migrate checks the new CRM itself)
						day.Expect["lost_in_new - drift"]++ // a deal without activities
					}
				}
			}
		}
	}
	return days
}

// Sim applies the simulated days to the demo's CRMs.
type Sim struct {
	Old, New *pgx.Conn
	Loc      *time.Location
	Opts     Options
	// Lone lists, per old table (contacts, accounts, opportunities), the ids whose golden record
	// has no other member (set before each day): the simulation changes only those, since a change
	// to one member of a merged cluster can make another member's values win the merge, which is
	// drift of its own (a field whose authority is new keeps new's value).
	Lone        map[string][]string
	titles      map[int64]string // people's titles in new before the day's sync (FaultMissedSync)
	dups        []int64          // people the integration duplicated in new (FaultDuplicates)
	overwritten []int64          // people whose stage the new CRM's automation sets (FaultOverwrite)
}

// local is a time of a day as the old CRM writes it (timestamp without time zone, local time).
func (s *Sim) local(t time.Time) string { return t.In(s.Loc).Format("2006-01-02 15:04:05") }

func (s *Sim) exec(ctx context.Context, c *pgx.Conn, what string, sql string, args ...any) error {
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("simulate %s: %w", what, err)
	}
	return nil
}

// BeforeSync applies a day's ordinary changes to the old CRM, timed within the day: contacts
// change titles, deals move from prospecting to qualification, a new contact arrives, meetings are
// booked and others held, cancelled or missed, support tickets and billing statuses change. It
// remembers new's titles for the day's faults.
func (s *Sim) BeforeSync(ctx context.Context, day SimDay) error {
	k := max(faultSize+1, s.Opts.Contacts/200)
	y, m, d := day.Sync.Date()
	at := time.Date(y, m, d, 11, 0, 0, 0, s.Loc)
	seed := fmt.Sprintf("d%d-%d", day.N, s.Opts.Seed)
	steps := []struct {
		what, sql string
		lone      []string
	}{
		{"title changes", `UPDATE contacts SET title = (ARRAY['Account Director','VP Sales','Head of Operations','CFO','Procurement Lead'])[1 + (contact_id % 5)::int],
			modified_at = $1::timestamp + (contact_id % 60) * interval '1 minute'
			WHERE contact_id IN (SELECT contact_id FROM contacts WHERE coalesce(lower(lifecycle), '') <> 'lead' AND email LIKE '%@%.%'
			AND contact_id % 10 NOT IN (0, 1) AND 'C-' || contact_id = ANY($4) ORDER BY md5(contact_id::text || $2) LIMIT $3)`, s.Lone["contacts"]},
		{"deal stages", `UPDATE opportunities SET stage = 'Qualification', modified_at = $1::timestamp + interval '2 hours'
			WHERE opp_id IN (SELECT opp_id FROM opportunities WHERE stage = 'Prospecting' AND opp_id = ANY($4)
			ORDER BY md5(opp_id || $2) LIMIT $3)`, s.Lone["opportunities"]},
		{"a new contact", `INSERT INTO contacts (contact_id, first_name, last_name, email, phone, title, account_id, owner_email, lifecycle, country, created_at, modified_at)
			SELECT (SELECT max(contact_id) + 1 FROM contacts), first_name, last_name, 'new.' || $2 || '.' || email, phone, title, account_id, owner_email,
			'MQL', country, $1::timestamp + interval '3 hours', $1::timestamp + interval '3 hours'
			FROM contacts WHERE email LIKE '%@%.%' AND $3 > 0 AND cardinality($4::text[]) >= 0 ORDER BY md5(contact_id::text || $2) LIMIT 1`, nil},
		{"meetings", `UPDATE activities SET outcome = (ARRAY['held','cancelled','no_show'])[1 + (activity_id % 3)::int], modified_at = $1::timestamp + interval '4 hours'
			WHERE activity_id IN (SELECT activity_id FROM activities WHERE type = 'meeting' AND cardinality($4::text[]) >= 0
			ORDER BY md5(activity_id::text || $2) LIMIT $3)`, nil},
		{"support tickets", `UPDATE support_summaries SET highest_severity = (ARRAY['low','normal','high','urgent'])[1 + (account_id % 4)::int],
			open_tickets = open_tickets + 1, updated_at = $1::timestamp + interval '5 hours'
			WHERE account_id IN (SELECT account_id FROM support_summaries WHERE account_id::text = ANY($4)
			ORDER BY md5(account_id::text || $2) LIMIT $3)`, s.Lone["accounts"]},
		{"billing statuses", `UPDATE subscriptions SET status = CASE status WHEN 'active' THEN 'past_due' ELSE 'active' END,
			updated_at = $1::timestamp + interval '6 hours' + (abs(hashtext(subscription_id)) % 60) * interval '1 second'
			WHERE subscription_id IN (SELECT subscription_id FROM subscriptions WHERE account_id::text = ANY($4)
			ORDER BY md5(subscription_id || $2) LIMIT $3)`, s.Lone["accounts"]},
	}
	for _, st := range steps {
		lone := st.lone
		if lone == nil {
			lone = []string{}
		}
		if err := s.exec(ctx, s.Old, st.what, st.sql, s.local(at), seed, k, lone); err != nil {
			return err
		}
	}
	if slices.Contains(day.Faults, FaultMissedSync) {
		// Changes the sync will write and then lose (AfterSync): contacts of their own (id ending 1),
		// more than the fault needs, since a merged golden record may keep another member's title.
		if err := s.need(ctx, s.Old, FaultMissedSync, faultSize, `UPDATE contacts SET title = $3, modified_at = $1::timestamp
			WHERE contact_id IN (SELECT contact_id FROM contacts WHERE coalesce(lower(lifecycle), '') <> 'lead' AND email LIKE '%@%.%'
			AND contact_id % 10 = 1 AND coalesce(title, '') <> $3 AND 'C-' || contact_id = ANY($5) ORDER BY md5(contact_id::text || $2) LIMIT $4)`,
			s.local(at), seed, missedTitle, faultSize, s.Lone["contacts"]); err != nil {
			return err
		}
		if err := s.readTitles(ctx); err != nil {
			return err
		}
	}
	return nil
}

// readTitles remembers the titles in new before the sync (FaultMissedSync).
func (s *Sim) readTitles(ctx context.Context) error {
	s.titles = map[int64]string{}
	rows, err := s.New.Query(ctx, `SELECT id, coalesce(job_title, '') FROM people`)
	if err != nil {
		return fmt.Errorf("simulate: read titles in new: %w", err)
	}
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			rows.Close()
			return err
		}
		s.titles[id] = t
	}
	rows.Close()
	return rows.Err()
}

// need runs a statement of a fault that must touch at least n rows.
func (s *Sim) need(ctx context.Context, c *pgx.Conn, what string, n int64, sql string, args ...any) error {
	tag, err := c.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("simulate %s: %w", what, err)
	}
	if tag.RowsAffected() < n {
		return fmt.Errorf("simulate %s: %d records found of the %d the fault needs; run the demo larger (--contacts 200 or more)", what, tag.RowsAffected(), n)
	}
	return nil
}

// AfterSync injects the day's faults, after the old-to-new sync ran.
func (s *Sim) AfterSync(ctx context.Context, day SimDay) error {
	y, m, dd := day.Sync.Date()
	noon := time.Date(y, m, dd, 12, 0, 0, 0, s.Loc)
	for _, f := range day.Faults {
		var err error
		switch f {
		case FaultMissedSync:
			// The titles the sync wrote for this fault's changes are back as they were: lost writes.
			var ids []int64
			rows, qerr := s.New.Query(ctx, `SELECT id FROM people WHERE job_title = $1 ORDER BY id`, missedTitle)
			if qerr != nil {
				return qerr
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				if prev, ok := s.titles[id]; ok && prev != missedTitle && len(ids) < faultSize {
					ids = append(ids, id)
				}
			}
			rows.Close()
			if len(ids) < faultSize {
				return fmt.Errorf("simulate %s: the sync wrote %d of the fault's titles, want %d; run the demo larger (--contacts 200 or more)", f, len(ids), faultSize)
			}
			for _, id := range ids {
				if err = s.exec(ctx, s.New, f, `UPDATE people SET job_title = nullif($2, ''), updated_at = $3 WHERE id = $1`,
					id, s.titles[id], day.Sync); err != nil {
					return err
				}
			}
		case FaultLateSync:
			err = s.need(ctx, s.Old, f, faultSize, `UPDATE contacts SET title = 'Chief Revenue Officer', modified_at = $1::timestamp
				WHERE contact_id IN (SELECT contact_id FROM contacts WHERE coalesce(lower(lifecycle), '') <> 'lead' AND email LIKE '%@%.%'
				AND contact_id % 10 = 0 AND coalesce(title, '') <> 'Chief Revenue Officer' AND 'C-' || contact_id = ANY($3)
				ORDER BY md5(contact_id::text || 'late') LIMIT $2)`,
				s.local(day.AsOf.Add(-simLateChangeMinus)), faultSize, s.Lone["contacts"])
		case FaultPhoneFormat:
			// +46701234567 → 070-123 45 67: the same number, written the Swedish way.
			err = s.need(ctx, s.New, f, faultSize, `UPDATE people SET phone = '0' || substr(phone, 4, 2) || '-' || substr(phone, 6, 3) || ' ' ||
				substr(phone, 9, 2) || ' ' || substr(phone, 11), updated_at = $1
				WHERE id IN (SELECT id FROM people WHERE phone ~ '^\+467[0-9]{8}$' ORDER BY id LIMIT $2)`, noon, faultSize)
		case FaultDuplicates:
			rows, qerr := s.New.Query(ctx, `INSERT INTO people (first_name, last_name, email, phone, mobile, job_title, company_id, owner_id, stage, created_at, updated_at)
				SELECT first_name, last_name, 'integration.' || email, phone, mobile, job_title, company_id, owner_id, stage, $1, $1 FROM people
				WHERE email IS NOT NULL AND phone IS NOT NULL AND company_id IS NOT NULL AND legacy_id IS NOT NULL
				AND coalesce(stage, '') <> 'lead' ORDER BY id DESC LIMIT $2 RETURNING id`, noon, faultSize)
			if qerr != nil {
				return fmt.Errorf("simulate %s: %w", f, qerr)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				s.dups = append(s.dups, id)
			}
			rows.Close()
			if err = rows.Err(); err == nil && len(s.dups) < faultSize {
				err = fmt.Errorf("simulate %s: %d records found of the %d the fault needs; run the demo larger (--contacts 200 or more)", f, len(s.dups), faultSize)
			}
		case FaultOverwrite:
			rows, qerr := s.New.Query(ctx, `SELECT id FROM people WHERE stage = 'lead' AND legacy_id IS NOT NULL ORDER BY id LIMIT $1`, faultSize)
			if qerr != nil {
				return fmt.Errorf("simulate %s: %w", f, qerr)
			}
			s.overwritten, err = pgx.CollectRows(rows, pgx.RowTo[int64])
			if err == nil && len(s.overwritten) < faultSize {
				err = fmt.Errorf("simulate %s: %d records found of the %d the fault needs; run the demo larger (--contacts 200 or more)", f, len(s.overwritten), faultSize)
			}
		case FaultDeletedInNew:
			err = s.need(ctx, s.New, f, 1, `DELETE FROM opportunities WHERE id = (SELECT min(o.id) FROM opportunities o
				WHERE o.stage NOT IN ('prospecting', 'qualification') AND o.legacy_id IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.opportunity_id = o.id))`)
		}
		if err != nil {
			return err
		}
	}
	if len(s.overwritten) > 0 { // the new CRM's lifecycle automation sets their stage every day
		if err := s.exec(ctx, s.New, FaultOverwrite, `UPDATE people SET stage = 'marketing_qualified', updated_at = $2
			WHERE id = ANY($1) AND stage IS DISTINCT FROM 'marketing_qualified'`, s.overwritten, noon); err != nil {
			return err
		}
	}
	return nil
}

// Merge merges the duplicates the integration created, in new (the fix day's part of the
// resolution that happens in the new CRM itself).
func (s *Sim) Merge(ctx context.Context) error {
	if len(s.dups) == 0 {
		return nil
	}
	return s.exec(ctx, s.New, "merging duplicates in new", `DELETE FROM people WHERE id = ANY($1)`, s.dups)
}

// StampSync dates what the day's sync wrote to new (rows changed since it started) to the day's
// sync time, as a sync that ran then would have.
func (s *Sim) StampSync(ctx context.Context, day SimDay, started time.Time) error {
	for _, table := range []string{"companies", "people", "opportunities", "activities"} {
		if err := s.exec(ctx, s.New, "dating the sync's writes", `UPDATE `+table+` SET updated_at = $1 WHERE updated_at >= $2`,
			day.Sync, started); err != nil {
			return err
		}
	}
	return nil
}
