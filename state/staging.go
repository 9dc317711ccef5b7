package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// GoldenRow is one golden record in staging.
type GoldenRow struct {
	GoldenID   string
	Key        string
	Vals       []string
	Provenance []string
	UpdatedAt  *time.Time
	Members    int
	Digest     string
}

// MemberRow places one source record in a golden record.
type MemberRow struct {
	Source    string
	SourceID  string
	GoldenID  string
	Decision  string
	Score     float64
	Line      int64
	UpdatedAt *time.Time
	Vals      []string // nil when the record is alone in its cluster: its values are the golden record's
}

// ReviewRow is a pair in the review queue.
type ReviewRow struct {
	ID          int64      `json:"id"`
	Object      string     `json:"object"`
	ASource     string     `json:"a_source"`
	AID         string     `json:"a_id"`
	BSource     string     `json:"b_source"`
	BID         string     `json:"b_id"`
	Score       float64    `json:"score"`
	FieldScores []float64  `json:"field_scores"`
	Reason      string     `json:"reason,omitempty"`
	Status      string     `json:"status"`
	FirstRun    int64      `json:"first_run"`
	LastRun     int64      `json:"last_run"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	// The two records' staged canonical values and last updates (nil when no longer staged).
	AVals    []string   `json:"a_values,omitempty"`
	BVals    []string   `json:"b_values,omitempty"`
	AUpdated *time.Time `json:"a_updated_at,omitempty"`
	BUpdated *time.Time `json:"b_updated_at,omitempty"`
}

// RejectRow is a record that could not be used.
type RejectRow struct {
	Object   string `json:"object"`
	System   string `json:"system"`
	Line     int64  `json:"line"`
	SourceID string `json:"source_id,omitempty"`
	Reason   string `json:"reason"`
	Raw      string `json:"raw,omitempty"`
}

// Review statuses.
const (
	ReviewPending  = "pending"
	ReviewAccepted = "accepted"
	ReviewRejected = "rejected"
)

// SourceRef names a source record.
type SourceRef struct{ Source, ID string }

// ReplaceStaging replaces the plan's whole staging with one object's golden records and cluster
// membership, as a clean of that object alone would (a generation of one object).
func (db *DB) ReplaceStaging(ctx context.Context, plan, object string, runID int64, golden []GoldenRow, members []MemberRow) error {
	gi, mi := 0, 0
	g, err := db.BeginGeneration(ctx, plan, runID)
	if err != nil {
		return err
	}
	defer g.Abort()
	if err := g.Write(ctx, object, StagingRows{
		NextGolden: func(r *GoldenRow) (bool, error) {
			if gi == len(golden) {
				return false, nil
			}
			*r = golden[gi]
			gi++
			return true, nil
		},
		NextMember: func(r *MemberRow) (bool, error) {
			if mi == len(members) {
				return false, nil
			}
			*r = members[mi]
			mi++
			return true, nil
		},
	}); err != nil {
		return err
	}
	return g.Commit(ctx)
}

// StagingRows produce an object's staging rows one at a time, so that they need not all be held
// in memory: each function fills the row it is given (a row is encoded before the next call, so
// its slices may be reused) and reports false after the last row. NextGolden and NextMember are
// called from two goroutines at the same time.
type StagingRows struct {
	NextGolden func(*GoldenRow) (bool, error)
	NextMember func(*MemberRow) (bool, error)
}

// copyRows is a pgx.CopyFromSource over rows produced on demand.
type copyRows struct {
	next   func() (bool, error)
	values func() []any
	err    error
}

func (c *copyRows) Next() bool {
	ok, err := c.next()
	if err != nil {
		c.err = err
		return false
	}
	return ok
}

func (c *copyRows) Values() ([]any, error) { return c.values(), nil }
func (c *copyRows) Err() error             { return c.err }

// EachPreviousGolden calls fn with the golden id each source record of an object had after the
// last clean (what PreviousGolden returns, without holding it all in memory). The byte slices
// passed to fn are only valid during the call (they are the row as received, not copied).
func (db *DB) EachPreviousGolden(ctx context.Context, plan, object string, fn func(source, id, golden []byte) error) error {
	rows, err := db.Pool.Query(ctx, `SELECT source, source_id, golden_id FROM crmigrate.cluster_members WHERE plan = $1 AND object = $2`, plan, object)
	if err != nil {
		return fmt.Errorf("read previous clusters of %s: %w", object, err)
	}
	defer rows.Close()
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 3 || v[0] == nil || v[1] == nil || v[2] == nil {
			return fmt.Errorf("read previous clusters of %s: unexpected row", object)
		}
		if err := fn(v[0], v[1], v[2]); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReviewDecided returns the decided pairs (accepted or rejected) of an object.
func (db *DB) ReviewDecided(ctx context.Context, plan, object string) ([]ReviewRow, error) {
	return db.reviewQuery(ctx, ` WHERE q.plan = $1 AND q.object = $2 AND q.status <> 'pending' ORDER BY q.id`, plan, object)
}

// UpsertReview records the pairs this run sends to review: new pairs are added as pending; known
// pairs get the new score and run, and keep their decision. The pairs go through COPY into a
// temporary table and one INSERT … ON CONFLICT.
func (db *DB) UpsertReview(ctx context.Context, plan string, runID int64, pairs []ReviewRow) error {
	if len(pairs) == 0 {
		return nil
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("update review queue: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE review_in (object text, a_source text, a_id text, b_source text, b_id text,
		score double precision, field_scores double precision[], reason text) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("update review queue: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"review_in"},
		[]string{"object", "a_source", "a_id", "b_source", "b_id", "score", "field_scores", "reason"},
		pgx.CopyFromSlice(len(pairs), func(i int) ([]any, error) {
			p := pairs[i]
			fs := p.FieldScores
			if fs == nil {
				fs = []float64{}
			}
			return []any{p.Object, p.ASource, p.AID, p.BSource, p.BID, p.Score, fs, p.Reason}, nil
		})); err != nil {
		return fmt.Errorf("update review queue: copy %d pairs: %w", len(pairs), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.review_queue (plan, object, a_source, a_id, b_source, b_id, score, field_scores, reason, first_run, last_run)
		SELECT DISTINCT ON (object, a_source, a_id, b_source, b_id) $1, object, a_source, a_id, b_source, b_id, score, field_scores, reason, $2, $2
		FROM review_in ORDER BY object, a_source, a_id, b_source, b_id, score DESC
		ON CONFLICT (plan, object, a_source, a_id, b_source, b_id) DO UPDATE
		SET score = EXCLUDED.score, field_scores = EXCLUDED.field_scores, reason = EXCLUDED.reason, last_run = EXCLUDED.last_run`,
		plan, runID); err != nil {
		return fmt.Errorf("update review queue: %w", err)
	}
	return tx.Commit(ctx)
}

