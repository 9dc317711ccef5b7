package plans

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Map is the data-model map of a plan: every system, object, field mapping,
// canonical key, normalization, authority and merge rule, relationship and
// integration. It is the document a migration starts from (`crmigrate plan
// show`); reports.RenderPlanMap prints it. It never holds a password or token.
type Map struct {
	Plan          string            `json:"plan"`
	Timezone      string            `json:"timezone"`
	DefaultRegion string            `json:"default_region,omitempty"`
	Systems       []MapSystem       `json:"systems"`
	Objects       []MapObject       `json:"objects"`
	Relationships []MapRelationship `json:"relationships"`
	Identifiers   []MapIdentifier   `json:"identifiers"`
	Integrations  []MapIntegration  `json:"integrations"`
}

// MapSystem is a system with its location (passwords removed).
type MapSystem struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Role is "old", "new" or "source".
	Role     string `json:"role"`
	Location string `json:"location"`
	Dialect  string `json:"dialect,omitempty"`
}

// MapObject is one object of the map.
type MapObject struct {
	Name string `json:"name"`
	// Key is the canonical key field, or "none".
	Key string `json:"key"`
	// Systems names the systems the object is mapped on, in system order;
	// MapField.Columns has one entry per system in this order.
	Systems  []string    `json:"systems"`
	Sources  []MapSource `json:"sources"`
	Fields   []MapField  `json:"fields"`
	OnDelete string      `json:"on_delete"`
	Dedup    *MapDedup   `json:"dedup,omitempty"`
}

