package plans

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must load on hosts without zoneinfo

	"go.yaml.in/yaml/v3"
)

// Defaults for keys a plan leaves out.
const (
	DefaultTimezone      = "UTC"
	DefaultAutoMerge     = 0.92
	DefaultReview        = 0.80
	DefaultMaxBlock      = 1000
	DefaultMaxRejectRate = 0.01
	DefaultBatchSize     = 1000
	DefaultWorkers       = 2
	DefaultMinDays       = 30
	DefaultMaxDays       = 60
	DefaultEvery         = Duration(24 * time.Hour)
	DefaultGrace         = Duration(15 * time.Minute)
	DefaultOverlap       = Duration(time.Hour)
	DefaultFullEvery     = Duration(7 * 24 * time.Hour)
	DefaultParityDays    = 7
	DefaultHTTPTimeout   = Duration(30 * time.Second)
	DefaultExecTimeout   = Duration(time.Minute)
	DefaultSQLTimeout    = Duration(time.Minute)
)

// DefaultNeverOn are the weekdays without cutover when cutover.never_on is
// not given.
var DefaultNeverOn = []string{"friday", "saturday", "sunday"}

var topKeys = []string{"name", "timezone", "default_region", "state", "systems", "objects",
	"users", "clean", "migrate", "checks", "parallel_run", "cutover", "integrations"}

// plan decodes the root mapping into p.
func (d *decoder) plan(root *yaml.Node, p *Plan) {
	root = d.deref(root)
	if root == nil {
		return
	}
	if root.Kind != yaml.MappingNode {
		d.add(root, fmt.Sprintf("the plan must be a mapping of keys, found %s", d.describe(root)),
			"start with name: and systems: at the left margin (see docs/plan.md)")
		return
	}
	m := d.mapping(root, root, "")
	m.only(topKeys...)

	if m.require("name", "add name: acme-crm-move at the top; it identifies the project in the control database") {
		if s, n, ok := m.str("name"); ok {
			if isSlug(s) {
				p.Name = s
			} else {
				d.errf(n, "name", "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters, e.g. acme-crm-move",
					"invalid plan name %s", d.show(n))
			}
		}
	}

	p.Timezone, p.Location = DefaultTimezone, time.UTC
	if s, n, ok := m.str("timezone"); ok {
		loc, err := time.LoadLocation(s)
		if err != nil || s == "Local" {
			d.errf(n, "timezone", "use an IANA time zone name such as Europe/Stockholm, America/New_York or UTC",
				"unknown time zone %s", d.show(n))
		} else {
			p.Timezone, p.Location = s, loc
		}
	}

	if s, n, ok := m.str("default_region"); ok {
		switch up := strings.ToUpper(s); {
		case up == "UK":
			d.errf(n, "default_region", "use GB for the United Kingdom (ISO 3166 alpha-2)", "unknown region %s", d.show(n))
		case !regions[up]:
			d.errf(n, "default_region", "use an ISO 3166 alpha-2 country code such as SE, DE, FR or US", "unknown region %s", d.show(n))
		case up != s:
			d.errf(n, "default_region", "write it in upper case: "+up, "region %s must be upper case", d.show(n))
		default:
			p.DefaultRegion = s
		}
	}

	if sm := d.mapping(m.keyNode("state"), m.get("state"), "state"); sm != nil {
		sm.only("url")
		if n := sm.get("url"); n != nil {
			p.State.Pos = pos(n)
			if n.Kind == yaml.ScalarNode && !isNull(n) && strings.TrimSpace(n.Value) == "" {
				// ${CRMIGRATE_STATE_URL:-} that is empty: the default cluster.
			} else if s, ok := d.str(n, "state.url"); ok {
				if d.checkPostgresURL(n, "state.url", s) {
					p.State.URL = s
				}
			}
		}
	}

	sys := d.systems(m, p)
	d.objects(m, p, sys)
	d.users(m, p)
	d.clean(m, p)
	d.migrate(m, p)
	d.checks(m, p, sys)
	d.parallelRun(m, p)
	d.cutover(m, p)
	d.integrations(m, p, sys)
}

// sysInfo is what later sections need to know about the systems section.
type sysInfo struct {
	// known is false when `systems:` is missing or not a mapping; checks that
	// depend on system names are then skipped to avoid a cascade of errors.
	known bool
	order []string          // names as written, in order
	kind  map[string]string // "" when the kind is missing or invalid
}

