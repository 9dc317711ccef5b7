package plans

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	integrationKeys = []string{"name", "system", "direction", "data", "fields", "owner", "pattern", "sync", "order", "description", "switch", "verify", "rollback"}
	patterns        = []string{"point_to_point", "middleware", "queue"}
	directions      = []string{DirToCRM, DirFromCRM, DirBoth}
	actionKinds     = []string{"http", "exec", "sql"}
	httpMethods     = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
)

func (d *decoder) integrations(top *mnode, p *Plan, sys *sysInfo) {
	p.Integrations = []*Integration{}
	items, ok := d.list(top.get("integrations"), "integrations")
	if !ok {
		return
	}
	names := map[string]*yaml.Node{}
	orders := map[int]*yaml.Node{}
	for i, it := range items {
		path := fmt.Sprintf("integrations[%d]", i)
		m := d.mapping(it, it, path)
		if m == nil {
			continue
		}
		m.only(integrationKeys...)
		in := &Integration{Line: it.Line, Pos: pos(it)}
		if m.require("name", "add name: SHORT-NAME, e.g. marketing-automation") {
			if s, n, ok := m.str("name"); ok {
				switch f, dup := names[s]; {
				case !isSlug(s):
					d.errf(n, path+".name", "use lower-case letters, digits, '.', '_' and '-', e.g. marketing-automation", "invalid integration name %s", d.show(n))
				case dup:
					d.errf(n, path+".name", "give each integration its own name", "duplicate integration name %q (first at line %d)", s, f.Line)
				default:
					names[s] = n
					in.Name = s
				}
			}
		}
		if m.require("system", "add system: PRODUCT, the external product (e.g. HubSpot Marketing Hub)") {
			in.System, _, _ = m.str("system")
		}
		if m.require("direction", "add direction: to_crm, from_crm or both") {
			in.Direction, _ = m.enum("direction", directions)
		}
		if n := m.get("data"); n != nil {
			in.Data, _, _ = d.strList(n, path+".data")
		}
		if n := m.get("fields"); n != nil {
			fields, nodes, _ := d.strList(n, path+".fields")
			for k, f := range fields {
				obj, field, _ := strings.Cut(f, ".")
				o := p.Object(obj)
				switch {
				case o == nil:
					d.errf(nodes[k], fmt.Sprintf("%s.fields[%d]", path, k), "write OBJECT.FIELD with an object of the plan ("+strings.Join(p.ObjectNames(), ", ")+")",
						"unknown object in %q", f)
				case o.Field(field) == nil:
					d.errf(nodes[k], fmt.Sprintf("%s.fields[%d]", path, k), "write OBJECT.FIELD with a field of "+obj, "unknown field in %q", f)
				default:
					in.Fields = append(in.Fields, f)
				}
			}
		}
		in.Owner, _, _ = m.str("owner")
		if m.has("pattern") {
			in.Pattern, _ = m.enum("pattern", patterns)
		}
		if n := m.get("sync"); n != nil {
			if n.Kind == yaml.ScalarNode {
				if s, _, ok := m.str("sync"); ok {
					if s != "realtime" {
						d.errf(n, path+".sync", "write sync: realtime, or sync: {batch: 15m} for a batch every 15 minutes", "invalid sync %s", d.show(n))
					} else {
						in.Sync = "realtime"
					}
				}
			} else if sm := d.mapping(m.keyNode("sync"), n, path+".sync"); sm != nil {
				sm.only("batch")
				if sm.require("batch", "add batch: 15m, how often the batch runs") {
					if v, ok := d.duration(sm.get("batch"), path+".sync.batch", Duration(time.Second)); ok {
						in.Sync, in.SyncEvery = "batch", v
					}
				}
			}
		}
		in.Description, _, _ = m.str("description")
		if v, ok := m.integer("order", 1, 1000); ok {
			if f, dup := orders[v]; dup {
				d.errf(m.get("order"), path+".order", "give each integration its own place in the switch order", "duplicate order %d (first at line %d)", v, f.Line)
			} else {
				orders[v] = m.get("order")
				in.Order = v
			}
		}
		if m.require("switch", "add switch: {http: {...}} (or exec: / sql:), the step that points the integration at the new CRM") {
			in.Switch = d.action(m.keyNode("switch"), m.get("switch"), path+".switch", p, sys)
		}
		if m.has("verify") {
			in.Verify = d.action(m.keyNode("verify"), m.get("verify"), path+".verify", p, sys)
		}
		if m.has("rollback") {
			in.Rollback = d.action(m.keyNode("rollback"), m.get("rollback"), path+".rollback", p, sys)
		}
		p.Integrations = append(p.Integrations, in)
	}
}

