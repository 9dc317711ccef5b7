package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// SnapshotInfo is a parallel-run snapshot as pr_snapshots lists it.
type SnapshotInfo struct {
	RunID       int64     `json:"run_id"`
	Day         int       `json:"day"`
	AsOf        time.Time `json:"as_of"`
	Incremental bool      `json:"incremental"`
	Dedup       bool      `json:"dedup"`
	Drift       int64     `json:"drift"`
}

// Snapshots lists a plan's parallel-run snapshots, oldest first.
func (db *DB) Snapshots(ctx context.Context, plan string) ([]SnapshotInfo, error) {
	rows, err := db.Pool.Query(ctx, `SELECT run_id, day, as_of, incremental, dedup, drift FROM crmigrate.pr_snapshots
		WHERE plan = $1 ORDER BY as_of, run_id`, plan)
	if err != nil {
		return nil, fmt.Errorf("list the parallel run's snapshots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SnapshotInfo, error) {
		var s SnapshotInfo
		err := r.Scan(&s.RunID, &s.Day, &s.AsOf, &s.Incremental, &s.Dedup, &s.Drift)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the parallel run's snapshots: %w", err)
	}
	return out, nil
}

// SnapshotBody returns the JSON of a snapshot.
func (db *DB) SnapshotBody(ctx context.Context, runID int64) ([]byte, error) {
	var b []byte
	if err := db.Pool.QueryRow(ctx, `SELECT body FROM crmigrate.pr_snapshots WHERE run_id = $1`, runID).Scan(&b); err != nil {
		return nil, fmt.Errorf("read snapshot %d: %w", runID, err)
	}
	return b, nil
}

// DriftSeen is one drift a snapshot found: what identifies it across snapshots (object, class,
// field, record), how it stands, and its drift row.
type DriftSeen struct {
	Object   string
	Class    string
	Field    string
	Record   string // the golden id, or new:ID
	State    string // drift, in_flight or ignored
	Critical bool
	Detail   any // encoded as JSON
}

// DriftHistory is a drift as the history knows it after a snapshot.
type DriftHistory struct {
	Object    string          `json:"object"`
	Class     string          `json:"class"`
	Field     string          `json:"field,omitempty"`
	Record    string          `json:"record"`
	State     string          `json:"state"`
	Critical  bool            `json:"critical,omitempty"`
	FirstSeen time.Time       `json:"first_seen"`
	FirstDay  int             `json:"first_day"`
	LastSeen  time.Time       `json:"last_seen"`
	LastDay   int             `json:"last_day"`
	ClosedAt  *time.Time      `json:"closed_at,omitempty"`
	ClosedDay *int            `json:"closed_day,omitempty"`
	Detail    json.RawMessage `json:"detail"`
}

// Snapshot is what RecordSnapshot writes.
type Snapshot struct {
	Plan        string
	RunID       int64
	Day         int
	AsOf        time.Time
	Incremental bool
	Dedup       bool  // it ran the dedup rules against the new CRM
	Drift       int64 // open drift (state drift)
	Limit       int   // drift rows per object given to Body, in each list (0: all)
	// Body makes the snapshot's JSON from how many drift rows it opened and closed, the open drift
	// and the drift it closed (at most Limit per object each).
	Body func(opened, closedN int64, open, closed []DriftHistory) (any, error)
}

// RecordSnapshot writes a snapshot and its drift into the history, in one transaction: drift seen
// before stays open (its first sighting kept), new drift opens, open drift not seen is closed as
// of the snapshot. Body is called inside the transaction with the open drift and the drift this
// snapshot closed, and its result is stored as the snapshot's JSON.
func (db *DB) RecordSnapshot(ctx context.Context, s Snapshot, seen []DriftSeen) (open, closed []DriftHistory, err error) {
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE pr_seen (object text, class text, field text, record text, state text,
			critical boolean, detail jsonb) ON COMMIT DROP`); err != nil {
			return err
		}
		// One row per drift (the open index allows one): of two with the same identity, the last.
		at := make(map[[4]string]int, len(seen))
		for i, d := range seen {
			at[[4]string{d.Object, d.Class, d.Field, d.Record}] = i
		}
		rows := make([][]any, 0, len(at))
		for i, d := range seen {
			if at[[4]string{d.Object, d.Class, d.Field, d.Record}] != i {
				continue
			}
			b, err := json.Marshal(d.Detail)
			if err != nil {
				return err
			}
			rows = append(rows, []any{d.Object, d.Class, d.Field, d.Record, d.State, d.Critical, string(b)})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pr_seen"}, []string{"object", "class", "field", "record", "state", "critical", "detail"},
			pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE crmigrate.pr_drift d SET state = s.state, critical = s.critical, last_seen = $2,
				last_day = $3, last_run = $4, detail = s.detail
			FROM pr_seen s WHERE d.plan = $1 AND d.closed_at IS NULL
			AND (d.object, d.class, d.field, d.record) = (s.object, s.class, s.field, s.record)`,
			s.Plan, s.AsOf, s.Day, s.RunID); err != nil {
			return err
		}
		ins, err := tx.Exec(ctx, `INSERT INTO crmigrate.pr_drift (plan, object, class, field, record, state, critical,
				first_seen, first_day, first_run, last_seen, last_day, last_run, detail)
			SELECT $1, s.object, s.class, s.field, s.record, s.state, s.critical, $2, $3, $4, $2, $3, $4, s.detail
			FROM pr_seen s WHERE NOT EXISTS (SELECT 1 FROM crmigrate.pr_drift d WHERE d.plan = $1 AND d.closed_at IS NULL
				AND (d.object, d.class, d.field, d.record) = (s.object, s.class, s.field, s.record))`,
			s.Plan, s.AsOf, s.Day, s.RunID)
		if err != nil {
			return err
		}
		cl, err := tx.Exec(ctx, `UPDATE crmigrate.pr_drift SET closed_at = $2, closed_day = $3, closed_run = $4
			WHERE plan = $1 AND closed_at IS NULL AND last_run <> $4`, s.Plan, s.AsOf, s.Day, s.RunID)
		if err != nil {
			return err
		}
		if open, err = driftHistory(ctx, tx, s.Limit, `plan = $1 AND closed_at IS NULL`, s.Plan); err != nil {
			return err
		}
		if closed, err = driftHistory(ctx, tx, s.Limit, `plan = $1 AND closed_run = $2`, s.Plan, s.RunID); err != nil {
			return err
		}
		body, err := s.Body(ins.RowsAffected(), cl.RowsAffected(), open, closed)
		if err != nil {
			return err
		}
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `INSERT INTO crmigrate.pr_snapshots (run_id, plan, day, as_of, incremental, dedup, drift, body, summary)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, `+summaryOf("$8::jsonb")+`)`, s.RunID, s.Plan, s.Day, s.AsOf, s.Incremental, s.Dedup, s.Drift, b); err != nil {
			return err
		}
		// The run's report too, so that a crash before the run is ended leaves it with its report
		// (the phase runner writes it again when it ends the run).
		_, err = tx.Exec(ctx, `INSERT INTO crmigrate.run_reports (run_id, body) VALUES ($1, $2)
			ON CONFLICT (run_id) DO UPDATE SET body = EXCLUDED.body`, s.RunID, b)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record the snapshot of run %d: %w", s.RunID, err)
	}
	return open, closed, nil
}

