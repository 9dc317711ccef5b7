package state

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// JournalCounts counts a run's entries that have not been undone, by object and action.
func (db *DB) JournalCounts(ctx context.Context, plan string, runID int64) (map[string]map[string]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT object, action, count(*) FROM crmigrate.journal WHERE plan = $1 AND run_id = $2 AND undone_by IS NULL GROUP BY 1, 2`, plan, runID)
	if err != nil {
		return nil, fmt.Errorf("read journal of run %d: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var o, a string
		var n int64
		if err := rows.Scan(&o, &a, &n); err != nil {
			return nil, fmt.Errorf("read journal of run %d: %w", runID, err)
		}
		if out[o] == nil {
			out[o] = map[string]int64{}
		}
		out[o][a] = n
	}
	return out, rows.Err()
}

// Journal returns up to limit entries of a run for an object that have not been undone, by
// golden id from the highest down, below before ("" for the first page). An insert's new id comes
// from the crosswalk ("" when the run died before recording it: the entry's Key finds the row).
func (db *DB) Journal(ctx context.Context, plan string, runID int64, object, before string, limit int) ([]JournalEntry, error) {
	rows, err := db.Pool.Query(ctx, `SELECT j.object, j.golden_id, j.action, coalesce(nullif(j.new_id, ''), x.new_id, ''), j.key, j.before, j.prev_digest, j.run_id, j.undone_by
		FROM crmigrate.journal j LEFT JOIN crmigrate.crosswalk x ON x.plan = j.plan AND x.object = j.object AND x.golden_id = j.golden_id
		WHERE j.plan = $1 AND j.run_id = $2 AND j.object = $3 AND ($5 = '' OR j.golden_id < $5) AND j.undone_by IS NULL
		ORDER BY j.golden_id DESC LIMIT $4`, plan, runID, object, limit, before)
	if err != nil {
		return nil, fmt.Errorf("read journal of run %d: %w", runID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (JournalEntry, error) {
		var e JournalEntry
		var before []byte
		err := r.Scan(&e.Object, &e.GoldenID, &e.Action, &e.NewID, &e.Key, &before, &e.PrevDigest, &e.RunID, &e.UndoneBy)
		if before != nil {
			e.Before = before
		}
		return e, err
	})
}

// LaterRuns lists the runs after runID whose journal (not undone) touches a record runID wrote.
// Each later run's entries are joined with runID's by hashing (the journal has no index by record
// across runs: its writes are the hot path of a load).
func (db *DB) LaterRuns(ctx context.Context, plan string, runID int64) ([]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT r.id FROM crmigrate.runs r WHERE r.plan = $1 AND r.id > $2 AND EXISTS (
		SELECT 1 FROM crmigrate.journal l JOIN crmigrate.journal j ON j.plan = l.plan AND j.object = l.object AND j.golden_id = l.golden_id
		WHERE l.plan = $1 AND l.run_id = r.id AND l.undone_by IS NULL AND l.action <> 'undo'
		  AND j.run_id = $2 AND j.undone_by IS NULL) ORDER BY 1`, plan, runID)
	if err != nil {
		return nil, fmt.Errorf("find runs after run %d: %w", runID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// FinishUndo records that undoRun undid entries of an object written by runID: the entries are
// marked undone, and the crosswalk forgets inserted rows and gets back the digests it had before.
func (db *DB) FinishUndo(ctx context.Context, plan string, runID, undoRun int64, object string, entries []JournalEntry) error {
	ids := make([]string, len(entries))
	var inserted, restored, prevs []string
	for i, e := range entries {
		ids[i] = e.GoldenID
		if e.Action == JInsert || e.PrevDigest == nil {
			inserted = append(inserted, e.GoldenID)
		} else {
			restored = append(restored, e.GoldenID)
			prevs = append(prevs, *e.PrevDigest)
		}
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record undo of %s: %w", object, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Lookups by the whole key, one per entry (the tables' statistics may be stale).
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off`); err != nil {
		return fmt.Errorf("record undo of %s: %w", object, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.journal j SET undone_by = $4 FROM unnest($5::text[]) AS u(g)
		WHERE j.plan = $1 AND j.run_id = $2 AND j.object = $3 AND j.golden_id = u.g`,
		plan, runID, object, undoRun, ids); err != nil {
		return fmt.Errorf("record undo of %s: %w", object, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM crmigrate.crosswalk x USING unnest($3::text[]) AS u(g) WHERE x.plan = $1 AND x.object = $2 AND x.golden_id = u.g`, plan, object, inserted); err != nil {
		return fmt.Errorf("record undo of %s: %w", object, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.crosswalk x SET digest = u.d, status = 'active', last_run = $3, updated_at = now()
		FROM unnest($4::text[], $5::text[]) AS u(g, d) WHERE x.plan = $1 AND x.object = $2 AND x.golden_id = u.g`,
		plan, object, undoRun, restored, prevs); err != nil {
		return fmt.Errorf("record undo of %s: %w", object, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("record undo of %s: %w", object, err)
	}
	return nil
}

// FinishUndoRun records that undoRun undid every entry of runID not undone yet (an undo that
// changed the new CRM in one transaction): set-based, with hash joins of the run's journal and the
// crosswalk, in one transaction. The crosswalk forgets the rows the run inserted and gets back the
// digests it had before the others.
func (db *DB) FinishUndoRun(ctx context.Context, plan string, runID, undoRun int64) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record undo of run %d: %w", runID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `DELETE FROM crmigrate.crosswalk x USING crmigrate.journal j
		WHERE j.plan = $1 AND j.run_id = $2 AND j.undone_by IS NULL AND j.action = 'insert'
		AND x.plan = j.plan AND x.object = j.object AND x.golden_id = j.golden_id`, plan, runID); err != nil {
		return fmt.Errorf("record undo of run %d: %w", runID, err)
	}
	// A row put back keeps its entry; without a digest from before (a --verify run had cleared
	// it) the next run compares it again.
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.crosswalk x SET digest = coalesce(j.prev_digest, ''), status = 'active', last_run = $3, updated_at = now()
		FROM crmigrate.journal j
		WHERE j.plan = $1 AND j.run_id = $2 AND j.undone_by IS NULL AND j.action <> 'insert'
		AND x.plan = j.plan AND x.object = j.object AND x.golden_id = j.golden_id`, plan, runID, undoRun); err != nil {
		return fmt.Errorf("record undo of run %d: %w", runID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.journal SET undone_by = $3 WHERE plan = $1 AND run_id = $2 AND undone_by IS NULL`, plan, runID, undoRun); err != nil {
		return fmt.Errorf("record undo of run %d: %w", runID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("record undo of run %d: %w", runID, err)
	}
	return nil
}

// RunRecordOf returns one run.
func (db *DB) RunRecordOf(ctx context.Context, plan string, runID int64) (*RunRecord, error) {
	rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND id = $2`, plan, runID)
	if err != nil {
		return nil, fmt.Errorf("read run %d: %w", runID, err)
	}
	runs, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("read run %d: %w", runID, err)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	return &runs[0], nil
}
