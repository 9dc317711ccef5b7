package validate

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/plans"
)

// EvaluateChecks evaluates the plan's checks against the objects' results (object checks of
// objects not validated are left out) and runs its SQL checks.
func EvaluateChecks(ctx context.Context, p *plans.Plan, opts Options, objects []ObjectResult, only map[string]bool) ([]CheckResult, error) {
	out := []CheckResult{}
	byName := map[string]*ObjectResult{}
	for i := range objects {
		byName[objects[i].Object] = &objects[i]
	}
	for _, c := range p.Checks {
		sev := c.Severity
		if sev == "" {
			sev = "fail"
		}
		verdict := func(ok bool) string {
			switch {
			case ok:
				return "pass"
			case sev == "warn":
				return "warn"
			}
			return "fail"
		}
		if c.Object != "" {
			o := byName[c.Object]
			if o == nil {
				continue // not validated in this run (--object)
			}
			for _, l := range []struct {
				name         string
				limit        *plans.Limit
				count, total int64
				of           string
			}{
				{"max_missing_in_new", c.MaxMissingInNew, o.MissingInNew, o.Old, "expected records"},
				{"max_lost_in_new", c.MaxLostInNew, o.LostInNew, o.Old, "expected records"},
				{"max_missing_in_old", c.MaxMissingInOld, o.MissingInOld, o.New, "records in new"},
				{"max_mismatched", c.MaxMismatched, o.Mismatched, o.Matched, "matched records"},
				{"max_duplicates_in_new", c.MaxDuplicatesInNew, o.DuplicatesInNew, o.New, "records in new"},
				{"max_broken_refs", c.MaxBrokenRefs, o.BrokenRefs, o.Matched, "matched records"},
			} {
				if l.limit == nil {
					continue
				}
				detail := fmt.Sprintf("%d of %d %s", l.count, l.total, l.of)
				if l.total > 0 {
					detail += fmt.Sprintf(" (%.2f%%)", 100*float64(l.count)/float64(l.total))
				}
				out = append(out, CheckResult{Name: c.Name, Object: c.Object, Limit: l.name, Severity: sev, Observed: float64(l.count),
					Threshold: limitText(*l.limit), Result: verdict(!l.limit.Exceeded(l.count, l.total)), Detail: detail})
			}
			continue
		}
		if len(only) > 0 {
			continue // SQL checks belong to the whole validation
		}
		r := CheckResult{Name: c.Name, Limit: "sql", Severity: sev, Threshold: c.Expect}
		v, err := sqlCheck(ctx, p, opts, c)
		if err != nil {
			r.Result, r.Detail = verdict(false), err.Error()
			if sev != "warn" {
				r.Result = "error"
			}
		} else {
			r.Observed, r.Result = v, verdict(c.Compare(v))
		}
		out = append(out, r)
	}
	return out, nil
}

func limitText(l plans.Limit) string {
	if l.Fraction {
		return strconv.FormatFloat(100*l.Value, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(l.Value, 'f', -1, 64)
}

// sqlCheck runs a check's query on its system and returns the single number it gives.
func sqlCheck(ctx context.Context, p *plans.Plan, opts Options, c *plans.Check) (float64, error) {
	sys := p.System(c.System)
	if sys == nil || sys.Kind != plans.KindPostgres {
		return 0, fmt.Errorf("check %s: system %q is not a postgres system", c.Name, c.System)
	}
	url := sys.URL
	if opts.Env.URL != nil {
		var err error
		if url, err = opts.Env.URL(ctx, sys); err != nil {
			return 0, fmt.Errorf("check %s: %w", c.Name, err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("check %s: connect to %s: %s", c.Name, c.System, redactErr(err, url))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v *float64
	if err := conn.QueryRow(ctx, c.SQL).Scan(&v); err != nil {
		return 0, fmt.Errorf("check %s: %w", c.Name, err)
	}
	if v == nil {
		return 0, fmt.Errorf("check %s: the query returned NULL", c.Name)
	}
	return *v, nil
}
