package state

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
)

// Staging (golden records and cluster membership) is partitioned by plan. Each clean writes a
// generation: two new tables, created and filled in two open transactions and indexed after the
// load, then swapped in for the plan's previous partitions in one short transaction. Readers see
// the previous clean's staging, whole, until the swap commits, and the new one after it. A clean
// that stops before the swap (failed, Ctrl-C, killed, the server crashed) leaves the previous
// staging as it was: its tables are rolled back with their transactions. The tables are logged,
// so a crash of the server loses nothing that was committed; the private server runs with
// wal_level=minimal, where PostgreSQL writes a table created in the same transaction without WAL
// and syncs it at commit, so crash safety costs about one extra write of the data.

// ErrStagingLost is matched (errors.Is) by the error of CheckStaging when a clean passed but the
// plan has no whole staging.
var ErrStagingLost = errors.New("staging is not whole")

type stagingError struct{ msg string }

func (e *stagingError) Error() string        { return e.msg }
func (e *stagingError) Is(target error) bool { return target == ErrStagingLost }

// CheckStaging returns an error wrapping ErrStagingLost when a clean of the plan passed but the
// plan has no generation of staging (it was written by a version of crmigrate whose staging did
// not survive a crash, or removed by hand), and nil otherwise (also when no clean passed: that is
// the phase order's business).
func (db *DB) CheckStaging(ctx context.Context, plan string) error {
	var whole bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM crmigrate.staging_generations WHERE plan = $1)`, plan).Scan(&whole); err != nil {
		return fmt.Errorf("check staging of %s: %w", plan, err)
	}
	if whole {
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
		return &stagingError{fmt.Sprintf("staging was lost: what clean run %d wrote is not in the control database; run `crmigrate clean` again", last)}
	default:
		return &stagingError{fmt.Sprintf("there is no whole staging: clean run %d ended %s and no earlier clean left any; run `crmigrate clean` again", last, status)}
	}
}

// StagingGeneration names the partitions a plan reads and the clean run that wrote them.
type StagingGeneration struct {
	RunID                  int64
	GoldenPart, MemberPart string
}

// Generation returns the plan's current generation of staging; ok is false when it has none.
func (db *DB) Generation(ctx context.Context, plan string) (g StagingGeneration, ok bool, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT run_id, golden_part, members_part FROM crmigrate.staging_generations WHERE plan = $1`, plan).
		Scan(&g.RunID, &g.GoldenPart, &g.MemberPart)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("read staging generation of %s: %w", plan, err)
	}
	return g, true, nil
}

// partPrefixes are the name prefixes of a plan's staging partitions: a hash of the plan's name,
// so that any plan name gives a plain identifier.
func partPrefixes(plan string) (golden, members string) {
	h := md5.Sum([]byte(plan))
	s := hex.EncodeToString(h[:6])
	return "golden_" + s + "_", "cluster_members_" + s + "_"
}

// quoteLiteral quotes s as an SQL string literal (DDL takes no parameters) the way the server
// reads literals (quote_literal knows its standard_conforming_strings). Plan names hold no NUL.
func (db *DB) quoteLiteral(ctx context.Context, s string) (string, error) {
	var q string
	if err := db.Pool.QueryRow(ctx, `SELECT quote_literal($1::text)`, s).Scan(&q); err != nil {
		return "", fmt.Errorf("write staging: %w", err)
	}
	return q, nil
}

// goldenCols and memberCols are the columns staging rows are copied into.
var (
	goldenCols = []string{"plan", "object", "golden_id", "run_id", "canonical_key", "vals", "origin", "provenance", "updated_at", "members", "digest"}
	memberCols = []string{"plan", "object", "source", "source_id", "golden_id", "decision", "score", "run_id", "line", "updated_at", "vals"}
)

// compactProvenance stores provenance as one origin when every non-empty value came from the same
// source record and every empty one from none (then provenance is nil); otherwise origin is "".
func compactProvenance(vals, prov []string) (origin string, out []string) {
	if len(prov) != len(vals) {
		return "", prov
	}
	for i, p := range prov {
		switch {
		case vals[i] == "" && p == "":
		case vals[i] == "" || p == "" || strings.Contains(p, "+"):
			return "", prov
		case origin == "":
			origin = p
		case p != origin:
			return "", prov
		}
	}
	return origin, nil
}

// expandProvenance is the inverse of compactProvenance.
func expandProvenance(vals []string, origin string, prov []string) []string {
	if prov != nil {
		return prov
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		if v != "" {
			out[i] = origin
		}
	}
	return out
}