// driftHistory reads drift rows, at most limit per object (0: all): critical first, then drift,
// in flight and ignored, the oldest first, then by class, field and record.
func driftHistory(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, limit int, where string, args ...any) ([]DriftHistory, error) {
	order := `NOT critical, CASE state WHEN 'drift' THEN 0 WHEN 'in_flight' THEN 1 ELSE 2 END, first_seen,
		class COLLATE "C", field COLLATE "C", record COLLATE "C"`
	rows, err := q.Query(ctx, `SELECT object, class, field, record, state, critical, first_seen, first_day, last_seen, last_day,
		closed_at, closed_day, detail FROM (
			SELECT *, row_number() OVER (PARTITION BY object ORDER BY `+order+`) AS n FROM crmigrate.pr_drift WHERE `+where+`) d
		WHERE $`+fmt.Sprint(len(args)+1)+` = 0 OR n <= $`+fmt.Sprint(len(args)+1)+`
		ORDER BY object COLLATE "C", n`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DriftHistory, error) {
		var h DriftHistory
		err := r.Scan(&h.Object, &h.Class, &h.Field, &h.Record, &h.State, &h.Critical, &h.FirstSeen, &h.FirstDay,
			&h.LastSeen, &h.LastDay, &h.ClosedAt, &h.ClosedDay, &h.Detail)
		return h, err
	})
}

