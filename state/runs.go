package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/user"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Run statuses.
const (
	StatusRunning   = "running"
	StatusPassed    = "passed"
	StatusFailed    = "failed"
	StatusAborted   = "aborted"
	StatusAbandoned = "abandoned" // the process ended without finishing the run (crash, kill -9)
)

// RunSpec describes a run about to start.
type RunSpec struct {
	Plan     string // the plan's name
	PlanHash string // hash of the plan file
	PlanPath string // where the plan file is
	Phase    string // clean, migrate, validate, …
	// LockPhase is the phase whose advisory lock the run takes (default Phase): an undo takes
	// migrate's, so that the two never run at once.
	LockPhase string
	Args      []string // the command line, without secrets
	Forced    bool     // started with --force
}

// RunRecord is a row of crmigrate.runs.
type RunRecord struct {
	ID        int64            `json:"id"`
	Plan      string           `json:"plan"`
	Phase     string           `json:"phase"`
	Status    string           `json:"status"`
	StartedAt time.Time        `json:"started_at"`
	EndedAt   *time.Time       `json:"ended_at,omitempty"`
	User      string           `json:"user"`
	Host      string           `json:"host"`
	PID       int              `json:"pid"`
	Args      []string         `json:"args"`
	Forced    bool             `json:"forced"`
	Counts    map[string]int64 `json:"counts"`
	Error     string           `json:"error,omitempty"`
}

// LockedError says that another process runs the same phase of the same plan.
type LockedError struct {
	Plan, Phase string
	Holder      *RunRecord // nil when the holder has not registered its run yet
}

func (e *LockedError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("phase %s of plan %s is already running in another process (it has not registered its run yet); wait for it to finish", e.Phase, e.Plan)
	}
	h := e.Holder
	return fmt.Sprintf("phase %s of plan %s is already running: run %d on host %s (user %s, pid %d), started %s; wait for it to finish or stop that process",
		e.Phase, e.Plan, h.ID, h.Host, h.User, h.PID, h.StartedAt.Local().Format(time.RFC3339))
}

// Run is a phase run in progress. It holds the phase's advisory lock on a dedicated connection until
// Finish; if the process dies, the connection closes, the lock is released and the next run of the
// phase marks this one abandoned.
type Run struct {
	ID    int64
	Spec  RunSpec
	db    *DB
	conn  *pgxpool.Conn
	key   int64
	ended bool
}

// LockKey is the advisory-lock key of a plan's phase.
func LockKey(plan, phase string) int64 {
	h := fnv.New64a()
	h.Write([]byte("crmigrate\x00" + plan + "\x00" + phase))
	return int64(h.Sum64())
}

// StartRun takes the phase's lock (failing at once with *LockedError when another process holds
// it), records the plan and a new run in state running, and audits the start.
func (db *DB) StartRun(ctx context.Context, spec RunSpec) (*Run, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("start %s run: %w", spec.Phase, err)
	}
	lockPhase := spec.LockPhase
	if lockPhase == "" {
		lockPhase = spec.Phase
	}
	key := LockKey(spec.Plan, lockPhase)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Release()
		return nil, fmt.Errorf("start %s run: lock: %w", spec.Phase, err)
	}
	if !got {
		conn.Release()
		return nil, &LockedError{Plan: spec.Plan, Phase: lockPhase, Holder: db.runningHolder(ctx, spec.Plan, lockPhase)}
	}
	r := &Run{Spec: spec, db: db, conn: conn, key: key}
	if err := r.register(ctx); err != nil {
		r.unlock()
		return nil, err
	}
	return r, nil
}

func (r *Run) register(ctx context.Context) error {
	spec := r.Spec
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("start %s run: %w", spec.Phase, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.plans (name, content_hash, path) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET content_hash = EXCLUDED.content_hash, path = EXCLUDED.path, last_seen = now()`,
		spec.Plan, spec.PlanHash, spec.PlanPath); err != nil {
		return fmt.Errorf("record plan %s: %w", spec.Plan, err)
	}
	// We hold the lock, so any run still marked running died without finishing.
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.runs SET status = $3, ended_at = now(),
		error = 'the process ended without finishing the run (crash or kill)'
		WHERE plan = $1 AND phase = $2 AND status = 'running'`, spec.Plan, spec.Phase, StatusAbandoned); err != nil {
		return fmt.Errorf("close abandoned runs: %w", err)
	}
	args := spec.Args
	if args == nil {
		args = []string{}
	}
	argsJSON, _ := json.Marshal(args)
	who, host := actor()
	if err := tx.QueryRow(ctx, `INSERT INTO crmigrate.runs (plan, plan_hash, phase, status, os_user, host, pid, args, forced)
		VALUES ($1, $2, $3, 'running', $4, $5, $6, $7, $8) RETURNING id`,
		spec.Plan, spec.PlanHash, spec.Phase, who, host, os.Getpid(), argsJSON, spec.Forced).Scan(&r.ID); err != nil {
		return fmt.Errorf("record %s run: %w", spec.Phase, err)
	}
	if err := audit(ctx, tx, Entry{Plan: spec.Plan, RunID: r.ID, Action: spec.Phase + ".start",
		Detail: map[string]any{"args": args, "forced": spec.Forced}}); err != nil {
		return err
	}
	if spec.Forced {
		if err := audit(ctx, tx, Entry{Plan: spec.Plan, RunID: r.ID, Action: spec.Phase + ".force",
			Detail: map[string]any{"reason": "started with --force despite a failed or missing earlier phase"}}); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("start %s run: %w", spec.Phase, err)
	}
	return nil
}

