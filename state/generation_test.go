package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

// stagedCount counts a plan's staged golden records and members of an object.
func stagedCount(t *testing.T, db *DB, plan, object string) (golden, members int) {
	t.Helper()
	if err := db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM crmigrate.golden WHERE plan = $1 AND object = $2),
		(SELECT count(*) FROM crmigrate.cluster_members WHERE plan = $1 AND object = $2)`, plan, object).Scan(&golden, &members); err != nil {
		t.Fatal(err)
	}
	return golden, members
}

func rowsOf(golden []GoldenRow, members []MemberRow) StagingRows {
	gi, mi := 0, 0
	return StagingRows{
		NextGolden: func(r *GoldenRow) (bool, error) {
			if gi == len(golden) {
				return false, nil
			}
			*r, gi = golden[gi], gi+1
			return true, nil
		},
		NextMember: func(r *MemberRow) (bool, error) {
			if mi == len(members) {
				return false, nil
			}
			*r, mi = members[mi], mi+1
			return true, nil
		},
	}
}

func stagingOf(n int, prefix string) ([]GoldenRow, []MemberRow) {
	var g []GoldenRow
	var m []MemberRow
	for i := range n {
		id := fmt.Sprintf("%s%04d", prefix, i)
		g = append(g, GoldenRow{GoldenID: id, Key: id, Vals: []string{id, ""}, Provenance: []string{"old:" + id, ""}, Members: 1, Digest: "d" + id})
		m = append(m, MemberRow{Source: "old", SourceID: id, GoldenID: id, Decision: "single"})
	}
	return g, m
}

// A clean's staging replaces the previous one all at once: until the swap, readers see the
// previous generation whole; an abandoned generation leaves it as it was; tables of a generation
// that was never swapped in are dropped by the next one; any plan name works.
func TestGenerationsReplaceStagingAtomically(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	for _, plan := range []string{"acme", `a'b"; DROP TABLE crmigrate.runs; --`} {
		run := func() int64 {
			r, err := db.StartRun(ctx, RunSpec{Plan: plan, Phase: "clean"})
			if err != nil {
				t.Fatal(err)
			}
			_ = r.Finish(ctx, StatusPassed, nil, nil)
			return r.ID
		}
		r1 := run()
		gen, err := db.BeginGeneration(ctx, plan, r1)
		if err != nil {
			t.Fatal(err)
		}
		for obj, n := range map[string]int{"company": 30, "contact": 50} {
			if err := gen.Write(ctx, obj, rowsOf(stagingOf(n, obj[:2]))); err != nil {
				t.Fatal(err)
			}
		}
		// Written, not swapped in: nothing is visible yet.
		if g, m := stagedCount(t, db, plan, "company"); g != 0 || m != 0 {
			t.Fatalf("%q: before the swap, %d golden and %d members are visible", plan, g, m)
		}
		if err := gen.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if g, m := stagedCount(t, db, plan, "contact"); g != 50 || m != 50 {
			t.Fatalf("%q: after the first generation: %d golden, %d members", plan, g, m)
		}
		if err := db.CheckStaging(ctx, plan); err != nil {
			t.Fatal(err)
		}

		// A second clean writes company and stops before contact: the first generation stays whole.
		r2 := run()
		gen, err = db.BeginGeneration(ctx, plan, r2)
		if err != nil {
			t.Fatal(err)
		}
		if err := gen.Write(ctx, "company", rowsOf(stagingOf(7, "x"))); err != nil {
			t.Fatal(err)
		}
		gen.Abort()
		if g, _ := stagedCount(t, db, plan, "company"); g != 30 {
			t.Fatalf("%q: an abandoned generation changed staging: %d companies", plan, g)
		}
		if g, _ := stagedCount(t, db, plan, "contact"); g != 50 {
			t.Fatalf("%q: an abandoned generation changed staging: %d contacts", plan, g)
		}

		// A clean killed between committing its tables and the swap leaves tables behind; the
		// next clean drops them.
		gp, mp := partPrefixes(plan)
		for _, p := range []string{gp, mp} {
			parent := "golden"
			if p == mp {
				parent = "cluster_members"
			}
			if _, err := db.Pool.Exec(ctx, `CREATE TABLE crmigrate."`+p+`999" (LIKE crmigrate.`+parent+`)`); err != nil {
				t.Fatal(err)
			}
		}
		r3 := run()
		gen, err = db.BeginGeneration(ctx, plan, r3)
		if err != nil {
			t.Fatal(err)
		}
		if err := gen.Write(ctx, "company", rowsOf(stagingOf(3, "y"))); err != nil {
			t.Fatal(err)
		}
		if err := gen.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if g, m := stagedCount(t, db, plan, "company"); g != 3 || m != 3 {
			t.Fatalf("%q: after the third generation: %d companies, %d members", plan, g, m)
		}
		if g, _ := stagedCount(t, db, plan, "contact"); g != 0 {
			t.Fatalf("%q: the third generation has no contacts, %d are staged", plan, g)
		}
		var tables []string
		rows, _ := db.Pool.Query(ctx, `SELECT relname FROM pg_class WHERE relnamespace = 'crmigrate'::regnamespace AND relkind = 'r'
			AND (starts_with(relname, $1) OR starts_with(relname, $2)) ORDER BY 1`, gp, mp)
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			tables = append(tables, n)
		}
		if rows.Err() != nil || len(tables) != 2 || !strings.HasSuffix(tables[0], fmt.Sprint("_", r3)) || !strings.HasSuffix(tables[1], fmt.Sprint("_", r3)) {
			t.Fatalf("%q: tables left: %v (%v)", plan, tables, rows.Err())
		}
		if g, ok, err := db.Generation(ctx, plan); err != nil || !ok || g.RunID != r3 {
			t.Fatalf("%q: generation %+v %v %v", plan, g, ok, err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `SELECT count(*) FROM crmigrate.runs`); err != nil {
		t.Fatal(err)
	}
}

