package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmigrate/crmigrate/internal/pgerr"
)

// Crosswalk statuses.
const (
	XActive   = "active"
	XArchived = "archived"
	XDeleted  = "deleted"
)

// Journal actions.
const (
	JInsert  = "insert"
	JUpdate  = "update"
	JArchive = "archive"
	JDelete  = "delete"
	JUndo    = "undo"
)

// RefSpec asks ReadGolden to resolve a ref field: the value at Index (a source record's id in the
// system its provenance names) → that record's golden record in object To → its id in the new CRM.
type RefSpec struct {
	Index int
	To    string
}

// GoldenQuery reads an object's golden records in golden id order.
type GoldenQuery struct {
	Plan, Object string
	After        string // golden ids greater than this (a checkpoint)
	Refs         []RefSpec
	Only         []string // if not nil, only these golden ids (delta runs)
}

// GoldenOut is a golden record with what migrate needs to write it.
type GoldenOut struct {
	GoldenID  string
	Key       string
	Vals      []string
	UpdatedAt *time.Time
	OldIDs    []string // SOURCE:ID of its members, sorted
	// From the crosswalk: what an earlier run wrote ("" when never written).
	NewID, Digest, Status string
	// Per RefSpec: the referenced record's id in the new CRM ("" when not resolved), its golden id
	// ("" when the value names no staged record), and whether the ref had a value at all.
	RefIDs    []string
	RefGolden []string
	RefValue  []bool
}

// GoldenReader streams an object's golden records.
type GoldenReader struct {
	conn *pgxpool.Conn
	tx   pgx.Tx
	rows pgx.Rows
	q    GoldenQuery
}

// ReadGolden starts streaming an object's golden records, each with its crosswalk entry, its
// members' old ids and its references resolved to ids in the new CRM. It is one query, joined by
// hashing in the control database (set-based, so resolving a million references costs a pass
// over the referenced tables, not a million index probes), on a connection of its own.
func (db *DB) ReadGolden(ctx context.Context, q GoldenQuery) (*GoldenReader, error) {
	var b strings.Builder
	b.WriteString(`SELECT g.golden_id, g.canonical_key, g.vals, g.updated_at, coalesce(m.ids, '{}'),
		coalesce(x.new_id, ''), coalesce(x.digest, ''), coalesce(x.status, '')`)
	args := []any{q.Plan, q.Object, q.After}
	var joins strings.Builder
	for i, r := range q.Refs {
		args = append(args, r.To)
		p := "$" + strconv.Itoa(len(args))
		idx := strconv.Itoa(r.Index + 1) // SQL arrays are 1-based
		fmt.Fprintf(&b, ", nullif(r%[1]d.new_id, ''), r%[1]d.golden_id", i)
		fmt.Fprintf(&joins, ` LEFT JOIN (SELECT rm.source, rm.source_id, rm.golden_id, rx.new_id FROM crmigrate.cluster_members rm LEFT JOIN crmigrate.crosswalk rx
			ON rx.plan = rm.plan AND rx.object = rm.object AND rx.golden_id = rm.golden_id AND rx.status = 'active'
			WHERE rm.plan = $1 AND rm.object = %[1]s) r%[2]d ON r%[2]d.source = split_part(coalesce(g.provenance[%[3]s], g.origin), ':', 1) AND r%[2]d.source_id = g.vals[%[3]s]`,
			p, i, idx)
	}
	b.WriteString(` FROM crmigrate.golden g
		LEFT JOIN crmigrate.crosswalk x ON x.plan = g.plan AND x.object = g.object AND x.golden_id = g.golden_id
		LEFT JOIN (SELECT golden_id, array_agg(source || ':' || source_id ORDER BY source, source_id) AS ids FROM crmigrate.cluster_members
		           WHERE plan = $1 AND object = $2 GROUP BY golden_id) m ON m.golden_id = g.golden_id`)
	b.WriteString(joins.String())
	b.WriteString(` WHERE g.plan = $1 AND g.object = $2 AND g.golden_id > $3`)
	if q.Only != nil {
		args = append(args, q.Only)
		b.WriteString(` AND g.golden_id = ANY($` + strconv.Itoa(len(args)) + `)`)
	}
	b.WriteString(` ORDER BY g.golden_id`)
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("read golden %s records: %w", q.Object, err)
	}
	r := &GoldenReader{conn: conn, q: q}
	if r.tx, err = conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}); err != nil {
		r.Close()
		return nil, fmt.Errorf("read golden %s records: %w", q.Object, err)
	}
	// Hash joins, whatever the statistics say (the crosswalk of the object just loaded has not been
	// analyzed yet, and a nested loop over it is a million index probes); room for the hash
	// tables; no JIT (it costs more than it saves on these joins).
	if _, err := r.tx.Exec(ctx, `SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '256MB'; SET LOCAL jit = off`); err != nil {
		r.Close()
		return nil, fmt.Errorf("read golden %s records: %w", q.Object, err)
	}
	if r.rows, err = r.tx.Query(ctx, b.String(), args...); err != nil {
		r.Close()
		return nil, fmt.Errorf("read golden %s records: %w", q.Object, err)
	}
	return r, nil
}