func (s *sysInfo) has(name string) bool {
	_, ok := s.kind[name]
	return ok
}

var reservedSystemNames = map[string]bool{
	"key": true, "fields": true, "dedup": true, "on_delete": true, "description": true,
	"type": true, "merge": true, "authority": true, "values": true, "to": true,
	"currency": true, "required": true, "none": true,
}

var (
	kinds    = []string{KindPostgres, KindCSV}
	dialects = []string{"hubspot", "salesforce", "generic"}
	encs     = []string{"utf-8", "utf-16", "windows-1252"}
)

func (d *decoder) systems(top *mnode, p *Plan) *sysInfo {
	info := &sysInfo{kind: map[string]string{}}
	if !top.require("systems", `add systems: with at least old: {kind: postgres, url: "${OLD_CRM_URL}"}`) {
		return info
	}
	p.SystemsPos = pos(top.keyNode("systems"))
	m := d.mapping(top.keyNode("systems"), top.get("systems"), "systems")
	if m == nil {
		return info
	}
	info.known = true
	for i, k := range m.keys {
		name := k.Value
		path := "systems." + name
		info.order = append(info.order, name)
		info.kind[name] = ""
		switch {
		case reservedSystemNames[name]:
			d.errf(k, "systems", "pick another name; objects and fields use this word as an attribute", "system name %q is reserved", name)
		case !isIdent(name):
			d.errf(k, "systems", "use lower-case letters, digits and _, starting with a letter (e.g. old, new, marketing)", "invalid system name %q", name)
		}
		sm := d.mapping(k, m.vals[i], path)
		if sm == nil {
			continue
		}
		s := &System{Name: name, Line: k.Line, Pos: pos(k), KeyPos: map[string]Pos{}}
		for j, kk := range sm.keys {
			s.KeyPos[kk.Value] = pos(d.deref(sm.vals[j]))
		}
		if desc, _, ok := sm.str("description"); ok {
			s.Description = desc
		}
		kind := ""
		if sm.require("kind", "add kind: postgres or kind: csv") {
			kind, _ = sm.enum("kind", kinds)
		}
		info.kind[name] = kind
		s.Kind = kind
		switch kind {
		case KindPostgres:
			sm.unknown(func(k string) bool { return k == "kind" || k == "url" || k == "description" },
				[]string{"kind", "url", "description"}, func(k string) string {
					switch k {
					case "dir", "dialect", "encoding", "delimiter", "max_record_mb":
						return fmt.Sprintf("`%s` is for csv systems; a postgres system takes url", k)
					}
					return ""
				})
			if sm.require("url", `add url: "${OLD_CRM_URL}" (postgres://USER@HOST:PORT/DB, a key=value string, or local:DBNAME)`) {
				if u, n, ok := sm.str("url"); ok && d.checkPostgresURL(n, path+".url", u) {
					s.URL = u
				}
			}
		case KindCSV:
			sm.unknown(func(k string) bool {
				switch k {
				case "kind", "dir", "dialect", "encoding", "delimiter", "max_record_mb", "description":
					return true
				}
				return false
			}, []string{"kind", "dir", "dialect", "encoding", "delimiter", "max_record_mb", "description"}, func(k string) string {
				if k == "url" {
					return "`url` is for postgres systems; a csv system takes dir (the folder of the export files)"
				}
				return ""
			})
			if sm.require("dir", "add dir: FOLDER, the folder holding the export files (relative to the plan file)") {
				s.Dir, _, _ = sm.str("dir")
			}
			s.Dialect = "generic"
			if v, ok := sm.enum("dialect", dialects); ok {
				s.Dialect = v
			}
			// Empty encoding and delimiter mean "detect" (BOM, UTF-8 validity, most frequent separator).
			if v, ok := sm.enum("encoding", encs); ok {
				s.Encoding = v
			}
			if v, n, ok := sm.str("delimiter"); ok {
				r := []rune(v)
				if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
					d.errf(n, path+".delimiter", `use one character such as ",", ";", "|" or "\t"`, "delimiter %s must be one character", d.show(n))
				} else {
					s.Delimiter = v
				}
			}
			if v, ok := sm.integer("max_record_mb", 1, 4096); ok {
				s.MaxRecordMB = v
			}
		default:
			sm.only("kind", "url", "dir", "dialect", "encoding", "delimiter", "max_record_mb", "description")
		}
		p.Systems = append(p.Systems, s)
	}
	if !m.has(SystemOld) {
		d.errf(m.at, "systems", `add old: {kind: postgres, url: "${OLD_CRM_URL}"} describing the CRM you migrate from`,
			"missing required key %q", SystemOld)
	}
	return info
}

