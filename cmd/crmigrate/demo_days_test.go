package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// demo --days simulates the parallel run; every day's snapshot shows exactly the drift the ground
// truth (truth/parallel-run.json) says its faults leave, beyond what day 1 found; the last seven
// days are clean, and the final validate passes.
func TestDemoDaysFollowTheGroundTruth(t *testing.T) {
	t.Parallel()
	dir := projectDir(t)
	demoDir := filepath.Join(dir, "demo")
	plan := filepath.Join(demoDir, "crmigrate.yaml")
	code, stdout, stderr := run(t, "demo", "--dir", demoDir, "--contacts", "200", "--days", "10", "--verify", "--json")
	if code != 0 {
		t.Fatalf("demo --days 10: exit %d\n%s", code, stderr)
	}
	var res struct {
		Days []struct {
			Day        int    `json:"day"`
			Snapshot   int64  `json:"snapshot"`
			Summary    string `json:"summary"`
			Fix        bool   `json:"fix"`
			Reconciled int64  `json:"reconciled"`
		} `json:"days"`
		Final struct {
			Result string `json:"result"`
		} `json:"final_validate"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Days) != 10 || res.Final.Result != "passed" {
		t.Fatalf("demo --json: %v, %d days, final validate %q", err, len(res.Days), res.Final.Result)
	}
	raw, err := os.ReadFile(filepath.Join(demoDir, "truth", "parallel-run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth []struct {
		Day    int            `json:"day"`
		Faults []string       `json:"faults"`
		Fix    bool           `json:"fix"`
		Expect map[string]int `json:"expect"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil || len(truth) != 10 {
		t.Fatalf("truth: %v (%d days)", err, len(truth))
	}
	faults := 0
	for _, d := range truth {
		faults += len(d.Faults)
	}
	if faults != 6 || !truth[3].Fix {
		t.Fatalf("truth lays out %d faults, fix day 4: %v", faults, truth[3].Fix)
	}
	// The fix day's reconcile wrote the lost sync writes back (3 titles) and the day's stage
	// overwrites (before the rule made them known).
	if d := res.Days[3]; !d.Fix || d.Reconciled < 3 {
		t.Errorf("fix day: %+v", d)
	}
	if code, _, stderr := run(t, "db", "start", "--plan", plan); code != 0 {
		t.Fatalf("db start: exit %d\n%s", code, stderr)
	}
	_, url, _ := run(t, "db", "url", "--plan", plan)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, strings.TrimSpace(url))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i, d := range res.Days {
		var body []byte
		if err := conn.QueryRow(ctx, `SELECT body FROM crmigrate.pr_snapshots WHERE run_id = $1`, d.Snapshot).Scan(&body); err != nil {
			t.Fatal(err)
		}
		var snap struct {
			Day     int `json:"day"`
			Objects []struct {
				Object   string `json:"object"`
				InFlight int    `json:"in_flight"`
				Drift    []struct {
					Class    string `json:"class"`
					Field    string `json:"field"`
					State    string `json:"state"`
					FirstDay int    `json:"first_day"`
				} `json:"drift"`
			} `json:"objects"`
		}
		if err := json.Unmarshal(body, &snap); err != nil || snap.Day != d.Day {
			t.Fatalf("snapshot of day %d: %v (day %d)", d.Day, err, snap.Day)
		}
		got := map[string]int{}
		for _, o := range snap.Objects {
			if o.InFlight > 0 {
				got["in_flight "+o.Object] = o.InFlight
			}
			for _, x := range o.Drift {
				if x.FirstDay > 1 && x.State != "in_flight" {
					f := x.Field
					if f == "" {
						f = "-"
					}
					got[fmt.Sprintf("%s %s %s", x.Class, f, x.State)]++
				}
			}
		}
		if want := truth[i].Expect; !maps.Equal(got, want) {
			t.Errorf("day %d (%v): drift beyond day 1 %v, ground truth %v", d.Day, truth[i].Faults, show(got), show(want))
		}
	}
}

func show(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
