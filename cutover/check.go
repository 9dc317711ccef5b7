package cutover

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/plans"
)

// CheckVersion is the version of the go/no-go checklist's JSON.
const CheckVersion = 1

// Verdicts.
const (
	Go   = "GO"
	NoGo = "NO-GO"
)

// Checklist is the go/no-go: every gate computed from evidence, and the verdict.
type Checklist struct {
	Version int       `json:"version"`
	Plan    string    `json:"plan"`
	At      time.Time `json:"at"` // when cutover would run (the calendar gates); the evidence is as of now
	Result  string    `json:"result"`
	// Evidence is the digest of what the gates saw (the calendar and the sign-offs left out): what
	// a sign-off signs; when it changes, earlier sign-offs are stale.
	Evidence string `json:"evidence"`
	Items    []Item `json:"items"`
}

// Item is one gate of the checklist.
type Item struct {
	Group    string  `json:"group"` // phases, parallel run, gates, calendar, integrations, snapshot, sign-offs
	Gate     string  `json:"gate"`
	Result   string  `json:"result"` // pass, fail or stale
	Observed string  `json:"observed"`
	Todo     string  `json:"todo,omitempty"` // what to do about a fail
	Runs     []int64 `json:"runs"`
}

// Phases is what the phase runs show: the last passed clean, the last passed full (not delta)
// migrate and the last passed validate (0: none).
type Phases struct {
	Clean, Migrate, Validate int64
}

// Stale is the result of a sign-off given on other evidence than today's.
const Stale = "stale"

// Signed is a role's latest sign-off: by whom, on which evidence, when.
type Signed struct {
	By       string
	Evidence string
	At       time.Time
}

// CheckInput is the evidence of a checklist.
type CheckInput struct {
	At     time.Time // when cutover would run
	Phases Phases
	Days   int          // days of the parallel run with a snapshot
	Gates  []GateResult // the plan's gates, evaluated (EvaluateGates)
	// Commands: how the consultant names the plan on a command line.
	Plan string
	// Signed is each role's latest sign-off.
	Signed map[string]Signed
	// Snapshot is the last snapshot of the CRMs that passed (nil: none), and Now when the evidence
	// is judged (its age).
	Snapshot *Manifest
	Now      time.Time
	// Verified is each integration's latest verify.
	Verified map[string]Verified
}

// Verified is an integration's latest verify.
type Verified struct {
	OK     bool
	At     time.Time
	RunID  int64
	Detail string
}