// Next returns up to n more records; an empty batch means the end.
func (r *GoldenReader) Next(n int) ([]GoldenOut, error) {
	out := make([]GoldenOut, 0, n)
	refs := make([]*string, len(r.q.Refs))
	refGolden := make([]*string, len(r.q.Refs))
	dst := make([]any, 0, 8+2*len(refs))
	for len(out) < n && r.rows.Next() {
		var g GoldenOut
		dst = append(dst[:0], &g.GoldenID, &g.Key, &g.Vals, &g.UpdatedAt, &g.OldIDs, &g.NewID, &g.Digest, &g.Status)
		for i := range refs {
			refs[i], refGolden[i] = nil, nil
			dst = append(dst, &refs[i], &refGolden[i])
		}
		if err := r.rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("read golden %s records: %w", r.q.Object, err)
		}
		g.RefIDs = make([]string, len(refs))
		g.RefGolden = make([]string, len(refs))
		g.RefValue = make([]bool, len(refs))
		for i, ref := range refs {
			if ref != nil {
				g.RefIDs[i] = *ref
			}
			if refGolden[i] != nil {
				g.RefGolden[i] = *refGolden[i]
			}
			if idx := r.q.Refs[i].Index; idx < len(g.Vals) {
				g.RefValue[i] = g.Vals[idx] != ""
			}
		}
		out = append(out, g)
	}
	if err := r.rows.Err(); err != nil {
		return nil, fmt.Errorf("read golden %s records: %w", r.q.Object, err)
	}
	return out, nil
}

// Close ends the read.
func (r *GoldenReader) Close() {
	if r.rows != nil {
		r.rows.Close()
	}
	if r.tx != nil {
		_ = r.tx.Rollback(context.Background())
	}
	if r.conn != nil {
		r.conn.Release()
	}
}

// JournalEntry is one write of a run, before it happens.
type JournalEntry struct {
	Object     string          `json:"object"`
	GoldenID   string          `json:"golden_id"`
	Action     string          `json:"action"`
	NewID      string          `json:"new_id,omitempty"`
	Key        string          `json:"key,omitempty"` // the row's conflict-column value in the new CRM
	Before     json.RawMessage `json:"before,omitempty"`
	PrevDigest *string         `json:"prev_digest,omitempty"`
	RunID      int64           `json:"run_id"`
	UndoneBy   *int64          `json:"undone_by,omitempty"`
}

// JournalBefore stores the entries of a batch about to be written, durably, before the write. An
// entry the run already has (a batch written again after a crash) keeps its first before-image.
// It returns, per entry, the new entry's id, or 0 when the run had it already.
func (db *DB) JournalBefore(ctx context.Context, plan string, runID int64, entries []JournalEntry) ([]int64, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	n := len(entries)
	objs, ids, acts, newIDs, keys, prevs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	befores := make([]*string, n)
	for i, e := range entries {
		objs[i], ids[i], acts[i], newIDs[i], keys[i], prevs[i] = e.Object, e.GoldenID, e.Action, e.NewID, e.Key, e.PrevDigest
		if e.Before != nil {
			s := string(e.Before)
			befores[i] = &s
		}
	}
	rows, err := db.Pool.Query(ctx, `INSERT INTO crmigrate.journal (plan, run_id, object, golden_id, action, new_id, key, before, prev_digest)
		SELECT $1, $2, o, g, a, n, k, b::jsonb, p FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(o, g, a, n, k, b, p)
		ON CONFLICT (plan, run_id, object, golden_id) DO NOTHING RETURNING id, golden_id`,
		plan, runID, objs, ids, acts, newIDs, keys, befores, prevs)
	if err != nil {
		return nil, fmt.Errorf("journal %d writes: %w", n, err)
	}
	fresh := map[string]int64{}
	for rows.Next() {
		var g string
		var id int64
		if err := rows.Scan(&id, &g); err != nil {
			rows.Close()
			return nil, fmt.Errorf("journal %d writes: %w", n, err)
		}
		fresh[g] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal %d writes: %w", n, err)
	}
	out := make([]int64, n)
	for i, e := range entries {
		out[i] = fresh[e.GoldenID]
	}
	return out, nil
}

