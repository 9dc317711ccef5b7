package merge

import (
	"math/big"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
)

// Member is one source record of a cluster, as survivorship sees it.
type Member struct {
	Source    string
	SourceIdx int // the system's position in the plan (lower wins ties)
	ID        string
	Updated   time.Time
	Vals      []string
	// Invalid, when not nil, says which of Vals are invalid, as found when they were normalized;
	// the Validator is then not asked about this member's values.
	Invalid []bool
}

// Golden is a golden record: one value per field and where it came from.
type Golden struct {
	Vals       []string
	Provenance []string // "SOURCE:ID", "" for an empty value, "SOURCE:ID+…" for sums
	Conflicts  []string // fields whose rule is `review` and whose members disagree
	Updated    time.Time
}

// Validator says whether the canonical value v of field number f is valid. Clean keeps a value
// it could not understand (an email "n/a") as it was, flagged invalid; survivorship prefers valid
// values. [ValidatorFor] builds one from the plan's normalizer.
type Validator func(f int, v string) bool

// ValidatorFor says a value is valid when normalizing it again does not find it invalid
// (canonical values are fixed points of normalization).
func ValidatorFor(n *normalize.Normalizer, fields []*plans.Field) Validator {
	specs := make([]normalize.FieldSpec, len(fields))
	for i, f := range fields {
		specs[i] = normalize.FieldSpecOf(f)
	}
	return func(f int, v string) bool {
		_, st := n.Value(fields[f].Type, v, specs[f])
		return st != normalize.Invalid
	}
}

// Cluster builds the golden record of a cluster by each field's merge rule: most_recent (the most
// recently updated member's value, else the next most recent non-empty one), longest, non_empty
// (the first non-empty value in plan system order, then most recent), prefer:SYSTEM, max, sum
// (exact decimal; amounts in one currency) and review (most recent, and the field is listed in
// Conflicts when members disagree). Every rule chooses among the members' valid values first (by
// valid; nil counts every value valid) and falls back to an invalid one only when no member has a
// valid value, so a merge never keeps "n/a" over a real email. Members are not modified.
func Cluster(fields []*plans.Field, members []Member, valid Validator) Golden {
	if len(members) == 1 { // most clusters: the record is the golden record
		m := members[0]
		out := Golden{Vals: m.Vals, Provenance: make([]string, len(fields)), Updated: m.Updated}
		ref := m.Source + ":" + m.ID
		for f := range fields {
			if m.Vals[f] != "" {
				out.Provenance[f] = ref
			}
		}
		return out
	}
	order := make([]int, len(members)) // most recent first; ties by system order, then id
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := members[order[a]], members[order[b]]
		if !x.Updated.Equal(y.Updated) {
			return x.Updated.After(y.Updated)
		}
		if x.SourceIdx != y.SourceIdx {
			return x.SourceIdx < y.SourceIdx
		}
		return x.ID < y.ID
	})
	m := Golden{Vals: make([]string, len(fields)), Provenance: make([]string, len(fields))}
	for _, i := range order {
		if members[i].Updated.After(m.Updated) {
			m.Updated = members[i].Updated
		}
	}
	ref := func(i int) string { return members[i].Source + ":" + members[i].ID }
	for f, fd := range fields {
		nonEmpty := func(i int) bool { return members[i].Vals[f] != "" }
		usable := nonEmpty
		if valid != nil {
			usable = func(i int) bool {
				v := members[i].Vals[f]
				if inv := members[i].Invalid; inv != nil {
					return v != "" && !inv[f]
				}
				return v != "" && valid(f, v)
			}
		}
		if fd.Merge == "sum" {
			if v, prov, ok := sumValues(members, order, f, usable); ok && v != "" {
				m.Vals[f], m.Provenance[f] = v, prov
				continue
			}
		}
		pick := choose(fd, f, members, order, usable)
		if pick < 0 && valid != nil { // no valid value: keep an invalid one rather than none
			pick = choose(fd, f, members, order, nonEmpty)
		}
		if pick >= 0 {
			m.Vals[f], m.Provenance[f] = members[pick].Vals[f], ref(pick)
		}
		if fd.Merge == "review" {
			seen := ""
			for _, i := range order {
				if v := members[i].Vals[f]; usable(i) {
					if seen != "" && v != seen {
						m.Conflicts = append(m.Conflicts, fd.Name)
						break
					}
					seen = v
				}
			}
		}
	}
	return m
}

// choose picks the member whose value of field f the field's rule keeps, among the members for
// which usable holds (-1 when none). order is most recent first.
func choose(fd *plans.Field, f int, members []Member, order []int, usable func(int) bool) int {
	mostRecent := func() int {
		for _, i := range order {
			if usable(i) {
				return i
			}
		}
		return -1
	}
	if sys, ok := fd.MergePrefer(); ok {
		for _, i := range order {
			if members[i].Source == sys && usable(i) {
				return i
			}
		}
		return mostRecent()
	}
	switch fd.Merge {
	case "longest":
		best := -1
		for _, i := range order {
			if usable(i) && (best < 0 || utf8.RuneCountInString(members[i].Vals[f]) > utf8.RuneCountInString(members[best].Vals[f])) {
				best = i
			}
		}
		return best
	case "non_empty":
		byPlan := append([]int(nil), order...)
		sort.SliceStable(byPlan, func(a, b int) bool { return members[byPlan[a]].SourceIdx < members[byPlan[b]].SourceIdx })
		for _, i := range byPlan {
			if usable(i) {
				return i
			}
		}
		return -1
	case "max":
		pick := -1
		for _, i := range order {
			if usable(i) && (pick < 0 || compareCanonical(fd.Type, members[i].Vals[f], members[pick].Vals[f]) > 0) {
				pick = i
			}
		}
		return pick
	default: // most_recent, review, and sum when the amounts cannot be added
		return mostRecent()
	}
}

// compareCanonical orders two canonical values of a type: numbers and money numerically (money of
// different currencies by amount), dates and datetimes as text (RFC 3339 in UTC sorts by time).
func compareCanonical(typ, a, b string) int {
	switch typ {
	case plans.TypeNumber, plans.TypeMoney:
		amountA, _ := normalize.SplitMoney(a)
		amountB, _ := normalize.SplitMoney(b)
		x, okx := new(big.Rat).SetString(amountA)
		y, oky := new(big.Rat).SetString(amountB)
		if okx && oky {
			return x.Cmp(y)
		}
	}
	return strings.Compare(a, b)
}

// sumValues adds the usable members' amounts exactly; it refuses mixed currencies.
func sumValues(members []Member, order []int, f int, usable func(int) bool) (string, string, bool) {
	total := new(big.Rat)
	cur, n := "", 0
	var prov []string
	decimals := 0
	for _, i := range order {
		v := members[i].Vals[f]
		if !usable(i) {
			continue
		}
		amount, c := normalize.SplitMoney(v)
		r, ok := new(big.Rat).SetString(amount)
		if !ok {
			return "", "", false
		}
		if n > 0 && c != cur {
			return "", "", false
		}
		cur = c
		if d := decimalsOf(amount); d > decimals {
			decimals = d
		}
		total.Add(total, r)
		prov = append(prov, members[i].Source+":"+members[i].ID)
		n++
	}
	if n == 0 {
		return "", "", true
	}
	s := total.FloatString(decimals)
	if cur != "" {
		s += " " + cur
	}
	sort.Strings(prov)
	return s, strings.Join(prov, "+"), true
}

func decimalsOf(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}
