package plans

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Secrets the test environment holds; no error message may contain them.
const (
	secretPW    = "s3cr3t-pw"
	secretToken = "tok-SECRET-123"
)

// testEnv is the environment of the golden tests. MA_API and MA_SECRET_TOKEN
// are deliberately unset.
func testEnv(name string) (string, bool) {
	env := map[string]string{
		"OLD_CRM_URL":         "postgres://admin:" + secretPW + "@db.internal:5432/crm",
		"CRMIGRATE_STATE_URL": "postgres://state:" + secretPW + "@state.internal/crmigrate",
		"BILLING_PW":          secretPW,
		"MA_TOKEN":            secretToken,
		"WRONG_DSN":           "mysql://root:" + secretPW + "@db.internal/crm",
	}
	v, ok := env[name]
	return v, ok
}

// fullEnv is the environment of the valid full plan.
func fullEnv(name string) (string, bool) {
	switch name {
	case "MA_API":
		return "https://ma.example/api", true
	case "OLD_CRM_URL", "CRMIGRATE_STATE_URL", "BILLING_PW", "MA_TOKEN":
		return testEnv(name)
	}
	return "", false
}

// parseFile parses ../testdata/plans/REL, naming it testdata/plans/REL in
// messages so that golden files do not depend on the package folder.
func parseFile(t *testing.T, rel string, lookup func(string) (string, bool)) (*Plan, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "plans", rel))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(filepath.ToSlash(filepath.Join("testdata", "plans", rel)), data, lookup)
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("output differs from %s (run go test -update after checking it):\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func TestBrokenPlansGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("..", "testdata", "plans", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 18 {
		t.Fatalf("found %d broken plans, want at least 18", len(cases))
	}
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := parseFile(t, filepath.Join("broken", name+".yaml"), testEnv)
			if err == nil {
				t.Fatalf("plan loaded without error: %+v", p)
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want *Errors: %v", err, err)
			}
			for i := 1; i < len(*errs); i++ {
				a, b := (*errs)[i-1], (*errs)[i]
				if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
					t.Errorf("errors not sorted: %v before %v", a, b)
				}
			}
			for _, e := range *errs {
				if e.Hint == "" {
					t.Errorf("error without a hint: %v", e)
				}
				if e.Line < 1 || e.Col < 1 {
					t.Errorf("error without a position: %v", e)
				}
			}
			out := err.Error() + "\n"
			for _, secret := range []string{secretPW, secretToken} {
				if strings.Contains(out, secret) {
					t.Errorf("error output contains a secret:\n%s", out)
				}
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(out))
		})
	}
}

// TestBrokenPlansMinimumErrors pins properties of some golden cases, so that
// a careless -update cannot make them pass vacuously.
func TestBrokenPlansMinimumErrors(t *testing.T) {
	tests := []struct {
		name       string
		minErrors  int
		mustHave   []string
		wantFirstL int
	}{
		{"several_errors", 10, []string{"invalid plan name", "unknown time zone", "invalid kind", "local database name",
			`key "mail" is not a field`, `missing required key "id"`, "invalid type", "invalid merge rule",
			"users.default_owner", "out of range", `unknown key "wrokers"`, "max_days (30) is below min_days (60)",
			`"soon" is not a duration`, "unknown weekday"}, 1},
		{"unknown_top_key", 1, []string{"unknown top-level key \"integration\"; did you mean `integrations`?"}, 10},
		{"unset_env", 2, []string{"environment variable MA_API is not set; export it or remove the reference",
			"environment variable MA_SECRET_TOKEN is not set"}, 14},
		{"duplicate_yaml_key", 2, []string{`duplicate key "phone" (first at line 10)`, `duplicate key "contact" (first at line 5)`}, 11},
		{"yaml_syntax_error", 1, []string{"YAML syntax error"}, 0},
		{"table_and_query", 2, []string{"table and query are both set; keep one", "missing table or query"}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFile(t, filepath.Join("broken", tt.name+".yaml"), testEnv)
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want *Errors, got %v", err)
			}
			if len(*errs) < tt.minErrors {
				t.Errorf("got %d errors, want at least %d:\n%v", len(*errs), tt.minErrors, err)
			}
			for _, s := range tt.mustHave {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("missing %q in:\n%v", s, err)
				}
			}
			if tt.wantFirstL > 0 && (*errs)[0].Line != tt.wantFirstL {
				t.Errorf("first error on line %d, want %d: %v", (*errs)[0].Line, tt.wantFirstL, (*errs)[0])
			}
		})
	}
}

