package state

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Signoff is a role's sign-off of the go/no-go evidence.
type Signoff struct {
	ID       int64     `json:"id"`
	Role     string    `json:"role"`
	SignedBy string    `json:"signed_by"`
	Note     string    `json:"note,omitempty"`
	Evidence string    `json:"evidence"` // digest of the evidence signed
	SignedAt time.Time `json:"signed_at"`
}

// RecordSignoff records a sign-off (audited).
func (db *DB) RecordSignoff(ctx context.Context, plan string, s Signoff) (int64, error) {
	who, host := actor()
	var id int64
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO crmigrate.cutover_signoffs (plan, role, signed_by, note, evidence, os_user, host)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, plan, s.Role, s.SignedBy, s.Note, s.Evidence, who, host).Scan(&id); err != nil {
			return err
		}
		return audit(ctx, tx, Entry{Plan: plan, Action: "cutover.signoff", Detail: map[string]any{"role": s.Role, "by": s.SignedBy, "evidence": s.Evidence, "signoff": id}})
	})
	if err != nil {
		return 0, fmt.Errorf("record the sign-off of %s: %w", s.Role, err)
	}
	return id, nil
}

// Signoffs returns each role's latest sign-off.
func (db *DB) Signoffs(ctx context.Context, plan string) (map[string]Signoff, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT ON (role) id, role, signed_by, note, evidence, signed_at
		FROM crmigrate.cutover_signoffs WHERE plan = $1 ORDER BY role, id DESC`, plan)
	if err != nil {
		return nil, fmt.Errorf("read the sign-offs: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Signoff, error) {
		var s Signoff
		err := r.Scan(&s.ID, &s.Role, &s.SignedBy, &s.Note, &s.Evidence, &s.SignedAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the sign-offs: %w", err)
	}
	out := map[string]Signoff{}
	for _, s := range list {
		out[s.Role] = s
	}
	return out, nil
}