// checkPostgresURL validates a postgres connection string without ever
// putting it (it may hold a password) into a message.
func (d *decoder) checkPostgresURL(n *yaml.Node, path, s string) bool {
	const forms = "use postgres://USER@HOST:PORT/DB, a key=value string (host=... dbname=...), or local:DBNAME for a database in crmigrate's private cluster"
	switch {
	case strings.HasPrefix(s, "local:"):
		name := strings.TrimPrefix(s, "local:")
		if !isPGIdent(name) {
			d.errf(n, path, "after local: write a database name of lower-case letters, digits and _ (e.g. local:newcrm)",
				"invalid local database name")
			return false
		}
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			d.errf(n, path, "percent-encode special characters in the user name and password (e.g. @ as %40), or "+forms,
				"cannot parse the PostgreSQL URL")
			return false
		}
	case strings.Contains(s, "="):
		if _, err := parseKeyValueDSN(s); err != nil {
			d.errf(n, path, "write key=value pairs separated by spaces, quoting values with spaces in single quotes; or "+forms,
				"cannot parse the key=value connection string")
			return false
		}
	default:
		d.errf(n, path, forms, "not a PostgreSQL connection string")
		return false
	}
	return true
}

func (d *decoder) users(top *mnode, p *Plan) {
	m := d.mapping(top.keyNode("users"), top.get("users"), "users")
	if d.userField != nil && !m.has("default_owner") {
		d.errf(d.userField, d.userPath, "add users: {default_owner: EMAIL}, the owner of records whose old owner has no user in the new CRM",
			"a field of type user needs users.default_owner")
	}
	if m == nil {
		return
	}
	m.only("default_owner", "map", "table", "id", "email")
	p.Users.Table, _, _ = m.str("table")
	p.Users.ID, _, _ = m.str("id")
	p.Users.Email, _, _ = m.str("email")
	if p.Users.Table != "" {
		if p.Users.ID == "" {
			p.Users.ID = "id"
		}
		if p.Users.Email == "" {
			p.Users.Email = "email"
		}
	} else if m.has("id") || m.has("email") {
		at := m.keyNode("id")
		if at == nil {
			at = m.keyNode("email")
		}
		d.errf(at, "users", "add table: TABLE, the new CRM's users table", "users.id and users.email need users.table")
	}
	if s, n, ok := m.str("default_owner"); ok {
		if !looksLikeEmail(s) {
			d.errf(n, "users.default_owner", "write the email address of a user of the new CRM", "%s is not an email address", d.show(n))
		} else {
			p.Users.DefaultOwner = s
		}
	}
	mm := d.mapping(m.keyNode("map"), m.get("map"), "users.map")
	if mm == nil {
		return
	}
	for i, k := range mm.keys {
		path := "users.map." + k.Value
		nv, ok := d.str(mm.vals[i], path)
		if !looksLikeEmail(k.Value) {
			d.errf(k, "users.map", "each key is the email address of an owner in the old CRM", "%q is not an email address", k.Value)
			continue
		}
		if ok {
			p.Users.Map = append(p.Users.Map, UserMap{Old: k.Value, New: nv})
		}
	}
}

func looksLikeEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t,;<>") && strings.Contains(s[at:], ".")
}

func (d *decoder) clean(top *mnode, p *Plan) {
	p.Clean.MaxRejectRate = DefaultMaxRejectRate
	m := d.mapping(top.keyNode("clean"), top.get("clean"), "clean")
	if m == nil {
		return
	}
	m.only("free_mail_domains", "max_reject_rate")
	if n := m.get("free_mail_domains"); n != nil {
		list, nodes, _ := d.strList(n, "clean.free_mail_domains")
		for i, s := range list {
			if strings.ContainsAny(s, "@ /:") || !strings.Contains(s, ".") || strings.ToLower(s) != s {
				d.errf(nodes[i], fmt.Sprintf("clean.free_mail_domains[%d]", i), "write a lower-case domain such as example-mail.com (no @, no scheme)",
					"%s is not a domain", d.show(nodes[i]))
				continue
			}
			p.Clean.FreeMailDomains = append(p.Clean.FreeMailDomains, s)
		}
	}
	if n := m.get("max_reject_rate"); n != nil {
		if v, ok := d.percent(n, "clean.max_reject_rate", 0, 1, false); ok {
			p.Clean.MaxRejectRate = v
		}
	}
}

