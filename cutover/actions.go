package cutover

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// ActionResult is what running one action of an integration did. It names the action without its
// secrets (header values and URL credentials are left out) and keeps at most a few hundred bytes
// of what it answered.
type ActionResult struct {
	Kind    string  `json:"kind"`   // http, exec or sql
	Target  string  `json:"target"` // METHOD URL, the command, or SYSTEM: the statement's first words
	OK      bool    `json:"ok"`
	Detail  string  `json:"detail"` // the status code, the exit code or the rows, and what was expected; or the error
	Output  string  `json:"output,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Default timeouts of the actions that do not give one.
const (
	defaultHTTPTimeout = 30 * time.Second
	defaultExecTimeout = time.Minute
	defaultSQLTimeout  = time.Minute
	outputLimit        = 500
)

// RunAction runs one action of an integration: an HTTP request (expecting its status, 200 by
// default), a command in the plan's folder without a shell (expecting its exit code), or a SQL
// statement on a postgres system of the plan (expecting its rows when given).
func RunAction(ctx context.Context, p *plans.Plan, env crm.Env, a *plans.Action) ActionResult {
	start := time.Now()
	r := ActionResult{Kind: a.Kind()}
	switch {
	case a.HTTP != nil:
		runHTTP(ctx, a.HTTP, &r)
	case a.Exec != nil:
		runExec(ctx, p, a.Exec, &r)
	case a.SQL != nil:
		runSQL(ctx, p, env, a.SQL, &r)
	default:
		r.Detail = "no action"
	}
	r.Seconds = time.Since(start).Seconds()
	return r
}

func timeoutOr(d plans.Duration, def time.Duration) time.Duration {
	if d > 0 {
		return time.Duration(d)
	}
	return def
}

func clip(b []byte) string {
	s := strings.ToValidUTF8(strings.TrimSpace(string(b)), "?")
	if len(s) > outputLimit {
		s = s[:outputLimit] + "…"
	}
	return s
}

func runHTTP(ctx context.Context, h *plans.HTTPAction, r *ActionResult) {
	method := h.Method
	if method == "" {
		method = http.MethodGet
	}
	r.Target = method + " " + hostOnly(h.URL)
	want := h.Expect
	if want == 0 {
		want = http.StatusOK
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOr(h.Timeout, defaultHTTPTimeout))
	defer cancel()
	var body io.Reader
	if h.Body != "" {
		body = strings.NewReader(h.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL, body)
	if err != nil {
		r.Detail = "bad request: " + redactErr(err, h.URL)
		return
	}
	for _, hd := range h.Headers {
		req.Header.Add(hd.Name, hd.Value)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			r.Detail = fmt.Sprintf("no answer within %s", timeoutOr(h.Timeout, defaultHTTPTimeout))
			return
		}
		r.Detail = redactErr(err, h.URL)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, outputLimit+1))
	r.Output = clip(b)
	r.OK = resp.StatusCode == want
	r.Detail = fmt.Sprintf("status %d (expected %d)", resp.StatusCode, want)
}

// noRedirects answers with the first response: a redirect (to a login page, say) is not the
// success of the action.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// redactErr is an error's text without the URL (whose path or query may hold a token).
func redactErr(err error, raw string) string {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		ue.URL = hostOnly(raw)
		return ue.Error()
	}
	return strings.ReplaceAll(err.Error(), raw, hostOnly(raw))
}

// hostOnly shows a URL as its scheme and host: its user, path and query may hold tokens (a
// ${SECRET} the plan filled in).
func hostOnly(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" {
		return "(URL hidden)"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		out += "/…"
	}
	return out
}

// commandName shows a command as its program and how many arguments it has: they may hold
// secrets.
func commandName(cmd []string) string {
	if len(cmd) == 0 {
		return "(no command)"
	}
	if len(cmd) == 1 {
		return cmd[0]
	}
	return fmt.Sprintf("%s (+%d arguments)", cmd[0], len(cmd)-1)
}

// sqlHead shows a statement's system and first word (its kind).
func sqlHead(q *plans.SQLAction) string {
	words := strings.Fields(q.Statement)
	if len(words) == 0 {
		return q.System + ": (empty)"
	}
	return q.System + ": " + strings.ToUpper(words[0]) + " …"
}

func runExec(ctx context.Context, p *plans.Plan, e *plans.ExecAction, r *ActionResult) {
	r.Target = commandName(e.Command)
	if len(e.Command) == 0 {
		r.Detail = "empty command"
		return
	}
	timeout := timeoutOr(e.Timeout, defaultExecTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Command[0], e.Command[1:]...)
	cmd.Dir = p.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	r.Output = clip(out.Bytes())
	var ee *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.Detail = fmt.Sprintf("still running after %s: stopped", timeout)
	case errors.As(err, &ee):
		r.OK = ee.ExitCode() == e.ExpectExit
		r.Detail = fmt.Sprintf("exit %d (expected %d)", ee.ExitCode(), e.ExpectExit)
	case err != nil:
		r.Detail = err.Error()
	default:
		r.OK = e.ExpectExit == 0
		r.Detail = fmt.Sprintf("exit 0 (expected %d)", e.ExpectExit)
	}
}

func runSQL(ctx context.Context, p *plans.Plan, env crm.Env, q *plans.SQLAction, r *ActionResult) {
	r.Target = sqlHead(q)
	sys := p.System(q.System)
	if sys == nil {
		r.Detail = "unknown system " + q.System
		return
	}
	url := sys.URL
	if env.URL != nil {
		var err error
		if url, err = env.URL(ctx, sys); err != nil {
			r.Detail = err.Error()
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOr(q.Timeout, defaultSQLTimeout))
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		r.Detail = "connect to " + q.System + ": " + strings.ReplaceAll(err.Error(), url, "URL")
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tag, err := conn.Exec(ctx, q.Statement)
	if err != nil {
		r.Detail = err.Error()
		return
	}
	rows := tag.RowsAffected()
	if q.ExpectRows != nil {
		r.OK = rows == int64(*q.ExpectRows)
		r.Detail = fmt.Sprintf("%d rows (expected %d)", rows, *q.ExpectRows)
		return
	}
	r.OK, r.Detail = true, fmt.Sprintf("%d rows", rows)
}

// VerifyMaxAge is how old an integration's successful verify may be for the go/no-go.
const VerifyMaxAge = 24 * time.Hour

// Verification is what `cutover verify` did: each integration's verify action against the new CRM.
type Verification struct {
	Version  int            `json:"version"`
	Plan     string         `json:"plan"`
	RunID    int64          `json:"run_id"`
	Results  []VerifyResult `json:"results"`
	Failures int            `json:"failed"`
}

// VerifyResult is one integration's verify.
type VerifyResult struct {
	Integration string `json:"integration"`
	Owner       string `json:"owner,omitempty"`
	ActionResult
}

// Failed says that a verify failed (the run is recorded failed).
func (v *Verification) Failed() error {
	if v.Failures > 0 {
		return fmt.Errorf("%d of %d verifies failed", v.Failures, len(v.Results))
	}
	return nil
}

// Counts are the verification's figures for its run record.
func (v *Verification) Counts() map[string]int64 {
	return map[string]int64{"verified": int64(len(v.Results)), "failed": int64(v.Failures)}
}

// Verify runs the verify action of each integration (only one: only), in the plan's switch order;
// record is told each result as it comes. An integration without a verify action is reported as
// failed: nothing shows that it works against the new CRM.
func Verify(ctx context.Context, p *plans.Plan, env crm.Env, runID int64, only string, record func(VerifyResult) error) (*Verification, error) {
	v := &Verification{Version: 1, Plan: p.Name, RunID: runID, Results: []VerifyResult{}}
	found := false
	for _, in := range SwitchOrder(p) {
		if only != "" && in.Name != only {
			continue
		}
		found = true
		r := VerifyResult{Integration: in.Name, Owner: in.Owner}
		if in.Verify == nil {
			r.Kind, r.Detail = "", "no verify action in the plan: add verify: to the integration"
		} else {
			r.ActionResult = RunAction(ctx, p, env, in.Verify)
		}
		if err := ctx.Err(); err != nil {
			return v, err
		}
		if !r.OK {
			v.Failures++
		}
		v.Results = append(v.Results, r)
		if record != nil {
			if err := record(r); err != nil {
				return v, err
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("the plan has no integration %q", only)
	}
	return v, nil
}

// SwitchOrder lists the integrations in the order they are switched: those with an order first,
// by it, then the others in plan order.
func SwitchOrder(p *plans.Plan) []*plans.Integration {
	out := append([]*plans.Integration(nil), p.Integrations...)
	slices.SortStableFunc(out, func(a, b *plans.Integration) int {
		switch {
		case a.Order > 0 && b.Order > 0:
			return cmp.Compare(a.Order, b.Order)
		case a.Order > 0:
			return -1
		case b.Order > 0:
			return 1
		}
		return 0
	})
	return out
}