// OpenDriftFound returns the plan's open drift that a pass other than the comparison found (its
// drift row's found, e.g. "dedup").
func (db *DB) OpenDriftFound(ctx context.Context, plan, found string) ([]DriftHistory, error) {
	out, err := driftHistory(ctx, db.Pool, 0, `plan = $1 AND closed_at IS NULL AND detail->>'found' = $2`, plan, found)
	if err != nil {
		return nil, fmt.Errorf("read the open drift found by %s: %w", found, err)
	}
	return out, nil
}

// OpenDrift returns the plan's open drift (of every state), as the last snapshot left it.
func (db *DB) OpenDrift(ctx context.Context, plan string) ([]DriftHistory, error) {
	out, err := driftHistory(ctx, db.Pool, 0, `plan = $1 AND closed_at IS NULL`, plan)
	if err != nil {
		return nil, fmt.Errorf("read the open drift: %w", err)
	}
	return out, nil
}

// ValidatedSinceFullMigrate returns the plan's last passed full (not delta) migrate run and its
// last passed validate run (0 for none): the parallel run needs the validation to be the later.
func (db *DB) ValidatedSinceFullMigrate(ctx context.Context, plan string) (migrateRun, validateRun int64, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT
		coalesce((SELECT max(r.id) FROM crmigrate.runs r LEFT JOIN crmigrate.run_reports rr ON rr.run_id = r.id
			WHERE r.plan = $1 AND r.phase = 'migrate' AND r.status = 'passed'
			AND coalesce(rr.body->>'delta', 'false') <> 'true' AND coalesce(rr.body->>'dry_run', 'false') <> 'true'), 0),
		coalesce((SELECT max(id) FROM crmigrate.runs WHERE plan = $1 AND phase = 'validate' AND status = 'passed'), 0)`,
		plan).Scan(&migrateRun, &validateRun)
	if err != nil {
		return 0, 0, fmt.Errorf("find the last migrate and validate: %w", err)
	}
	return migrateRun, validateRun, nil
}

// WroteSince returns a run of one of phases that ended after run started (0 when none): what
// reconcile checks before acting on a snapshot's drift. A run of phase again that did not finish
// by itself (aborted, abandoned) does not count: running it again completes it.
func (db *DB) WroteSince(ctx context.Context, plan string, run int64, phases []string, again string) (int64, string, error) {
	var id int64
	var ph string
	err := db.Pool.QueryRow(ctx, `SELECT r.id, r.phase FROM crmigrate.runs r WHERE r.plan = $1 AND r.phase = ANY($2)
		AND r.status <> 'running' AND NOT (r.phase = $4 AND r.status IN ('aborted', 'abandoned'))
		AND r.ended_at > (SELECT started_at FROM crmigrate.runs WHERE id = $3) ORDER BY r.id LIMIT 1`,
		plan, phases, run, again).Scan(&id, &ph)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("find the runs since snapshot %d: %w", run, err)
	}
	return id, ph, nil
}

// RefusedIn returns what the new CRM refused in a run: object → golden id → reason.
func (db *DB) RefusedIn(ctx context.Context, run int64) (map[string]map[string]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT object, source_id, reason FROM crmigrate.rejects WHERE run_id = $1 AND system = 'new'
		ORDER BY id`, run)
	if err != nil {
		return nil, fmt.Errorf("read what run %d had refused: %w", run, err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var o, g, why string
		if err := rows.Scan(&o, &g, &why); err != nil {
			return nil, err
		}
		if out[o] == nil {
			out[o] = map[string]string{}
		}
		out[o][g] = why
	}
	return out, rows.Err()
}