func (d *decoder) migrate(top *mnode, p *Plan) {
	p.Migrate = Migrate{BatchSize: DefaultBatchSize, Workers: DefaultWorkers}
	m := d.mapping(top.keyNode("migrate"), top.get("migrate"), "migrate")
	if m == nil {
		return
	}
	m.only("batch_size", "workers")
	if v, ok := m.integer("batch_size", 1, 1000000); ok {
		p.Migrate.BatchSize = v
	}
	if v, ok := m.integer("workers", 1, 64); ok {
		p.Migrate.Workers = v
	}
}

var (
	checkLimitKeys = []string{"max_missing_in_new", "max_lost_in_new", "max_missing_in_old", "max_mismatched", "max_duplicates_in_new", "max_broken_refs"}
	checkKeys      = append([]string{"name", "object"}, append(checkLimitKeys, "system", "sql", "expect", "severity", "description")...)
	expectRE       = regexp.MustCompile(`^\s*(==|=|!=|<=|>=|<|>)?\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*$`)
)

func (d *decoder) checks(top *mnode, p *Plan, sys *sysInfo) {
	p.Checks = []*Check{}
	items, ok := d.list(top.get("checks"), "checks")
	if !ok {
		return
	}
	names := map[string]*yaml.Node{}
	for i, it := range items {
		path := fmt.Sprintf("checks[%d]", i)
		m := d.mapping(it, it, path)
		if m == nil {
			continue
		}
		m.only(checkKeys...)
		c := &Check{Line: it.Line, Pos: pos(it), Severity: "fail"}
		if v, ok := m.enum("severity", []string{"fail", "warn"}); ok {
			c.Severity = v
		}
		c.Description, _, _ = m.str("description")
		hasObj, hasSQL := m.has("object"), m.has("sql")
		switch {
		case hasObj && hasSQL:
			d.errf(m.keyNode("sql"), path, "split it into two checks: one with object: and max_* limits, one with system:, sql: and expect:",
				"object and sql are both set; keep one")
		case !hasObj && !hasSQL:
			d.errf(it, path, "add object: OBJECT with a limit such as max_missing_in_new: \"0.1%\", or system:, sql: and expect:",
				"a check needs object: or sql:")
		case hasObj:
			for _, k := range []string{"system", "expect"} {
				if m.has(k) {
					d.errf(m.keyNode(k), path, "remove it; only sql checks take system and expect", "%s is not used by an object check", k)
				}
			}
			if s, n, ok := m.str("object"); ok {
				if d.checkObjectRef(n, path+".object", s) {
					c.Object = s
				}
			}
			limits := []**Limit{&c.MaxMissingInNew, &c.MaxLostInNew, &c.MaxMissingInOld, &c.MaxMismatched, &c.MaxDuplicatesInNew, &c.MaxBrokenRefs}
			any := false
			for j, k := range checkLimitKeys {
				if n := m.get(k); n != nil {
					any = true
					if l, ok := d.limit(n, path+"."+k); ok {
						*limits[j] = l
					}
				}
			}
			if !any {
				d.errf(it, path, "add one of "+strings.Join(checkLimitKeys, ", ")+", e.g. max_missing_in_new: \"0.1%\"", "check has no limit")
			}
		case hasSQL:
			for _, k := range checkLimitKeys {
				if m.has(k) {
					d.errf(m.keyNode(k), path, "remove it, or make a separate check with object:", "%s is not used by an sql check", k)
				}
			}
			c.SQL, _, _ = m.str("sql")
			if m.require("system", "add system: SYSTEM, the postgres system the query runs on") {
				if s, n, ok := m.str("system"); ok && d.checkPostgresSystem(n, path+".system", s, sys) {
					c.System = s
				}
			}
			if m.require("expect", `add expect: ">= 1" (an operator and a number; quote it)`) {
				n := m.get("expect")
				if d.failed[n] {
					// reported by interpolation
				} else if n.Kind == yaml.ScalarNode && !isNull(n) {
					if mm := expectRE.FindStringSubmatch(n.Value); mm != nil {
						c.Expect = strings.TrimSpace(n.Value)
						c.ExpectOp = mm[1]
						if c.ExpectOp == "" || c.ExpectOp == "==" {
							c.ExpectOp = "="
						}
						c.ExpectValue, _ = strconv.ParseFloat(mm[2], 64)
					} else {
						d.errf(n, path+".expect", `write an operator and a number, e.g. expect: ">= 1" or expect: "= 0"`, "invalid condition %s", d.show(n))
					}
				} else {
					d.errf(n, path+".expect", `write an operator and a number, e.g. expect: ">= 1"`, "expected a condition, found %s", d.describe(n))
				}
			}
		}
		if s, n, ok := m.str("name"); ok {
			if !isSlug(s) {
				d.errf(n, path+".name", "use lower-case letters, digits, '.', '_' and '-', e.g. contacts-present", "invalid check name %s", d.show(n))
			} else {
				c.Name = s
				if f, dup := names[s]; dup {
					d.errf(n, path+".name", "give each check its own name", "duplicate check name %q (first at line %d)", s, f.Line)
				}
				names[s] = n
			}
		} else if !m.has("name") {
			if hasSQL {
				m.require("name", "add name: SHORT-NAME; reports and gates refer to checks by name")
			} else if c.Object != "" {
				c.Name = c.Object
				if f, dup := names[c.Name]; dup {
					d.errf(it, path, "add name: to each check on this object", "duplicate check name %q (the default, the object name; first at line %d)", c.Name, f.Line)
				}
				names[c.Name] = it
			}
		}
		p.Checks = append(p.Checks, c)
	}
}

