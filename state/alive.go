package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrStagingLost is matched (errors.Is) by the error of CheckStaging when staging is not whole:
// the server crashed (crash recovery empties unlogged tables), or a clean stopped while replacing it.
var ErrStagingLost = errors.New("staging is not whole")

type stagingError struct{ msg string }

func (e *stagingError) Error() string        { return e.msg }
func (e *stagingError) Is(target error) bool { return target == ErrStagingLost }

// MarkStagingWhole records that runID wrote the plan's staging in full. It is called last by a
// clean, after every object's staging is written.
func (db *DB) MarkStagingWhole(ctx context.Context, plan string, runID int64) error {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO crmigrate.staging_alive (plan, run_id) VALUES ($1, $2)
		ON CONFLICT (plan) DO UPDATE SET run_id = EXCLUDED.run_id, written_at = now()`, plan, runID); err != nil {
		return fmt.Errorf("record staging of %s: %w", plan, err)
	}
	return nil
}

// MarkStagingPartial removes the plan's mark before a clean starts replacing its staging: until
// MarkStagingWhole, staging is a mix of two cleans.
func (db *DB) MarkStagingPartial(ctx context.Context, plan string) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM crmigrate.staging_alive WHERE plan = $1`, plan); err != nil {
		return fmt.Errorf("record staging of %s: %w", plan, err)
	}
	return nil
}

// CheckStaging returns an error wrapping ErrStagingLost when a clean of the plan passed but its
// staging is no longer whole, and nil otherwise (also when no clean passed: that is the phase
// order's business).
func (db *DB) CheckStaging(ctx context.Context, plan string) error {
	var alive bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM crmigrate.staging_alive WHERE plan = $1)`, plan).Scan(&alive); err != nil {
		return fmt.Errorf("check staging of %s: %w", plan, err)
	}
	if alive {
		return nil
	}
	var last int64
	var status string
	err := db.Pool.QueryRow(ctx, `SELECT id, status FROM crmigrate.runs WHERE plan = $1 AND phase = 'clean' AND status <> 'running' ORDER BY id DESC LIMIT 1`,
		plan).Scan(&last, &status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check staging of %s: %w", plan, err)
	case status == StatusPassed:
		return &stagingError{fmt.Sprintf("staging was lost (server crash): what clean run %d wrote is gone from the control database; run `crmigrate clean` again", last)}
	default:
		return &stagingError{fmt.Sprintf("staging is incomplete: clean run %d ended %s while replacing it; run `crmigrate clean` again", last, status)}
	}
}
