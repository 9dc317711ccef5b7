package cutover

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// Actions against a real local HTTP server and real processes: the expected status or exit code
// passes, another fails, one that does not answer in time is stopped; secrets stay out of what is
// reported; integrations without a verify action fail verify; the switch order is by order.
func TestRunActions(t *testing.T) {
	var gotToken string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotToken = r.Header.Get("X-Token")
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"crm":"new"}`))
		case "/slow":
			time.Sleep(2 * time.Second)
		default:
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	p := &plans.Plan{Name: "p", Dir: t.TempDir()}
	ctx := context.Background()
	run := func(a *plans.Action) ActionResult { return RunAction(ctx, p, crm.Env{Plan: p}, a) }
	secretURL := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	ok := run(&plans.Action{HTTP: &plans.HTTPAction{Method: "POST", URL: secretURL + "/ok", Body: `{"crm":"new"}`,
		Headers: []plans.Header{{Name: "X-Token", Value: "tok-123"}}}})
	if !ok.OK || ok.Detail != "status 200 (expected 200)" || ok.Output != `{"crm":"new"}` || gotToken != "tok-123" ||
		strings.Contains(ok.Target, "s3cret") {
		t.Errorf("a good request: %+v (token %q)", ok, gotToken)
	}
	if r := run(&plans.Action{HTTP: &plans.HTTPAction{URL: srv.URL + "/fail"}}); r.OK || !strings.Contains(r.Detail, "status 500") {
		t.Errorf("a 500: %+v", r)
	}
	if r := run(&plans.Action{HTTP: &plans.HTTPAction{URL: srv.URL + "/slow", Timeout: plans.Duration(200 * time.Millisecond)}}); r.OK || !strings.Contains(r.Detail, "no answer within") {
		t.Errorf("a slow server: %+v", r)
	}
	if r := run(&plans.Action{Exec: &plans.ExecAction{Command: []string{"sh", "-c", "echo switched; exit 3"}, ExpectExit: 3}}); !r.OK || r.Output != "switched" {
		t.Errorf("an expected exit 3: %+v", r)
	}
	if r := run(&plans.Action{Exec: &plans.ExecAction{Command: []string{"false"}}}); r.OK || r.Detail != "exit 1 (expected 0)" {
		t.Errorf("false: %+v", r)
	}
	if r := run(&plans.Action{Exec: &plans.ExecAction{Command: []string{"sleep", "5"}, Timeout: plans.Duration(200 * time.Millisecond)}}); r.OK || !strings.Contains(r.Detail, "stopped") {
		t.Errorf("a command that hangs: %+v", r)
	}
	if r := run(&plans.Action{Exec: &plans.ExecAction{Command: []string{"./no-such-program"}}}); r.OK || r.Detail == "" {
		t.Errorf("a missing program: %+v", r)
	}

	p.Integrations = []*plans.Integration{
		{Name: "later", Verify: &plans.Action{Exec: &plans.ExecAction{Command: []string{"true"}}}},
		{Name: "first", Order: 1, Verify: &plans.Action{HTTP: &plans.HTTPAction{URL: srv.URL + "/ok"}}},
		{Name: "unverifiable"},
	}
	var recorded []string
	v, err := Verify(ctx, p, crm.Env{Plan: p}, 7, "", func(r VerifyResult) error { recorded = append(recorded, r.Integration); return nil })
	if err != nil || strings.Join(recorded, ",") != "first,later,unverifiable" || v.Failures != 1 || v.Results[2].OK {
		t.Errorf("verify: %v, order %v, %+v", err, recorded, v)
	}
	if _, err := Verify(ctx, p, crm.Env{Plan: p}, 7, "nope", nil); err == nil {
		t.Error("an unknown integration verified")
	}

	// In the checklist: verified lately, failed, or too long ago.
	now := time.Now()
	in := CheckInput{At: now, Now: now, Verified: map[string]Verified{"first": {OK: true, At: now.Add(-time.Hour), RunID: 7},
		"later": {OK: true, At: now.Add(-48 * time.Hour), RunID: 5}, "unverifiable": {OK: false, At: now, RunID: 7, Detail: "no verify action"}}}
	for _, it := range Check(p, in).Items {
		if it.Group == "integrations" && (it.Result != Fail || !strings.Contains(it.Observed, "1 of 3 verified") ||
			!strings.Contains(it.Observed, "later: last verified") || !strings.Contains(it.Observed, "unverifiable: failed")) {
			t.Errorf("integrations item: %+v", it)
		}
	}
}