// goldenValues are a golden row's values in goldenCols' order; buf (len 11) is reused.
func goldenValues(buf []any, plan, object string, runID int64, g *GoldenRow) []any {
	origin, prov := compactProvenance(g.Vals, g.Provenance)
	buf[0], buf[1], buf[2], buf[3], buf[4], buf[5] = plan, object, g.GoldenID, runID, g.Key, g.Vals
	buf[6], buf[7], buf[8], buf[9], buf[10] = origin, prov, g.UpdatedAt, g.Members, g.Digest
	return buf
}

// memberValues are a member row's values in memberCols' order; buf (len 11) is reused.
func memberValues(buf []any, plan, object string, runID int64, m *MemberRow) []any {
	buf[0], buf[1], buf[2], buf[3], buf[4], buf[5] = plan, object, m.Source, m.SourceID, m.GoldenID, m.Decision
	buf[6], buf[7], buf[8], buf[9], buf[10] = m.Score, runID, m.Line, m.UpdatedAt, m.Vals
	return buf
}

// NewGeneration is a generation of a plan's staging being written: Write each object, then Commit
// to swap it in, or Abort. Its methods are called from one goroutine.
type NewGeneration struct {
	db            *DB
	plan          string
	runID         int64
	golden, membs string
	conns         [2]*pgxpool.Conn
	txs           [2]pgx.Tx
	closed        bool
}