func (d *decoder) action(k, v *yaml.Node, path string, p *Plan, sys *sysInfo) *Action {
	m := d.mapping(k, v, path)
	if m == nil {
		return nil
	}
	m.only(actionKinds...)
	var present []string
	for _, kind := range actionKinds {
		if m.has(kind) {
			present = append(present, kind)
		}
	}
	if len(present) == 0 {
		if len(m.keys) == 0 {
			d.errf(m.at, path, "give exactly one of http:, exec: or sql:", "no action")
		}
		return nil
	}
	if len(present) > 1 {
		d.errf(m.keyNode(present[1]), path, "give exactly one of http:, exec: or sql: per step", "%s and %s are both set; keep one", present[0], present[1])
		return nil
	}
	a := &Action{Pos: pos(k)}
	kind := present[0]
	sub := path + "." + kind
	am := d.mapping(m.keyNode(kind), m.get(kind), sub)
	if am == nil {
		return nil
	}
	switch kind {
	case "http":
		am.only("method", "url", "body", "headers", "expect", "timeout")
		h := &HTTPAction{Expect: 200, Timeout: DefaultHTTPTimeout}
		if am.require("url", `add url: "https://..."`) {
			if s, n, ok := am.str("url"); ok {
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					d.errf(n, sub+".url", "write an absolute http:// or https:// URL", "invalid URL %s", d.showURL(n))
				} else {
					h.URL = s
				}
			}
		}
		h.Body, _, _ = am.str("body")
		h.Method = "GET"
		if h.Body != "" {
			h.Method = "POST"
		}
		if s, n, ok := am.str("method"); ok {
			if up := strings.ToUpper(s); contains(httpMethods, up) {
				h.Method = up
			} else {
				d.errf(n, sub+".method", oneOf(up, httpMethods), "invalid HTTP method %s", d.show(n))
			}
		}
		if hm := d.mapping(am.keyNode("headers"), am.get("headers"), sub+".headers"); hm != nil {
			for i, hk := range hm.keys {
				if val, ok := d.str(hm.vals[i], sub+".headers."+hk.Value); ok {
					h.Headers = append(h.Headers, Header{Name: hk.Value, Value: val})
				}
			}
		}
		if v, ok := am.integer("expect", 100, 599); ok {
			h.Expect = v
		}
		if n := am.get("timeout"); n != nil {
			if t, ok := d.duration(n, sub+".timeout", Duration(time.Second)); ok {
				h.Timeout = t
			}
		}
		a.HTTP = h
	case "exec":
		am.only("command", "expect_exit", "timeout")
		e := &ExecAction{Timeout: DefaultExecTimeout}
		if am.require("command", "add command: [PROGRAM, ARG, ...] (run without a shell, in the plan's folder)") {
			if list, _, ok := d.strList(am.get("command"), sub+".command"); ok {
				if len(list) == 0 {
					d.errf(am.get("command"), sub+".command", "name the program to run, e.g. command: [./check.sh, --new]", "empty command")
				}
				e.Command = list
			}
		}
		if v, ok := am.integer("expect_exit", 0, 255); ok {
			e.ExpectExit = v
		}
		if n := am.get("timeout"); n != nil {
			if t, ok := d.duration(n, sub+".timeout", Duration(time.Second)); ok {
				e.Timeout = t
			}
		}
		a.Exec = e
	case "sql":
		am.only("system", "statement", "expect_rows", "timeout")
		q := &SQLAction{Timeout: DefaultSQLTimeout}
		if am.require("system", "add system: SYSTEM, the postgres system the statement runs on") {
			if s, n, ok := am.str("system"); ok && d.checkPostgresSystem(n, sub+".system", s, sys) {
				q.System = s
			}
		}
		if am.require("statement", `add statement: "UPDATE ..."`) {
			q.Statement, _, _ = am.str("statement")
		}
		if am.has("expect_rows") {
			if v, ok := am.integer("expect_rows", 0, 1<<30); ok {
				q.ExpectRows = &v
			}
		}
		if n := am.get("timeout"); n != nil {
			if t, ok := d.duration(n, sub+".timeout", Duration(time.Second)); ok {
				q.Timeout = t
			}
		}
		a.SQL = q
	}
	return a
}