// CrosswalkRow is one golden record's entry in the crosswalk.
type CrosswalkRow struct {
	Object   string   `json:"object"`
	GoldenID string   `json:"golden_id"`
	NewID    string   `json:"new_id"`
	Key      string   `json:"canonical_key"`
	OldIDs   []string `json:"old_ids"`
	Digest   string   `json:"digest"`
	Status   string   `json:"status"`
	FirstRun int64    `json:"first_run"`
	LastRun  int64    `json:"last_run"`
}

// BatchCommit is what a written batch leaves in the control database, in one transaction.
type BatchCommit struct {
	Plan   string
	RunID  int64
	Object string
	// Crosswalk holds the rows written or found unchanged (an insert's journal entry finds its new
	// id there).
	Crosswalk []CrosswalkRow
	Unwritten []int64 // journal entries (ids) this batch made for rows it did not change, to drop
	Rejects   []RejectRow
	Phase     string // of the rejects
}

// CommitBatch records a written batch: crosswalk, journal entries of rows it did not change, rejects.
func (db *DB) CommitBatch(ctx context.Context, c BatchCommit) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record batch of %s: %w", c.Object, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Index lookups by the whole key: the journal and the crosswalk grow during the run faster than
	// their statistics, and a scan of the run's entries per batch makes a load quadratic. The
	// commit does not wait for the disk: what it records is found again by a resumed run (the
	// rows are in the new CRM, the journal entries were made durable before the write), and WAL
	// is flushed in order, so no later checkpoint can survive a crash without it.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL synchronous_commit = off`); err != nil {
		return fmt.Errorf("record batch of %s: %w", c.Object, err)
	}
	if err := upsertCrosswalk(ctx, tx, c.Plan, c.RunID, c.Crosswalk); err != nil {
		return err
	}
	if len(c.Unwritten) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM crmigrate.journal WHERE id = ANY($1)`, c.Unwritten); err != nil {
			return fmt.Errorf("clear journal of unwritten %s records: %w", c.Object, err)
		}
	}
	if err := insertRejects(ctx, tx, c.Plan, c.RunID, c.Phase, c.Rejects); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("record batch of %s: %w", c.Object, err)
	}
	return nil
}

func upsertCrosswalk(ctx context.Context, tx pgx.Tx, plan string, runID int64, rows []CrosswalkRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	objs, ids, newIDs, keys, olds, digests, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rows {
		objs[i], ids[i], newIDs[i], keys[i], digests[i], statuses[i] = r.Object, r.GoldenID, r.NewID, r.Key, r.Digest, r.Status
		if statuses[i] == "" {
			statuses[i] = XActive
		}
		olds[i] = encodeTextArray(r.OldIDs)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.crosswalk AS x (plan, object, golden_id, new_id, canonical_key, old_ids, digest, status, first_run, last_run)
		SELECT $1, o, g, n, k, ol::text[], d, s, $2, $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(o, g, n, k, ol, d, s)
		ON CONFLICT (plan, object, golden_id) DO UPDATE SET new_id = EXCLUDED.new_id, canonical_key = EXCLUDED.canonical_key, old_ids = EXCLUDED.old_ids,
		  digest = EXCLUDED.digest, status = EXCLUDED.status, last_run = EXCLUDED.last_run, updated_at = now()
		WHERE (x.new_id, x.canonical_key, x.old_ids, x.digest, x.status) IS DISTINCT FROM (EXCLUDED.new_id, EXCLUDED.canonical_key, EXCLUDED.old_ids, EXCLUDED.digest, EXCLUDED.status)`,
		plan, runID, objs, ids, newIDs, keys, olds, digests, statuses); err != nil {
		return fmt.Errorf("update crosswalk: %w", err)
	}
	return nil
}