// Golden records whose values all come from one source record store it once; the others keep
// their provenance per field; the crosswalk's reference lookup reads both.
func TestProvenanceIsStoredCompactly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		vals, prov []string
		origin     string
	}{
		{[]string{"a", "", "b"}, []string{"old:1", "", "old:1"}, "old:1"},
		{[]string{"a", "b"}, []string{"old:1", "mkt:7"}, ""},
		{[]string{"a", "3"}, []string{"old:1", "old:1+old:2"}, ""},
		{[]string{"", ""}, []string{"", ""}, ""},
	} {
		origin, prov := compactProvenance(c.vals, c.prov)
		if origin != c.origin || (c.origin != "" && prov != nil) || (c.origin == "" && strings.Join(c.prov, "") != "" && prov == nil) {
			t.Errorf("compact %v: origin %q, provenance %v", c.prov, origin, prov)
		}
		if back := expandProvenance(c.vals, origin, prov); !slices.Equal(back, c.prov) {
			t.Errorf("expand %v: %v", c.prov, back)
		}
	}
	ctx := context.Background()
	db, _ := openTest(t)
	r, err := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "clean"})
	if err != nil {
		t.Fatal(err)
	}
	golden := []GoldenRow{
		{GoldenID: "g1", Vals: []string{"a", ""}, Provenance: []string{"old:1", ""}, Members: 1, Digest: "1"},
		{GoldenID: "g2", Vals: []string{"a", "b"}, Provenance: []string{"old:2", "mkt:2"}, Members: 2, Digest: "2"},
	}
	if err := db.ReplaceStaging(ctx, "acme", "company", r.ID, golden, nil); err != nil {
		t.Fatal(err)
	}
	_ = r.Finish(ctx, StatusPassed, nil, nil)
	var got []string
	rows, _ := db.Pool.Query(ctx, `SELECT golden_id || '|' || origin || '|' || coalesce(array_to_string(provenance, ','), 'NULL') || '|' ||
		split_part(coalesce(provenance[2], origin), ':', 1) FROM crmigrate.golden WHERE plan = 'acme' ORDER BY 1`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		got = append(got, s)
	}
	if want := []string{"g1|old:1|NULL|old", "g2||old:2,mkt:2|mkt"}; !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
}

