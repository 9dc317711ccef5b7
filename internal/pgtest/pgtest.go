// Package pgtest gives tests a fresh database on a real PostgreSQL.
//
// One private cluster (internal/pglocal, fsync off) is started per test process, the first time a
// test asks for a database; each call of [NewDB] creates a new database from a template and drops
// it when the test ends. The cluster stops by itself when the test process exits, even when it is
// killed. With TEST_DATABASE_URL set (a superuser URL of any PostgreSQL), databases are created
// there instead.
//
// When no PostgreSQL server binaries are installed the test fails with how to install them; it never
// skips.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmigrate/crmigrate/internal/pglocal"
)

var (
	once     sync.Once
	adminURL string
	mkURL    func(db string) string
	setupErr error
	counter  atomic.Int64
	handle   *pglocal.Handle
)

const template = "crmigrate_test_template"

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		base, err := url.Parse(u)
		if err != nil {
			setupErr = fmt.Errorf("TEST_DATABASE_URL is not a URL: %v", err)
			return
		}
		adminURL = u
		mkURL = func(db string) string {
			c := *base
			c.Path = "/" + db
			return c.String()
		}
	} else {
		home, err := os.MkdirTemp("", "crmigrate-pgtest-")
		if err != nil {
			setupErr = err
			return
		}
		// The server may run as another user (tests as root): let it reach the folder.
		if err := os.Chmod(home, 0o755); err != nil {
			setupErr = err
			return
		}
		h, err := pglocal.Acquire(ctx, pglocal.Options{Home: home, Ephemeral: true, Fast: true})
		if err != nil {
			setupErr = fmt.Errorf("start a private PostgreSQL for the tests: %w", err)
			return
		}
		handle = h
		info := h.Info()
		adminURL = info.URL("postgres")
		mkURL = info.URL
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		setupErr = fmt.Errorf("connect to test PostgreSQL: %w", err)
		return
	}
	defer conn.Close(ctx)
	// On a shared TEST_DATABASE_URL server the test processes of other packages make the same
	// template at the same time, and use it: one that exists already (always empty, UTF8, C) is
	// taken as it is rather than dropped under another process's feet.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+template+" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "42P04" && pgErr.Code != "23505") { // duplicate_database; unique_violation when two race
			setupErr = fmt.Errorf("create template database: %w", err)
		}
	}
}

// NewDB returns the URL of a new, empty database that is dropped when the test ends. It is safe
// for parallel tests: each call makes its own database (from a template nobody connects to).
func NewDB(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	name := fmt.Sprintf("t%d_%d_%s", os.Getpid(), counter.Add(1), sanitize(t.Name()))
	if len(name) > 63 {
		name = name[:63]
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+template); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Errorf("pgtest: drop database %s: connect: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return mkURL(name)
}

// AdminURL returns a superuser URL of the test server's `postgres` database.
func AdminURL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return adminURL
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// connect connects to url, failing the test on an error; the caller closes the connection.
func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// Exec runs each statement on the database at url, failing the test on an error.
func Exec(t testing.TB, url string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, url)
	defer conn.Close(ctx)
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// Scan returns the one value the query q gives on the database at url.
func Scan[T any](t testing.TB, url, q string, args ...any) T {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}
