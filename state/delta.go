package state

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LastPassed returns the last run of a phase that passed, or nil.
func (db *DB) LastPassed(ctx context.Context, plan, phase string) (*RunRecord, error) {
	rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND phase = $2 AND status = 'passed' ORDER BY id DESC LIMIT 1`, plan, phase)
	if err != nil {
		return nil, fmt.Errorf("find the last passed %s: %w", phase, err)
	}
	runs, err := pgx.CollectRows(rows, scanRun)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// StagedMember is a source record in a staged cluster.
type StagedMember struct {
	Source, ID string
	Decision   string
	Score      float64
	Line       int64
	Updated    *time.Time
	Vals       []string // the record's canonical values (the golden record's when it is alone)
}

// StagedCluster is a golden record with its members.
type StagedCluster struct {
	GoldenID string
	Key      string
	Vals     []string
	Members  []StagedMember
}

// GoldenOf returns the golden id of each staged source record among refs (absent when unknown).
func (db *DB) GoldenOf(ctx context.Context, plan, object string, refs []SourceRef) (map[SourceRef]string, error) {
	srcs, ids := make([]string, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		srcs[i], ids[i] = r.Source, r.ID
	}
	rows, err := db.Pool.Query(ctx, `SELECT m.source, m.source_id, m.golden_id FROM unnest($3::text[], $4::text[]) AS u(s, i)
		JOIN crmigrate.cluster_members m ON m.plan = $1 AND m.object = $2 AND m.source = u.s AND m.source_id = u.i`, plan, object, srcs, ids)
	if err != nil {
		return nil, fmt.Errorf("find clusters of %s records: %w", object, err)
	}
	defer rows.Close()
	out := map[SourceRef]string{}
	for rows.Next() {
		var r SourceRef
		var g string
		if err := rows.Scan(&r.Source, &r.ID, &g); err != nil {
			return nil, fmt.Errorf("find clusters of %s records: %w", object, err)
		}
		out[r] = g
	}
	return out, rows.Err()
}

// GoldenByKeys returns the golden id of each canonical key among keys that has a golden record.
func (db *DB) GoldenByKeys(ctx context.Context, plan, object string, keys []string) (map[string]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT canonical_key, min(golden_id) FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND canonical_key = ANY($3) GROUP BY 1`,
		plan, object, keys)
	if err != nil {
		return nil, fmt.Errorf("find %s records by key: %w", object, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, g string
		if err := rows.Scan(&k, &g); err != nil {
			return nil, fmt.Errorf("find %s records by key: %w", object, err)
		}
		out[k] = g
	}
	return out, rows.Err()
}

