package state

import (
	"context"
	"encoding/json"
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
	// Lock names the advisory lock the run takes (default Phase). Phases that touch the same data
	// share one lock and so exclude each other: clean, migrate and undo all take "writer".
	Lock string
	// LockPhases are the phases that take Lock (default: Phase alone). The holder of a busy lock is
	// looked for among their running runs, and their runs still marked running when the lock is
	// taken are marked abandoned (their process died: it would still hold the lock otherwise).
	LockPhases []string
	Args       []string // the command line, without secrets
	Forced     bool     // started with --force
}

func (s RunSpec) lock() string {
	if s.Lock == "" {
		return s.Phase
	}
	return s.Lock
}

func (s RunSpec) lockPhases() []string {
	if len(s.LockPhases) == 0 {
		return []string{s.Phase}
	}
	return s.LockPhases
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

// LockedError says that another process holds the lock a run needs: it runs the same phase of
// the same plan, or a phase that touches the same data.
type LockedError struct {
	Plan   string
	Phase  string     // the phase that was refused
	Lock   string     // the lock it needs
	Holder *RunRecord // nil when the holder has not registered its run yet
}

func (e *LockedError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("%s of plan %s cannot start: another process holds the plan's %s lock (it has not registered its run yet); wait for it to finish", e.Phase, e.Plan, e.Lock)
	}
	h := e.Holder
	what := "is already running"
	if h.Phase != e.Phase {
		what = fmt.Sprintf("cannot start while %s, which touches the same data, is running", h.Phase)
	}
	return fmt.Sprintf("%s of plan %s %s: run %d on host %s (user %s, pid %d), started %s; wait for it to finish or stop that process",
		e.Phase, e.Plan, what, h.ID, h.Host, h.User, h.PID, h.StartedAt.Local().Format(time.RFC3339))
}

// Lock is a plan's advisory lock, held on a dedicated connection until [Lock.Release] or, once a
// run was recorded under it with [Lock.Begin], until [Run.Finish]. If the process dies, the
// connection closes and the server releases the lock.
type Lock struct {
	Spec RunSpec
	db   *DB
	conn *pgxpool.Conn
	key  int64
}

// Run is a phase run in progress, recorded in crmigrate.runs. It holds its lock until Finish; if
// the process dies, the lock is released and the next holder of the lock marks this run abandoned.
type Run struct {
	ID    int64
	Spec  RunSpec
	db    *DB
	conn  *pgxpool.Conn
	key   int64
	ended bool
}

// LockKey is the advisory-lock key of a plan's lock (a phase name or a shared lock's name).
func LockKey(plan, lock string) int64 {
	h := fnv.New64a()
	h.Write([]byte("crmigrate\x00" + plan + "\x00" + lock))
	return int64(h.Sum64())
}

// TakeLock takes the lock spec names (failing at once with *LockedError, naming the holder, when
// another process holds it), records the plan, and marks abandoned the runs of spec's lock phases
// still marked running: holding the lock proves their processes are gone. It records no run.
func (db *DB) TakeLock(ctx context.Context, spec RunSpec) (*Lock, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("start %s run: %w", spec.Phase, err)
	}
	key := LockKey(spec.Plan, spec.lock())
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Release()
		return nil, fmt.Errorf("start %s run: lock: %w", spec.Phase, err)
	}
	if !got {
		conn.Release()
		return nil, &LockedError{Plan: spec.Plan, Phase: spec.Phase, Lock: spec.lock(), Holder: db.runningHolder(ctx, spec.Plan, spec.lockPhases())}
	}
	l := &Lock{Spec: spec, db: db, conn: conn, key: key}
	if err := l.closeAbandoned(ctx); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

func (l *Lock) closeAbandoned(ctx context.Context) error {
	spec := l.Spec
	if _, err := l.conn.Exec(ctx, `INSERT INTO crmigrate.plans (name, content_hash, path) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET content_hash = EXCLUDED.content_hash, path = EXCLUDED.path, last_seen = now()`,
		spec.Plan, spec.PlanHash, spec.PlanPath); err != nil {
		return fmt.Errorf("record plan %s: %w", spec.Plan, err)
	}
	// We hold the lock, so any run of its phases still marked running died without finishing.
	if _, err := l.conn.Exec(ctx, `UPDATE crmigrate.runs SET status = $3, ended_at = now(),
		error = 'the process ended without finishing the run (crash or kill)'
		WHERE plan = $1 AND phase = ANY($2) AND status = 'running'`, spec.Plan, spec.lockPhases(), StatusAbandoned); err != nil {
		return fmt.Errorf("close abandoned runs: %w", err)
	}
	return nil
}

// Release gives the lock up. It does nothing after Begin (the run releases it) or a first Release.
func (l *Lock) Release() {
	if l.conn == nil {
		return
	}
	unlock(l.conn, l.key)
	l.conn = nil
}

// Begin records a new run in state running under the held lock and audits its start (and
// --force). The run owns the lock from then on: [Run.Finish] releases it.
func (l *Lock) Begin(ctx context.Context) (*Run, error) {
	if l.conn == nil {
		return nil, fmt.Errorf("start %s run: the lock was released", l.Spec.Phase)
	}
	r := &Run{Spec: l.Spec, db: l.db, conn: l.conn, key: l.key}
	if err := r.register(ctx); err != nil {
		return nil, err
	}
	l.conn = nil
	return r, nil
}

// StartRun takes the run's lock ([DB.TakeLock]) and records the run ([Lock.Begin]).
func (db *DB) StartRun(ctx context.Context, spec RunSpec) (*Run, error) {
	l, err := db.TakeLock(ctx, spec)
	if err != nil {
		return nil, err
	}
	r, err := l.Begin(ctx)
	if err != nil {
		l.Release()
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
			Detail: map[string]any{"reason": "started with --force"}}); err != nil {
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
func (db *DB) runningHolder(ctx context.Context, plan string, phases []string) *RunRecord {
	for i := 0; i < 10; i++ {
		rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND phase = ANY($2) AND status = 'running' ORDER BY id DESC LIMIT 1`, plan, phases)
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
	unlock(r.conn, r.key)
	r.conn = nil
}

func unlock(conn *pgxpool.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		// A connection in a bad state may still hold the lock: close it instead of pooling it.
		_ = conn.Conn().Close(ctx)
	}
	conn.Release()
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

// LastFinished returns the last run of phase for plan that is no longer running (passed, failed,
// aborted or abandoned), or nil when there is none.
func (db *DB) LastFinished(ctx context.Context, plan, phase string) (*RunRecord, error) {
	rows, err := db.Pool.Query(ctx, selectRuns+` WHERE plan = $1 AND phase = $2 AND status <> 'running' ORDER BY id DESC LIMIT 1`, plan, phase)
	if err != nil {
		return nil, fmt.Errorf("find the last %s run: %w", phase, err)
	}
	runs, err := pgx.CollectRows(rows, scanRun)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

func actor() (who, host string) {
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ = os.Hostname()
	return who, host
}
