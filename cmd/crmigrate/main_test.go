package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

// run runs crmigrate in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"crmigrate"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// runEnv is run with the plan's ${VAR} references resolved from env alone, not from the process
// environment, so that tests with their own variables can run in parallel.
func runEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	var out, errb bytes.Buffer
	code := mainEnv(context.Background(), append([]string{"crmigrate"}, args...), &out, &errb, lookup)
	return code, out.String(), errb.String()
}

// projectDir makes a folder the private cluster's server user can reach (tests may run as root).
func projectDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "crmigrate-cli-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Stop every private cluster made below dir (the demo puts its own in a subfolder).
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() == ".crmigrate" {
				run(t, "db", "stop", "--plan", filepath.Join(filepath.Dir(path), "crmigrate.yaml"))
				return filepath.SkipDir
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	return dir
}

func sqlExec(t *testing.T, url string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range sqls {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestUnknownCommandAndFlagsAreUsageErrors(t *testing.T) {
	t.Parallel()
	type testcase struct {
		name string
		args []string
		want string
	}
	for _, tc := range []testcase{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"plan", "show", "--nope"}, "flag provided but not defined"},
		{"bad format", []string{"plan", "show", "--plan", "testdata/small.yaml", "--format", "xml"}, `unknown --format "xml"`},
		{"missing plan", []string{"plan", "show", "--plan", "testdata/nothing.yaml"}, "plan file not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, tc.args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}

func TestPlanCheckReportsEveryErrorWithPosition(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nsystems:\n  old: {kind: postgres, url: \"local:old\"}\nobjects:\n  contact:\n    key: email\n    old: {table: c, id: id, colour: red}\n    fields:\n      email: {type: emial, old: email}\nfoo: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "plan", "check", "--plan", bad)
	if code != ExitUsage {
		t.Fatalf("exit %d, want 2; stdout %s stderr %s", code, stdout, stderr)
	}
	for _, want := range []string{bad + ":7:", bad + ":9:", bad + ":10:1:", "colour", "emial"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// JSON goes to stdout, with the same errors.
	code, stdout, _ = run(t, "plan", "check", "--plan", bad, "--json")
	var res struct {
		OK     bool     `json:"ok"`
		Errors []string `json:"errors"`
	}
	if code != ExitUsage || json.Unmarshal([]byte(stdout), &res) != nil || res.OK || len(res.Errors) < 3 {
		t.Fatalf("json check: exit %d, %s", code, stdout)
	}
}

func TestPlanCheckConnectFindsMissingTablesAndColumns(t *testing.T) {
	t.Parallel()
	oldURL, newURL := pgtest.NewDB(t), pgtest.NewDB(t)
	env := map[string]string{"CLI_OLD_URL": oldURL, "CLI_NEW_URL": newURL}
	sqlExec(t, oldURL,
		`CREATE TABLE accounts (account_id text, account_name text, website text, modified_at timestamptz)`,
		`CREATE TABLE contacts (contact_id text, email text, account_id text, modified_at timestamptz)`) // no phone
	sqlExec(t, newURL,
		`CREATE TABLE companies (id bigint, name text, domain_name text, updated_at timestamptz)`) // no people

	// Without --connect the file alone is valid.
	code, stdout, stderr := runEnv(t, env, "plan", "check", "--plan", "testdata/small.yaml")
	if code != 0 || !strings.Contains(stdout, "is valid") {
		t.Fatalf("plan check: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runEnv(t, env, "plan", "check", "--plan", "testdata/small.yaml", "--connect")
	if code != ExitUsage {
		t.Fatalf("plan check --connect: exit %d, want 2\n%s", code, stderr)
	}
	for _, want := range []string{
		`testdata/small.yaml:24:35:`, `column "phone" not found in contacts on system old`,
		`table "people" does not exist on system new`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "Phone Number") && strings.Contains(stderr, "not found in contacts.csv") {
		t.Errorf("the CSV header has Phone Number, yet it is reported missing:\n%s", stderr)
	}
	// Fix the schema: the check passes.
	sqlExec(t, oldURL, `ALTER TABLE contacts ADD COLUMN phone text`)
	sqlExec(t, newURL, `CREATE TABLE people (id bigint, email text, phone text, company_id bigint)`)
	code, stdout, stderr = runEnv(t, env, "plan", "check", "--plan", "testdata/small.yaml", "--connect")
	if code != 0 {
		t.Fatalf("after fixing: exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, oldURL) {
		t.Fatalf("output shows a connection URL")
	}
}

func TestPlanShowFormats(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CLI_OLD_URL": "postgres://reader:hunter2@old.example:5432/crm", "CLI_NEW_URL": "local:newcrm"}
	for _, f := range []string{"table", "md", "json"} {
		code, stdout, stderr := runEnv(t, env, "plan", "show", "--plan", "testdata/small.yaml", "--format", f)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		for _, want := range []string{"contact", "account_name", "domain_name"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s output lacks %q", f, want)
			}
		}
		if strings.Contains(stdout, "hunter2") {
			t.Fatalf("%s output shows the password", f)
		}
	}
	_, stdout, _ := runEnv(t, env, "plan", "show", "--plan", "testdata/small.yaml", "--json")
	if !json.Valid([]byte(stdout)) {
		t.Fatalf("--json is not JSON: %s", stdout)
	}
}

func TestRunsFromControlDatabase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CLI_OLD_URL": "local:x", "CLI_NEW_URL": "local:y"}
	stateURL := pgtest.NewDB(t)
	code, stdout, stderr := runEnv(t, env, "runs", "--plan", "testdata/small.yaml", "--state-url", stateURL)
	if code != 0 || !strings.Contains(stdout, "no runs yet") {
		t.Fatalf("runs: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runEnv(t, env, "runs", "--plan", "testdata/small.yaml", "--state-url", stateURL, "--json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("runs --json: exit %d: %s", code, stdout)
	}
	code, _, stderr = runEnv(t, env, "runs", "--plan", "testdata/small.yaml", "--state-url", "postgres://u:sekrit@127.0.0.1:1/x?connect_timeout=2")
	if code != ExitError || strings.Contains(stderr, "sekrit") {
		t.Fatalf("unreachable state db: exit %d, stderr %s", code, stderr)
	}
}

func TestDBStartStatusURLStop(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	plan := filepath.Join(dir, "crmigrate.yaml")
	data, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "db", "status", "--plan", plan)
	if code != ExitError || !strings.Contains(stderr, "no private PostgreSQL") {
		t.Fatalf("status before start: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, "db", "start", "--plan", plan)
	if code != 0 {
		t.Fatalf("db start: exit %d: %s", code, stderr)
	}
	code, stdout, _ = run(t, "db", "status", "--plan", plan, "--json")
	var st struct {
		Running   bool     `json:"running"`
		Kept      bool     `json:"kept"`
		Port      int      `json:"port"`
		Databases []string `json:"databases"`
		PID       int      `json:"postmaster_pid"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || !st.Running || !st.Kept || st.Port == 0 {
		t.Fatalf("status after start: exit %d: %s", code, stdout)
	}
	code, stdout, _ = run(t, "db", "url", "--plan", plan, "postgres")
	if code != 0 {
		t.Fatalf("db url: exit %d", code)
	}
	sqlExec(t, strings.TrimSpace(stdout), "SELECT 1")
	code, _, _ = run(t, "db", "stop", "--plan", plan)
	if code != 0 {
		t.Fatalf("db stop: exit %d", code)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(st.PID)); err == nil {
		t.Fatalf("postgres %d still running after db stop", st.PID)
	}
	code, _, _ = run(t, "db", "url", "--plan", plan)
	if code != ExitError {
		t.Fatalf("db url when stopped: exit %d, want 1", code)
	}
}

func TestDemoLeavesNothingRunningAndCommandsWorkAfterwards(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	code, stdout, stderr := run(t, "demo", "--dir", demoDir, "--companies", "40", "--contacts", "150", "--deals", "60", "--seed", "7")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"Data-model map", "Old CRM profile", "Likely duplicates", "Phone formats"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, f := range []string{"crmigrate.yaml", "exports/hubspot/contacts.csv", "exports/salesforce/Contact.csv", "truth/contacts.csv"} {
		if _, err := os.Stat(filepath.Join(demoDir, f)); err != nil {
			t.Errorf("demo did not write %s: %v", f, err)
		}
	}
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	code, stdout, _ = run(t, "db", "status", "--plan", plan, "--json")
	var st struct {
		Running bool `json:"running"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || st.Running {
		t.Fatalf("after demo the server still runs (or status failed, exit %d): %s", code, stdout)
	}
	// Commands work again, starting the server as needed.
	code, stdout, stderr = run(t, "plan", "check", "--plan", plan, "--connect")
	if code != 0 {
		t.Fatalf("plan check --connect after demo: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "runs", "--plan", plan, "--json")
	if code != 0 || !strings.Contains(stdout, `"phase": "demo"`) || !strings.Contains(stdout, `"status": "passed"`) {
		t.Fatalf("runs after demo: exit %d: %s", code, stdout)
	}
	// --keep leaves it running and prints socket URLs without a password.
	code, stdout, _ = run(t, "demo", "--dir", demoDir, "--companies", "20", "--contacts", "50", "--deals", "10", "--keep")
	if code != 0 || !strings.Contains(stdout, "demo_old?host=") || strings.Contains(stdout, "password") {
		t.Fatalf("demo --keep: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = run(t, "db", "status", "--plan", plan, "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &st) != nil || !st.Running {
		t.Fatalf("after demo --keep the server is not running: %s", stdout)
	}
}