// Check evaluates the checklist: the phases in order, the parallel run's length, the plan's gates,
// the calendar at in.At (never_on, freeze, hours, in the plan's time zone), and what this version
// cannot record yet (integration verifies, the old CRM's snapshot, sign-offs), which fail.
func Check(p *plans.Plan, in CheckInput) *Checklist {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	c := &Checklist{Version: CheckVersion, Plan: p.Name, At: in.At.UTC(), Items: []Item{}}
	cmd := func(args string) string { return "crmigrate " + args + " --plan " + in.Plan }
	add := func(it Item) {
		if it.Runs == nil {
			it.Runs = []int64{}
		}
		if it.Result == Pass {
			it.Todo = ""
		}
		c.Items = append(c.Items, it)
	}
	ph := in.Phases
	phase := Item{Group: "phases", Gate: "clean, migrate and validate passed, in that order, with validate after the last full migrate",
		Result: Fail, Runs: []int64{ph.Clean, ph.Migrate, ph.Validate}}
	switch {
	case ph.Clean == 0:
		phase.Observed, phase.Todo = "no clean has passed", "run "+cmd("clean")
	case ph.Migrate == 0 || ph.Migrate < ph.Clean:
		phase.Observed, phase.Todo = fmt.Sprintf("no full migrate passed after clean run %d", ph.Clean), "run "+cmd("migrate")
	case ph.Validate == 0 || ph.Validate < ph.Migrate:
		phase.Observed, phase.Todo = fmt.Sprintf("no validate passed after migrate run %d", ph.Migrate), "run "+cmd("validate")
	default:
		phase.Result = Pass
		phase.Observed = fmt.Sprintf("clean run %d, migrate run %d, validate run %d", ph.Clean, ph.Migrate, ph.Validate)
	}
	add(phase)
	minDays := p.ParallelRun.MinDays
	add(Item{Group: "parallel run", Gate: fmt.Sprintf("the parallel run lasted at least %d days", minDays),
		Result: map[bool]string{true: Pass, false: Fail}[in.Days >= minDays], Observed: fmt.Sprintf("%d days with a snapshot", in.Days),
		Todo: "keep the parallel run going: " + cmd("parallel-run watch")})
	for _, g := range in.Gates {
		add(Item{Group: "gates", Gate: g.Gate, Result: g.Result, Observed: g.Observed, Runs: g.Runs,
			Todo: "see what is left and whose it is: " + cmd("report parity")})
	}
	at := in.At.In(loc)
	blocked, why := p.Cutover.Blocked(at, loc)
	day := Item{Group: "calendar", Gate: "not on a never_on weekday, outside freeze windows", Result: Pass,
		Observed: at.Format("Monday 2006-01-02 15:04 MST")}
	if blocked {
		day.Result, day.Observed, day.Todo = Fail, at.Format("Monday 2006-01-02")+": "+why, "pick another day (--at)"
	}
	add(day)
	if h := p.Cutover.Hours; h != "" {
		now := at.Format("15:04")
		within := now >= h[:5] && now < h[6:]
		add(Item{Group: "calendar", Gate: "within cutover.hours " + h, Result: map[bool]string{true: Pass, false: Fail}[within],
			Observed: now + " " + at.Format("MST"), Todo: "pick a time within " + h + " (--at)"})
	}
	var names []string
	for _, i := range p.Integrations {
		names = append(names, i.Name)
	}
	integ := Item{Group: "integrations", Gate: fmt.Sprintf("every integration's verify succeeded against the new CRM within %d hours", int(VerifyMaxAge.Hours())),
		Result: Pass, Observed: "no integrations in the plan", Todo: "run them: " + cmd("cutover verify")}
	if len(names) > 0 {
		var bad []string
		for _, n := range names {
			v, ok := in.Verified[n]
			switch {
			case !ok:
				bad = append(bad, n+": never verified")
			case !v.OK:
				bad = append(bad, fmt.Sprintf("%s: failed in run %d (%s)", n, v.RunID, v.Detail))
			case in.Now.Sub(v.At) > VerifyMaxAge:
				bad = append(bad, fmt.Sprintf("%s: last verified %s", n, v.At.UTC().Format("2006-01-02 15:04 UTC")))
			default:
				integ.Runs = append(integ.Runs, v.RunID)
			}
		}
		integ.Observed = fmt.Sprintf("%d of %d verified", len(names)-len(bad), len(names))
		if len(bad) > 0 {
			integ.Result = Fail
			integ.Observed += "; " + strings.Join(bad, "; ")
		}
		slices.Sort(integ.Runs)
		integ.Runs = slices.Compact(integ.Runs)
	}
	add(integ)
	snap := Item{Group: "snapshot", Gate: fmt.Sprintf("a snapshot of the CRMs taken within %d hours (the way back)", int(SnapshotMaxAge.Hours())),
		Result: Fail, Observed: "none taken", Todo: "take one: " + cmd("snapshot")}
	if m := in.Snapshot; m != nil {
		snap.Observed = fmt.Sprintf("run %d, taken %s: %d files, %d rows, in %s", m.RunID, m.TakenAt.UTC().Format("2006-01-02 15:04 UTC"),
			len(m.Files), m.Rows, m.Dir)
		snap.Runs = []int64{m.RunID}
		if in.Now.Sub(m.TakenAt) <= SnapshotMaxAge {
			snap.Result = Pass
		}
	}
	add(snap)
	c.Evidence = evidenceOf(c.Items)
	sign := Item{Group: "sign-offs", Gate: "every role in cutover.signoffs signed the evidence as it is now", Result: Pass, Observed: "no sign-offs required"}
	var missing, stale, ok []string
	for _, role := range p.Cutover.Signoffs {
		s, signed := in.Signed[role]
		switch {
		case !signed:
			missing = append(missing, role)
		case s.Evidence != c.Evidence:
			stale = append(stale, fmt.Sprintf("%s (by %s on %s, on other evidence)", role, s.By, s.At.UTC().Format("2006-01-02 15:04 UTC")))
		default:
			ok = append(ok, fmt.Sprintf("%s (by %s)", role, s.By))
		}
	}
	if len(p.Cutover.Signoffs) > 0 {
		var parts []string
		if len(ok) > 0 {
			parts = append(parts, "signed: "+strings.Join(ok, ", "))
		}
		if len(stale) > 0 {
			parts = append(parts, "stale: "+strings.Join(stale, ", "))
		}
		if len(missing) > 0 {
			parts = append(parts, "not signed: "+strings.Join(missing, ", "))
		}
		sign.Observed = strings.Join(parts, "; ")
		switch {
		case len(missing) > 0:
			sign.Result = Fail
		case len(stale) > 0:
			sign.Result = Stale
		}
		sign.Todo = "each role signs what it reviewed: " + cmd("cutover signoff --role ROLE --by NAME")
	}
	add(sign)
	c.Result = Go
	for _, it := range c.Items {
		if it.Result != Pass {
			c.Result = NoGo
		}
	}
	return c
}

// evidenceOf digests the items a sign-off signs: every gate but the calendar's (when cutover runs
// does not change what was proven) and the sign-offs' own (one signature never makes another
// stale).
func evidenceOf(items []Item) string {
	h := sha256.New()
	for _, it := range items {
		if it.Group == "calendar" || it.Group == "sign-offs" {
			continue
		}
		b, _ := json.Marshal([]any{it.Group, it.Gate, it.Result, it.Observed, it.Runs})
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