func TestLoadFull(t *testing.T) {
	p, err := parseFile(t, "full.yaml", fullEnv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "acme-crm-move" || p.Timezone != "Europe/Stockholm" || p.Location.String() != "Europe/Stockholm" || p.DefaultRegion != "SE" {
		t.Errorf("header: %q %q %v %q", p.Name, p.Timezone, p.Location, p.DefaultRegion)
	}
	if len(p.Hash) != 64 || !filepath.IsAbs(p.Path) || p.Dir != filepath.Dir(p.Path) {
		t.Errorf("hash/path/dir: %q %q %q", p.Hash, p.Path, p.Dir)
	}
	var names []string
	for _, s := range p.Systems {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "old,new,marketing,billing" {
		t.Errorf("systems = %s", got)
	}
	if db, ok := p.System("new").LocalDB(); !ok || db != "newcrm" {
		t.Errorf("new LocalDB = %q %v", db, ok)
	}
	if _, ok := p.Old().LocalDB(); ok {
		t.Error("old is not local")
	}
	if m := p.System("marketing"); m.Dialect != "hubspot" || m.Delimiter != ";" || m.Encoding != "utf-8" || p.Resolve(m.Dir) != filepath.Join(p.Dir, "exports/hubspot") {
		t.Errorf("marketing = %+v", m)
	}
	if err := p.RequireNew(); err != nil {
		t.Errorf("RequireNew: %v", err)
	}
	if len(p.Sources()) != 3 {
		t.Errorf("sources = %d", len(p.Sources()))
	}

	contact := p.Object("contact")
	if contact == nil || contact.Key != "email" || contact.KeyField().Type != TypeEmail {
		t.Fatalf("contact = %+v", contact)
	}
	if mp := contact.Mapping("old"); mp == nil || !strings.HasPrefix(mp.Query, "SELECT contact_id") || mp.Line == 0 {
		t.Errorf("contact old mapping = %+v", mp)
	}
	stage := contact.Field("stage")
	if v, ok := stage.MapValue("MQL"); !ok || v != "marketing_qualified" || len(stage.Values) != 4 {
		t.Errorf("stage values = %+v", stage.Values)
	}
	if c, ok := contact.Field("phone").Column("marketing"); !ok || c != "Phone Number" {
		t.Errorf("phone marketing column = %q", c)
	}
	if pos := contact.Field("phone").ColumnPos("marketing"); pos.Line == 0 || pos.Col == 0 {
		t.Errorf("column pos = %+v", pos)
	}
	if f := contact.Field("email"); f.Merge != "most_recent" || f.Authority != "old" || !f.Required {
		t.Errorf("email defaults: %+v", f)
	}
	if contact.Dedup == nil || len(contact.Dedup.Block) != 5 || contact.Dedup.Block[1].Parts[0] != (BlockPart{Field: "last_name", Transform: "prefix", N: 3}) {
		t.Errorf("dedup = %+v", contact.Dedup)
	}
	company := p.Object("company")
	if company.Dedup.Review != 0.85 || company.OnDelete != "archive" {
		t.Errorf("company dedup review = %v, on_delete = %s", company.Dedup.Review, company.OnDelete)
	}
	if sys, ok := company.Field("domain").MergePrefer(); !ok || sys != "old" {
		t.Errorf("MergePrefer = %q %v", sys, ok)
	}
	if p.Object("note").Key != KeyNone || p.Object("note").KeyField() != nil {
		t.Error("note key should be none")
	}

	if len(p.Checks) != 4 || p.Checks[2].Name != "company" || !p.Checks[0].MaxMissingInNew.Fraction ||
		p.Checks[0].MaxMissingInNew.Value != 0.001 || p.Checks[1].MaxDuplicatesInNew.Fraction ||
		p.Checks[3].ExpectOp != ">=" || p.Checks[3].ExpectValue != 1 || !p.Checks[3].Compare(3) || p.Checks[3].Compare(0) {
		t.Errorf("checks = %+v %+v %+v %+v", p.Checks[0], p.Checks[1], p.Checks[2], p.Checks[3])
	}
	if pr := p.ParallelRun; pr.FullEvery.D() != 7*24*time.Hour || pr.Grace.D() != 15*time.Minute || pr.MinDays != 30 {
		t.Errorf("parallel_run = %+v", pr)
	}
	if len(p.Cutover.Gates) != 3 || p.Cutover.Gates[0].Min != 0.995 || p.Cutover.Gates[0].Days != 7 || p.Cutover.Gates[2].Max != 10 {
		t.Errorf("gates = %+v", p.Cutover.Gates)
	}
	friday := time.Date(2026, 5, 8, 12, 0, 0, 0, p.Location)
	if blocked, why := p.Cutover.Blocked(friday, p.Location); !blocked || why != "never on friday" {
		t.Errorf("Blocked(friday) = %v %q", blocked, why)
	}
	if blocked, _ := p.Cutover.Blocked(time.Date(2026, 12, 22, 12, 0, 0, 0, p.Location), p.Location); !blocked {
		t.Error("freeze not applied")
	}
	if blocked, _ := p.Cutover.Blocked(time.Date(2026, 5, 12, 12, 0, 0, 0, p.Location), p.Location); blocked {
		t.Error("a Tuesday outside freezes is blocked")
	}
	ma := p.Integration("marketing-automation")
	if ma == nil || ma.Switch.HTTP == nil || ma.Switch.HTTP.URL != "https://ma.example/api/crm-target" ||
		ma.Switch.HTTP.Body != `{"crm":"new","template":"${crm}"}` || ma.Switch.HTTP.Headers[0].Value != secretToken ||
		ma.Verify.Exec.Timeout.D() != time.Minute || *ma.Rollback.SQL.ExpectRows != 1 {
		t.Errorf("marketing-automation = %+v", ma)
	}
	if b := p.Integration("billing-sync"); b.Verify.HTTP.Method != "GET" || b.Verify.HTTP.Expect != 204 || b.Switch.SQL.ExpectRows != nil {
		t.Errorf("billing-sync = %+v", b)
	}
	if u, ok := p.Users.Owner("OLD.REP@acme.example"); !ok || u != "new.rep@acme.example" {
		t.Errorf("Owner = %q %v", u, ok)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crmigrate.yaml")
	plan := "name: x\nsystems:\n  old: {kind: postgres, url: \"${CRM_TEST_URL}\"}\nobjects:\n  contact:\n    key: email\n    old: {table: contacts, id: id}\n    fields:\n      email: {type: email, old: email}\n"
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CRM_TEST_URL", "postgres://u@h/db")
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Old().URL != "postgres://u@h/db" || p.Dir != dir || p.Resolve("/abs/x") != "/abs/x" || p.Resolve("x/y.csv") != filepath.Join(dir, "x/y.csv") {
		t.Errorf("loaded %+v", p)
	}
	// Defaults.
	if p.Timezone != "UTC" || p.Migrate.BatchSize != DefaultBatchSize || p.Clean.MaxRejectRate != 0.01 ||
		strings.Join(p.Cutover.NeverOn, ",") != "friday,saturday,sunday" || p.ParallelRun.Every.D() != 24*time.Hour {
		t.Errorf("defaults: %+v", p)
	}
	err = p.RequireNew()
	var errs *Errors
	if !errors.As(err, &errs) || len(*errs) != 1 || (*errs)[0].Line != 2 || !strings.Contains(err.Error(), `no "new" system`) {
		t.Errorf("RequireNew = %v", err)
	}
	if !strings.HasPrefix(err.Error(), path+":2:1: systems: ") {
		t.Errorf("RequireNew = %v", err)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if err == nil || errors.As(err, &errs) || !strings.HasPrefix(err.Error(), "open plan: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// LoadWith resolves ${VAR} from its lookup alone, not from the process environment.
func TestLoadWith(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crmigrate.yaml")
	plan := "name: x\nsystems:\n  old: {kind: postgres, url: \"${CRM_LOADWITH_URL}\"}\nobjects:\n  contact:\n    key: email\n    old: {table: contacts, id: id}\n    fields:\n      email: {type: email, old: email}\n"
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadWith(path, func(name string) (string, bool) {
		if name == "CRM_LOADWITH_URL" {
			return "postgres://u@h/with", true
		}
		return "", false
	})
	if err != nil || p.Old().URL != "postgres://u@h/with" {
		t.Fatalf("LoadWith = %+v, %v", p, err)
	}
	var errs *Errors
	if _, err := LoadWith(path, nil); !errors.As(err, &errs) || !strings.Contains(err.Error(), "CRM_LOADWITH_URL") {
		t.Errorf("LoadWith without the variable = %v", err)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "p.yaml", Line: 3, Col: 7, Msg: "bad", Hint: "fix it"}
	if e.Error() != "p.yaml:3:7: bad; fix it" {
		t.Error(e.Error())
	}
	e.Hint = ""
	if e.Error() != "p.yaml:3:7: bad" {
		t.Error(e.Error())
	}
	es := Errors{e, {File: "p.yaml", Line: 4, Col: 1, Msg: "worse", Hint: "h"}}
	if es.Error() != "p.yaml:3:7: bad\np.yaml:4:1: worse; h" {
		t.Error(es.Error())
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"0.1%", 0.001, false},
		{"99.5%", 0.995, false},
		{"100%", 1, false},
		{" 1 % ", 0.01, false},
		{"0.005", 0.005, false},
		{"1", 1, false},
		{"0", 0, false},
		{"-2%", -0.02, false},
		{"", 0, true},
		{"%", 0, true},
		{"abc", 0, true},
		{"1%%", 0, true},
		{"NaN", 0, true},
		{"Inf%", 0, true},
		{"0x10", 0, true},
	}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePercent(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (got-tt.want > 1e-12 || tt.want-got > 1e-12) {
			t.Errorf("ParsePercent(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"15m", 15 * time.Minute, false},
		{"24h", day, false},
		{"1h30m", 90 * time.Minute, false},
		{"7d", 7 * day, false},
		{"1d12h", day + 12*time.Hour, false},
		{"0s", 0, false},
		{"-1h", -time.Hour, false},
		{"d", 0, true},
		{"7", 0, true},
		{"7 days", 0, true},
		{"1.5d", 0, true},
		{"1d-2h", 0, true},
		{"soon", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDuration(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{7 * day, "7d"}, {day + 12*time.Hour, "1d12h"}, {90 * time.Minute, "1h30m"}, {15 * time.Minute, "15m"}, {30 * time.Second, "30s"}, {0, "0s"}} {
		if got := Duration(tt.d).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
		back, err := ParseDuration(Duration(tt.d).String())
		if err != nil || back != tt.d {
			t.Errorf("round trip of %v: %v %v", tt.d, back, err)
		}
	}
}

func TestInterpolation(t *testing.T) {
	env := map[string]string{"HOST": "db.internal", "TOKEN": "hunter2-secret", "EMPTY": "", "BATCH": "250"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	base := func(url string) string {
		return "name: x\nsystems:\n  old: {kind: postgres, url: \"" + url + "\"}\nobjects:\n  c:\n    key: none\n    old: {table: t, id: id}\n    fields:\n      f: {type: text, old: f}\n"
	}
	tests := []struct {
		name    string
		url     string
		want    string // the url after interpolation
		wantErr string // substring of the error
	}{
		{"plain", "postgres://u@${HOST}/db", "postgres://u@db.internal/db", ""},
		{"two vars", "postgres://u:${TOKEN}@${HOST}/db", "postgres://u:hunter2-secret@db.internal/db", ""},
		{"escape", "host=${HOST} dbname=a$${b}", "host=db.internal dbname=a${b}", ""},
		{"default used when unset", "postgres://u@${NOPE:-fallback}/db", "postgres://u@fallback/db", ""},
		{"default used when empty", "postgres://u@${EMPTY:-fallback}/db", "postgres://u@fallback/db", ""},
		{"dollar without brace", "host=$HOST dbname=x", "host=$HOST dbname=x", ""},
		{"unset", "postgres://u@${NOPE}/db", "", "3:30: environment variable NOPE is not set; export it or remove the reference"},
		{"unterminated", "postgres://u@${HOST/db", "", "unterminated ${"},
		{"bad name", "postgres://u@${1X}/db", "", "invalid environment variable reference ${1X}"},
		{"secret in bad value", "mysql://u:${TOKEN}@${HOST}/db", "", `not a PostgreSQL connection string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(base(tt.url)), lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "db.internal") {
					t.Errorf("error shows an interpolated value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Old().URL; got != tt.want {
				t.Errorf("url = %q, want %q", got, tt.want)
			}
		})
	}

	// Keys are not interpolated, and a plain ${VAR} scalar gets the type of
	// its value.
	plan := base("postgres://u@h/db") + "migrate:\n  batch_size: ${BATCH}\n"
	p, err := Parse("p.yaml", []byte(plan), lookup)
	if err != nil || p.Migrate.BatchSize != 250 {
		t.Fatalf("batch_size from env: %v %v", err, p)
	}
	_, err = Parse("p.yaml", []byte(base("postgres://u@h/db")+"${HOST}: 1\n"), lookup)
	if err == nil || !strings.Contains(err.Error(), `unknown top-level key "${HOST}"`) {
		t.Errorf("key interpolated? %v", err)
	}
	// A nil lookup means nothing is set.
	if _, err := Parse("p.yaml", []byte(base("${X}")), nil); err == nil || !strings.Contains(err.Error(), "X is not set") {
		t.Errorf("nil lookup: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://admin:pw@db:5432/crm?sslmode=require", "postgres://admin@db:5432/crm"},
		{"postgresql://db/crm", "postgresql://db/crm"},
		{"host=db port=5433 user=app password='p w' dbname=crm", "postgres://app@db:5433/crm"},
		{"local:newcrm", "local:newcrm"},
		{"nonsense", "(hidden)"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := RedactHTTPURL("https://u:p@ma.example/x?token=abc&a=1"); strings.Contains(got, "abc") || strings.Contains(got, ":p@") {
		t.Errorf("RedactHTTPURL = %q", got)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"table", "query", "id", "updated_at", "external_id", "where"}
	for in, want := range map[string]string{"updated": "updated_at", "tabel": "table", "qurey": "query", "xyz": "", "ID": "id", "extrnal_id": "external_id"} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	plan := `name: x
systems:
  old: {kind: postgres, url: "postgres://u@h/db"}
objects:
  c:
    key: email
    old: {table: t, id: id}
    fields:
      email: &txt {type: email, old: email, merge: longest}
      alt: {<<: *txt, old: alt_email}
`
	p, err := Parse("p.yaml", []byte(plan), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := p.Object("c").Field("alt")
	if c, _ := f.Column("old"); c != "alt_email" || f.Merge != "longest" || f.Type != TypeEmail {
		t.Errorf("alt = %+v", f)
	}
}

func TestPlanJSONHasNoSecrets(t *testing.T) {
	p, err := parseFile(t, "full.yaml", fullEnv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jsonMarshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secretPW, secretToken} {
		if strings.Contains(string(b), s) {
			t.Errorf("plan JSON contains secret %q", s)
		}
	}
	for _, s := range []string{`"url": "postgres://admin@db.internal:5432/crm"`, `"max_reject_rate": 0.01`, `"full_every": "7d"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("plan JSON lacks %s", s)
		}
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
