package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Entry is one line of the append-only audit log.
type Entry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Plan   string    `json:"plan"`
	RunID  int64     `json:"run_id,omitempty"` // 0: not tied to a run
	Actor  string    `json:"actor"`
	Host   string    `json:"host"`
	Action string    `json:"action"`
	Detail any       `json:"detail,omitempty"`
}

// Audit appends an entry (At, Actor and Host are filled in).
func (db *DB) Audit(ctx context.Context, e Entry) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := audit(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func audit(ctx context.Context, tx pgx.Tx, e Entry) error {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return fmt.Errorf("audit %s: encode detail: %w", e.Action, err)
	}
	if e.Detail == nil {
		detail = []byte("{}")
	}
	who, host := actor()
	var runID *int64
	if e.RunID != 0 {
		runID = &e.RunID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.audit_log (plan, run_id, actor, host, action, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.Plan, runID, who, host, e.Action, detail); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog lists a plan's audit entries, oldest first; limit <= 0 means all.
func (db *DB) AuditLog(ctx context.Context, plan string, limit int) ([]Entry, error) {
	q := `SELECT id, at, plan, coalesce(run_id, 0), actor, host, action, detail FROM crmigrate.audit_log WHERE plan = $1 ORDER BY id`
	args := []any{plan}
	if limit > 0 {
		q = `SELECT * FROM (` + q + ` DESC LIMIT $2) x ORDER BY id`
		args = append(args, limit)
	}
	rows, err := db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log of %s: %w", plan, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var detail []byte
		if err := r.Scan(&e.ID, &e.At, &e.Plan, &e.RunID, &e.Actor, &e.Host, &e.Action, &detail); err != nil {
			return e, err
		}
		var d any
		_ = json.Unmarshal(detail, &d)
		e.Detail = d
		return e, nil
	})
}