// ReviewList lists review pairs of a plan: status "" means pending ones seen in the latest clean,
// "all" means every pair; object "" means all objects.
func (db *DB) ReviewList(ctx context.Context, plan, object, status string, limit int) ([]ReviewRow, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	switch status {
	case "":
		return db.reviewQuery(ctx, ` WHERE q.plan = $1 AND ($2 = '' OR q.object = $2) AND q.status = 'pending'
			AND q.last_run = (SELECT max(r.last_run) FROM crmigrate.review_queue r WHERE r.plan = $1) ORDER BY q.object, q.score DESC, q.id LIMIT $3`, plan, object, limit)
	case "all":
		return db.reviewQuery(ctx, ` WHERE q.plan = $1 AND ($2 = '' OR q.object = $2) ORDER BY q.object, q.id LIMIT $3`, plan, object, limit)
	default:
		return db.reviewQuery(ctx, ` WHERE q.plan = $1 AND ($2 = '' OR q.object = $2) AND q.status = $4 ORDER BY q.object, q.id LIMIT $3`, plan, object, limit, status)
	}
}

// ErrNoSuchPair is returned for a review id that does not exist in the plan.
var ErrNoSuchPair = errors.New("no such review pair")

// ReviewGet returns one pair.
func (db *DB) ReviewGet(ctx context.Context, plan string, id int64) (ReviewRow, error) {
	rows, err := db.reviewQuery(ctx, ` WHERE q.plan = $1 AND q.id = $2`, plan, id)
	if err != nil {
		return ReviewRow{}, err
	}
	if len(rows) == 0 {
		return ReviewRow{}, fmt.Errorf("review pair %d of plan %s: %w", id, plan, ErrNoSuchPair)
	}
	return rows[0], nil
}