// Clusters returns staged golden records with their members.
func (db *DB) Clusters(ctx context.Context, plan, object string, goldenIDs []string) (map[string]*StagedCluster, error) {
	out := map[string]*StagedCluster{}
	rows, err := db.Pool.Query(ctx, `SELECT golden_id, canonical_key, vals FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`,
		plan, object, goldenIDs)
	if err != nil {
		return nil, fmt.Errorf("read %s clusters: %w", object, err)
	}
	for rows.Next() {
		c := &StagedCluster{}
		if err := rows.Scan(&c.GoldenID, &c.Key, &c.Vals); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read %s clusters: %w", object, err)
		}
		out[c.GoldenID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s clusters: %w", object, err)
	}
	rows, err = db.Pool.Query(ctx, `SELECT golden_id, source, source_id, decision, score, line, updated_at, vals FROM crmigrate.cluster_members
		WHERE plan = $1 AND object = $2 AND golden_id = ANY($3) ORDER BY golden_id, source, source_id`, plan, object, goldenIDs)
	if err != nil {
		return nil, fmt.Errorf("read %s cluster members: %w", object, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var m StagedMember
		if err := rows.Scan(&g, &m.Source, &m.ID, &m.Decision, &m.Score, &m.Line, &m.Updated, &m.Vals); err != nil {
			return nil, fmt.Errorf("read %s cluster members: %w", object, err)
		}
		if c := out[g]; c != nil {
			if m.Vals == nil {
				m.Vals = c.Vals
			}
			c.Members = append(c.Members, m)
		}
	}
	return out, rows.Err()
}

// ReplaceClusters replaces staged clusters: the golden records and members of replace and drop
// are deleted, then golden and members are inserted, in one transaction.
func (db *DB) ReplaceClusters(ctx context.Context, plan, object string, runID int64, replace []string, golden []GoldenRow, members []MemberRow) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("update staged %s clusters: %w", object, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, t := range []string{"golden", "cluster_members"} {
		if _, err := tx.Exec(ctx, `DELETE FROM crmigrate.`+t+` WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`, plan, object, replace); err != nil {
			return fmt.Errorf("update staged %s clusters: %w", object, err)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"crmigrate", "golden"}, goldenCols,
		pgx.CopyFromSlice(len(golden), func(i int) ([]any, error) {
			return goldenValues(make([]any, len(goldenCols)), plan, object, runID, &golden[i]), nil
		})); err != nil {
		return fmt.Errorf("update staged %s clusters: %w", object, err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"crmigrate", "cluster_members"}, memberCols,
		pgx.CopyFromSlice(len(members), func(i int) ([]any, error) {
			return memberValues(make([]any, len(memberCols)), plan, object, runID, &members[i]), nil
		})); err != nil {
		return fmt.Errorf("update staged %s clusters: %w", object, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("update staged %s clusters: %w", object, err)
	}
	return nil
}

// MissingMembers finds the staged records of an object from one source whose ids the source no
// longer has. ids is called with a function that takes the source's current ids in batches;
// they go into a temporary table, so memory does not grow with the table.
func (db *DB) MissingMembers(ctx context.Context, plan, object, source string, ids func(add func([]string) error) error) ([]SourceRef, []string, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE crmigrate_present (id text) ON COMMIT DROP`); err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	err = ids(func(batch []string) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"crmigrate_present"}, []string{"id"}, pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
			return []any{batch[i]}, nil
		}))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE crmigrate_present`); err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	rows, err := tx.Query(ctx, `SELECT m.source_id, m.golden_id FROM crmigrate.cluster_members m
		WHERE m.plan = $1 AND m.object = $2 AND m.source = $3 AND NOT EXISTS (SELECT 1 FROM crmigrate_present p WHERE p.id = m.source_id)`,
		plan, object, source)
	if err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	var refs []SourceRef
	var golden []string
	for rows.Next() {
		var id, g string
		if err := rows.Scan(&id, &g); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
		}
		refs = append(refs, SourceRef{Source: source, ID: id})
		golden = append(golden, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find deleted %s records: %w", object, err)
	}
	return refs, golden, tx.Commit(ctx)
}

// SetCrosswalkStatus marks crosswalk entries archived or deleted.
func (db *DB) SetCrosswalkStatus(ctx context.Context, plan, object string, runID int64, goldenIDs []string, status string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE crmigrate.crosswalk SET status = $4, last_run = $5, updated_at = now() WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`,
		plan, object, goldenIDs, status, runID); err != nil {
		return fmt.Errorf("mark %s records %s: %w", object, status, err)
	}
	return nil
}

// CrosswalkOf returns the crosswalk entries of golden ids (absent when never written).
func (db *DB) CrosswalkOf(ctx context.Context, plan, object string, goldenIDs []string) (map[string]CrosswalkRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT object, golden_id, new_id, canonical_key, old_ids, digest, status, first_run, last_run
		FROM crmigrate.crosswalk WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`, plan, object, goldenIDs)
	if err != nil {
		return nil, fmt.Errorf("read crosswalk: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CrosswalkRow, error) {
		var c CrosswalkRow
		err := r.Scan(&c.Object, &c.GoldenID, &c.NewID, &c.Key, &c.OldIDs, &c.Digest, &c.Status, &c.FirstRun, &c.LastRun)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read crosswalk: %w", err)
	}
	out := make(map[string]CrosswalkRow, len(list))
	for _, c := range list {
		out[c.GoldenID] = c
	}
	return out, nil
}

// ForgetDigests makes the next migrate check every written row of an object again (rows it finds
// unchanged in the new CRM are not written).
func (db *DB) ForgetDigests(ctx context.Context, plan, object string) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE crmigrate.crosswalk SET digest = '' WHERE plan = $1 AND object = $2 AND status = 'active' AND digest <> ''`, plan, object)
	if err != nil {
		return 0, fmt.Errorf("mark %s rows for re-checking: %w", object, err)
	}
	return tag.RowsAffected(), nil
}

// VanishedGolden lists, in order, the golden ids the crosswalk says are written and live in the new
// CRM (status active) but that staging no longer has: their records were deleted in old, or a
// clean merged them into another golden record. An entry whose row another active entry now owns
// (a record deleted and created again in old with the same key: the new golden record took over
// the row) is not listed: it is retired from the crosswalk instead, so the row is left alone. One
// anti-join in the control database.
//
// Without apply (a dry run), nothing is retired: the entries that would be are left out all the
// same.
func (db *DB) VanishedGolden(ctx context.Context, plan, object string, apply bool) ([]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT x.golden_id FROM crmigrate.crosswalk x
		WHERE x.plan = $1 AND x.object = $2 AND x.status = 'active'
		AND NOT EXISTS (SELECT 1 FROM crmigrate.golden g WHERE g.plan = x.plan AND g.object = x.object AND g.golden_id = x.golden_id)
		ORDER BY x.golden_id`, plan, object)
	if err != nil {
		return nil, fmt.Errorf("find %s records no longer staged: %w", object, err)
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(gone) == 0 {
		return nil, err
	}
	// Retired instead: entries whose row is already gone from the new CRM (no new id: a run found
	// it missing), and entries whose row another record owns now.
	retire := `x.plan = $1 AND x.object = $2 AND x.golden_id = ANY($3)
		AND (x.new_id = '' OR EXISTS (SELECT 1 FROM crmigrate.crosswalk y WHERE y.plan = x.plan AND y.object = x.object AND y.new_id = x.new_id
		            AND y.golden_id <> x.golden_id AND y.status = 'active'))`
	q := `SELECT x.golden_id FROM crmigrate.crosswalk x WHERE ` + retire
	if apply {
		q = `DELETE FROM crmigrate.crosswalk x WHERE ` + retire + ` RETURNING x.golden_id`
	}
	rows, err = db.Pool.Query(ctx, q, plan, object, gone)
	if err != nil {
		return nil, fmt.Errorf("retire %s records whose rows other records own: %w", object, err)
	}
	retired, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("retire %s records whose rows other records own: %w", object, err)
	}
	if len(retired) == 0 {
		return gone, nil
	}
	skip := make(map[string]bool, len(retired))
	for _, g := range retired {
		skip[g] = true
	}
	out := gone[:0]
	for _, g := range gone {
		if !skip[g] {
			out = append(out, g)
		}
	}
	return out, nil
}