// limit decodes a check limit: "0.1%", a fraction below 1, or a whole count.
func (d *decoder) limit(n *yaml.Node, path string) (*Limit, bool) {
	if d.failed[n] {
		return nil, false
	}
	hint := fmt.Sprintf(`write a percentage (%s: "0.1%%") or a whole count of records (%s: 0)`, lastKey(path), lastKey(path))
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.errf(n, path, hint, "expected a limit, found %s", d.describe(n))
		return nil, false
	}
	if n.Tag == "!!int" {
		v, err := strconv.Atoi(n.Value)
		if err != nil || v < 0 {
			d.errf(n, path, hint, "%s is not a count of records", d.show(n))
			return nil, false
		}
		return &Limit{Value: float64(v)}, true
	}
	v, err := ParsePercent(n.Value)
	if err != nil || v < 0 || v > 1 || n.Tag != "!!float" && !strings.HasSuffix(strings.TrimSpace(n.Value), "%") {
		d.errf(n, path, hint, "invalid limit %s", d.show(n))
		return nil, false
	}
	return &Limit{Fraction: true, Value: v}, true
}

// checkObjectRef reports a reference to an undefined object.
func (d *decoder) checkObjectRef(n *yaml.Node, path, name string) bool {
	if d.objNames[name] {
		return true
	}
	names := make([]string, 0, len(d.objOrder))
	names = append(names, d.objOrder...)
	hint := "define it under objects:"
	if len(names) > 0 {
		hint = oneOf(name, names)
	}
	d.errf(n, path, hint, "unknown object %s", d.show(n))
	return false
}

// checkPostgresSystem reports a reference to an undefined or non-postgres
// system.
func (d *decoder) checkPostgresSystem(n *yaml.Node, path, name string, sys *sysInfo) bool {
	if !sys.known {
		return true
	}
	var pg []string
	for _, s := range sys.order {
		if sys.kind[s] == KindPostgres {
			pg = append(pg, s)
		}
	}
	if !sys.has(name) {
		hint := "define it under systems:"
		if len(pg) > 0 {
			hint = oneOf(name, pg)
		}
		d.errf(n, path, hint, "unknown system %s", d.show(n))
		return false
	}
	if k := sys.kind[name]; k != KindPostgres && k != "" {
		hint := "SQL runs on postgres systems only"
		if len(pg) > 0 {
			hint += "; use one of " + strings.Join(pg, ", ")
		}
		d.errf(n, path, hint, "system %q is kind %s", name, k)
		return false
	}
	return true
}

