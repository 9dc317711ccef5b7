package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	url := pgtest.NewDB(t)
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, url
}

func TestMigrationsApplyOnceAndRecordChecksums(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, url := openTest(t)
	got, err := db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := loadMigrations(embedded)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("recorded %d migrations, built in %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Version != want[i].Version || got[i].Checksum != want[i].Checksum {
			t.Errorf("migration %d: recorded %+v, built in %+v", i, got[i], want[i])
		}
	}
	// Opening again applies nothing and succeeds.
	db2, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	again, _ := db.Migrations(ctx)
	if len(again) != len(got) {
		t.Fatalf("reopen changed migrations: %d -> %d", len(got), len(again))
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent open: %v", err)
		}
	}
}

func TestEditedMigrationIsAnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDB(t)
	v1 := fstest.MapFS{"migrations/0001_a.sql": {Data: []byte("CREATE TABLE crmigrate.a (x int);")}}
	db, err := open(ctx, url, v1)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// A new migration is applied.
	v2 := fstest.MapFS{
		"migrations/0001_a.sql": v1["migrations/0001_a.sql"],
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE crmigrate.b (x int);")},
	}
	db, err = open(ctx, url, v2)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Editing an applied one is refused.
	edited := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE crmigrate.a (x bigint);")},
		"migrations/0002_b.sql": v2["migrations/0002_b.sql"],
	}
	_, err = open(ctx, url, edited)
	if !errors.Is(err, ErrMigrationEdited) || !strings.Contains(err.Error(), "0001_a.sql") {
		t.Fatalf("edited migration: got %v", err)
	}
	// An older binary meets a newer database.
	_, err = open(ctx, url, v1)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older binary: got %v", err)
	}
	// A failing migration leaves nothing half-applied.
	bad := fstest.MapFS{
		"migrations/0001_a.sql": v1["migrations/0001_a.sql"],
		"migrations/0002_b.sql": v2["migrations/0002_b.sql"],
		"migrations/0003_c.sql": {Data: []byte("CREATE TABLE crmigrate.c (x int); SELECT no_such_function();")},
	}
	if _, err := open(ctx, url, bad); err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Fatalf("failing migration: got %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('crmigrate.c') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("failed migration left table c (exists=%v, err=%v)", exists, err)
	}
}

func TestSecondRunOfPhaseIsRefusedNamingHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, url := openTest(t)
	spec := RunSpec{Plan: "acme", PlanHash: "h1", Phase: "clean", Args: []string{"clean", "--plan", "x.yaml"}}
	first, err := db.StartRun(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	// A second process (its own pool) tries the same phase.
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	start := time.Now()
	_, err = other.StartRun(ctx, spec)
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second run: want *LockedError, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("refusal took %s; it must be immediate", time.Since(start))
	}
	if locked.Holder == nil || locked.Holder.ID != first.ID {
		t.Fatalf("holder not named: %+v", locked.Holder)
	}
	msg := err.Error()
	for _, want := range []string{"run " + strconv.FormatInt(first.ID, 10), "host ", "started "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// Another phase of the same plan, and the same phase of another plan, are free.
	r2, err := other.StartRun(ctx, RunSpec{Plan: "acme", Phase: "validate"})
	if err != nil {
		t.Fatal(err)
	}
	_ = r2.Finish(ctx, StatusPassed, nil, nil)
	r3, err := other.StartRun(ctx, RunSpec{Plan: "other", Phase: "clean"})
	if err != nil {
		t.Fatal(err)
	}
	_ = r3.Finish(ctx, StatusPassed, nil, nil)

	if err := first.Finish(ctx, StatusPassed, map[string]int64{"read": 10}, nil); err != nil {
		t.Fatal(err)
	}
	second, err := other.StartRun(ctx, spec)
	if err != nil {
		t.Fatalf("after the first finished: %v", err)
	}
	if err := second.Finish(ctx, StatusFailed, nil, errors.New("boom")); err != nil {
		t.Fatal(err)
	}
	runs, err := db.Runs(ctx, "acme", "clean", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != StatusFailed || runs[0].Error != "boom" || runs[1].Counts["read"] != 10 {
		t.Fatalf("runs: %+v", runs)
	}
	if last, err := db.LastFinished(ctx, "acme", "clean"); err != nil || last == nil || last.ID != second.ID || last.Status != StatusFailed {
		t.Fatalf("LastFinished after a failed run: %+v, %v", last, err)
	}
	if last, err := db.LastFinished(ctx, "acme", "validate"); err != nil || last == nil || last.Status != StatusPassed {
		t.Fatalf("LastFinished after a passed run: %+v, %v", last, err)
	}
	if last, err := db.LastFinished(ctx, "acme", "migrate"); err != nil || last != nil {
		t.Fatalf("LastFinished for a phase never run: %+v, %v", last, err)
	}
}

func TestConcurrentStartsExactlyOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	var wg sync.WaitGroup
	results := make([]error, 6)
	runs := make([]*Run, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], results[i] = db.StartRun(ctx, RunSpec{Plan: "race", Phase: "migrate"})
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range results {
		var locked *LockedError
		switch {
		case err == nil:
			wins++
			defer runs[i].Finish(ctx, StatusPassed, nil, nil)
		case errors.As(err, &locked):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d runs started at once, want 1", wins)
	}
}

func TestCrashedHolderIsAbandoned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, url := openTest(t)
	crashed, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	r, err := crashed.StartRun(ctx, RunSpec{Plan: "acme", Phase: "migrate"})
	if err != nil {
		t.Fatal(err)
	}
	// The process dies: its connections close without Finish.
	_ = r.conn.Conn().Close(ctx)
	r.conn.Release()
	crashed.Close()

	// The server ends the dead session's backend (and its lock) shortly after the socket closes.
	var next *Run
	deadline := time.Now().Add(10 * time.Second)
	for {
		next, err = db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "migrate"})
		var locked *LockedError
		if errors.As(err, &locked) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	defer next.Finish(ctx, StatusPassed, nil, nil)
	runs, _ := db.Runs(ctx, "acme", "migrate", 0)
	if len(runs) != 2 || runs[1].ID != r.ID || runs[1].Status != StatusAbandoned {
		t.Fatalf("crashed run not marked abandoned: %+v", runs)
	}
}