// GoldenSharingValues returns, in order, the golden ids of an object's staged records that share
// their canonical values of one of sets (field indexes into vals, 0-based) with another record;
// empty values never count. One grouping query per set, in the control database.
func (db *DB) GoldenSharingValues(ctx context.Context, plan, object string, sets [][]int) ([]string, error) {
	var parts []string
	for _, set := range sets {
		var cols, nonEmpty []string
		for _, f := range set {
			c := "vals[" + strconv.Itoa(f+1) + "]"
			cols = append(cols, c)
			nonEmpty = append(nonEmpty, "coalesce("+c+", '') <> ''")
		}
		tuple := "(" + strings.Join(cols, ", ") + ")"
		parts = append(parts, `SELECT golden_id FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND `+tuple+` IN (
			SELECT `+strings.Join(cols, ", ")+` FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND `+strings.Join(nonEmpty, " AND ")+`
			GROUP BY `+strings.Join(cols, ", ")+` HAVING count(*) > 1)`)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT golden_id FROM (`+strings.Join(parts, " UNION ALL ")+`) s ORDER BY golden_id`, plan, object)
	if err != nil {
		return nil, fmt.Errorf("find %s records sharing unique values: %w", object, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find %s records sharing unique values: %w", object, err)
	}
	return ids, nil
}
