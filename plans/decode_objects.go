package plans

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	objectAttrs  = []string{"key", "fields", "dedup", "on_delete", "description"}
	fieldAttrs   = []string{"type", "merge", "authority", "values", "to", "currency", "required", "description"}
	fieldTypes   = []string{TypeText, TypeEmail, TypePhone, TypeDomain, TypeURL, TypeNumber, TypeMoney, TypeDate, TypeDateTime, TypeBool, TypeEnum, TypeRef, TypeUser}
	authorities  = []string{AuthorityOld, AuthorityNew, AuthorityMostRecent, AuthorityReview}
	mergeRules   = []string{"most_recent", "longest", "non_empty", "prefer:SYSTEM", "max", "sum", "review"}
	onDeletes    = []string{"ignore", "archive", "delete"}
	pgMapKeys    = []string{"table", "query", "id", "updated_at", "external_id", "where", "archived"}
	csvMapKeys   = []string{"file", "id", "updated_at"}
	compareKeys  = []string{"method", "weight"}
	methods      = []string{"exact", "jaro_winkler", "levenshtein", "token_set", "numeric", "date", "name", "phone", "email"}
	transforms   = []string{"prefixN", "soundex", "metaphone", "exact", "digits", "year"}
	dedupKeys    = []string{"block", "compare", "auto_merge", "review", "max_block"}
	numericTypes = map[string]bool{TypeNumber: true, TypeMoney: true}
	dateTypes    = map[string]bool{TypeDate: true, TypeDateTime: true}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) objects(top *mnode, p *Plan, sys *sysInfo) {
	d.objNames = map[string]bool{}
	if !top.require("objects", "add objects: with at least one object, e.g. contact: {key: email, old: {table: contacts, id: id}, fields: {...}}") {
		return
	}
	m := d.mapping(top.keyNode("objects"), top.get("objects"), "objects")
	if m == nil {
		return
	}
	if len(m.keys) == 0 {
		d.errf(m.at, "objects", "add at least one object, e.g. contact: {key: email, old: {table: contacts, id: id}, fields: {...}}", "no objects")
		return
	}
	for _, k := range m.keys {
		d.objNames[k.Value] = true
		d.objOrder = append(d.objOrder, k.Value)
	}
	for i, k := range m.keys {
		o := d.object(k, m.vals[i], p, sys)
		if o != nil {
			p.Objects = append(p.Objects, o)
		}
	}
}

