package state

import (
	"context"
	"encoding/json"
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

// Verified is an integration's verify result.
type Verified struct {
	RunID       int64           `json:"run_id"`
	Integration string          `json:"integration"`
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	At          time.Time       `json:"at"`
}

// RecordVerify records an integration's verify result in a run.
func (db *DB) RecordVerify(ctx context.Context, plan string, runID int64, integration string, ok bool, result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO crmigrate.cutover_verifies (plan, run_id, integration, ok, result) VALUES ($1, $2, $3, $4, $5)`,
		plan, runID, integration, ok, b); err != nil {
		return fmt.Errorf("record the verify of %s: %w", integration, err)
	}
	return nil
}

// LastVerifies returns each integration's latest verify result.
func (db *DB) LastVerifies(ctx context.Context, plan string) (map[string]Verified, error) {
	rows, err := db.Pool.Query(ctx, `SELECT DISTINCT ON (integration) run_id, integration, ok, result, at
		FROM crmigrate.cutover_verifies WHERE plan = $1 ORDER BY integration, id DESC`, plan)
	if err != nil {
		return nil, fmt.Errorf("read the verifies: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Verified, error) {
		var v Verified
		err := r.Scan(&v.RunID, &v.Integration, &v.OK, &v.Result, &v.At)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the verifies: %w", err)
	}
	out := map[string]Verified{}
	for _, v := range list {
		out[v.Integration] = v
	}
	return out, nil
}

// RecordStep journals one step of an integration switch (switch, verify or rollback).
func (db *DB) RecordStep(ctx context.Context, plan string, runID int64, integration, step string, ok bool, result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO crmigrate.cutover_steps (plan, run_id, integration, step, ok, result) VALUES ($1, $2, $3, $4, $5, $6)`,
		plan, runID, integration, step, ok, b); err != nil {
		return fmt.Errorf("journal the %s of %s: %w", step, integration, err)
	}
	return nil
}

// CutoverStep is one journaled step of an integration switch.
type CutoverStep struct {
	RunID       int64     `json:"run_id"`
	Integration string    `json:"integration"`
	Step        string    `json:"step"`
	OK          bool      `json:"ok"`
	Detail      string    `json:"detail"`
	At          time.Time `json:"at"`
}

// CutoverSteps returns the journal of the integrations' switches and rollbacks, oldest first.
func (db *DB) CutoverSteps(ctx context.Context, plan string) ([]CutoverStep, error) {
	rows, err := db.Pool.Query(ctx, `SELECT run_id, integration, step, ok, coalesce(result->>'detail', ''), at
		FROM crmigrate.cutover_steps WHERE plan = $1 ORDER BY id`, plan)
	if err != nil {
		return nil, fmt.Errorf("read the switches' journal: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CutoverStep, error) {
		var s CutoverStep
		err := r.Scan(&s.RunID, &s.Integration, &s.Step, &s.OK, &s.Detail, &s.At)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read the switches' journal: %w", err)
	}
	return out, nil
}