// encodeTextArray writes a PostgreSQL text[] literal.
func encodeTextArray(vals []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range v {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func insertRejects(ctx context.Context, tx pgx.Tx, plan string, runID int64, phase string, rejects []RejectRow) error {
	if len(rejects) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"crmigrate", "rejects"}, []string{"plan", "run_id", "phase", "object", "system", "line", "source_id", "reason", "raw"},
		pgx.CopyFromSlice(len(rejects), func(i int) ([]any, error) {
			r := rejects[i]
			return []any{plan, runID, phase, r.Object, r.System, r.Line, r.SourceID, r.Reason, r.Raw}, nil
		}))
	if err != nil {
		return fmt.Errorf("record %d rejects: %w", len(rejects), err)
	}
	return nil
}

// Crosswalk lists an object's crosswalk ("" for all objects), ordered by object and golden id.
func (db *DB) Crosswalk(ctx context.Context, plan, object string) ([]CrosswalkRow, error) {
	rows, err := db.Pool.Query(ctx, `SELECT object, golden_id, new_id, canonical_key, old_ids, digest, status, first_run, last_run
		FROM crmigrate.crosswalk WHERE plan = $1 AND ($2 = '' OR object = $2) ORDER BY object, golden_id`, plan, object)
	if err != nil {
		return nil, fmt.Errorf("read crosswalk: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CrosswalkRow, error) {
		var c CrosswalkRow
		err := r.Scan(&c.Object, &c.GoldenID, &c.NewID, &c.Key, &c.OldIDs, &c.Digest, &c.Status, &c.FirstRun, &c.LastRun)
		return c, err
	})
}

// Checkpoint is how far a run got with an object.
type Checkpoint struct {
	Object  string           `json:"object"`
	AfterID string           `json:"after_id"`
	Done    bool             `json:"done"`
	Counts  map[string]int64 `json:"counts"`
}