func (d *decoder) object(k, v *yaml.Node, p *Plan, sys *sysInfo) *Object {
	name := k.Value
	path := "objects." + name
	if !isIdent(name) {
		d.errf(k, "objects", "use lower-case letters, digits and _, starting with a letter (e.g. contact)", "invalid object name %q", name)
	}
	m := d.mapping(k, v, path)
	if m == nil {
		return nil
	}
	o := &Object{Name: name, Line: k.Line, Pos: pos(k), OnDelete: "ignore"}
	known := append(append([]string(nil), objectAttrs...), sys.order...)
	m.unknown(func(key string) bool { return contains(objectAttrs, key) || !sys.known || sys.has(key) },
		known, func(key string) string { return d.explainSystemKey(key, sys, "mapping") })

	// Per-system mappings, in system order.
	for _, s := range sys.order {
		if !m.has(s) {
			continue
		}
		if mp := d.objectMapping(m.keyNode(s), m.get(s), path+"."+s, s, sys.kind[s]); mp != nil {
			o.Mappings = append(o.Mappings, mp)
		}
	}
	if sys.known {
		src := false
		for _, s := range sys.order {
			src = src || s != SystemNew && m.has(s)
		}
		if !src {
			d.errf(k, path, "add old: {table: TABLE, id: ID_COLUMN} (or a mapping on another source system)",
				"no mapping on a source system")
		}
	}

	// Fields.
	fieldNames := map[string]bool{}
	var fieldOrder []string
	if m.require("fields", "add fields: with at least the key field, e.g. email: {type: email, old: email, new: email}") {
		fm := d.mapping(m.keyNode("fields"), m.get("fields"), path+".fields")
		if fm != nil && len(fm.keys) == 0 {
			d.errf(fm.at, path+".fields", "add at least one field, e.g. email: {type: email, old: email, new: email}", "no fields")
		}
		if fm != nil {
			for _, fk := range fm.keys {
				fieldNames[fk.Value] = true
				fieldOrder = append(fieldOrder, fk.Value)
			}
			for i, fk := range fm.keys {
				f := d.field(fk, fm.vals[i], path+".fields."+fk.Value, m, sys)
				if f == nil {
					continue
				}
				if f.Type == TypeUser && d.userField == nil {
					d.userField, d.userPath = fk, path+".fields."+fk.Value
				}
				o.Fields = append(o.Fields, f)
			}
		}
	}

	// Canonical key.
	if m.require("key", "add key: FIELD (the canonical identifier, e.g. email) or key: none for fuzzy dedup only") {
		if s, n, ok := m.str("key"); ok {
			o.KeyPos = pos(n)
			if s == KeyNone || fieldNames[s] {
				o.Key = s
			} else if len(fieldOrder) > 0 {
				d.errf(n, path+".key", oneOf(s, append(append([]string(nil), fieldOrder...), KeyNone)),
					"key %q is not a field of %s", s, name)
			}
		}
	}

	if v, ok := m.enum("on_delete", onDeletes); ok {
		o.OnDelete = v
		if nm := o.Mapping(SystemNew); v == "archive" && nm != nil && nm.Archived == "" && sys.kind[SystemNew] == KindPostgres {
			d.errf(m.keyNode("on_delete"), path+".on_delete", "add archived: COLUMN (a boolean or timestamp column) to objects."+name+".new, or use on_delete: delete or ignore",
				"on_delete: archive needs a column that marks archived rows in the new CRM")
		}
	}
	o.Description, _, _ = m.str("description")

	if m.has("dedup") {
		o.Dedup = d.dedup(m.keyNode("dedup"), m.get("dedup"), path+".dedup", name, fieldOrder, o)
	}
	return o
}

// explainSystemKey gives a hint for an unknown key where system names are
// allowed (object and field mappings).
func (d *decoder) explainSystemKey(key string, sys *sysInfo, what string) string {
	if key == SystemNew && sys.known && !sys.has(SystemNew) {
		return "there is no system named `new`; add new: {kind: postgres, url: ...} under systems, or remove this " + what
	}
	if contains(pgMapKeys, key) || contains(csvMapKeys, key) {
		return fmt.Sprintf("`%s` belongs inside a system's mapping, e.g. old: {%s: ...}", key, key)
	}
	return ""
}

func (d *decoder) objectMapping(k, v *yaml.Node, path, system, kind string) *Mapping {
	m := d.mapping(k, v, path)
	if m == nil {
		return nil
	}
	mp := &Mapping{System: system, Line: k.Line, Pos: pos(k), KeyPos: map[string]Pos{}}
	for i, kk := range m.keys {
		mp.KeyPos[kk.Value] = pos(d.deref(m.vals[i]))
	}
	switch kind {
	case KindPostgres:
		m.unknown(func(key string) bool { return contains(pgMapKeys, key) }, pgMapKeys, func(key string) string {
			if key == "file" {
				return fmt.Sprintf("`file` is for csv systems; %s is postgres: use table or query", system)
			}
			return ""
		})
		hasT, hasQ := m.has("table"), m.has("query")
		switch {
		case hasT && hasQ:
			at := m.keyNode("query")
			if at.Line < m.keyNode("table").Line || at.Line == m.keyNode("table").Line && at.Column < m.keyNode("table").Column {
				at = m.keyNode("table")
			}
			d.errf(at, path, "keep one: table: NAME reads a table, query: \"SELECT ...\" reads the result of a query",
				"table and query are both set; keep one")
		case !hasT && !hasQ:
			d.errf(m.at, path, "add table: TABLE_NAME or query: \"SELECT ...\"", "missing table or query")
		case hasT:
			mp.Table, _, _ = m.str("table")
		case hasQ && system == SystemNew:
			d.errf(m.keyNode("query"), path, "the new CRM is written to; use table: TABLE_NAME", "query cannot be used on the new system")
		case hasQ:
			if q, n, ok := m.str("query"); ok {
				first := strings.ToLower(strings.Fields(q)[0])
				if first != "select" && first != "with" && first != "(select" {
					d.errf(n, path+".query", "write a SELECT (or WITH ... SELECT) statement; crmigrate only reads from this query",
						"query must be a SELECT")
				} else {
					mp.Query = q
				}
			}
			if m.has("where") {
				d.errf(m.keyNode("where"), path, "put the condition into the query's WHERE clause", "where is only used with table")
			}
		}
		mp.ExternalID, _, _ = m.str("external_id")
		if a, n, ok := m.str("archived"); ok {
			if system != SystemNew {
				d.errf(n, path+".archived", "archived names the column of the new CRM that marks archived rows; put it in the new mapping", "archived is only used on the new system")
			} else {
				mp.Archived = a
			}
		}
		if w, _, ok := m.str("where"); ok && hasT {
			mp.Where = w
		}
	case KindCSV:
		m.unknown(func(key string) bool { return contains(csvMapKeys, key) }, csvMapKeys, func(key string) string {
			if contains(pgMapKeys, key) {
				return fmt.Sprintf("`%s` is for postgres systems; %s is csv: use file, id and updated_at", key, system)
			}
			return ""
		})
		if m.require("file", "add file: NAME.csv, the export file in the system's dir") {
			mp.File, _, _ = m.str("file")
		}
	default:
		m.only(append(append([]string(nil), pgMapKeys...), "file")...)
	}
	if m.require("id", "add id: COLUMN, the column holding the record's id on this system") {
		mp.ID, _, _ = m.str("id")
	}
	mp.UpdatedAt, _, _ = m.str("updated_at")
	return mp
}

