package migrate

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// uniqueSet is a set of columns of the new CRM's table whose values the table allows once.
type uniqueSet struct {
	cols     []int  // into the layout's columns
	names    string // for messages
	keyField bool   // the key field's column alone: rows whose value is their canonical key cannot collide
}

// settleUniques decides, before an object is written, which golden record keeps each value that a
// unique column set of the new CRM's table allows once: the one with the lowest golden id. Left to
// the database, the winner would be whichever parallel batch committed first, and two runs of the
// same staging would differ. It returns the losers (golden id → why its row is not written); their
// rows are rejected without being sent. Values the table already holds from elsewhere are still
// refused by the database itself, the same way every time. Memory: a hash and a golden id per
// value of the sets checked (for the key field's own column, only values that are not a key).
func settleUniques(ctx context.Context, p *plans.Plan, obj *plans.Object, target crm.Target, own *owners, opts Options) (map[string]string, error) {
	u, ok := target.(crm.Uniques)
	if !ok {
		return nil, nil
	}
	if _, file := target.(crm.FileTarget); file {
		return nil, nil
	}
	l, err := newLayout(p, obj)
	if err != nil {
		return nil, err
	}
	var sets [][]string
	if err := retry(ctx, opts.Retry, nil, func() error {
		var err error
		sets, err = u.UniqueColumns(ctx, obj)
		return err
	}); err != nil {
		return nil, err
	}
	sets = uniqueSetsToCheck(l, obj, sets)
	if len(sets) == 0 {
		return nil, nil
	}
	colIdx := map[string]int{}
	for i, c := range l.spec.Columns {
		colIdx[c] = i
	}
	keyCol := ""
	if obj.Key != plans.KeyNone {
		keyCol, _ = obj.KeyField().Column(plans.SystemNew)
	}
	use := make([]uniqueSet, len(sets))
	for i, s := range sets {
		for _, c := range s {
			use[i].cols = append(use[i].cols, colIdx[c])
		}
		use[i].names = strings.Join(s, ", ")
		use[i].keyField = len(s) == 1 && s[0] == keyCol
	}
	// When every set's columns take the canonical values as they are (no reference, owner or
	// money column, which are rewritten on the way), the control database finds the records that
	// share values, and only those are read here; otherwise every record is.
	var only []string
	if fields, ok := plainFieldSets(l, use); ok {
		if only, err = opts.DB.GoldenSharingValues(ctx, p.Name, obj.Name, fields); err != nil {
			return nil, err
		}
		if len(only) == 0 {
			return nil, nil
		}
	}
	seen := make([]map[uint64]string, len(use))
	for i := range seen {
		seen[i] = map[uint64]string{}
	}
	losers := map[string]string{}
	hashes := make([]uint64, len(use))
	rd, err := opts.DB.ReadGolden(ctx, state.GoldenQuery{Plan: p.Name, Object: obj.Name, Refs: l.refs, Only: only})
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	for {
		recs, err := rd.Next(p.Migrate.BatchSize)
		if err != nil {
			return nil, fmt.Errorf("check unique values of %s: %w", obj.Name, err)
		}
		if len(recs) == 0 {
			return losers, nil
		}
		for i := range recs {
			g := &recs[i]
			b := l.build(g, own)
			if b.row.Key == "" {
				continue // rejected anyway: migrate could not find the row again
			}
			loser := ""
			for si, us := range use {
				hashes[si] = 0
				h, ok := tupleHash(b.row.Values, us.cols)
				if !ok || (us.keyField && *b.row.Values[us.cols[0]] == g.Key) {
					continue
				}
				hashes[si] = h
				if w, taken := seen[si][h]; taken {
					loser = fmt.Sprintf("another record, %s, has the same %s (%s), which the new CRM allows once: the lowest golden id is written, this record is not",
						w, us.names, l.obj.Name)
					break
				}
			}
			if loser != "" {
				losers[g.GoldenID] = loser
				continue
			}
			for si := range use {
				if hashes[si] != 0 {
					seen[si][hashes[si]] = g.GoldenID
				}
			}
		}
	}
}

// plainFieldSets returns the field indexes of each set's columns when every column takes its
// field's canonical value unchanged (see layout.build).
func plainFieldSets(l *layout, use []uniqueSet) ([][]int, bool) {
	out := make([][]int, len(use))
	for i, us := range use {
		for _, c := range us.cols {
			switch l.types[c] {
			case plans.TypeRef, plans.TypeUser, plans.TypeMoney:
				return nil, false
			}
			out[i] = append(out[i], l.fields[c])
		}
	}
	return out, true
}

// uniqueSetsToCheck keeps the unique column sets that two golden records can collide on: not the
// id column, not the column rows are matched on (an upsert finds its own row there, and golden ids
// are unique), and only sets whose columns migrate writes (it cannot judge the others).
func uniqueSetsToCheck(l *layout, obj *plans.Object, sets [][]string) [][]string {
	m := obj.Mapping(plans.SystemNew)
	var out [][]string
	for _, s := range sets {
		if len(s) == 1 && (s[0] == m.ID || s[0] == l.spec.KeyColumn) {
			continue
		}
		written := true
		for _, c := range s {
			written = written && contains(l.spec.Columns, c)
		}
		if written {
			out = append(out, s)
		}
	}
	return out
}

// tupleHash hashes the values of cols; ok is false when one of them is NULL (NULLs never collide).
func tupleHash(vals []*string, cols []int) (uint64, bool) {
	h := fnv.New64a()
	for _, c := range cols {
		if vals[c] == nil {
			return 0, false
		}
		h.Write([]byte(*vals[c]))
		h.Write([]byte{0})
	}
	sum := h.Sum64()
	if sum == 0 {
		sum = 1 // 0 means "not hashed"
	}
	return sum, true
}