// ReviewDecide accepts or rejects a pair and audits the decision.
func (db *DB) ReviewDecide(ctx context.Context, plan string, id int64, status string) error {
	if status != ReviewAccepted && status != ReviewRejected && status != ReviewPending {
		return fmt.Errorf("review decision %q: use accepted, rejected or pending", status)
	}
	who, _ := actor()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("decide review pair %d: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var before string
	if err := tx.QueryRow(ctx, `SELECT status FROM crmigrate.review_queue WHERE plan = $1 AND id = $2 FOR UPDATE`, plan, id).Scan(&before); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("review pair %d of plan %s: %w", id, plan, ErrNoSuchPair)
		}
		return fmt.Errorf("decide review pair %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.review_queue SET status = $3, decided_by = $4, decided_at = now() WHERE plan = $1 AND id = $2`,
		plan, id, status, who); err != nil {
		return fmt.Errorf("decide review pair %d: %w", id, err)
	}
	if err := audit(ctx, tx, Entry{Plan: plan, Action: "review." + status, Detail: map[string]any{"pair": id, "before": before}}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (db *DB) reviewQuery(ctx context.Context, where string, args ...any) ([]ReviewRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT q.id, q.object, q.a_source, q.a_id, q.b_source, q.b_id, q.score, q.field_scores, q.reason, q.status,
			q.first_run, q.last_run, q.decided_by, q.decided_at, coalesce(a.vals, ga.vals), coalesce(b.vals, gb.vals), a.updated_at, b.updated_at
		FROM crmigrate.review_queue q
		LEFT JOIN crmigrate.cluster_members a ON a.plan = q.plan AND a.object = q.object AND a.source = q.a_source AND a.source_id = q.a_id
		LEFT JOIN crmigrate.golden ga ON ga.plan = q.plan AND ga.object = q.object AND ga.golden_id = a.golden_id
		LEFT JOIN crmigrate.cluster_members b ON b.plan = q.plan AND b.object = q.object AND b.source = q.b_source AND b.source_id = q.b_id
		LEFT JOIN crmigrate.golden gb ON gb.plan = q.plan AND gb.object = q.object AND gb.golden_id = b.golden_id`+
		where, args...)
	if err != nil {
		return nil, fmt.Errorf("read review queue: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReviewRow, error) {
		var v ReviewRow
		err := r.Scan(&v.ID, &v.Object, &v.ASource, &v.AID, &v.BSource, &v.BID, &v.Score, &v.FieldScores, &v.Reason, &v.Status,
			&v.FirstRun, &v.LastRun, &v.DecidedBy, &v.DecidedAt, &v.AVals, &v.BVals, &v.AUpdated, &v.BUpdated)
		return v, err
	})
}

// MemberValues returns the canonical values staged for the given source records.
func (db *DB) MemberValues(ctx context.Context, plan, object string, refs ...SourceRef) (map[SourceRef][]string, error) {
	out := map[SourceRef][]string{}
	for _, r := range refs {
		var vals []string
		err := db.Pool.QueryRow(ctx, `SELECT coalesce(m.vals, g.vals) FROM crmigrate.cluster_members m
			JOIN crmigrate.golden g ON g.plan = m.plan AND g.object = m.object AND g.golden_id = m.golden_id
			WHERE m.plan = $1 AND m.object = $2 AND m.source = $3 AND m.source_id = $4`,
			plan, object, r.Source, r.ID).Scan(&vals)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read staged record %s:%s: %w", r.Source, r.ID, err)
		}
		out[r] = vals
	}
	return out, nil
}

// WriteRejects stores rejected records of a run with COPY.
func (db *DB) WriteRejects(ctx context.Context, plan string, runID int64, phase string, rejects []RejectRow) error {
	if len(rejects) == 0 {
		return nil
	}
	_, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"crmigrate", "rejects"},
		[]string{"plan", "run_id", "phase", "object", "system", "line", "source_id", "reason", "raw"},
		pgx.CopyFromSlice(len(rejects), func(i int) ([]any, error) {
			r := rejects[i]
			return []any{plan, runID, phase, r.Object, r.System, r.Line, r.SourceID, r.Reason, r.Raw}, nil
		}))
	if err != nil {
		return fmt.Errorf("write %d rejects: %w", len(rejects), err)
	}
	return nil
}

// SaveReport stores a run's summary as JSON.
func (db *DB) SaveReport(ctx context.Context, runID int64, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode report of run %d: %w", runID, err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO crmigrate.run_reports (run_id, body) VALUES ($1, $2)
		ON CONFLICT (run_id) DO UPDATE SET body = EXCLUDED.body`, runID, b); err != nil {
		return fmt.Errorf("save report of run %d: %w", runID, err)
	}
	return nil
}

// LoadReport decodes the saved report of a run into into; it returns false when the run saved
// none.
func (db *DB) LoadReport(ctx context.Context, runID int64, into any) (bool, error) {
	var b []byte
	err := db.Pool.QueryRow(ctx, `SELECT body FROM crmigrate.run_reports WHERE run_id = $1`, runID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read report of run %d: %w", runID, err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return false, fmt.Errorf("decode report of run %d: %w", runID, err)
	}
	return true, nil
}

// ClusterRow is one line of the clusters export.
type ClusterRow struct {
	Object, Source, SourceID, GoldenID, Decision string
	Score                                        float64
}

// EachClusterMember calls fn for every staged source record of the plan, ordered by object,
// golden id, source and id.
func (db *DB) EachClusterMember(ctx context.Context, plan string, fn func(ClusterRow) error) error {
	rows, err := db.Pool.Query(ctx, `SELECT object, source, source_id, golden_id, decision, score FROM crmigrate.cluster_members
		WHERE plan = $1 ORDER BY object, golden_id, source, source_id`, plan)
	if err != nil {
		return fmt.Errorf("read clusters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c ClusterRow
		if err := rows.Scan(&c.Object, &c.Source, &c.SourceID, &c.GoldenID, &c.Decision, &c.Score); err != nil {
			return fmt.Errorf("read clusters: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Rejects lists the rejected records of a run, in the order they were found.
func (db *DB) Rejects(ctx context.Context, plan string, runID int64) ([]RejectRow, error) {
	// A run that resumed a killed or failed one owns that run's rejects too (and so on back).
	rows, err := db.Pool.Query(ctx, `WITH RECURSIVE chain AS (
			SELECT id, resumed_from FROM crmigrate.runs WHERE plan = $1 AND id = $2
			UNION ALL
			SELECT r.id, r.resumed_from FROM crmigrate.runs r JOIN chain c ON r.id = c.resumed_from)
		SELECT object, system, line, source_id, reason, raw FROM crmigrate.rejects
		WHERE plan = $1 AND run_id IN (SELECT id FROM chain) ORDER BY id`, plan, runID)
	if err != nil {
		return nil, fmt.Errorf("read rejects of run %d: %w", runID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RejectRow, error) {
		var v RejectRow
		err := r.Scan(&v.Object, &v.System, &v.Line, &v.SourceID, &v.Reason, &v.Raw)
		return v, err
	})
}

// GoldenValues returns staged golden records' canonical values (in the object's field order) by
// golden id; ids staging does not hold are left out.
func (db *DB) GoldenValues(ctx context.Context, plan, object string, ids []string) (map[string][]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT golden_id, vals FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`,
		plan, object, ids)
	if err != nil {
		return nil, fmt.Errorf("read %s golden records: %w", object, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id string
		var vals []string
		if err := rows.Scan(&id, &vals); err != nil {
			return nil, fmt.Errorf("read %s golden records: %w", object, err)
		}
		out[id] = vals
	}
	return out, rows.Err()
}
