package state

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ForgetMissing compares an object's active crosswalk entries with the ids the new CRM holds now,
// listed by each (a batch of ids at a time), and returns the golden ids whose rows are gone, in
// order. With apply, it also marks them for writing again: their new id and digest are cleared, so
// the next write inserts them and records their new ids (a dry run passes apply=false and treats
// them so itself). The comparison runs in the control database (the ids are copied into a
// temporary table and anti-joined), so memory grows only with the rows that are missing.
func (db *DB) ForgetMissing(ctx context.Context, plan, object string, apply bool, each func(fn func(ids []string) error) error) ([]string, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("check %s rows in the new CRM: %w", object, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("check %s rows in the new CRM: %w", object, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE target_ids (id text NOT NULL) ON COMMIT DROP`); err != nil {
		return nil, fmt.Errorf("check %s rows in the new CRM: %w", object, err)
	}
	err = each(func(ids []string) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"target_ids"}, []string{"id"}, pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) {
			return []any{ids[i]}, nil
		}))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the %s rows of the new CRM: %w", object, err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE target_ids`); err != nil {
		return nil, fmt.Errorf("check %s rows in the new CRM: %w", object, err)
	}
	// An entry with no new id was found missing by an earlier run that did not get to write it
	// again: it is missing still. (Two queries joined by UNION ALL: an OR would turn the anti-join
	// into a scan of the ids per entry.) Entries whose golden record staging no longer has are
	// marked too, but not returned: nothing writes them again (they are retired as gone).
	rows, err := tx.Query(ctx, `SELECT m.golden_id, EXISTS (SELECT 1 FROM crmigrate.golden g WHERE g.plan = $1 AND g.object = $2 AND g.golden_id = m.golden_id)
		FROM (
			SELECT x.golden_id FROM crmigrate.crosswalk x
			WHERE x.plan = $1 AND x.object = $2 AND x.status = 'active' AND x.new_id = ''
			UNION ALL
			SELECT x.golden_id FROM crmigrate.crosswalk x
			WHERE x.plan = $1 AND x.object = $2 AND x.status = 'active' AND x.new_id <> ''
			AND NOT EXISTS (SELECT 1 FROM target_ids t WHERE t.id = x.new_id)) m
		ORDER BY m.golden_id`, plan, object)
	if err != nil {
		return nil, fmt.Errorf("find missing %s rows: %w", object, err)
	}
	var all, missing []string
	for rows.Next() {
		var g string
		var staged bool
		if err := rows.Scan(&g, &staged); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find missing %s rows: %w", object, err)
		}
		all = append(all, g)
		if staged {
			missing = append(missing, g)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find missing %s rows: %w", object, err)
	}
	if apply && len(all) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE crmigrate.crosswalk SET new_id = '', digest = ''
			WHERE plan = $1 AND object = $2 AND golden_id = ANY($3) AND new_id <> ''`, plan, object, all); err != nil {
			return nil, fmt.Errorf("mark missing %s rows for writing again: %w", object, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("check %s rows in the new CRM: %w", object, err)
	}
	return missing, nil
}

// Refusals returns, for an object, the golden records the new CRM refused in migrate runs, with
// the latest reason for each (golden id → reason).
func (db *DB) Refusals(ctx context.Context, plan, object string) (map[string]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT ON (source_id) source_id, reason FROM crmigrate.rejects
		WHERE plan = $1 AND phase = 'migrate' AND object = $2 AND system = 'new' ORDER BY source_id, id DESC`, plan, object)
	if err != nil {
		return nil, fmt.Errorf("read what migrate refused of %s: %w", object, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, fmt.Errorf("read what migrate refused of %s: %w", object, err)
		}
		out[id] = reason
	}
	return out, rows.Err()
}

// EachMember calls fn for every staged source record of an object, in golden id order, byte by
// byte (the byte slices are only valid during the call).
func (db *DB) EachMember(ctx context.Context, plan, object string, fn func(golden, source, id []byte) error) error {
	return db.eachRaw(ctx, "read the clusters of "+object, func(v [][]byte) error { return fn(v[0], v[1], v[2]) },
		`SELECT golden_id, source, source_id FROM crmigrate.cluster_members WHERE plan = $1 AND object = $2
		ORDER BY golden_id COLLATE "C", source COLLATE "C", source_id COLLATE "C"`,
		plan, object)
}

// EachActiveCrosswalk calls fn for every active crosswalk entry of an object with an id in new,
// in golden id order, byte by byte (the byte slices are only valid during the call).
func (db *DB) EachActiveCrosswalk(ctx context.Context, plan, object string, fn func(golden, newID, key []byte) error) error {
	return db.eachRaw(ctx, "read the crosswalk of "+object, func(v [][]byte) error { return fn(v[0], v[1], v[2]) },
		`SELECT golden_id, new_id, canonical_key FROM crmigrate.crosswalk
		WHERE plan = $1 AND object = $2 AND status = 'active' AND new_id <> '' ORDER BY golden_id COLLATE "C"`, plan, object)
}

// eachRaw streams a query's rows as received (text columns, none NULL) to fn.
func (db *DB) eachRaw(ctx context.Context, what string, fn func([][]byte) error, sql string, args ...any) error {
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.RawValues()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// MembersOf returns the staged source records (SOURCE:ID, in order) of the given golden records.
func (db *DB) MembersOf(ctx context.Context, plan, object string, goldens []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(goldens) == 0 {
		return out, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT golden_id, source || ':' || source_id FROM crmigrate.cluster_members
		WHERE plan = $1 AND object = $2 AND golden_id = ANY($3) ORDER BY golden_id, source, source_id`, plan, object, goldens)
	if err != nil {
		return nil, fmt.Errorf("read the clusters of %s: %w", object, err)
	}
	defer rows.Close()
	for rows.Next() {
		var g, ref string
		if err := rows.Scan(&g, &ref); err != nil {
			return nil, fmt.Errorf("read the clusters of %s: %w", object, err)
		}
		out[g] = append(out[g], ref)
	}
	return out, rows.Err()
}

// StagingSize returns how many golden records and staged source records an object has.
func (db *DB) StagingSize(ctx context.Context, plan, object string) (golden, members int64, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM crmigrate.golden WHERE plan = $1 AND object = $2),
		(SELECT count(*) FROM crmigrate.cluster_members WHERE plan = $1 AND object = $2)`, plan, object).Scan(&golden, &members)
	if err != nil {
		return 0, 0, fmt.Errorf("count the staging of %s: %w", object, err)
	}
	return golden, members, nil
}

// StagingStamp sums up the state of a plan's staging and crosswalk: it changes when a clean swaps
// a generation in, when a delta migrate replaces clusters, and when migrate writes the crosswalk.
// Validation compares it before and after, so that it never reports on a mix of two states.
func (db *DB) StagingStamp(ctx context.Context, plan string) (string, error) {
	var s string
	err := db.Pool.QueryRow(ctx, `SELECT concat_ws('/',
		(SELECT run_id || '@' || written_at FROM crmigrate.staging_generations WHERE plan = $1),
		(SELECT max(run_id) FROM crmigrate.golden WHERE plan = $1),
		(SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') FROM crmigrate.crosswalk WHERE plan = $1))`, plan).Scan(&s)
	if err != nil {
		return "", fmt.Errorf("read the state of staging of %s: %w", plan, err)
	}
	return s, nil
}