// BeginGeneration starts writing a new generation of the plan's staging for run runID. It first
// drops tables of generations that never were swapped in (a clean stopped between its commits);
// the caller holds the plan's writer lock.
func (db *DB) BeginGeneration(ctx context.Context, plan string, runID int64) (*NewGeneration, error) {
	gp, mp := partPrefixes(plan)
	if err := db.dropOrphans(ctx, gp, mp); err != nil {
		return nil, err
	}
	g := &NewGeneration{db: db, plan: plan, runID: runID,
		golden: gp + strconv.FormatInt(runID, 10), membs: mp + strconv.FormatInt(runID, 10)}
	check, err := db.quoteLiteral(ctx, plan)
	if err != nil {
		return nil, err
	}
	for i, t := range []struct{ name, parent string }{{g.golden, "golden"}, {g.membs, "cluster_members"}} {
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			g.Abort()
			return nil, fmt.Errorf("write staging: %w", err)
		}
		g.conns[i] = conn
		tx, err := conn.Begin(ctx)
		if err != nil {
			g.Abort()
			return nil, fmt.Errorf("write staging: %w", err)
		}
		g.txs[i] = tx
		// The CHECK constraint matches the partition bound, so that attaching it scans nothing.
		if _, err := tx.Exec(ctx, `CREATE TABLE crmigrate.`+pgx.Identifier{t.name}.Sanitize()+
			` (LIKE crmigrate.`+t.parent+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS, CHECK (plan = `+check+`))`); err != nil {
			g.Abort()
			return nil, fmt.Errorf("write staging: create %s: %w", t.parent, err)
		}
	}
	return g, nil
}

// dropOrphans drops a plan's staging tables that are not attached (never swapped in).
func (db *DB) dropOrphans(ctx context.Context, prefixes ...string) error {
	for _, p := range prefixes {
		rows, err := db.Pool.Query(ctx, `SELECT relname FROM pg_class WHERE relnamespace = 'crmigrate'::regnamespace
			AND relkind = 'r' AND NOT relispartition AND starts_with(relname, $1)`, p)
		if err != nil {
			return fmt.Errorf("write staging: find unused tables: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("write staging: find unused tables: %w", err)
		}
		for _, n := range names {
			if _, err := db.Pool.Exec(ctx, `DROP TABLE IF EXISTS crmigrate.`+pgx.Identifier{n}.Sanitize()); err != nil {
				return fmt.Errorf("write staging: drop unused table %s: %w", n, err)
			}
		}
	}
	return nil
}

// Write copies an object's golden records and cluster membership into the generation, the two
// tables at the same time.
func (g *NewGeneration) Write(ctx context.Context, object string, rows StagingRows) error {
	if g.closed {
		return errors.New("write staging: the generation is closed")
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var r GoldenRow
		buf := make([]any, len(goldenCols))
		src := &copyRows{next: func() (bool, error) { return rows.NextGolden(&r) },
			values: func() []any { return goldenValues(buf, g.plan, object, g.runID, &r) }}
		if _, err := g.txs[0].CopyFrom(ectx, pgx.Identifier{"crmigrate", g.golden}, goldenCols, src); err != nil {
			return fmt.Errorf("write staging golden of %s: %w", object, err)
		}
		return nil
	})
	eg.Go(func() error {
		var r MemberRow
		buf := make([]any, len(memberCols))
		src := &copyRows{next: func() (bool, error) { return rows.NextMember(&r) },
			values: func() []any { return memberValues(buf, g.plan, object, g.runID, &r) }}
		if _, err := g.txs[1].CopyFrom(ectx, pgx.Identifier{"crmigrate", g.membs}, memberCols, src); err != nil {
			return fmt.Errorf("write staging cluster_members of %s: %w", object, err)
		}
		return nil
	})
	return eg.Wait()
}

// Commit indexes the generation's tables, commits them and swaps them in for the plan's previous
// partitions in one transaction. After an error the previous staging is still the plan's.
func (g *NewGeneration) Commit(ctx context.Context) error {
	if g.closed {
		return errors.New("write staging: the generation is closed")
	}
	eg, ectx := errgroup.WithContext(ctx)
	ddl := [2][]string{
		{`ALTER TABLE crmigrate.` + pgx.Identifier{g.golden}.Sanitize() + ` ADD PRIMARY KEY (plan, object, golden_id)`},
		{`ALTER TABLE crmigrate.` + pgx.Identifier{g.membs}.Sanitize() + ` ADD PRIMARY KEY (plan, object, source, source_id)`,
			`CREATE INDEX ON crmigrate.` + pgx.Identifier{g.membs}.Sanitize() + ` (plan, object, golden_id)`},
	}
	for i := range g.txs {
		eg.Go(func() error {
			for _, q := range ddl[i] {
				if _, err := g.txs[i].Exec(ectx, q); err != nil {
					return fmt.Errorf("write staging: index: %w", err)
				}
			}
			if err := g.txs[i].Commit(ectx); err != nil {
				return fmt.Errorf("write staging: commit: %w", err)
			}
			return nil
		})
	}
	err := eg.Wait()
	g.release()
	if err == nil {
		err = g.swap(ctx)
	}
	if err != nil {
		// Committed tables that were not swapped in go now, or at the next clean.
		_ = g.db.dropOrphans(context.WithoutCancel(ctx), g.golden, g.membs)
	}
	return err
}

// swap replaces the plan's partitions with the generation's, in one transaction.
func (g *NewGeneration) swap(ctx context.Context) error {
	tx, err := g.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("write staging: swap: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Dropping a partition locks its parent: take both parents in one order (as every writer of
	// staging does: golden, then cluster_members), and wait a bounded time for readers of other plans.
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5min'`); err != nil {
		return fmt.Errorf("write staging: swap: %w", err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE crmigrate.golden, crmigrate.cluster_members IN ACCESS EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("write staging: swap: wait for the readers of staging: %w", err)
	}
	gp, mp := partPrefixes(g.plan)
	rows, err := tx.Query(ctx, `SELECT relname FROM pg_class WHERE relnamespace = 'crmigrate'::regnamespace
		AND relkind = 'r' AND relispartition AND (starts_with(relname, $1) OR starts_with(relname, $2))`, gp, mp)
	if err != nil {
		return fmt.Errorf("write staging: swap: %w", err)
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("write staging: swap: %w", err)
	}
	for _, n := range old {
		if _, err := tx.Exec(ctx, `DROP TABLE crmigrate.`+pgx.Identifier{n}.Sanitize()); err != nil {
			return fmt.Errorf("write staging: drop previous generation: %w", err)
		}
	}
	lit, err := g.db.quoteLiteral(ctx, g.plan)
	if err != nil {
		return err
	}
	bound := ` FOR VALUES IN (` + lit + `)`
	for _, t := range []struct{ parent, part string }{{"golden", g.golden}, {"cluster_members", g.membs}} {
		if _, err := tx.Exec(ctx, `ALTER TABLE crmigrate.`+t.parent+` ATTACH PARTITION crmigrate.`+pgx.Identifier{t.part}.Sanitize()+bound); err != nil {
			return fmt.Errorf("write staging: swap in %s: %w", t.parent, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.staging_generations (plan, run_id, golden_part, members_part) VALUES ($1, $2, $3, $4)
		ON CONFLICT (plan) DO UPDATE SET run_id = EXCLUDED.run_id, golden_part = EXCLUDED.golden_part,
			members_part = EXCLUDED.members_part, written_at = now()`, g.plan, g.runID, g.golden, g.membs); err != nil {
		return fmt.Errorf("write staging: swap: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("write staging: swap: %w", err)
	}
	return nil
}

// Abort rolls the generation back: the plan's previous staging stays. It may be called more than
// once, and after Commit.
func (g *NewGeneration) Abort() {
	g.release()
}

func (g *NewGeneration) release() {
	g.closed = true
	for i := range g.txs {
		if g.txs[i] != nil {
			_ = g.txs[i].Rollback(context.Background())
			g.txs[i] = nil
		}
		if g.conns[i] != nil {
			g.conns[i].Release()
			g.conns[i] = nil
		}
	}
}