// MapSource is where an object lives on one system.
type MapSource struct {
	System string `json:"system"`
	// Kind is "table", "query" or "file"; Name is the table, the file, or the
	// query abbreviated to one line.
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ID         string `json:"id"`
	UpdatedAt  string `json:"updated_at,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Where      string `json:"where,omitempty"`
}

// MapField is one field of an object.
type MapField struct {
	Name string `json:"name"`
	// Type is the field type; refs are written "ref → company".
	Type string `json:"type"`
	// Columns holds the column on each of the object's systems (MapObject.
	// Systems order); "" where the field is not mapped.
	Columns       []string `json:"columns"`
	Normalization string   `json:"normalization"`
	Authority     string   `json:"authority"`
	Merge         string   `json:"merge"`
	Required      bool     `json:"required,omitempty"`
	Key           bool     `json:"key,omitempty"`
	// Values is the value map of an enum field (old → new), in plan order.
	Values []EnumValue `json:"values,omitempty"`
}

// MapDedup summarises an object's dedup rules.
type MapDedup struct {
	Block     []string `json:"block"`
	Compare   []string `json:"compare,omitempty"`
	AutoMerge float64  `json:"auto_merge"`
	Review    float64  `json:"review"`
	MaxBlock  int      `json:"max_block"`
	// Summary is the rules in one line.
	Summary string `json:"summary"`
}

// MapRelationship is a ref field: From ("contact.company") → To ("company").
type MapRelationship struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Columns lists "system: column" for each system the field is mapped on.
	Columns []string `json:"columns"`
}

// MapIdentifier is an object's canonical identifier.
type MapIdentifier struct {
	Object        string `json:"object"`
	Key           string `json:"key"`
	Type          string `json:"type,omitempty"`
	Normalization string `json:"normalization"`
	Dedup         string `json:"dedup"`
}

// MapIntegration is an integration without its actions (which may hold
// tokens).
type MapIntegration struct {
	Order     int      `json:"order,omitempty"`
	Name      string   `json:"name"`
	System    string   `json:"system"`
	Direction string   `json:"direction"`
	Data      []string `json:"data,omitempty"`
	Owner     string   `json:"owner,omitempty"`
	Pattern   string   `json:"pattern,omitempty"`
	Sync      string   `json:"sync,omitempty"` // "realtime", "batch every 15m0s"
	// Steps is e.g. "switch: http, verify: exec, rollback: sql".
	Steps string `json:"steps"`
}

// BuildMap returns the data-model map of a loaded plan. It does no I/O.
func BuildMap(p *Plan) *Map {
	m := &Map{Plan: p.Name, Timezone: p.Timezone, DefaultRegion: p.DefaultRegion,
		Systems: []MapSystem{}, Objects: []MapObject{}, Relationships: []MapRelationship{},
		Identifiers: []MapIdentifier{}, Integrations: []MapIntegration{}}
	for _, s := range p.Systems {
		ms := MapSystem{Name: s.Name, Kind: s.Kind, Role: "source"}
		switch s.Name {
		case SystemOld:
			ms.Role = "old"
		case SystemNew:
			ms.Role = "new"
		}
		switch s.Kind {
		case KindPostgres:
			ms.Location = RedactURL(s.URL)
		case KindCSV:
			ms.Location = s.Dir
			ms.Dialect = s.Dialect
		}
		m.Systems = append(m.Systems, ms)
	}
	for _, o := range p.Objects {
		mo := MapObject{Name: o.Name, Key: o.Key, OnDelete: o.OnDelete, Systems: []string{}, Sources: []MapSource{}, Fields: []MapField{}}
		for _, mp := range o.Mappings {
			mo.Systems = append(mo.Systems, mp.System)
			src := MapSource{System: mp.System, ID: mp.ID, UpdatedAt: mp.UpdatedAt, ExternalID: mp.ExternalID, Where: mp.Where}
			switch {
			case mp.Table != "":
				src.Kind, src.Name = "table", mp.Table
			case mp.Query != "":
				src.Kind, src.Name = "query", abbreviate(mp.Query, 60)
			default:
				src.Kind, src.Name = "file", mp.File
			}
			mo.Sources = append(mo.Sources, src)
		}
		for _, f := range o.Fields {
			mf := MapField{Name: f.Name, Type: f.Type, Normalization: Normalization(p, f),
				Authority: f.Authority, Merge: f.Merge, Required: f.Required, Key: f.Name == o.Key}
			if f.Type == TypeRef {
				mf.Type = "ref → " + f.To
			}
			if f.Type == TypeMoney && f.Currency != "" {
				mf.Type = "money (" + f.Currency + ")"
			}
			for _, s := range mo.Systems {
				c, _ := f.Column(s)
				mf.Columns = append(mf.Columns, c)
			}
			if f.Type == TypeEnum {
				mf.Values = f.Values
			}
			mo.Fields = append(mo.Fields, mf)
			if f.Type == TypeRef {
				r := MapRelationship{From: o.Name + "." + f.Name, To: f.To, Columns: []string{}}
				for _, c := range f.Columns {
					r.Columns = append(r.Columns, c.System+": "+c.Name)
				}
				m.Relationships = append(m.Relationships, r)
			}
		}
		if dd := o.Dedup; dd != nil {
			md := &MapDedup{AutoMerge: dd.AutoMerge, Review: dd.Review, MaxBlock: dd.MaxBlock, Block: []string{}}
			for _, b := range dd.Block {
				md.Block = append(md.Block, b.Raw)
			}
			for _, c := range dd.Compare {
				s := c.Field + " " + c.Method
				if c.Weight > 0 {
					s += " ×" + strconv.FormatFloat(c.Weight, 'f', -1, 64)
				}
				md.Compare = append(md.Compare, s)
			}
			md.Summary = "block on " + strings.Join(md.Block, " | ")
			if len(md.Compare) > 0 {
				md.Summary += "; compare " + strings.Join(md.Compare, ", ")
			}
			md.Summary += fmt.Sprintf("; auto-merge ≥ %s, review ≥ %s; blocks up to %d",
				strconv.FormatFloat(dd.AutoMerge, 'f', -1, 64), strconv.FormatFloat(dd.Review, 'f', -1, 64), dd.MaxBlock)
			mo.Dedup = md
		}
		id := MapIdentifier{Object: o.Name, Key: o.Key}
		if kf := o.KeyField(); kf != nil {
			id.Type = kf.Type
			id.Normalization = Normalization(p, kf)
			id.Dedup = "exact on " + o.Key
			if mo.Dedup != nil {
				id.Dedup += ", then fuzzy"
			}
		} else {
			id.Normalization = "no canonical key"
			id.Dedup = "fuzzy only"
			if mo.Dedup == nil {
				id.Dedup = "none (no dedup rules)"
			}
		}
		m.Identifiers = append(m.Identifiers, id)
		m.Objects = append(m.Objects, mo)
	}
	for _, in := range p.Integrations {
		mi := MapIntegration{Order: in.Order, Name: in.Name, System: in.System, Direction: in.Direction,
			Data: in.Data, Owner: in.Owner, Pattern: in.Pattern, Sync: in.Sync}
		if in.Sync == "batch" {
			mi.Sync = "batch every " + time.Duration(in.SyncEvery).String()
		}
		var steps []string
		for _, st := range []struct {
			name string
			a    *Action
		}{{"switch", in.Switch}, {"verify", in.Verify}, {"rollback", in.Rollback}} {
			if k := st.a.Kind(); k != "" {
				steps = append(steps, st.name+": "+k)
			}
		}
		mi.Steps = strings.Join(steps, ", ")
		m.Integrations = append(m.Integrations, mi)
	}
	// Switch order: integrations with an order first, then the rest as written.
	sort.SliceStable(m.Integrations, func(i, j int) bool {
		a, b := m.Integrations[i].Order, m.Integrations[j].Order
		return a > 0 && (b == 0 || a < b)
	})
	return m
}

// Normalization describes in words how values of field f are normalized into
// the canonical string that diffs and digests compare. The clean package
// implements these rules.
func Normalization(p *Plan, f *Field) string {
	switch f.Type {
	case TypeText:
		return "trim, collapse spaces, NFC"
	case TypeEmail:
		return "trim, lower-case, NFC, syntax check"
	case TypePhone:
		if p.DefaultRegion != "" {
			return "E.164 (default region " + p.DefaultRegion + ")"
		}
		return "E.164 (country code required)"
	case TypeDomain:
		return "registrable domain; free-mail excluded"
	case TypeURL:
		return "trim, lower-case scheme and host, no trailing slash"
	case TypeNumber:
		return "decimal, canonical form"
	case TypeMoney:
		if f.Currency != "" {
			return "decimal, 2 places; " + f.Currency
		}
		return "decimal, 2 places"
	case TypeDate:
		return "YYYY-MM-DD"
	case TypeDateTime:
		return "RFC 3339 UTC (naive values in " + p.Timezone + ")"
	case TypeBool:
		return "true/false (yes/no, 1/0 accepted)"
	case TypeEnum:
		return fmt.Sprintf("trim, value map (%d); unknown values kept and flagged", len(f.Values))
	case TypeRef:
		return "id via crosswalk to " + f.To
	case TypeUser:
		return "owner email, lower-case; users.map, else default owner"
	}
	return ""
}

// abbreviate collapses white space and cuts s to at most n runes.
func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