// runningHolder finds the run that holds a phase's lock. The holder registers right after taking
// the lock, so a missing row is looked for again briefly.
func (db *DB) runningHolder(ctx context.Context, plan, phase string) *RunRecord {
	for i := 0; i < 10; i++ {
		rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND phase = $2 AND status = 'running' ORDER BY id DESC LIMIT 1`, plan, phase)
		if err != nil {
			return nil
		}
		runs, err := pgx.CollectRows(rows, scanRun)
		if err == nil && len(runs) == 1 {
			return &runs[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// Finish records the run's outcome and counts, audits it and releases the phase's lock. runErr, if
// not nil, is stored as the run's error. It uses its own short deadline, so it works after Ctrl-C.
func (r *Run) Finish(ctx context.Context, status string, counts map[string]int64, runErr error) error {
	if r.ended {
		return nil
	}
	r.ended = true
	defer r.unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if counts == nil {
		counts = map[string]int64{}
	}
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	countsJSON, _ := json.Marshal(counts)
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("finish %s run %d: %w", r.Spec.Phase, r.ID, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE crmigrate.runs SET status = $2, ended_at = now(), counts = $3, error = $4 WHERE id = $1`,
		r.ID, status, countsJSON, msg); err != nil {
		return fmt.Errorf("finish %s run %d: %w", r.Spec.Phase, r.ID, err)
	}
	if err := audit(ctx, tx, Entry{Plan: r.Spec.Plan, RunID: r.ID, Action: r.Spec.Phase + ".end",
		Detail: map[string]any{"status": status, "counts": counts, "error": msg}}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("finish %s run %d: %w", r.Spec.Phase, r.ID, err)
	}
	return nil
}

func (r *Run) unlock() {
	if r.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, r.key); err != nil {
		// A connection in a bad state may still hold the lock: close it instead of pooling it.
		_ = r.conn.Conn().Close(ctx)
	}
	r.conn.Release()
	r.conn = nil
}

const selectRuns = `SELECT id, plan, phase, status, started_at, ended_at, os_user, host, pid, args, forced, counts, error FROM crmigrate.runs`

func scanRun(row pgx.CollectableRow) (RunRecord, error) {
	var r RunRecord
	var args, counts []byte
	if err := row.Scan(&r.ID, &r.Plan, &r.Phase, &r.Status, &r.StartedAt, &r.EndedAt, &r.User, &r.Host, &r.PID, &args, &r.Forced, &counts, &r.Error); err != nil {
		return r, err
	}
	_ = json.Unmarshal(args, &r.Args)
	_ = json.Unmarshal(counts, &r.Counts)
	return r, nil
}

// Runs lists a plan's runs, newest first; phase "" means all phases; limit <= 0 means 100.
func (db *DB) Runs(ctx context.Context, plan, phase string, limit int) ([]RunRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND ($2 = '' OR phase = $2) ORDER BY id DESC LIMIT $3`, plan, phase, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", plan, err)
	}
	return pgx.CollectRows(rows, scanRun)
}

// ErrPhaseNotPassed is wrapped by RequirePassed when the phase a command depends on has not passed.
var ErrPhaseNotPassed = errors.New("required phase has not passed")

// RequirePassed returns nil when the last finished run of phase for plan passed, and an error
// wrapping ErrPhaseNotPassed that says what to do otherwise.
func (db *DB) RequirePassed(ctx context.Context, plan, phase string) error {
	rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND phase = $2 AND status <> 'running' ORDER BY id DESC LIMIT 1`, plan, phase)
	if err != nil {
		return fmt.Errorf("check %s passed: %w", phase, err)
	}
	runs, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return fmt.Errorf("check %s passed: %w", phase, err)
	}
	if len(runs) == 0 {
		return fmt.Errorf("%w: %s has never run for plan %s; run `crmigrate %s` first, or pass --force (audited)", ErrPhaseNotPassed, phase, plan, phase)
	}
	if runs[0].Status != StatusPassed {
		return fmt.Errorf("%w: the last %s (run %d) ended %s; fix it and run `crmigrate %s` again, or pass --force (audited)",
			ErrPhaseNotPassed, phase, runs[0].ID, runs[0].Status, phase)
	}
	return nil
}

func actor() (who, host string) {
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ = os.Hostname()
	return who, host
}
