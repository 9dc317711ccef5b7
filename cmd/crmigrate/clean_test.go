package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

type cleanJSON struct {
	RunID    int64 `json:"run_id"`
	Passed   bool  `json:"passed"`
	Read     int64 `json:"read"`
	Rejected int64 `json:"rejected"`
	Objects  []struct {
		Object string `json:"object"`
		Golden int64  `json:"golden"`
		Review int64  `json:"review"`
	} `json:"objects"`
}

type pairJSON struct {
	ID      int64  `json:"id"`
	Object  string `json:"object"`
	ASource string `json:"a_source"`
	AID     string `json:"a_id"`
	BSource string `json:"b_source"`
	BID     string `json:"b_id"`
	Status  string `json:"status"`
}

func clusterRows(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows[1:] {
		out[r[0]+"/"+r[1]+":"+r[2]] = r
	}
	return out
}

func TestCleanReviewAcceptRejectAndStableGoldenIDs(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	if code, _, stderr := run(t, "demo", "--dir", demoDir, "--seed", "3"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	stateURL := pgtest.NewDB(t)
	first := filepath.Join(dir, "clusters1.csv")
	code, stdout, stderr := run(t, "clean", "--plan", plan, "--state-url", stateURL, "--json", "--export-clusters", first)
	if code != 0 {
		t.Fatalf("clean: exit %d\n%s%s", code, stdout, stderr)
	}
	var sum cleanJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || !sum.Passed || sum.Read == 0 {
		t.Fatalf("clean summary: %v\n%s", err, stdout)
	}

	code, stdout, _ = run(t, "review", "list", "--plan", plan, "--state-url", stateURL, "--json", "--limit", "0")
	var pairs []pairJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &pairs) != nil || len(pairs) < 2 {
		t.Fatalf("review list: exit %d, %d pairs\n%s", code, len(pairs), stdout)
	}
	// Emails are masked unless asked for.
	if strings.Contains(stdout, "@") && !strings.Contains(stdout, "***@") {
		t.Fatalf("review list shows unmasked emails: %.2000s", stdout)
	}
	acc, rej := pairs[0], pairs[1]
	code, stdout, _ = run(t, "review", "show", "--plan", plan, "--state-url", stateURL, strconv.FormatInt(acc.ID, 10))
	if code != 0 || !strings.Contains(strings.ToLower(stdout), "merged by the plan") {
		t.Fatalf("review show: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := run(t, "review", "accept", "--plan", plan, "--state-url", stateURL, strconv.FormatInt(acc.ID, 10)); code != 0 {
		t.Fatalf("accept: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "review", "reject", "--plan", plan, "--state-url", stateURL, strconv.FormatInt(rej.ID, 10)); code != 0 {
		t.Fatalf("reject: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "review", "accept", "--plan", plan, "--state-url", stateURL, "999999"); code != ExitUsage || !strings.Contains(stderr, "no such review pair") {
		t.Fatalf("accept of an unknown pair: exit %d %s", code, stderr)
	}

	second := filepath.Join(dir, "clusters2.csv")
	if code, stdout, stderr := run(t, "clean", "--plan", plan, "--state-url", stateURL, "--export-clusters", second); code != 0 {
		t.Fatalf("second clean: exit %d\n%s%s", code, stdout, stderr)
	}
	c1, c2 := clusterRows(t, first), clusterRows(t, second)
	a := c2[acc.Object+"/"+acc.ASource+":"+acc.AID]
	b := c2[acc.Object+"/"+acc.BSource+":"+acc.BID]
	if a == nil || b == nil || a[3] != b[3] {
		t.Fatalf("accepted pair not merged: %v %v", a, b)
	}
	ra := c2[rej.Object+"/"+rej.ASource+":"+rej.AID]
	rb := c2[rej.Object+"/"+rej.BSource+":"+rej.BID]
	if ra[3] == rb[3] {
		t.Fatalf("rejected pair merged: %v %v", ra, rb)
	}
	// Golden ids of clusters untouched by the decisions are the same in both runs.
	changed := 0
	for k, r1 := range c1 {
		r2 := c2[k]
		if r2 == nil {
			t.Fatalf("record %s missing from the second run", k)
		}
		if r1[3] != r2[3] {
			changed++
		}
	}
	if changed > 2 {
		t.Fatalf("%d records changed golden id between two runs on the same data; only the accepted pair may", changed)
	}
	// The decided pairs are no longer pending; decisions are audited.
	code, stdout, _ = run(t, "review", "list", "--plan", plan, "--state-url", stateURL, "--json", "--limit", "0")
	var after []pairJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &after) != nil {
		t.Fatalf("review list after: %d %s", code, stdout)
	}
	for _, p := range after {
		if p.ID == acc.ID || p.ID == rej.ID {
			t.Fatalf("decided pair %d still pending", p.ID)
		}
	}

	// Export, fill in a decision, import.
	exported := filepath.Join(dir, "review.csv")
	if code, _, stderr := run(t, "review", "export", "--plan", plan, "--state-url", stateURL, "--out", exported); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(after)+1 || !strings.HasSuffix(lines[0], ",decision") {
		t.Fatalf("export has %d lines for %d pairs; header %q", len(lines), len(after), lines[0])
	}
	if len(after) > 0 {
		lines[1] += "reject"
		bad := append([]string{}, lines...)
		bad[1] = strings.TrimSuffix(bad[1], "reject") + "maybe"
		os.WriteFile(exported, []byte(strings.Join(bad, "\n")+"\n"), 0o644)
		if code, _, stderr := run(t, "review", "import", "--plan", plan, "--state-url", stateURL, exported); code != ExitUsage || !strings.Contains(stderr, ":2:") {
			t.Fatalf("import of a bad decision: exit %d %s", code, stderr)
		}
		os.WriteFile(exported, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
		if code, stdout, stderr := run(t, "review", "import", "--plan", plan, "--state-url", stateURL, exported); code != 0 || !strings.Contains(stdout, "1 rejected") {
			t.Fatalf("import: exit %d %s %s", code, stdout, stderr)
		}
	}
	code, stdout, _ = run(t, "review", "list", "--plan", plan, "--state-url", stateURL, "--status", "rejected", "--json")
	var rejected []pairJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &rejected) != nil || len(rejected) < 1 {
		t.Fatalf("rejected pairs: %s", stdout)
	}
}

func TestCleanFailsOverMaxRejectRateAndKeepsGoing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("id,email,name\n1,a@x.se,A\n2,b@x.se\n3,c@x.se,C\n4,\"d@x.se,D\n5,e@x.se,E\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(`name: rejects
systems:
  old: {kind: csv, dir: .}
objects:
  contact:
    key: email
    old: {file: contacts.csv, id: id}
    fields:
      email: {type: email, old: email}
      name: {type: text, old: name, required: true}
clean: {max_reject_rate: "10%"}
`), 0o644)
	stateURL := pgtest.NewDB(t)
	code, stdout, stderr := run(t, "clean", "--plan", filepath.Join(dir, "plan.yaml"), "--state-url", stateURL, "--json")
	if code != ExitFailed {
		t.Fatalf("exit %d, want 3\n%s%s", code, stdout, stderr)
	}
	var sum cleanJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Passed || sum.Read != 5 || sum.Rejected != 2 || sum.Objects[0].Golden != 3 {
		t.Fatalf("summary: %+v", sum)
	}
	code, stdout, _ = run(t, "runs", "--plan", filepath.Join(dir, "plan.yaml"), "--state-url", stateURL, "--json")
	if code != 0 || !strings.Contains(stdout, `"status": "failed"`) || !strings.Contains(stdout, "reject rate") {
		t.Fatalf("the failed clean is not recorded as failed: %s", stdout)
	}
}

func TestCleanBadInputLosesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,email,phone,name\n")
	for i := 2; i <= 1000; i++ {
		switch i {
		case 3:
			b.WriteString("3,broken@x.se,+46701234567,\"Broken quote\n")
		case 4:
			b.WriteString("4,nul@x.se,,Name\x00With NUL\n")
		case 5:
			b.WriteString("5,latin@x.se,,Hélène \xe9t\xe9\n") // not UTF-8: read as Windows-1252
		case 6:
			b.WriteString("6,huge@x.se,,\"" + strings.Repeat("é", 1<<19) + "\"\n")
		case 7:
			b.WriteString("7,jane@@x.se,call me,\n")
		case 8:
			b.WriteString("8,,,\n")
		default:
			b.WriteString("" + strconv.Itoa(i) + ",Person" + strconv.Itoa(i) + "@Example.COM , 070-" + strconv.Itoa(1000000+i) + ",Person " + strconv.Itoa(i) + "\n")
		}
	}
	os.WriteFile(filepath.Join(dir, "old.csv"), []byte(b.String()), 0o644)
	// The marketing export has ten of the same people, identical.
	var m strings.Builder
	m.WriteString("Record ID,Email,Phone Number,First Name\n")
	for i := 10; i < 20; i++ {
		m.WriteString("m" + strconv.Itoa(i) + ",person" + strconv.Itoa(i) + "@example.com,+46 70 " + strconv.Itoa(1000000+i) + ",Person " + strconv.Itoa(i) + "\n")
	}
	os.WriteFile(filepath.Join(dir, "marketing.csv"), []byte(m.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(`name: bad-input
default_region: SE
systems:
  old: {kind: csv, dir: .}
  marketing: {kind: csv, dir: ., dialect: hubspot}
objects:
  contact:
    key: email
    old: {file: old.csv, id: id}
    marketing: {file: marketing.csv, id: Record ID}
    fields:
      email: {type: email, old: email, marketing: Email}
      phone: {type: phone, old: phone, marketing: Phone Number}
      name: {type: text, old: name, marketing: First Name}
    dedup:
      block: [phone, "name:prefix4"]
      compare: {name: {method: jaro_winkler}, phone: {method: exact}}
`), 0o644)
	stateURL := pgtest.NewDB(t)
	out := filepath.Join(dir, "clusters.csv")
	code, stdout, stderr := run(t, "clean", "--plan", filepath.Join(dir, "plan.yaml"), "--state-url", stateURL, "--json", "--export-clusters", out)
	if code != 0 {
		t.Fatalf("clean: exit %d\n%s%s", code, stdout, stderr)
	}
	var sum cleanJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	// 999 + 10 read, the broken quote rejected, 998 + 10 staged, 10 merged by exact email.
	if sum.Read != 1009 || sum.Rejected != 1 || sum.Objects[0].Golden != 998 {
		t.Fatalf("summary %+v", sum)
	}
	rows := clusterRows(t, out)
	if len(rows) != 1008 {
		t.Fatalf("%d records exported, want 1008", len(rows))
	}
	for i := 10; i < 20; i++ {
		a, m := rows["contact/old:"+strconv.Itoa(i)], rows["contact/marketing:m"+strconv.Itoa(i)]
		if a == nil || m == nil || a[3] != m[3] || m[4] != "exact" {
			t.Fatalf("identical records in two sources not merged: %v %v", a, m)
		}
	}
	rej, err := os.ReadFile(filepath.Join(dir, "rejects", "clean-"+strconv.FormatInt(sum.RunID, 10)+".csv"))
	if err != nil || !strings.Contains(string(rej), "contact,old,3,,") || !strings.Contains(string(rej), "quote") {
		t.Fatalf("rejects file: %v\n%s", err, rej)
	}
	code, stdout, _ = run(t, "runs", "--plan", filepath.Join(dir, "plan.yaml"), "--state-url", stateURL, "--json")
	if code != 0 || !strings.Contains(stdout, `"rejected": 1`) {
		t.Fatalf("runs: %s", stdout)
	}
}