// CheckStaging: a plan whose clean passed has a generation; one without (staging removed, or left
// half-written by a version before generations) is refused until clean runs again.
func TestCheckStagingWantsAGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTest(t)
	if err := db.CheckStaging(ctx, "acme"); err != nil {
		t.Fatalf("never cleaned: %v", err)
	}
	r, _ := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "clean"})
	g, m := stagingOf(5, "c")
	if err := db.ReplaceStaging(ctx, "acme", "company", r.ID, g, m); err != nil {
		t.Fatal(err)
	}
	_ = r.Finish(ctx, StatusPassed, nil, nil)
	// A later clean that failed swapped nothing in: the passed one's staging is whole.
	r2, _ := db.StartRun(ctx, RunSpec{Plan: "acme", Phase: "clean"})
	_ = r2.Finish(ctx, StatusFailed, nil, nil)
	if err := db.CheckStaging(ctx, "acme"); err != nil {
		t.Fatalf("after a failed clean: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM crmigrate.staging_generations`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckStaging(ctx, "acme"); !errors.Is(err, ErrStagingLost) || !strings.Contains(err.Error(), "crmigrate clean") {
		t.Fatalf("without a generation: %v", err)
	}
}

// A control database written by version 4 (unlogged staging, the staging_alive sentinel) keeps
// its staging: whole staging becomes the plan's generation, partial staging is refused.
func TestStagingFromVersion4IsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDB(t)
	v4 := fstest.MapFS{}
	all, _ := fs.Glob(embedded, "migrations/*.sql")
	for _, name := range all {
		if strings.Compare(name, "migrations/0005") < 0 {
			b, _ := fs.ReadFile(embedded, name)
			v4[name] = &fstest.MapFile{Data: b}
		}
	}
	old, err := open(ctx, url, v4)
	if err != nil {
		t.Fatal(err)
	}
	for _, plan := range []string{"whole", "partial"} {
		r, err := old.StartRun(ctx, RunSpec{Plan: plan, Phase: "clean"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Pool.Exec(ctx, `INSERT INTO crmigrate.golden (plan, object, golden_id, run_id, vals, provenance, members, digest)
			VALUES ($1, 'company', 'g1', $2, '{a,b}', '{old:1,mkt:2}', 2, 'd')`, plan, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Pool.Exec(ctx, `INSERT INTO crmigrate.cluster_members (plan, object, source, source_id, golden_id, decision, run_id)
			VALUES ($1, 'company', 'old', '1', 'g1', 'single', $2)`, plan, r.ID); err != nil {
			t.Fatal(err)
		}
		if plan == "whole" {
			if _, err := old.Pool.Exec(ctx, `INSERT INTO crmigrate.staging_alive (plan, run_id) VALUES ($1, $2)`, plan, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		_ = r.Finish(ctx, StatusPassed, nil, nil)
	}
	old.Close()
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, plan := range []string{"whole", "partial"} {
		if g, m := stagedCount(t, db, plan, "company"); g != 1 || m != 1 {
			t.Fatalf("%s: %d golden, %d members after the upgrade", plan, g, m)
		}
	}
	if err := db.CheckStaging(ctx, "whole"); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckStaging(ctx, "partial"); !errors.Is(err, ErrStagingLost) {
		t.Fatalf("partial staging from version 4: %v", err)
	}
	// The next clean replaces the upgraded partitions.
	r, _ := db.StartRun(ctx, RunSpec{Plan: "whole", Phase: "clean"})
	g, m := stagingOf(2, "n")
	if err := db.ReplaceStaging(ctx, "whole", "company", r.ID, g, m); err != nil {
		t.Fatal(err)
	}
	_ = r.Finish(ctx, StatusPassed, nil, nil)
	if g, _ := stagedCount(t, db, "whole", "company"); g != 2 {
		t.Fatalf("after a clean: %d golden", g)
	}
}