var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func (d *decoder) parallelRun(top *mnode, p *Plan) {
	pr := ParallelRun{MinDays: DefaultMinDays, MaxDays: DefaultMaxDays, Every: DefaultEvery,
		Grace: DefaultGrace, Overlap: DefaultOverlap, FullEvery: DefaultFullEvery}
	defer func() { p.ParallelRun = pr }()
	m := d.mapping(top.keyNode("parallel_run"), top.get("parallel_run"), "parallel_run")
	if m == nil {
		return
	}
	m.only("min_days", "max_days", "every", "grace", "overlap", "full_every", "ignore", "critical", "reconcile_old")
	if n := m.get("reconcile_old"); n != nil {
		pr.ReconcileOld, _ = d.boolean(n, "parallel_run.reconcile_old")
	}
	pr.Ignore = d.ignoreRules(m.get("ignore"), p)
	pr.Critical = d.criticalRules(m.get("critical"), p)
	minOK, maxOK := true, true
	if v, ok := m.integer("min_days", 1, 365); ok {
		pr.MinDays = v
	} else if m.has("min_days") {
		minOK = false
	}
	if v, ok := m.integer("max_days", 1, 365); ok {
		pr.MaxDays = v
	} else if m.has("max_days") {
		maxOK = false
	}
	if minOK && maxOK && pr.MaxDays < pr.MinDays {
		at := m.get("max_days")
		if at == nil {
			at = m.get("min_days")
		}
		d.errf(at, "parallel_run", "raise max_days or lower min_days", "max_days (%d) is below min_days (%d)", pr.MaxDays, pr.MinDays)
	}
	everyOK := true
	if n := m.get("every"); n != nil {
		if v, ok := d.duration(n, "parallel_run.every", Duration(time.Minute)); ok {
			pr.Every = v
		} else {
			everyOK = false
		}
	}
	if n := m.get("grace"); n != nil {
		if v, ok := d.duration(n, "parallel_run.grace", 0); ok {
			pr.Grace = v
		}
	}
	if n := m.get("overlap"); n != nil {
		if v, ok := d.duration(n, "parallel_run.overlap", 0); ok {
			pr.Overlap = v
		}
	}
	if n := m.get("full_every"); n != nil {
		if v, ok := d.duration(n, "parallel_run.full_every", Duration(time.Minute)); ok {
			pr.FullEvery = v
			if everyOK && v < pr.Every {
				d.errf(n, "parallel_run.full_every", "make full_every at least as long as every", "full_every (%s) is shorter than every (%s)", v, pr.Every)
			}
		}
	}
}

// driftClasses are the classes of drift the parallel run finds (validate's).
var driftClasses = []string{"missing_in_new", "refused_in_new", "lost_in_new", "missing_in_old", "field_mismatch",
	"duplicate_in_new", "duplicate_in_old", "broken_ref"}

// ruleTarget decodes the object: and field: of a parallel_run rule; field is optional unless
// needField.
func (d *decoder) ruleTarget(m *mnode, path string, p *Plan, needField bool) (obj, field string, ok bool) {
	if !m.require("object", "add object: OBJECT") {
		return "", "", false
	}
	o, n, good := m.str("object")
	if !good || !d.checkObjectRef(n, path+".object", o) {
		return "", "", false
	}
	if needField && !m.require("field", "add field: FIELD, the field whose differences are known") {
		return o, "", false
	}
	f, fn, has := m.str("field")
	if !has {
		return o, "", true
	}
	if ob := p.Object(o); ob != nil && ob.FieldIndex(f) < 0 {
		d.errf(fn, path+".field", oneOf(f, fieldNames(ob)), "object %s has no field %s", o, d.show(fn))
		return o, "", false
	}
	return o, f, true
}

func fieldNames(o *Object) []string {
	out := make([]string, len(o.Fields))
	for i, f := range o.Fields {
		out[i] = f.Name
	}
	return out
}

// ruleList decodes a list of mappings at path, calling each for every item with its keys.
func (d *decoder) ruleList(n *yaml.Node, path string, each func(m *mnode, it *yaml.Node, path string)) {
	items, ok := d.list(n, path)
	if !ok {
		return
	}
	for i, it := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if m := d.mapping(it, it, ipath); m != nil {
			each(m, it, ipath)
		}
	}
}

// ignoreRules decodes parallel_run.ignore: known differences.
func (d *decoder) ignoreRules(n *yaml.Node, p *Plan) []IgnoreRule {
	var out []IgnoreRule
	d.ruleList(n, "parallel_run.ignore", func(m *mnode, it *yaml.Node, path string) {
		m.only("object", "field", "reason", "until")
		o, f, ok := d.ruleTarget(m, path, p, true)
		r := IgnoreRule{Object: o, Field: f, Line: it.Line}
		if !m.require("reason", "add reason: why the difference is expected (it is shown in every report)") {
			ok = false
		}
		r.Reason, _, _ = m.str("reason")
		if n := m.get("until"); n != nil {
			if v, good := d.date(n, path+".until"); good {
				r.Until = v
			} else {
				ok = false
			}
		}
		if ok {
			out = append(out, r)
		}
	})
	return out
}