// SaveCheckpoint records how far a run got with an object. A checkpoint within an object is
// committed without waiting for the disk: losing it in a crash only means that the resumed run
// writes a few more batches again (finding them unchanged); the object's last one waits.
func (db *DB) SaveCheckpoint(ctx context.Context, runID int64, c Checkpoint) error {
	counts, _ := json.Marshal(c.Counts)
	sync := "off"
	if c.Done {
		sync = "on"
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", c.Object, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = `+sync); err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", c.Object, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.checkpoints (run_id, object, after_id, done, counts) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (run_id, object) DO UPDATE SET after_id = EXCLUDED.after_id, done = EXCLUDED.done, counts = EXCLUDED.counts, updated_at = now()`,
		runID, c.Object, c.AfterID, c.Done, counts); err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", c.Object, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", c.Object, err)
	}
	return nil
}

// Checkpoints returns a run's checkpoints by object.
func (db *DB) Checkpoints(ctx context.Context, runID int64) (map[string]Checkpoint, error) {
	rows, err := db.Pool.Query(ctx, `SELECT object, after_id, done, counts FROM crmigrate.checkpoints WHERE run_id = $1`, runID)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints of run %d: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]Checkpoint{}
	for rows.Next() {
		var c Checkpoint
		var counts []byte
		if err := rows.Scan(&c.Object, &c.AfterID, &c.Done, &counts); err != nil {
			return nil, fmt.Errorf("read checkpoints of run %d: %w", runID, err)
		}
		_ = json.Unmarshal(counts, &c.Counts)
		out[c.Object] = c
	}
	return out, rows.Err()
}

// Resume makes run take over the work of the last run of the phase if that run did not finish
// (killed, failed, interrupted) and no clean ran after it started: the new run adopts its
// journal, crosswalk entries and checkpoints, and goes on from there. It returns the adopted
// run's id (0 when there is nothing to resume) and its checkpoints by object.
func (db *DB) Resume(ctx context.Context, plan, phase string, runID int64) (int64, map[string]Checkpoint, error) {
	var prev int64
	var status string
	err := db.Pool.QueryRow(ctx, `SELECT id, status FROM crmigrate.runs WHERE plan = $1 AND phase = $2 AND id < $3 ORDER BY id DESC LIMIT 1`,
		plan, phase, runID).Scan(&prev, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("find a run to resume: %w", err)
	}
	if status == StatusPassed {
		return 0, nil, nil
	}
	var cleanedAfter bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM crmigrate.runs WHERE plan = $1 AND phase = 'clean' AND id > $2)`, plan, prev).Scan(&cleanedAfter); err != nil {
		return 0, nil, fmt.Errorf("find a run to resume: %w", err)
	}
	cps, err := db.Checkpoints(ctx, prev)
	if err != nil {
		return 0, nil, err
	}
	if cleanedAfter {
		return 0, nil, nil
	}
	// Adopted even without a checkpoint: the run may have journaled and written a batch before it
	// died, and those entries must stay with the run that finishes the work.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("resume run %d: %w", prev, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, q := range []string{
		`UPDATE crmigrate.journal SET run_id = $2 WHERE run_id = $1 AND undone_by IS NULL`,
		`UPDATE crmigrate.crosswalk SET last_run = $2 WHERE last_run = $1`,
		`UPDATE crmigrate.crosswalk SET first_run = $2 WHERE first_run = $1`,
		`INSERT INTO crmigrate.checkpoints (run_id, object, after_id, done, counts) SELECT $2, object, after_id, done, counts FROM crmigrate.checkpoints WHERE run_id = $1`,
		`UPDATE crmigrate.runs SET resumed_from = $1 WHERE id = $2`,
	} {
		if _, err := tx.Exec(ctx, q, prev, runID); err != nil {
			return 0, nil, fmt.Errorf("resume run %d: %w", prev, err)
		}
	}
	if err := audit(ctx, tx, Entry{Plan: plan, RunID: runID, Action: phase + ".resume", Detail: map[string]any{"resumed_from": prev, "status": status}}); err != nil {
		return 0, nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, fmt.Errorf("resume run %d: %w", prev, err)
	}
	return prev, cps, nil
}

// Transient reports whether an error from the control database is worth retrying (a lost
// connection, a restarting server).
func Transient(err error) bool { return pgerr.Transient(err) }

// CountGolden counts an object's golden records (only those in ids, when ids is not nil).
func (db *DB) CountGolden(ctx context.Context, plan, object string, ids []string) (int64, error) {
	var n int64
	err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM crmigrate.golden WHERE plan = $1 AND object = $2 AND ($3::text[] IS NULL OR golden_id = ANY($3))`,
		plan, object, ids).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count golden %s records: %w", object, err)
	}
	return n, nil
}

// CrosswalkID is one source record's id in old and its record's id in new.
type CrosswalkID struct {
	Object string `json:"object"`
	Source string `json:"source"`
	OldID  string `json:"old_id"`
	NewID  string `json:"new_id"`
	Golden string `json:"golden_id"`
	Key    string `json:"canonical_key,omitempty"`
}

// EachCrosswalkID streams, for the records migrate wrote (active crosswalk rows), every source
// record they came from with the id it was given in new, by object ("" every object), golden id
// and source record.
func (db *DB) EachCrosswalkID(ctx context.Context, plan, object string, fn func(CrosswalkID) error) error {
	rows, err := db.Pool.Query(ctx, `SELECT object, split_part(m, ':', 1), substr(m, length(split_part(m, ':', 1)) + 2), new_id, golden_id, canonical_key
		FROM crmigrate.crosswalk c, unnest(c.old_ids) AS m
		WHERE plan = $1 AND ($2 = '' OR object = $2) AND status = 'active'
		ORDER BY object COLLATE "C", golden_id COLLATE "C", m COLLATE "C"`, plan, object)
	if err != nil {
		return fmt.Errorf("read the crosswalk: %w", err)
	}
	defer rows.Close()
	var c CrosswalkID
	for rows.Next() {
		if err := rows.Scan(&c.Object, &c.Source, &c.OldID, &c.NewID, &c.Golden, &c.Key); err != nil {
			return fmt.Errorf("read the crosswalk: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}