func TestAuditLogIsAppendOnlyAndRecordsForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	r, err := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "migrate", Forced: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, Entry{Plan: "acme", RunID: r.ID, Action: "review.accept", Detail: map[string]any{"pair": 7}}); err != nil {
		t.Fatal(err)
	}
	_ = r.Finish(ctx, StatusPassed, nil, nil)
	log, err := db.AuditLog(ctx, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "migrate.start,migrate.force,review.accept,migrate.end" {
		t.Fatalf("audit actions: %s", got)
	}
	if last, _ := db.AuditLog(ctx, "acme", 1); len(last) != 1 || last[0].Action != "migrate.end" {
		t.Fatalf("AuditLog limit 1: %+v", last)
	}
	for _, sql := range []string{`UPDATE crmigrate.audit_log SET action = 'x'`, `DELETE FROM crmigrate.audit_log`, `TRUNCATE crmigrate.audit_log`} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v", sql, err)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	type testcase struct{ name, in, want string }
	for _, tc := range []testcase{
		{"url", "postgres://bob:s3cr3t@db.example:5432/crm?sslmode=require", "postgres://bob:xxxxx@db.example:5432/crm?sslmode=require"},
		{"url no password", "postgres://bob@db.example/crm", "postgres://bob@db.example/crm"},
		{"query password", "postgres://db.example/crm?password=s3cr3t&user=bob", "postgres://db.example/crm?password=xxxxx&user=bob"},
		{"key value", "host=db user=bob password=s3cr3t dbname=crm", "host=db user=bob password=xxxxx dbname=crm"},
		{"key value quoted", "host=db password='s3 cr3t' dbname=crm", "host=db password=xxxxx dbname=crm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Fatalf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://bob:topsecret@127.0.0.1:1/crm?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("connected to port 1?")
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestSharedLockExcludesOtherPhasesAndNamesHolder(t *testing.T) {
	ctx := context.Background()
	db, url := openTest(t)
	writers := []string{"clean", "migrate", "migrate.undo"}
	clean, err := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "clean", Lock: "writer", LockPhases: writers})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.StartRun(ctx, RunSpec{Plan: "acme", Phase: "migrate", Lock: "writer", LockPhases: writers})
	var locked *LockedError
	if !errors.As(err, &locked) || locked.Holder == nil || locked.Holder.ID != clean.ID {
		t.Fatalf("migrate during clean: want *LockedError naming run %d, got %v", clean.ID, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "while clean") || !strings.Contains(msg, "run "+strconv.FormatInt(clean.ID, 10)) {
		t.Errorf("message %q does not name the clean holding the lock", msg)
	}
	// A reader's own lock is free.
	v, err := other.StartRun(ctx, RunSpec{Plan: "acme", Phase: "validate"})
	if err != nil {
		t.Fatal(err)
	}
	_ = v.Finish(ctx, StatusPassed, nil, nil)
	if err := clean.Finish(ctx, StatusPassed, nil, nil); err != nil {
		t.Fatal(err)
	}
	// TakeLock without Begin records no run, and Release frees the lock.
	l, err := other.TakeLock(ctx, RunSpec{Plan: "acme", Phase: "migrate", Lock: "writer", LockPhases: writers})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.TakeLock(ctx, RunSpec{Plan: "acme", Phase: "migrate.undo", Lock: "writer", LockPhases: writers}); !errors.As(err, &locked) {
		t.Fatalf("undo while the lock is held: %v", err)
	}
	l.Release()
	l.Release() // a second release does nothing
	u, err := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "migrate.undo", Lock: "writer", LockPhases: writers})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	_ = u.Finish(ctx, StatusPassed, nil, nil)
	if runs, _ := db.Runs(ctx, "acme", "migrate", 0); len(runs) != 0 {
		t.Fatalf("TakeLock recorded a run: %+v", runs)
	}
}