func (d *decoder) field(k, v *yaml.Node, path string, om *mnode, sys *sysInfo) *Field {
	name := k.Value
	if !isIdent(name) || name == KeyNone {
		d.errf(k, path[:strings.LastIndexByte(path, '.')], "use lower-case letters, digits and _, starting with a letter (e.g. first_name)", "invalid field name %q", name)
	}
	m := d.mapping(k, v, path)
	if m == nil {
		return nil
	}
	f := &Field{Name: name, Line: k.Line, Pos: pos(k), Merge: "most_recent", Authority: "old"}
	known := append(append([]string(nil), fieldAttrs...), sys.order...)
	m.unknown(func(key string) bool { return contains(fieldAttrs, key) || !sys.known || sys.has(key) },
		known, func(key string) string { return d.explainSystemKey(key, sys, "column") })

	if m.require("type", "add type: one of "+strings.Join(fieldTypes, ", ")) {
		f.Type, _ = m.enum("type", fieldTypes)
	}

	// Columns, in system order.
	source := false
	for _, s := range sys.order {
		if !m.has(s) {
			continue
		}
		col, n, ok := m.str(s)
		if !ok {
			source = source || s != SystemNew // reported already
			continue
		}
		if !om.has(s) {
			d.errf(m.keyNode(s), path, fmt.Sprintf("add %s: {...} to the object, or remove this column", s),
				"column on system %q, but the object has no mapping on %s", s, s)
		}
		f.Columns = append(f.Columns, &Column{System: s, Name: col, Pos: pos(n)})
		source = source || s != SystemNew
	}
	if sys.known && !source {
		d.errf(k, path, "add old: COLUMN (the column in the old CRM) or a column on another source system",
			"not mapped on any source system")
	}

	if s, n, ok := m.str("merge"); ok {
		f.Merge = ""
		sysName, isPrefer := strings.CutPrefix(s, "prefer:")
		switch {
		case isPrefer:
			if sysName == "" || sys.known && !sys.has(sysName) {
				hint := "write prefer:SYSTEM with one of the plan's systems: " + strings.Join(sys.order, ", ")
				if sg := suggest(sysName, sys.order); sg != "" {
					hint = fmt.Sprintf("did you mean `prefer:%s`? %s", sg, hint)
				}
				d.errf(n, path+".merge", hint, "merge rule %s names an unknown system %q", d.show(n), sysName)
			} else {
				f.Merge = s
			}
		case !contains(mergeRules, s) || s == "prefer:SYSTEM":
			d.errf(n, path+".merge", oneOf(s, mergeRules), "invalid merge rule %s", d.show(n))
		case s == "max" && f.Type != "" && !numericTypes[f.Type] && !dateTypes[f.Type]:
			d.errf(n, path+".merge", "use max only on number, money, date or datetime fields; try most_recent, longest, non_empty or review",
				"merge rule max does not apply to a %s field", f.Type)
		case s == "sum" && f.Type != "" && !numericTypes[f.Type]:
			d.errf(n, path+".merge", "use sum only on number or money fields; try most_recent, longest, non_empty or review",
				"merge rule sum does not apply to a %s field", f.Type)
		default:
			f.Merge = s
		}
	}
	if v, ok := m.enum("authority", authorities); ok {
		f.Authority = v
	}
	if b := m.get("required"); b != nil {
		f.Required, _ = d.boolean(b, path+".required")
	}
	f.Description, _, _ = m.str("description")

	// Type-specific attributes.
	only := func(attr, typ string) {
		if m.has(attr) && f.Type != typ && f.Type != "" {
			d.errf(m.keyNode(attr), path, fmt.Sprintf("remove %s, or set type: %s", attr, typ), "%s is only for %s fields", attr, typ)
		}
	}
	only("values", TypeEnum)
	only("to", TypeRef)
	only("currency", TypeMoney)
	switch f.Type {
	case TypeEnum:
		if m.require("values", "add values: {OLD_VALUE: NEW_VALUE, ...} mapping each old picklist value to a new one") {
			vm := d.mapping(m.keyNode("values"), m.get("values"), path+".values")
			if vm != nil && len(vm.keys) == 0 {
				d.errf(vm.at, path+".values", "map at least one old value to a new one, e.g. {MQL: marketing_qualified}", "no values")
			}
			if vm != nil {
				for i, vk := range vm.keys {
					if nv, ok := d.str(vm.vals[i], path+".values."+vk.Value); ok {
						f.Values = append(f.Values, EnumValue{Old: vk.Value, New: nv})
					}
				}
			}
		}
	case TypeRef:
		if m.require("to", "add to: OBJECT, the object this field refers to") {
			if s, n, ok := m.str("to"); ok && d.checkObjectRef(n, path+".to", s) {
				f.To = s
			}
		}
	case TypeMoney:
		if s, n, ok := m.str("currency"); ok {
			if len(s) != 3 || strings.ToUpper(s) != s || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				d.errf(n, path+".currency", "use an ISO 4217 code in upper case, e.g. EUR, USD, SEK", "invalid currency %s", d.show(n))
			} else {
				f.Currency = s
			}
		}
	}
	return f
}