// StagedOf says which of some golden ids staging has.
func (db *DB) StagedOf(ctx context.Context, plan, object string, golden []string) (map[string]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT golden_id FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`,
		plan, object, golden)
	if err != nil {
		return nil, fmt.Errorf("look up %d %s golden records: %w", len(golden), object, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up %d %s golden records: %w", len(golden), object, err)
	}
	out := make(map[string]bool, len(ids))
	for _, g := range ids {
		out[g] = true
	}
	return out, nil
}

// SingleMembers returns the source ids of a source system whose golden record has no other
// member: the demo's simulation changes only those.
func (db *DB) SingleMembers(ctx context.Context, plan, object, source string) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT m.source_id FROM crmigrate.cluster_members m JOIN crmigrate.golden g USING (plan, object, golden_id)
		WHERE m.plan = $1 AND m.object = $2 AND m.source = $3 AND g.members = 1 ORDER BY m.source_id`, plan, object, source)
	if err != nil {
		return nil, fmt.Errorf("list the lone members of %s: %w", object, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list the lone members of %s: %w", object, err)
	}
	return out, nil
}

// WrittenSince lists the ids in new of an object's records that crmigrate wrote (migrate,
// reconcile) or undid in the runs that had not ended by a time, by its journal: what a read of the
// new CRM that began at that time may not have seen.
func (db *DB) WrittenSince(ctx context.Context, plan, object string, since time.Time) ([]string, error) {
	fail := func(err error) error {
		return fmt.Errorf("list what crmigrate wrote to %s since %s: %w", object, since.Format(time.RFC3339), err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT id FROM crmigrate.runs WHERE plan = $1 AND (ended_at IS NULL OR ended_at >= $2)`, plan, since)
	if err != nil {
		return nil, fail(err)
	}
	runs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	rows, err = db.Pool.Query(ctx, `SELECT DISTINCT coalesce(nullif(j.new_id, ''), c.new_id)
		FROM crmigrate.journal j
		LEFT JOIN crmigrate.crosswalk c ON c.plan = j.plan AND c.object = j.object AND c.golden_id = j.golden_id
		WHERE j.plan = $1 AND j.object = $2 AND (j.run_id = ANY($3) OR j.undone_by = ANY($3))`, plan, object, runs)
	if err != nil {
		return nil, fail(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[*string])
	if err != nil {
		return nil, fail(err)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != nil && *id != "" {
			out = append(out, *id)
		}
	}
	return out, nil
}

// Authority review statuses: waiting, or which side a person said is right.
const (
	AuthorityPending = "pending"
	AuthorityOld     = "old"
	AuthorityNew     = "new"
)

// AuthorityReview is a difference a person decides: which side holds the right value.
type AuthorityReview struct {
	ID        int64      `json:"id"`
	Object    string     `json:"object"`
	Record    string     `json:"record"` // golden id
	Field     string     `json:"field"`
	NewID     string     `json:"new_id,omitempty"`
	Old       string     `json:"old"`
	New       string     `json:"new"`
	Why       string     `json:"why,omitempty"`
	Status    string     `json:"status"`
	FirstRun  int64      `json:"first_run"`
	LastRun   int64      `json:"last_run"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// UpsertAuthorityReviews records the differences reconcile leaves to a person (a run's): a new
// one is pending; one already there keeps its decision when both values are the ones it was
// made on, and is pending again otherwise. It returns the reviews' ids, in order.
func (db *DB) UpsertAuthorityReviews(ctx context.Context, plan string, runID int64, rows []AuthorityReview) ([]int64, error) {
	ids := make([]int64, len(rows))
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for i, r := range rows {
			if err := tx.QueryRow(ctx, `INSERT INTO crmigrate.pr_reviews AS r
				(plan, object, record, field, new_id, old_value, new_value, why, first_run, last_run)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
				ON CONFLICT (plan, object, record, field) DO UPDATE SET last_run = EXCLUDED.last_run, new_id = EXCLUDED.new_id,
					why = EXCLUDED.why, old_value = EXCLUDED.old_value, new_value = EXCLUDED.new_value,
					status = CASE WHEN r.old_value = EXCLUDED.old_value AND r.new_value = EXCLUDED.new_value THEN r.status ELSE 'pending' END,
					decided_by = CASE WHEN r.old_value = EXCLUDED.old_value AND r.new_value = EXCLUDED.new_value THEN r.decided_by ELSE '' END,
					decided_at = CASE WHEN r.old_value = EXCLUDED.old_value AND r.new_value = EXCLUDED.new_value THEN r.decided_at END
				RETURNING id`, plan, r.Object, r.Record, r.Field, r.NewID, r.Old, r.New, r.Why, runID).Scan(&ids[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record the authority reviews: %w", err)
	}
	return ids, nil
}

// stillOpen is the SQL condition that an authority review's difference (pr_reviews r) is still
// open drift: a review whose difference went away waits for nobody.
const stillOpen = `EXISTS (SELECT 1 FROM crmigrate.pr_drift d WHERE d.plan = r.plan AND d.object = r.object AND d.record = r.record
	AND d.field = r.field AND d.closed_at IS NULL)`

// AuthorityReviews lists a plan's authority reviews of a status ("" all) and object ("" all), by
// id; pending ones only while their difference is still open.
func (db *DB) AuthorityReviews(ctx context.Context, plan, status, object string) ([]AuthorityReview, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, object, record, field, new_id, old_value, new_value, why, status, first_run, last_run,
		decided_by, decided_at FROM crmigrate.pr_reviews r WHERE plan = $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR object = $3)
		AND (status <> 'pending' OR `+stillOpen+`) ORDER BY id`, plan, status, object)
	if err != nil {
		return nil, fmt.Errorf("list the authority reviews: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuthorityReview, error) {
		var r AuthorityReview
		err := row.Scan(&r.ID, &r.Object, &r.Record, &r.Field, &r.NewID, &r.Old, &r.New, &r.Why, &r.Status, &r.FirstRun, &r.LastRun,
			&r.DecidedBy, &r.DecidedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list the authority reviews: %w", err)
	}
	return out, nil
}

// DecideAuthorityReviews sets which side is right (AuthorityOld, AuthorityNew, or AuthorityPending
// to take a decision back) for reviews by id, audited; an id the plan does not have is an error
// and nothing is decided.
func (db *DB) DecideAuthorityReviews(ctx context.Context, plan string, ids []int64, side string) error {
	if side != AuthorityOld && side != AuthorityNew && side != AuthorityPending {
		return fmt.Errorf("decide authority reviews: unknown side %q (old, new or pending)", side)
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	who, _ := actor()
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE crmigrate.pr_reviews SET status = $3,
			decided_by = CASE WHEN $3 = 'pending' THEN '' ELSE $4 END, decided_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
			WHERE plan = $1 AND id = ANY($2)`, plan, ids, side, who)
		if err != nil {
			return fmt.Errorf("decide authority reviews: %w", err)
		}
		if n := tag.RowsAffected(); n != int64(len(ids)) {
			return fmt.Errorf("decide authority reviews: %w: %d of the ids %v are reviews of plan %s; nothing decided", ErrNoSuchReview, n, ids, plan)
		}
		return audit(ctx, tx, Entry{Plan: plan, Action: "parallel-run.review." + side, Detail: map[string]any{"reviews": ids}})
	})
}

// ErrNoSuchReview is returned for an authority review id the plan does not have.
var ErrNoSuchReview = errors.New("no such authority review")

// DriftGroup counts the drift open as of a snapshot, by object, class, field, state, criticality
// and the day it was first seen.
type DriftGroup struct {
	Object   string
	Class    string
	Field    string
	State    string // as last seen
	Critical bool
	FirstDay int
	Count    int64
}

// DriftOpenAt counts the drift that was open as of a time (first seen at or before it, not closed
// by then), grouped: what a report of that day's ages and fields is made of.
func (db *DB) DriftOpenAt(ctx context.Context, plan string, at time.Time) ([]DriftGroup, error) {
	rows, err := db.Pool.Query(ctx, `SELECT object, class, field, state, critical, first_day, count(*)
		FROM crmigrate.pr_drift WHERE plan = $1 AND first_seen <= $2 AND (closed_at IS NULL OR closed_at > $2)
		GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`, plan, at)
	if err != nil {
		return nil, fmt.Errorf("count the drift open at %s: %w", at.Format(time.RFC3339), err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DriftGroup, error) {
		var g DriftGroup
		err := row.Scan(&g.Object, &g.Class, &g.Field, &g.State, &g.Critical, &g.FirstDay, &g.Count)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("count the drift open at %s: %w", at.Format(time.RFC3339), err)
	}
	return out, nil
}

// LastChecks returns the last finished validate run's id and status and its checks' results (from
// its report; nil when it left none), or (0, "", nil) when no validate has ended.
func (db *DB) LastChecks(ctx context.Context, plan string) (int64, string, json.RawMessage, error) {
	var id int64
	var status string
	var body json.RawMessage
	err := db.Pool.QueryRow(ctx, `SELECT r.id, r.status, rr.body->'checks' FROM crmigrate.runs r
		LEFT JOIN crmigrate.run_reports rr ON rr.run_id = r.id
		WHERE r.plan = $1 AND r.phase = 'validate' AND r.status <> 'running' ORDER BY r.id DESC LIMIT 1`, plan).Scan(&id, &status, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil, nil
	}
	if err != nil {
		return 0, "", nil, fmt.Errorf("read the last validate's checks: %w", err)
	}
	return id, status, body, nil
}

// SnapshotSummary is a snapshot's JSON without its drift rows: what a report's trend needs of
// every day.
type SnapshotSummary struct {
	SnapshotInfo
	Body json.RawMessage // the snapshot with each object's drift and the closed drift left out
}

// summaryOf is the SQL of a snapshot's JSON (the jsonb expression body) without its drift rows;
// migration 0009 uses the same.
func summaryOf(body string) string {
	return `((` + body + ` - 'objects' - 'closed_drift') || jsonb_build_object('objects',
		(SELECT coalesce(jsonb_agg(o - 'drift' ORDER BY n), '[]') FROM jsonb_array_elements(` + body + `->'objects') WITH ORDINALITY AS x(o, n))))`
}

// SnapshotSummaries lists a plan's snapshots, oldest first, each without its drift rows (kept
// apart when the snapshot is recorded, so that a month of snapshots of large CRMs reads quickly).
func (db *DB) SnapshotSummaries(ctx context.Context, plan string) ([]SnapshotSummary, error) {
	rows, err := db.Pool.Query(ctx, `SELECT run_id, day, as_of, incremental, dedup, drift, coalesce(summary, `+summaryOf("body")+`)
		FROM crmigrate.pr_snapshots WHERE plan = $1 ORDER BY as_of, run_id`, plan)
	if err != nil {
		return nil, fmt.Errorf("read the parallel run's snapshots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SnapshotSummary, error) {
		var s SnapshotSummary
		err := row.Scan(&s.RunID, &s.Day, &s.AsOf, &s.Incremental, &s.Dedup, &s.Drift, &s.Body)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the parallel run's snapshots: %w", err)
	}
	return out, nil
}

// Waiting is what waits for a person in a project: the pairs clean left to review, the
// differences the parallel run left to decide, and the rejects of the last clean and migrate.
type Waiting struct {
	Reviews          int64 `json:"reviews"`           // pairs pending in the review queue
	AuthorityReviews int64 `json:"authority_reviews"` // differences pending in the parallel run's reviews
	CleanRejects     int64 `json:"clean_rejects"`     // of the last finished clean
	MigrateRejects   int64 `json:"migrate_rejects"`   // of the last finished migrate (the new CRM refused them)
}

// WaitingOf counts what waits for a person in a plan's project.
func (db *DB) WaitingOf(ctx context.Context, plan string) (Waiting, error) {
	var w Waiting
	err := db.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM crmigrate.review_queue WHERE plan = $1 AND status = 'pending'),
		(SELECT count(*) FROM crmigrate.pr_reviews r WHERE plan = $1 AND status = 'pending' AND `+stillOpen+`),
		(SELECT count(*) FROM crmigrate.rejects WHERE run_id = (SELECT max(id) FROM crmigrate.runs
			WHERE plan = $1 AND phase = 'clean' AND status <> 'running')),
		(SELECT count(*) FROM crmigrate.rejects WHERE run_id = (SELECT max(id) FROM crmigrate.runs
			WHERE plan = $1 AND phase = 'migrate' AND status <> 'running'))`, plan).
		Scan(&w.Reviews, &w.AuthorityReviews, &w.CleanRejects, &w.MigrateRejects)
	if err != nil {
		return w, fmt.Errorf("count what waits for a person: %w", err)
	}
	return w, nil
}

// MoneyTotal is a money field's total in one currency, counting every source record staging
// holds (duplicates counted as many times as they occur, as a report before clean would) and
// counting each golden record once.
type MoneyTotal struct {
	Currency string `json:"currency"` // "" when the values carry none
	Before   string `json:"before_clean"`
	After    string `json:"after_clean"`
	Records  int64  `json:"records"` // source records with a value
	Golden   int64  `json:"golden"`  // golden records with a value
}

// MoneyTotals sums a money field (at position field, from 0, in the object's fields) of the
// current staging, per currency. Values that are not canonical amounts (invalid ones kept as
// they were) are left out. The sums are kept with the staging they were made from and made again
// when it changes.
// name is the field's name: sums kept for another field at that position (the plan's fields
// reordered) are not reused.
func (db *DB) MoneyTotals(ctx context.Context, plan, object string, field int, name string) ([]MoneyTotal, error) {
	fail := func(err error) error { return fmt.Errorf("sum %s's money field %d: %w", object, field, err) }
	stamp, err := db.StagingStamp(ctx, plan)
	if err != nil {
		return nil, err
	}
	stamp = name + "@" + stamp
	var kept []byte
	err = db.Pool.QueryRow(ctx, `SELECT totals FROM crmigrate.money_totals WHERE plan = $1 AND object = $2 AND field = $3 AND stamp = $4`,
		plan, object, field, stamp).Scan(&kept)
	if err == nil {
		var out []MoneyTotal
		if err := json.Unmarshal(kept, &out); err != nil {
			return nil, fail(err)
		}
		return out, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fail(err)
	}
	// A golden record alone in its cluster has its member's values (the member keeps none); the
	// members of larger clusters keep theirs.
	rows, err := db.Pool.Query(ctx, `WITH v AS (
			SELECT g.members = 1 AS single, g.vals[$3] AS v FROM crmigrate.golden g WHERE g.plan = $1 AND g.object = $2
			UNION ALL
			SELECT NULL, m.vals[$3] FROM crmigrate.cluster_members m WHERE m.plan = $1 AND m.object = $2 AND m.vals IS NOT NULL),
		a AS (SELECT single, split_part(v, ' ', 1)::numeric AS amount, split_part(v, ' ', 2) AS currency FROM v
			WHERE v ~ '^-?[0-9]+(\.[0-9]+)?( [A-Z]{3})?$')
		SELECT currency, coalesce(sum(amount) FILTER (WHERE single IS NOT FALSE), 0)::text, coalesce(sum(amount) FILTER (WHERE single IS NOT NULL), 0)::text,
			count(*) FILTER (WHERE single IS NOT FALSE), count(*) FILTER (WHERE single IS NOT NULL)
		FROM a GROUP BY currency ORDER BY currency`, plan, object, field+1)
	if err != nil {
		return nil, fail(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MoneyTotal, error) {
		var m MoneyTotal
		err := row.Scan(&m.Currency, &m.Before, &m.After, &m.Records, &m.Golden)
		return m, err
	})
	if err != nil {
		return nil, fail(err)
	}
	if out == nil {
		out = []MoneyTotal{}
	}
	b, _ := json.Marshal(out)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO crmigrate.money_totals (plan, object, field, stamp, totals) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (plan, object, field) DO UPDATE SET stamp = EXCLUDED.stamp, totals = EXCLUDED.totals`, plan, object, field, stamp, b); err != nil {
		return nil, fail(err)
	}
	return out, nil
}

// DriftRowsAt returns drift in state drift that was open at a time: the critical ones (at most
// limit of them in all), or, not critical, samples (per object at most limit, and at most two of
// a class and field), in the snapshots' order.
func (db *DB) DriftRowsAt(ctx context.Context, plan string, at time.Time, critical bool, limit int) ([]DriftHistory, error) {
	open := `plan = $1 AND first_seen <= $2 AND (closed_at IS NULL OR closed_at > $2) AND state = 'drift' AND critical = $3`
	if critical {
		out, err := driftHistory(ctx, db.Pool, 0, open, plan, at, true)
		if err != nil {
			return nil, fmt.Errorf("read the critical drift at %s: %w", at.Format(time.RFC3339), err)
		}
		return out[:min(len(out), limit)], nil
	}
	out, err := driftHistory(ctx, db.Pool, limit, `id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY object, class, field
		ORDER BY first_seen, record COLLATE "C") AS k FROM crmigrate.pr_drift WHERE `+open+`) s WHERE k <= 2)`, plan, at, false)
	if err != nil {
		return nil, fmt.Errorf("read samples of the drift at %s: %w", at.Format(time.RFC3339), err)
	}
	return out, nil
}
