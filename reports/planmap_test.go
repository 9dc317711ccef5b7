package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmigrate/crmigrate/plans"
)

var update = flag.Bool("update", false, "rewrite golden files")

const secretPW, secretToken = "s3cr3t-pw", "tok-SECRET-123"

func fullMap(t *testing.T) *plans.Map {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "plans", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"OLD_CRM_URL":         "postgres://admin:" + secretPW + "@db.internal:5432/crm?sslmode=require",
		"CRMIGRATE_STATE_URL": "postgres://state:" + secretPW + "@state.internal/crmigrate",
		"BILLING_PW":          secretPW,
		"MA_TOKEN":            secretToken,
		"MA_API":              "https://ma.example/api",
	}
	p, err := plans.Parse("testdata/plans/full.yaml", data, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	return plans.BuildMap(p)
}

func TestRenderPlanMapGolden(t *testing.T) {
	m := fullMap(t)
	for format, ext := range map[string]string{"table": "txt", "md": "md", "json": "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderPlanMap(&buf, m, format); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, s := range []string{secretPW, secretToken, "sslmode"} {
				if strings.Contains(out, s) {
					t.Errorf("%s output contains %q", format, s)
				}
			}
			// Content every format must carry.
			for _, s := range []string{"acme-crm-move", "postgres://admin@db.internal:5432/crm", "local:newcrm",
				"E.164 (default region SE)", "registrable domain; free-mail excluded", "trim, lower-case, NFC, syntax check",
				"Company Domain Name", "marketing_qualified", "contact.company", "marketing-automation", "HubSpot Marketing Hub",
				"prefer:old", "last_name:prefix3+company"} {
				if !strings.Contains(out, s) {
					t.Errorf("%s output lacks %q", format, s)
				}
			}
			checkGolden(t, filepath.Join("..", "testdata", "plans", "full.map."+ext), buf.Bytes())
		})
	}
}

func TestRenderPlanMapJSONRoundTrip(t *testing.T) {
	m := fullMap(t)
	var buf bytes.Buffer
	if err := RenderPlanMap(&buf, m, "json"); err != nil {
		t.Fatal(err)
	}
	var back plans.Map
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Plan != "acme-crm-move" || len(back.Objects) != len(m.Objects) || len(back.Integrations) != 3 {
		t.Errorf("round trip: %+v", back)
	}
	contact := back.Objects[1]
	if contact.Name != "contact" || strings.Join(contact.Systems, ",") != "old,new,marketing" {
		t.Fatalf("contact = %+v", contact)
	}
	for _, f := range contact.Fields {
		if len(f.Columns) != len(contact.Systems) {
			t.Errorf("field %s has %d columns for %d systems", f.Name, len(f.Columns), len(contact.Systems))
		}
	}
}

func TestRenderPlanMapTableColumns(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderPlanMap(&buf, fullMap(t), "table"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// The contact section has one column per system the object is mapped on.
	i := strings.Index(out, "Object contact")
	if i < 0 {
		t.Fatal("no contact section")
	}
	section := out[i:]
	header := ""
	for _, line := range strings.Split(section, "\n") {
		if strings.Contains(line, "Field") && strings.Contains(line, "Normalization") {
			header = line
			break
		}
	}
	for _, col := range []string{"Field", "Type", "old", "new", "marketing", "Normalization", "Authority", "Merge"} {
		if !strings.Contains(header, col) {
			t.Errorf("contact header %q lacks %s", header, col)
		}
	}
	if strings.Contains(header, "billing") {
		t.Errorf("contact header %q shows a system the object is not mapped on", header)
	}
}

func TestRenderPlanMapUnknownFormat(t *testing.T) {
	err := RenderPlanMap(&bytes.Buffer{}, fullMap(t), "html")
	if err == nil || !strings.Contains(err.Error(), `"html"`) || !strings.Contains(err.Error(), "table, md, json") {
		t.Errorf("err = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestRenderPlanMapWriteError(t *testing.T) {
	for _, f := range PlanMapFormats {
		if err := RenderPlanMap(failWriter{}, fullMap(t), f); err == nil {
			t.Errorf("%s: write error not returned", f)
		}
	}
}

func TestRenderPlanMapEmpty(t *testing.T) {
	m := &plans.Map{Plan: "x", Timezone: "UTC"}
	for _, f := range PlanMapFormats {
		var buf bytes.Buffer
		if err := RenderPlanMap(&buf, m, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
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
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (run go test -update after checking it):\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