// criticalRules decodes parallel_run.critical: drift listed first and gated on.
func (d *decoder) criticalRules(n *yaml.Node, p *Plan) []CriticalRule {
	var out []CriticalRule
	d.ruleList(n, "parallel_run.critical", func(m *mnode, it *yaml.Node, path string) {
		m.only("object", "class", "field", "description")
		o, f, ok := d.ruleTarget(m, path, p, false)
		r := CriticalRule{Object: o, Field: f, Line: it.Line}
		if m.require("class", "add class: one of "+strings.Join(driftClasses, ", ")) {
			if v, good := m.enum("class", driftClasses); good {
				r.Class = v
			} else {
				ok = false
			}
		} else {
			ok = false
		}
		r.Description, _, _ = m.str("description")
		if r.Field != "" && r.Class != "" && r.Class != "field_mismatch" && r.Class != "broken_ref" {
			d.errf(m.get("field"), path+".field", "remove field:, or use class field_mismatch or broken_ref",
				"drift of class %s has no field", r.Class)
			ok = false
		}
		if ok {
			out = append(out, r)
		}
	})
	return out
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func (d *decoder) date(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil || !dateRE.MatchString(s) {
		d.errf(n, path, "write a date as YYYY-MM-DD, e.g. 2026-12-20", "%s is not a valid date", d.show(n))
		return "", false
	}
	return s, true
}

func (d *decoder) cutover(top *mnode, p *Plan) {
	p.Cutover.NeverOn = append([]string(nil), DefaultNeverOn...)
	m := d.mapping(top.keyNode("cutover"), top.get("cutover"), "cutover")
	if m == nil {
		return
	}
	m.only("never_on", "hours", "freeze", "gates", "signoffs")
	if s, n, ok := m.str("hours"); ok {
		if !hoursRe.MatchString(s) {
			d.errf(n, "cutover.hours", `write "HH:MM-HH:MM" in the plan's time zone, e.g. "08:00-16:00"`, "invalid hours %s", d.show(n))
		} else if s[:5] >= s[6:] {
			d.errf(n, "cutover.hours", "make the start earlier than the end", "hours %s end before they start", d.show(n))
		} else {
			p.Cutover.Hours = s
		}
	}
	if n := m.get("never_on"); n != nil {
		p.Cutover.NeverOn = []string{}
		list, nodes, _ := d.strList(n, "cutover.never_on")
		seen := map[string]bool{}
		for i, s := range list {
			day := strings.ToLower(strings.TrimSpace(s))
			valid := false
			for _, w := range weekdays {
				valid = valid || w == day
			}
			if !valid {
				d.errf(nodes[i], fmt.Sprintf("cutover.never_on[%d]", i), oneOf(day, weekdays), "unknown weekday %s", d.show(nodes[i]))
				continue
			}
			if !seen[day] {
				seen[day] = true
				p.Cutover.NeverOn = append(p.Cutover.NeverOn, day)
			}
		}
	}
	if items, ok := d.list(m.get("freeze"), "cutover.freeze"); ok {
		for i, it := range items {
			path := fmt.Sprintf("cutover.freeze[%d]", i)
			fm := d.mapping(it, it, path)
			if fm == nil {
				continue
			}
			fm.only("from", "to", "reason")
			f := Freeze{Pos: pos(it)}
			okF, okT := false, false
			if fm.require("from", "add from: YYYY-MM-DD, the first day of the freeze") {
				f.From, okF = d.date(fm.get("from"), path+".from")
			}
			if fm.require("to", "add to: YYYY-MM-DD, the last day of the freeze") {
				f.To, okT = d.date(fm.get("to"), path+".to")
			}
			if okF && okT && f.To < f.From {
				d.errf(fm.get("to"), path, "swap from and to", "to (%s) is before from (%s)", f.To, f.From)
				continue
			}
			f.Reason, _, _ = fm.str("reason")
			if okF && okT {
				p.Cutover.Freeze = append(p.Cutover.Freeze, f)
			}
		}
	}
	if items, ok := d.list(m.get("gates"), "cutover.gates"); ok {
		for i, it := range items {
			if g := d.gate(it, fmt.Sprintf("cutover.gates[%d]", i), p); g != nil {
				p.Cutover.Gates = append(p.Cutover.Gates, g)
			}
		}
	}
	if n := m.get("signoffs"); n != nil {
		list, nodes, _ := d.strList(n, "cutover.signoffs")
		seen := map[string]int{}
		for i, s := range list {
			if first, dup := seen[s]; dup {
				d.errf(nodes[i], "cutover.signoffs", "list each role once", "duplicate sign-off %q (first at line %d)", s, nodes[first].Line)
				continue
			}
			seen[s] = i
			p.Cutover.Signoffs = append(p.Cutover.Signoffs, s)
		}
	}
}

var gateKinds = []string{GateParity, GateChecks, GateMaxDrift, GateNoCritical, GateMaxDriftAge, GateMaxOpenReviews, GateMaxRejects}

// hoursRe is cutover.hours: "HH:MM-HH:MM".
var hoursRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (d *decoder) gate(it *yaml.Node, path string, p *Plan) *Gate {
	m := d.mapping(it, it, path)
	if m == nil {
		return nil
	}
	m.only(gateKinds...)
	var present []string
	for _, k := range gateKinds {
		if m.has(k) {
			present = append(present, k)
		}
	}
	if len(present) == 0 {
		if len(m.keys) == 0 {
			d.errf(it, path, "write one of {parity: {object: OBJECT, min: \"99.5%\"}}, {checks: pass}, {max_drift: {max: 10}}, {no_critical_drift: true}, {max_drift_age: {days: 3}}, {max_open_reviews: 0} or {max_rejects: 0}", "empty gate")
		}
		return nil
	}
	if len(present) > 1 {
		d.errf(m.keyNode(present[1]), path, "write each gate as its own list item", "%s and %s are both set; keep one", present[0], present[1])
		return nil
	}
	g := &Gate{Kind: present[0], Pos: pos(it)}
	sub := path + "." + g.Kind
	switch g.Kind {
	case GateChecks:
		s, n, ok := m.str(GateChecks)
		if !ok {
			return nil
		}
		if s != "pass" {
			d.errf(n, sub, "write checks: pass (every check with severity fail passed in the last validate run)", "invalid value %s", d.show(n))
			return nil
		}
	case GateParity:
		gm := d.mapping(m.keyNode(GateParity), m.get(GateParity), sub)
		if gm == nil {
			return nil
		}
		gm.only("object", "min", "days")
		if s, n, ok := gm.str("object"); ok && d.checkObjectRef(n, sub+".object", s) {
			g.Object = s
		}
		if gm.require("min", `add min: "99.5%", the share of records that must match`) {
			g.Min, _ = d.percent(gm.get("min"), sub+".min", 0, 1, true)
		}
		g.Days = DefaultParityDays
		if v, ok := gm.integer("days", 1, 365); ok {
			g.Days = v
		}
	case GateMaxDrift:
		gm := d.mapping(m.keyNode(GateMaxDrift), m.get(GateMaxDrift), sub)
		if gm == nil {
			return nil
		}
		gm.only("object", "max")
		if s, n, ok := gm.str("object"); ok && d.checkObjectRef(n, sub+".object", s) {
			g.Object = s
		}
		if gm.require("max", "add max: N, the most drifted records allowed in the last diff") {
			g.Max, _ = gm.integer("max", 0, 1<<30)
		}
	case GateNoCritical:
		v, ok := d.boolean(m.get(GateNoCritical), sub)
		if !ok {
			return nil
		}
		if !v {
			d.errf(m.get(GateNoCritical), sub, "write no_critical_drift: true, or remove the gate", "no_critical_drift: false gates nothing")
			return nil
		}
	case GateMaxDriftAge:
		gm := d.mapping(m.keyNode(GateMaxDriftAge), m.get(GateMaxDriftAge), sub)
		if gm == nil {
			return nil
		}
		gm.only("object", "days")
		if s, n, ok := gm.str("object"); ok && d.checkObjectRef(n, sub+".object", s) {
			g.Object = s
		}
		if gm.require("days", "add days: D, how many days a difference may stay open") {
			g.Days, _ = gm.integer("days", 0, 365)
		}
	case GateMaxOpenReviews, GateMaxRejects:
		v, ok := m.integer(g.Kind, 0, 1<<30)
		if !ok {
			return nil
		}
		g.Max = v
	}
	return g
}
