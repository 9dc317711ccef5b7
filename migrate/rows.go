package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pii"
	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// layout is how an object's golden records become rows of its table in the new CRM.
type layout struct {
	obj    *plans.Object
	spec   crm.WriteSpec
	fields []int           // per column: the field index
	types  []string        // per column: the field type
	refs   []state.RefSpec // ref fields to resolve
	refCol map[int]int     // column → index into refs
	extID  bool            // the key column holds the golden id (an external id), else the canonical key
	// dryRef, in a dry run, says whether a referenced golden record exists in a real run but not
	// in the dry run's rolled-back target (see loadObject).
	dryRef func(to, golden string) bool
}

// newLayout maps obj onto the new system. It fails when migrate could not find the rows it wrote:
// no external id and no canonical key with a column in new.
func newLayout(p *plans.Plan, obj *plans.Object) (*layout, error) {
	m := obj.Mapping(plans.SystemNew)
	l := &layout{obj: obj, refCol: map[int]int{}}
	for i, f := range obj.Fields {
		col, ok := f.Column(plans.SystemNew)
		if !ok {
			continue // a source-only field (for dedup), not migrated
		}
		c := len(l.spec.Columns)
		l.spec.Columns = append(l.spec.Columns, col)
		l.fields = append(l.fields, i)
		l.types = append(l.types, f.Type)
		if f.Type == plans.TypeRef {
			if p.Object(f.To) == nil {
				return nil, fmt.Errorf("object %s: field %s refers to object %s, which the plan does not have", obj.Name, f.Name, f.To)
			}
			l.refCol[c] = len(l.refs)
			l.refs = append(l.refs, state.RefSpec{Index: i, To: f.To})
		}
	}
	switch {
	case p.New().Kind == plans.KindCSV:
		// An import file's id column holds the golden id: the CRM that imports it keeps it.
		l.spec.KeyColumn, l.extID = m.ID, true
	case m.ExternalID != "":
		l.spec.KeyColumn, l.extID = m.ExternalID, true
	case obj.Key != plans.KeyNone:
		col, ok := obj.KeyField().Column(plans.SystemNew)
		if !ok {
			return nil, fmt.Errorf("object %s: its key field %s has no column on new and the new mapping has no external_id; "+
				"add external_id: COLUMN (a unique column for crmigrate's id) to objects.%s.new, so a re-run finds the rows it wrote", obj.Name, obj.Key, obj.Name)
		}
		l.spec.KeyColumn = col
	default:
		return nil, fmt.Errorf("object %s has key: none and its new mapping has no external_id; add external_id: COLUMN "+
			"(a unique column for crmigrate's id) to objects.%s.new, so a re-run finds the rows it wrote", obj.Name, obj.Name)
	}
	if m.UpdatedAt != "" && !contains(l.spec.Columns, m.UpdatedAt) {
		l.spec.Touch = m.UpdatedAt
	}
	return l, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// owners maps old owners to the new CRM's users.
type owners struct {
	users  plans.Users
	lookup map[string]string // lower-case email → id in new; nil when users are written as emails
}

func loadOwners(ctx context.Context, p *plans.Plan, target crm.Target) (*owners, error) {
	o := &owners{users: p.Users}
	if p.Users.Table == "" {
		return o, nil
	}
	lk, ok := target.(crm.Lookup)
	if !ok {
		return nil, fmt.Errorf("users.table is set but the new system (kind %s) cannot look users up; remove users.table to write owners as emails", p.New().Kind)
	}
	m, err := lk.Lookup(ctx, p.Users.Table, p.Users.Email, p.Users.ID)
	if err != nil {
		return nil, fmt.Errorf("read the new CRM's users: %w", err)
	}
	o.lookup = m
	return o, nil
}

// owner returns the new owner for an old owner's email, and whether the default owner was used.
func (o *owners) owner(old string) (string, bool) {
	if old != "" {
		target := old
		if m, ok := o.users.Owner(old); ok {
			target = m
		}
		if o.lookup == nil {
			return target, false
		}
		if !strings.Contains(target, "@") {
			return target, false // users.map gave an id in new
		}
		if id, ok := o.lookup[strings.ToLower(target)]; ok {
			return id, false
		}
	}
	def := o.users.DefaultOwner
	if def == "" {
		return "", old != ""
	}
	if o.lookup == nil {
		return def, true
	}
	return o.lookup[strings.ToLower(def)], true
}

// built is one golden record turned into a row.
type built struct {
	row        crm.Row
	g          *state.GoldenOut
	digest     string
	unresolved int // refs with a value that did not resolve
	defOwner   int // user fields that fell back to the default owner
}

// build turns a golden record into a row: refs through the crosswalk, owners through users,
// money without its currency (the currency is a field of its own); "" is NULL.
func (l *layout) build(g *state.GoldenOut, own *owners) built {
	b := built{g: g}
	vals := make([]*string, len(l.spec.Columns))
	for c, fi := range l.fields {
		v := ""
		if fi < len(g.Vals) {
			v = g.Vals[fi]
		}
		switch l.types[c] {
		case plans.TypeRef:
			k := l.refCol[c]
			v = g.RefIDs[k]
			switch {
			case l.dryRef != nil && k < len(g.RefGolden) && g.RefGolden[k] != "" && l.dryRef(l.refs[k].To, g.RefGolden[k]):
				v = ""
			case v == "" && g.RefValue[k]:
				b.unresolved++
			}
		case plans.TypeUser:
			var def bool
			v, def = own.owner(v)
			if def {
				b.defOwner++
			}
		case plans.TypeMoney:
			if i := strings.IndexByte(v, ' '); i > 0 {
				v = v[:i]
			}
		}
		if v != "" {
			s := v
			vals[c] = &s
		}
	}
	key := g.GoldenID
	if !l.extID {
		key = g.Key
		// Rows are matched on the key's column: when the plan writes a value there (the merge may
		// have kept another member's valid value than the one the cluster was keyed by), the row
		// is found again by what it holds.
		for c, col := range l.spec.Columns {
			if col == l.spec.KeyColumn && vals[c] != nil {
				key = *vals[c]
			}
		}
	}
	b.row = crm.Row{Key: key, ID: g.NewID, Values: vals}
	b.digest = digest(key, vals)
	return b
}

func digest(key string, vals []*string) string {
	h := sha256.New()
	h.Write([]byte(key))
	for _, v := range vals {
		if v == nil {
			h.Write([]byte{0, 0})
			continue
		}
		h.Write([]byte{0, 1})
		h.Write([]byte(*v))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// sample is a row for the dry-run report, with emails and phones masked unless showPII.
func (l *layout) sample(b built, action string, showPII bool) Sample {
	s := Sample{Object: l.obj.Name, Action: action, GoldenID: b.g.GoldenID, Values: map[string]string{}}
	for c, col := range l.spec.Columns {
		v := ""
		if p := b.row.Values[c]; p != nil {
			v = *p
		}
		if !showPII {
			v = pii.Mask(l.types[c], v)
		}
		s.Values[col] = v
	}
	return s
}