func TestSharedLockMarksDeadRunsOfEveryPhaseAbandoned(t *testing.T) {
	ctx := context.Background()
	db, url := openTest(t)
	writers := []string{"clean", "migrate"}
	crashed, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	r, err := crashed.StartRun(ctx, RunSpec{Plan: "acme", Phase: "clean", Lock: "writer", LockPhases: writers})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.conn.Conn().Close(ctx) // kill -9: the connection closes without Finish
	r.conn.Release()
	crashed.Close()
	var l *Lock
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err = db.TakeLock(ctx, RunSpec{Plan: "acme", Phase: "migrate", Lock: "writer", LockPhases: writers})
		var locked *LockedError
		if errors.As(err, &locked) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	last, err := db.LastFinished(ctx, "acme", "clean")
	if err != nil || last == nil || last.ID != r.ID || last.Status != StatusAbandoned {
		t.Fatalf("the dead clean is not abandoned once migrate holds the writer lock: %+v, %v", last, err)
	}
}

// The crosswalk says what migrate wrote; ForgetMissing finds the rows the new CRM no longer has.
func TestForgetMissingFindsRowsGoneFromTheTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	run, err := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "migrate"})
	if err != nil {
		t.Fatal(err)
	}
	var cross []CrosswalkRow
	for i := 0; i < 2500; i++ {
		cross = append(cross, CrosswalkRow{Object: "company", GoldenID: fmt.Sprintf("g%05d", i), NewID: strconv.Itoa(i + 1), Key: fmt.Sprintf("k%d.example", i), Digest: "d", Status: XActive})
	}
	if err := db.CommitBatch(ctx, BatchCommit{Plan: "acme", RunID: run.ID, Object: "company", Crosswalk: cross, Phase: "migrate"}); err != nil {
		t.Fatal(err)
	}
	// Staging has every golden record but g02498 (a later clean no longer produced it).
	var staged []GoldenRow
	for _, c := range cross {
		if c.GoldenID != "g02498" {
			staged = append(staged, GoldenRow{GoldenID: c.GoldenID, Key: c.Key, Vals: []string{c.Key}, Provenance: []string{"old:1"}, Members: 1, Digest: "d"})
		}
	}
	if err := db.ReplaceStaging(ctx, "acme", "company", run.ID, staged, nil); err != nil {
		t.Fatal(err)
	}
	_ = run.Finish(ctx, StatusPassed, nil, nil)
	// The target kept every row but 3 and 2498 (ids 4 and 2499); ids come in batches.
	each := func(fn func([]string) error) error {
		var batch []string
		for i := 1; i <= 2500; i++ {
			if i == 4 || i == 2499 {
				continue
			}
			if batch = append(batch, strconv.Itoa(i)); len(batch) == 1000 {
				if err := fn(batch); err != nil {
					return err
				}
				batch = nil
			}
		}
		return fn(batch)
	}
	missing, err := db.ForgetMissing(ctx, "acme", "company", false, each)
	if err != nil || strings.Join(missing, ",") != "g00003" { // g02498 is not staged: nothing writes it again
		t.Fatalf("dry check: %v, %v", missing, err)
	}
	if again, _ := db.ForgetMissing(ctx, "acme", "company", false, each); len(again) != 1 {
		t.Fatalf("a check without apply changed the crosswalk: %v", again)
	}
	if missing, err = db.ForgetMissing(ctx, "acme", "company", true, each); err != nil || len(missing) != 1 {
		t.Fatalf("apply: %v, %v", missing, err)
	}
	// Marked for writing again: no new id, no digest; the others are untouched.
	var cleared, kept int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE new_id = '' AND digest = ''), count(*) FILTER (WHERE new_id <> '' AND digest = 'd')
		FROM crmigrate.crosswalk WHERE plan = 'acme'`).Scan(&cleared, &kept); err != nil || cleared != 2 || kept != 2498 {
		t.Fatalf("after apply: %d cleared, %d kept (%v)", cleared, kept, err)
	}
	// Marked but not written again yet (the run stopped): the next check still finds it.
	if still, err := db.ForgetMissing(ctx, "acme", "company", false, each); err != nil || len(still) != 1 {
		t.Fatalf("after a run that marked them and stopped: %v, %v", still, err)
	}
	// An emptied target: every row is missing (the two marked ones included).
	if all, err := db.ForgetMissing(ctx, "acme", "company", false, func(func([]string) error) error { return nil }); err != nil || len(all) != 2499 {
		t.Fatalf("emptied target: %d missing, %v", len(all), err)
	}
}
