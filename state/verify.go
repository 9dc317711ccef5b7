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
	rows, err := tx.Query(ctx, `SELECT x.golden_id FROM crmigrate.crosswalk x
		WHERE x.plan = $1 AND x.object = $2 AND x.status = 'active' AND x.new_id <> ''
		AND NOT EXISTS (SELECT 1 FROM target_ids t WHERE t.id = x.new_id) ORDER BY x.golden_id`, plan, object)
	if err != nil {
		return nil, fmt.Errorf("find missing %s rows: %w", object, err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find missing %s rows: %w", object, err)
	}
	if apply && len(missing) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE crmigrate.crosswalk SET new_id = '', digest = ''
			WHERE plan = $1 AND object = $2 AND golden_id = ANY($3)`, plan, object, missing); err != nil {
			return nil, fmt.Errorf("mark missing %s rows for writing again: %w", object, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("check %s rows in the new CRM: %w", object, err)
	}
	return missing, nil
}
