package state

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrationLockKey serialises schema migrations of concurrent crmigrate processes.
const migrationLockKey int64 = 0x63726d6967726174 // "crmigrat"

// DB is the control database.
type DB struct {
	Pool *pgxpool.Pool
}

// Migration is one schema migration, applied or not.
type Migration struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Checksum  string    `json:"checksum"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// ErrMigrationEdited means a migration already applied to the database differs from the one built in.
var ErrMigrationEdited = errors.New("an applied migration was edited")

// Open connects to the control database at url and applies the pending schema migrations.
// The url's password never appears in the errors it returns.
func Open(ctx context.Context, url string) (*DB, error) {
	return open(ctx, url, embedded)
}

func open(ctx context.Context, url string, migrations fs.FS) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open control database %s: %s", Redact(url), redactErr(err, url))
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "crmigrate"
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open control database %s: %s", Redact(url), redactErr(err, url))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to control database %s: %s", Redact(url), redactErr(err, url))
	}
	db := &DB{Pool: pool}
	if _, err := db.migrate(ctx, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Migrations lists the migrations recorded in the database.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	rows, err := db.Pool.Query(ctx, `SELECT version, name, checksum, applied_at FROM crmigrate.schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Migration, error) {
		var m Migration
		err := r.Scan(&m.Version, &m.Name, &m.Checksum, &m.AppliedAt)
		return m, err
	})
}

func loadMigrations(fsys fs.FS) ([]Migration, map[int][]byte, error) {
	entries, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, nil, err
	}
	var list []Migration
	bodies := map[int][]byte{}
	for _, p := range entries {
		name := path.Base(p)
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, nil, fmt.Errorf("migration %s: name must start with a positive version number and an underscore", name)
		}
		if _, dup := bodies[v]; dup {
			return nil, nil, fmt.Errorf("migration %s: version %d appears twice", name, v)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, nil, err
		}
		sum := sha256.Sum256(b)
		list = append(list, Migration{Version: v, Name: name, Checksum: hex.EncodeToString(sum[:])})
		bodies[v] = b
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Version < list[j].Version })
	return list, bodies, nil
}

// migrate applies pending migrations, each in its own transaction, under a transaction-level
// advisory lock so that concurrent processes apply each exactly once. It returns those it applied.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) ([]Migration, error) {
	want, bodies, err := loadMigrations(fsys)
	if err != nil {
		return nil, fmt.Errorf("load built-in migrations: %w", err)
	}
	if _, err := db.Pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS crmigrate;
		CREATE TABLE IF NOT EXISTS crmigrate.schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			checksum   text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		// Two processes creating the schema at once can collide; the loser retries once.
		if _, err2 := db.Pool.Exec(ctx, `SELECT 1 FROM crmigrate.schema_migrations LIMIT 1`); err2 != nil {
			return nil, fmt.Errorf("create migrations table: %w", err)
		}
	}
	var applied []Migration
	for _, m := range want {
		did, err := db.applyOne(ctx, m, bodies[m.Version])
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, m)
		}
	}
	// A database migrated by a newer crmigrate.
	var maxV int
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM crmigrate.schema_migrations`).Scan(&maxV); err != nil {
		return applied, fmt.Errorf("read schema version: %w", err)
	}
	if n := len(want); n > 0 && maxV > want[n-1].Version {
		return applied, fmt.Errorf("control database schema is at version %d, newer than this crmigrate knows (%d); use a newer crmigrate", maxV, want[n-1].Version)
	}
	return applied, nil
}

func (db *DB) applyOne(ctx context.Context, m Migration, body []byte) (bool, error) {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return false, fmt.Errorf("apply migration %s: lock: %w", m.Name, err)
	}
	var sum string
	err = tx.QueryRow(ctx, `SELECT checksum FROM crmigrate.schema_migrations WHERE version = $1`, m.Version).Scan(&sum)
	switch {
	case err == nil:
		if sum != m.Checksum {
			return false, fmt.Errorf("migration %s was applied with checksum %.12s but the built-in one has %.12s: %w; restore the original and add a new migration instead",
				m.Name, sum, m.Checksum, ErrMigrationEdited)
		}
		return false, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return false, fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO crmigrate.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
		m.Version, m.Name, m.Checksum); err != nil {
		return false, fmt.Errorf("record migration %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit migration %s: %w", m.Name, err)
	}
	return true, nil
}
