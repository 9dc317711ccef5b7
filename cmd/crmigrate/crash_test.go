package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A crash of the private server (kill -9 of the postmaster) loses nothing that was committed:
// staging is logged, so the next migrate finds it whole and has nothing to write, and a crash in
// the middle of a clean leaves the previous clean's staging as it was.
func TestServerCrashKeepsStaging(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	if code, _, stderr := run(t, "demo", "--dir", demoDir, "--companies", "30", "--contacts", "150", "--deals", "40", "--seed", "11"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "db", "start", "--plan", plan); code != 0 {
		t.Fatalf("db start: exit %d\n%s", code, stderr)
	}
	staged := func() string {
		t.Helper()
		_, url, _ := run(t, "db", "url", "--plan", plan)
		conn, err := pgx.Connect(context.Background(), strings.TrimSpace(url))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var s string
		if err := conn.QueryRow(context.Background(), `SELECT string_agg(object || ' ' || n, ', ' ORDER BY object) FROM
			(SELECT object, count(*) AS n FROM crmigrate.golden GROUP BY object) g`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := staged()
	code, stdout, _ := run(t, "db", "status", "--plan", plan, "--json")
	var st struct {
		PID int `json:"postmaster_pid"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || st.PID == 0 {
		t.Fatalf("db status: exit %d: %s", code, stdout)
	}
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); syscall.Kill(st.PID, 0) == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}

	// The next command brings the server back through crash recovery; staging is whole.
	code, stdout, stderr := run(t, "migrate", "--plan", plan)
	if code != 0 || !strings.Contains(stdout, "Nothing changed since the last run") {
		t.Fatalf("migrate after a server crash: exit %d\n%s%s", code, stdout, stderr)
	}
	if after := staged(); after != before || !strings.Contains(before, "activity") {
		t.Fatalf("staging after the crash: %s, before: %s", after, before)
	}
	if runs := listRuns(t, plan); runs[0].Phase != "migrate" || runs[0].Status != "passed" {
		t.Fatalf("the migrate after the crash is recorded as %+v, want passed", runs[0])
	}
}
