package crm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/crmigrate/crmigrate/plans"
)

// ErrNotFound is returned (wrapped) by connectors for a table or file that does not exist.
var ErrNotFound = errors.New("not found")

// Inspector is an optional power of a Source: it lists the columns (or CSV headers) of an
// object's mapping without reading records; a missing table or file is ErrNotFound.
type Inspector interface {
	Columns(ctx context.Context, m *plans.Mapping) ([]string, error)
}

// SystemCheck is what the connect check found on one system.
type SystemCheck struct {
	System  string `json:"system"`
	Kind    string `json:"kind"`
	OK      bool   `json:"ok"`
	Checked int    `json:"checked"` // tables/files and columns looked at
	Error   string `json:"error,omitempty"`
}

// URLFunc gives the connection URL of a postgres system (starting the private cluster for local:).
type URLFunc func(ctx context.Context, s *plans.System) (string, error)

// CheckMappings connects to every system of the plan and reports each mapped table, query, file or
// column that does not exist, as plan errors at the line that names it. Systems it cannot reach
// are reported in the SystemCheck list (and as an error at the system's line).
func CheckMappings(ctx context.Context, p *plans.Plan, urlFor URLFunc) ([]SystemCheck, plans.Errors) {
	var errs plans.Errors
	var out []SystemCheck
	at := func(pos plans.Pos, msg, hint string) {
		if pos.Line == 0 {
			pos = plans.Pos{Line: 1, Col: 1}
		}
		errs = append(errs, &plans.Error{File: p.File, Line: pos.Line, Col: pos.Col, Msg: msg, Hint: hint})
	}
	env := Env{Plan: p, URL: urlFor}
	for _, s := range p.Systems {
		sc := SystemCheck{System: s.Name, Kind: s.Kind, OK: true}
		before := len(errs)
		src, err := Open(ctx, s, env)
		if err != nil {
			sc.OK, sc.Error = false, err.Error()
			at(s.Pos, err.Error(), "check the system's settings and that it is reachable")
			out = append(out, sc)
			continue
		}
		insp, ok := src.(Inspector)
		if !ok {
			src.Close()
			sc.Error = "this connector cannot list columns; not checked"
			out = append(out, sc)
			continue
		}
		for _, o := range p.Objects {
			m := o.Mapping(s.Name)
			if m == nil || (s.Name == plans.SystemNew && s.Kind == plans.KindCSV) {
				continue // import files for the new CRM are written by migrate, not read
			}
			sc.Checked++
			where, whereKey := m.Table, "table"
			if m.Query != "" {
				where, whereKey = "the query", "query"
			} else if m.File != "" {
				where, whereKey = m.File, "file"
			}
			cols, err := insp.Columns(ctx, m)
			if errors.Is(err, ErrNotFound) {
				what := "table"
				if whereKey == "file" {
					what = "file"
				}
				at(m.PosOf(whereKey), fmt.Sprintf("%s %q does not exist on system %s", what, where, s.Name),
					"check the name in the plan (and the schema or the system's dir)")
				continue
			}
			if err != nil {
				at(m.PosOf(whereKey), fmt.Sprintf("objects.%s.%s: %v", o.Name, s.Name, err), "fix the mapping so that crmigrate can read it")
				continue
			}
			has := columnSet(cols, s.Kind == plans.KindCSV)
			need := func(col string, pos plans.Pos, what string) {
				sc.Checked++
				if col == "" || has(col) {
					return
				}
				at(pos, fmt.Sprintf("%s column %q not found in %s on system %s", what, col, where, s.Name),
					"columns there: "+preview(cols))
			}
			need(m.ID, m.PosOf("id"), "objects."+o.Name+"."+s.Name+".id:")
			need(m.UpdatedAt, m.PosOf("updated_at"), "objects."+o.Name+"."+s.Name+".updated_at:")
			need(m.ExternalID, m.PosOf("external_id"), "objects."+o.Name+"."+s.Name+".external_id:")
			for _, f := range o.Fields {
				if col, ok := f.Column(s.Name); ok {
					need(col, f.ColumnPos(s.Name), "objects."+o.Name+".fields."+f.Name+":")
				}
			}
		}
		src.Close()
		if len(errs) > before {
			sc.OK = false
		}
		out = append(out, sc)
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Col < errs[j].Col
	})
	return out, errs
}

func columnSet(cols []string, foldCase bool) func(string) bool {
	set := map[string]bool{}
	for _, c := range cols {
		set[c] = true
		if foldCase {
			set[strings.ToLower(c)] = true
		}
	}
	return func(c string) bool {
		if set[c] {
			return true
		}
		return foldCase && set[strings.ToLower(c)]
	}
}

func preview(cols []string) string {
	if len(cols) > 12 {
		return strings.Join(cols[:12], ", ") + ", …"
	}
	if len(cols) == 0 {
		return "(none)"
	}
	return strings.Join(cols, ", ")
}
