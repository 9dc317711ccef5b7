package plans

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamplePlanLoads checks that the first YAML block of docs/plan.md,
// the complete annotated example, is a valid plan that uses every top-level
// key.
func TestDocsExamplePlanLoads(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/plan.md has no ```yaml block")
	}
	var asked []string
	lookup := func(name string) (string, bool) {
		asked = append(asked, name)
		switch {
		case strings.HasSuffix(name, "_URL"):
			return "postgres://dummy@localhost:5432/dummy", true
		case strings.HasSuffix(name, "_API"):
			return "https://dummy.example/api", true
		}
		return "dummy", true
	}
	p, err := Parse("docs/plan.md", m[1], lookup)
	if err != nil {
		t.Fatalf("the example plan in docs/plan.md does not load:\n%v", err)
	}
	if len(asked) == 0 {
		t.Error("the example uses no ${VAR}")
	}
	for _, k := range topKeys {
		if !regexp.MustCompile(`(?m)^` + k + `:`).Match(m[1]) {
			t.Errorf("the example does not show top-level key %s", k)
		}
	}
	if p.New() == nil || len(p.Integrations) == 0 || len(p.Checks) == 0 {
		t.Errorf("example is not complete: %+v", p)
	}
}

// TestDocsMentionEveryKey checks that the reference names every key the
// decoder accepts.
func TestDocsMentionEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, list := range [][]string{topKeys, objectAttrs, fieldAttrs, fieldTypes, authorities, onDeletes, pgMapKeys,
		csvMapKeys, methods, dedupKeys, checkKeys, integrationKeys, directions, actionKinds, gateKinds,
		{"min_days", "max_days", "every", "grace", "overlap", "full_every", "never_on", "freeze", "signoffs",
			"default_owner", "map", "free_mail_domains", "max_reject_rate", "batch_size", "workers",
			"kind", "url", "dir", "dialect", "encoding", "delimiter", "max_record_mb", "expect_exit", "expect_rows", "statement", "command",
			"headers", "body", "method", "timeout", "most_recent", "longest", "non_empty", "prefer:SYSTEM", "soundex",
			"metaphone", "digits", "prefixN", "year", "local:DBNAME"}} {
		keys = append(keys, list...)
	}
	for _, k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/plan.md does not mention `%s`", k)
		}
	}
}