func (d *decoder) dedup(k, v *yaml.Node, path, object string, fieldOrder []string, o *Object) *Dedup {
	m := d.mapping(k, v, path)
	if m == nil {
		return nil
	}
	m.only(dedupKeys...)
	dd := &Dedup{AutoMerge: DefaultAutoMerge, Review: DefaultReview, MaxBlock: DefaultMaxBlock, Pos: pos(k)}
	fieldType := func(name string) (string, bool) {
		if f := o.Field(name); f != nil {
			return f.Type, true
		}
		return "", contains(fieldOrder, name)
	}
	badField := func(n *yaml.Node, p, field, in string) {
		hint := fmt.Sprintf("use a field of %s: %s", object, strings.Join(fieldOrder, ", "))
		if s := suggest(field, fieldOrder); s != "" {
			hint = fmt.Sprintf("did you mean `%s`? %s", s, hint)
		}
		d.errf(n, p, hint, "unknown field %q%s", field, in)
	}

	if m.require("block", `add block: [email, "last_name:prefix3+company"], the keys that group candidate duplicates`) {
		items, nodes, _ := d.strList(m.get("block"), path+".block")
		if len(items) == 0 && len(nodes) == 0 {
			if bn := m.get("block"); bn != nil && bn.Kind == yaml.SequenceNode {
				d.errf(bn, path+".block", `add at least one blocking key, e.g. block: [email]`, "no blocking keys")
			}
		}
		for i, raw := range items {
			p := fmt.Sprintf("%s.block[%d]", path, i)
			n := nodes[i]
			bk := &BlockKey{Raw: raw, Pos: pos(n)}
			ok := true
			for _, part := range strings.Split(raw, "+") {
				part = strings.TrimSpace(part)
				field, tr, hasTr := strings.Cut(part, ":")
				if field == "" {
					d.errf(n, p, `write FIELD[:TRANSFORM] parts joined by +, e.g. "last_name:prefix3+company"`, "empty part in %s", d.show(n))
					ok = false
					continue
				}
				bp := BlockPart{Field: field}
				typ, exists := fieldType(field)
				if !exists {
					badField(n, p, field, " in "+d.show(n))
					ok = false
				}
				if hasTr {
					switch {
					case tr == "soundex", tr == "metaphone", tr == "exact", tr == "digits":
						bp.Transform = tr
					case tr == "year":
						bp.Transform = tr
						if typ != "" && !dateTypes[typ] {
							d.errf(n, p, "use year only on date or datetime fields", "transform year does not apply to %s, a %s field", field, typ)
							ok = false
						}
					case strings.HasPrefix(tr, "prefix"):
						nn, err := strconv.Atoi(strings.TrimPrefix(tr, "prefix"))
						if err != nil || nn < 1 || nn > 20 || strings.TrimPrefix(tr, "prefix") != strconv.Itoa(nn) {
							d.errf(n, p, "write prefixN with N from 1 to 20, e.g. last_name:prefix3", "invalid transform %q in %s", tr, d.show(n))
							ok = false
						}
						bp.Transform, bp.N = "prefix", nn
					default:
						d.errf(n, p, oneOf(tr, transforms), "unknown transform %q in %s", tr, d.show(n))
						ok = false
					}
				}
				bk.Parts = append(bk.Parts, bp)
			}
			if ok {
				dd.Block = append(dd.Block, bk)
			}
		}
	}

	if cm := d.mapping(m.keyNode("compare"), m.get("compare"), path+".compare"); cm != nil {
		for i, ck := range cm.keys {
			p := path + ".compare." + ck.Value
			typ, exists := fieldType(ck.Value)
			if !exists {
				badField(ck, path+".compare", ck.Value, "")
				continue
			}
			em := d.mapping(ck, cm.vals[i], p)
			if em == nil {
				continue
			}
			em.only(compareKeys...)
			c := &Compare{Field: ck.Value, Pos: pos(ck)}
			if em.require("method", "add method: one of "+strings.Join(methods, ", ")) {
				c.Method, _ = em.enum("method", methods)
				switch {
				case c.Method == "numeric" && typ != "" && !numericTypes[typ]:
					d.errf(em.get("method"), p+".method", "use numeric on number or money fields", "method numeric does not apply to a %s field", typ)
				case c.Method == "date" && typ != "" && !dateTypes[typ]:
					d.errf(em.get("method"), p+".method", "use date on date or datetime fields", "method date does not apply to a %s field", typ)
				}
			}
			if wn := em.get("weight"); wn != nil {
				if w, ok := d.number(wn, p+".weight"); ok {
					if w <= 0 {
						d.errf(wn, p+".weight", "use a positive number, or leave weight out to learn it", "weight must be positive")
					} else {
						c.Weight = w
					}
				}
			}
			dd.Compare = append(dd.Compare, c)
		}
	}

	amOK, rvOK := true, true
	if n := m.get("auto_merge"); n != nil {
		dd.AutoMerge, amOK = d.percent(n, path+".auto_merge", 0, 1, true)
	}
	if n := m.get("review"); n != nil {
		dd.Review, rvOK = d.percent(n, path+".review", 0, 1, true)
	}
	if amOK && rvOK && dd.Review > dd.AutoMerge {
		at := m.get("review")
		if at == nil {
			at = m.get("auto_merge")
		}
		d.errf(at, path, "make review at most auto_merge: pairs scoring from review up to auto_merge go to manual review",
			"review (%s) is above auto_merge (%s)", strconv.FormatFloat(dd.Review, 'f', -1, 64), strconv.FormatFloat(dd.AutoMerge, 'f', -1, 64))
	}
	if v, ok := m.integer("max_block", 1, 1000000); ok {
		dd.MaxBlock = v
	}
	return dd
}
