package plans

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"time"
)

// System kinds.
const (
	KindPostgres = "postgres"
	KindCSV      = "csv"
)

// Well-known system names.
const (
	SystemOld = "old"
	SystemNew = "new"
)

// Field types.
const (
	TypeText     = "text"
	TypeEmail    = "email"
	TypePhone    = "phone"
	TypeDomain   = "domain"
	TypeURL      = "url"
	TypeNumber   = "number"
	TypeMoney    = "money"
	TypeDate     = "date"
	TypeDateTime = "datetime"
	TypeBool     = "bool"
	TypeEnum     = "enum"
	TypeRef      = "ref"
	TypeUser     = "user"
)

// KeyNone is the value of an object's `key` when the object has no canonical
// identifier and is deduplicated by fuzzy matching only.
const KeyNone = "none"

// Pos is a position in the plan file (1-based line and column).
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Plan is a loaded and validated plan file. All defaults are filled in; a Plan
// returned without error is safe to use without further checks, except that
// later phases call RequireNew.
type Plan struct {
	// File is the plan's file name as given to Load or Parse; it is the FILE in
	// error messages.
	File string `json:"file"`
	// Path is the absolute path of the plan file.
	Path string `json:"path"`
	// Dir is the folder of the plan file; relative paths in the plan are
	// relative to it (see Resolve).
	Dir string `json:"dir"`
	// Hash is the hex SHA-256 of the raw file bytes (before interpolation).
	Hash string `json:"hash"`

	Name          string         `json:"name"`
	Timezone      string         `json:"timezone"`
	Location      *time.Location `json:"-"`
	DefaultRegion string         `json:"default_region,omitempty"`
	State         State          `json:"state"`
	Systems       []*System      `json:"systems"`
	Objects       []*Object      `json:"objects"`
	Users         Users          `json:"users"`
	Clean         Clean          `json:"clean"`
	Migrate       Migrate        `json:"migrate"`
	Checks        []*Check       `json:"checks"`
	ParallelRun   ParallelRun    `json:"parallel_run"`
	Cutover       Cutover        `json:"cutover"`
	Integrations  []*Integration `json:"integrations"`

	// SystemsPos is the position of the `systems:` key.
	SystemsPos Pos `json:"-"`
}

// State configures the control database.
type State struct {
	// URL is the control database's PostgreSQL URL. Empty means the private
	// cluster in .crmigrate/ beside the plan (or CRMIGRATE_STATE_URL, which the
	// command line reads). It may hold a password: print Redacted() instead.
	URL string `json:"-"`
	Pos Pos    `json:"-"`
}

// MarshalJSON writes the state settings with the password removed.
func (s State) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL string `json:"url,omitempty"`
	}{RedactURL(s.URL)})
}

// System is a CRM or an export: a connector kind and its settings.
// DefaultMaxRecordMB is the largest CSV record (all its lines, in MiB) read when the plan does not
// say: a quoted field of any length up to it is read whole.
const DefaultMaxRecordMB = 64

type System struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// URL is the connection string of a postgres system; it may hold a
	// password, so JSON output and messages use RedactURL(URL).
	URL string `json:"-"`
	// Dir, Dialect, Encoding and Delimiter are for csv systems. Dir is as
	// written in the plan; use Plan.Resolve to get the folder.
	Dir       string `json:"dir,omitempty"`
	Dialect   string `json:"dialect,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	// MaxRecordMB caps one CSV record (all its lines) in MiB; 0 means DefaultMaxRecordMB.
	MaxRecordMB int    `json:"max_record_mb,omitempty"`
	Description string `json:"description,omitempty"`

	Line int `json:"-"`
	Pos  Pos `json:"-"`
	// KeyPos holds the position of each key's value (e.g. "url").
	KeyPos map[string]Pos `json:"-"`
}

// MarshalJSON writes the system with any password removed from its URL.
func (s *System) MarshalJSON() ([]byte, error) {
	type plain System
	return json.Marshal(struct {
		*plain
		URL string `json:"url,omitempty"`
	}{(*plain)(s), RedactURL(s.URL)})
}

// LocalDB reports whether the system is a database in crmigrate's private
// PostgreSQL cluster (url: local:DBNAME) and returns the database name.
func (s *System) LocalDB() (name string, ok bool) {
	if s == nil || s.Kind != KindPostgres {
		return "", false
	}
	return strings.CutPrefix(s.URL, "local:")
}

// PosOf returns the position of key's value in the system's mapping, or the
// position of the system itself when the key is absent.
func (s *System) PosOf(key string) Pos {
	if p, ok := s.KeyPos[key]; ok {
		return p
	}
	return s.Pos
}

// System returns the system named name, or nil.
func (p *Plan) System(name string) *System {
	for _, s := range p.Systems {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Old returns the `old` system (always present in a loaded plan).
func (p *Plan) Old() *System { return p.System(SystemOld) }

// New returns the `new` system, or nil when the plan has none (see RequireNew).
func (p *Plan) New() *System { return p.System(SystemNew) }

// Sources returns every system except `new`, in plan order: the systems that
// feed the clean phase.
func (p *Plan) Sources() []*System {
	var out []*System
	for _, s := range p.Systems {
		if s.Name != SystemNew {
			out = append(out, s)
		}
	}
	return out
}

// Object returns the object named name, or nil.
func (p *Plan) Object(name string) *Object {
	for _, o := range p.Objects {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Check returns the check named name, or nil.
func (p *Plan) Check(name string) *Check {
	for _, c := range p.Checks {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Integration returns the integration named name, or nil.
func (p *Plan) Integration(name string) *Integration {
	for _, in := range p.Integrations {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Resolve returns rel, a path written in the plan, relative to the plan
// file's folder. Absolute paths are returned unchanged.
func (p *Plan) Resolve(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(p.Dir, rel)
}

// ErrorAt returns an *Errors holding one error at pos in the plan file, for
// later phases that find a problem with the plan (a missing column, say).
func (p *Plan) ErrorAt(pos Pos, msg, hint string) error {
	if pos.Line == 0 {
		pos = Pos{1, 1}
	}
	return &Errors{{File: p.File, Line: pos.Line, Col: pos.Col, Msg: msg, Hint: hint}}
}

// RequireNew returns an error (an *Errors pointing at `systems:`) when the
// plan has no `new` system. Migrate and every later phase call it.
func (p *Plan) RequireNew() error {
	if p.New() != nil {
		return nil
	}
	return p.ErrorAt(p.SystemsPos, `systems: no "new" system; this phase writes to the new CRM`,
		`add new: {kind: postgres, url: "${NEW_CRM_URL}"} under systems (or url: "local:newcrm" for a database in the private cluster)`)
}

// Object is a kind of record (company, contact, deal, …): its canonical key,
// where it lives on each system, its fields and its dedup rules.
type Object struct {
	Name string `json:"name"`
	// Key is the name of the field that is the canonical identifier, or
	// KeyNone.
	Key string `json:"key"`
	// Mappings are the object's table/query/file per system, in system order.
	Mappings []*Mapping `json:"mappings"`
	// Fields in plan order; records hold values in this order.
	Fields []*Field `json:"fields"`
	Dedup  *Dedup   `json:"dedup,omitempty"`
	// OnDelete is what delta migrations do with records deleted in old:
	// ignore (default), archive or delete.
	OnDelete    string `json:"on_delete"`
	Description string `json:"description,omitempty"`

	Line   int `json:"-"`
	Pos    Pos `json:"-"`
	KeyPos Pos `json:"-"` // position of the `key:` value
}

// Mapping returns the object's mapping on system, or nil.
func (o *Object) Mapping(system string) *Mapping {
	for _, m := range o.Mappings {
		if m.System == system {
			return m
		}
	}
	return nil
}

// Field returns the field named name, or nil.
func (o *Object) Field(name string) *Field {
	for _, f := range o.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// FieldIndex returns the index of the field named name in Fields, or -1.
func (o *Object) FieldIndex(name string) int {
	for i, f := range o.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// KeyField returns the canonical key field, or nil when Key is KeyNone.
func (o *Object) KeyField() *Field { return o.Field(o.Key) }

// Mapping says where an object lives on one system.
type Mapping struct {
	System string `json:"system"`
	// Table or Query (postgres, exactly one) or File (csv).
	Table string `json:"table,omitempty"`
	Query string `json:"query,omitempty"`
	File  string `json:"file,omitempty"`
	// ID is the column holding the record's id on this system.
	ID string `json:"id"`
	// UpdatedAt is the last-modified column (optional); delta runs and the
	// most_recent merge rule use it.
	UpdatedAt string `json:"updated_at,omitempty"`
	// ExternalID (postgres) is a column where migrate writes the old id.
	ExternalID string `json:"external_id,omitempty"`
	// Where (postgres, with table) is an SQL condition that selects rows.
	Where string `json:"where,omitempty"`
	// Archived (postgres, new only) is the column delta migrations set (true, or the current time)
	// on rows whose records were deleted in old, when the object's on_delete is archive.
	Archived string `json:"archived,omitempty"`

	Line   int            `json:"-"`
	Pos    Pos            `json:"-"`
	KeyPos map[string]Pos `json:"-"`
}

// PosOf returns the position of key's value in the mapping, or the position of
// the mapping when the key is absent.
func (m *Mapping) PosOf(key string) Pos {
	if p, ok := m.KeyPos[key]; ok {
		return p
	}
	return m.Pos
}

// Field is a typed attribute of an object and its column on each system.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Columns in system order; only systems that have a column for the field.
	Columns []*Column `json:"columns"`
	// Merge is the survivorship rule when duplicates are merged: most_recent
	// (default), longest, non_empty, prefer:SYSTEM, max, sum or review.
	Merge string `json:"merge"`
	// Authority says which side is right when old and new disagree during the
	// parallel run: old (default), new, most_recent or review.
	Authority string `json:"authority"`
	// Values is the enum value map (old value → new value), in plan order.
	Values []EnumValue `json:"values,omitempty"`
	// To is the referenced object (type ref).
	To string `json:"to,omitempty"`
	// Currency is the ISO 4217 currency of a money field, if fixed.
	Currency    string `json:"currency,omitempty"`
	Required    bool   `json:"required"`
	Description string `json:"description,omitempty"`

	Line int `json:"-"`
	Pos  Pos `json:"-"`
}

// Column returns the field's column on system.
func (f *Field) Column(system string) (string, bool) {
	for _, c := range f.Columns {
		if c.System == system {
			return c.Name, true
		}
	}
	return "", false
}

// ColumnPos returns the position of the field's column on system, or the
// field's position.
func (f *Field) ColumnPos(system string) Pos {
	for _, c := range f.Columns {
		if c.System == system {
			return c.Pos
		}
	}
	return f.Pos
}

// MergePrefer returns SYSTEM when the merge rule is prefer:SYSTEM.
func (f *Field) MergePrefer() (system string, ok bool) {
	return strings.CutPrefix(f.Merge, "prefer:")
}

// MapValue maps an old enum value to its new value.
func (f *Field) MapValue(old string) (string, bool) {
	for _, v := range f.Values {
		if v.Old == old {
			return v.New, true
		}
	}
	return "", false
}

// Column is a field's column (or CSV header) on one system.
type Column struct {
	System string `json:"system"`
	Name   string `json:"name"`
	Pos    Pos    `json:"-"`
}

// EnumValue maps one old picklist value to a new one.
type EnumValue struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// Dedup holds an object's duplicate-detection rules.
type Dedup struct {
	// Block lists blocking keys: records are compared only within a block.
	Block []*BlockKey `json:"block"`
	// Compare lists the fields compared within a block; empty means every
	// field named in Block, with a method chosen by type.
	Compare []*Compare `json:"compare,omitempty"`
	// AutoMerge is the score at or above which a pair merges automatically.
	AutoMerge float64 `json:"auto_merge"`
	// Review is the score at or above which a pair goes to manual review.
	Review float64 `json:"review"`
	// MaxBlock is the largest block compared pairwise; bigger blocks are
	// reported and compared only within a sliding window (sorted neighbourhood).
	MaxBlock int `json:"max_block"`
	Pos      Pos `json:"-"`
}

// BlockKey is one blocking key: parts joined with "+".
type BlockKey struct {
	Raw   string      `json:"raw"`
	Parts []BlockPart `json:"parts"`
	Pos   Pos         `json:"-"`
}

// BlockPart is FIELD[:TRANSFORM]. Transform is "" (same as exact), exact,
// prefix (with N), soundex, metaphone, digits or year.
type BlockPart struct {
	Field     string `json:"field"`
	Transform string `json:"transform,omitempty"`
	N         int    `json:"n,omitempty"`
}

// Compare is one field compared by fuzzy matching.
type Compare struct {
	Field string `json:"field"`
	// Method: exact, jaro_winkler, levenshtein, token_set, numeric, date, name, phone, email.
	Method string `json:"method"`
	// Weight is positive; 0 means "learned" (not given in the plan).
	Weight float64 `json:"weight,omitempty"`
	Pos    Pos     `json:"-"`
}

// Users maps record owners from old to new.
type Users struct {
	// DefaultOwner owns records whose old owner has no mapping.
	DefaultOwner string `json:"default_owner,omitempty"`
	// Map is old owner email → new owner (email or id), in plan order.
	Map []UserMap `json:"map,omitempty"`
	// Table, ID and Email name the new CRM's users table, its id column and its email column:
	// migrate writes a user field as the id of the user with that email. Without Table, user
	// fields are written as email addresses.
	Table string `json:"table,omitempty"`
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
}

// Owner maps an old owner; ok is false when there is no explicit mapping.
func (u Users) Owner(old string) (string, bool) {
	for _, m := range u.Map {
		if strings.EqualFold(m.Old, old) {
			return m.New, true
		}
	}
	return "", false
}

// UserMap is one entry of users.map.
type UserMap struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// Clean holds settings of the clean phase.
type Clean struct {
	// FreeMailDomains are added to the built-in list of free-mail domains
	// (gmail.com, …) that never identify a company.
	FreeMailDomains []string `json:"free_mail_domains,omitempty"`
	// MaxRejectRate is the fraction of records that may be rejected before
	// the clean phase fails (default 0.01).
	MaxRejectRate float64 `json:"max_reject_rate"`
}

// Migrate holds settings of the migrate phase.
type Migrate struct {
	BatchSize int `json:"batch_size"`
	Workers   int `json:"workers"`
}

// Check is a declared validation check: either limits on an object's drift
// (Object set) or an SQL query against a system (SQL set).
type Check struct {
	Name string `json:"name"`

	Object             string `json:"object,omitempty"`
	MaxMissingInNew    *Limit `json:"max_missing_in_new,omitempty"`
	MaxLostInNew       *Limit `json:"max_lost_in_new,omitempty"` // missing in new and not refused by migrate
	MaxMissingInOld    *Limit `json:"max_missing_in_old,omitempty"`
	MaxMismatched      *Limit `json:"max_mismatched,omitempty"`
	MaxDuplicatesInNew *Limit `json:"max_duplicates_in_new,omitempty"`
	MaxBrokenRefs      *Limit `json:"max_broken_refs,omitempty"`

	System string `json:"system,omitempty"`
	SQL    string `json:"sql,omitempty"`
	// Expect is the condition on the query's single numeric result, as
	// written ("= 0", ">= 1"); ExpectOp and ExpectValue are its parts.
	Expect      string  `json:"expect,omitempty"`
	ExpectOp    string  `json:"expect_op,omitempty"`
	ExpectValue float64 `json:"expect_value,omitempty"`

	// Severity: fail (default) or warn.
	Severity    string `json:"severity"`
	Description string `json:"description,omitempty"`

	Line int `json:"-"`
	Pos  Pos `json:"-"`
}

// Limit is a threshold: a fraction of records (written "0.1%") or an absolute
// count (written as a plain whole number).
type Limit struct {
	// Fraction is true when the limit was written as a percentage; Value is
	// then a fraction (0.001 for "0.1%"), else a count.
	Fraction bool    `json:"fraction"`
	Value    float64 `json:"value"`
}

// Exceeded reports whether count out of total breaks the limit.
func (l Limit) Exceeded(count, total int64) bool {
	if !l.Fraction {
		return float64(count) > l.Value
	}
	if total == 0 {
		return false
	}
	return float64(count)/float64(total) > l.Value
}

// Compare evaluates v against the check's Expect condition.
func (c *Check) Compare(v float64) bool {
	switch c.ExpectOp {
	case "=", "==":
		return v == c.ExpectValue
	case "!=":
		return v != c.ExpectValue
	case "<":
		return v < c.ExpectValue
	case "<=":
		return v <= c.ExpectValue
	case ">":
		return v > c.ExpectValue
	case ">=":
		return v >= c.ExpectValue
	}
	return false
}

// Authorities: which side is right for a field during the parallel run (Field.Authority).
const (
	AuthorityOld        = "old"
	AuthorityNew        = "new"
	AuthorityMostRecent = "most_recent"
	AuthorityReview     = "review"
)

// ParallelRun holds the settings of the daily old-vs-new comparison.
type ParallelRun struct {
	MinDays int `json:"min_days"`
	MaxDays int `json:"max_days"`
	// Every is the interval between scheduled diffs.
	Every Duration `json:"every"`
	// Grace: changes younger than this are not counted as drift yet.
	Grace Duration `json:"grace"`
	// Overlap is subtracted from the watermark of incremental reads.
	Overlap Duration `json:"overlap"`
	// FullEvery is the interval between full (non-incremental) passes.
	FullEvery Duration `json:"full_every"`
	// Ignore lists known differences: counted apart, never as drift, until their date.
	Ignore []IgnoreRule `json:"ignore,omitempty"`
	// Critical lists the drift that reports show first and cutover can gate on.
	Critical []CriticalRule `json:"critical,omitempty"`
	// ReconcileOld lets reconcile write to the old CRM (default false).
	ReconcileOld bool `json:"reconcile_old"`
}

// IgnoreRule is a known difference of one field of an object (e.g. a field the new CRM computes).
type IgnoreRule struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Until  string `json:"until,omitempty"` // YYYY-MM-DD, the last day it applies ("" for ever)
	Line   int    `json:"-"`
}

// CriticalRule marks drift of a class (of one field, when Field is set) of an object as critical.
type CriticalRule struct {
	Object      string `json:"object"`
	Class       string `json:"class"`
	Field       string `json:"field,omitempty"`
	Description string `json:"description,omitempty"`
	Line        int    `json:"-"`
}

// Cutover holds the go/no-go rules.
type Cutover struct {
	// NeverOn lists lower-case weekday names on which cutover is refused.
	NeverOn []string `json:"never_on"`
	// Hours is the time of day cutover may run, "HH:MM-HH:MM" in the plan's time zone ("": any).
	Hours    string   `json:"hours,omitempty"`
	Freeze   []Freeze `json:"freeze,omitempty"`
	Gates    []*Gate  `json:"gates,omitempty"`
	Signoffs []string `json:"signoffs,omitempty"`
}

// Blocked reports whether cutover is refused at t (in the plan's time zone,
// loc) because of never_on or a freeze window, and why.
func (c Cutover) Blocked(t time.Time, loc *time.Location) (bool, string) {
	if loc != nil {
		t = t.In(loc)
	}
	day := strings.ToLower(t.Weekday().String())
	for _, d := range c.NeverOn {
		if d == day {
			return true, "never on " + day
		}
	}
	date := t.Format(time.DateOnly)
	for _, f := range c.Freeze {
		if date >= f.From && date <= f.To {
			r := "freeze " + f.From + " to " + f.To
			if f.Reason != "" {
				r += " (" + f.Reason + ")"
			}
			return true, r
		}
	}
	return false, ""
}

// Freeze is a window of dates (inclusive, YYYY-MM-DD) without cutover.
type Freeze struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
	Pos    Pos    `json:"-"`
}

// Gate kinds.
const (
	GateParity         = "parity"
	GateChecks         = "checks"
	GateMaxDrift       = "max_drift"
	GateNoCritical     = "no_critical_drift"
	GateMaxDriftAge    = "max_drift_age"
	GateMaxOpenReviews = "max_open_reviews"
	GateMaxRejects     = "max_rejects"
)

// Gate is one cutover gate, computed from evidence in the control database.
type Gate struct {
	// Kind is parity, checks or max_drift.
	Kind string `json:"kind"`
	// Object (parity, max_drift): empty means every object.
	Object string `json:"object,omitempty"`
	// Min (parity) is the fraction of records that must match.
	Min float64 `json:"min,omitempty"`
	// Days (parity) is how many consecutive days parity must hold; (max_drift_age) how many days
	// a difference may stay open.
	Days int `json:"days,omitempty"`
	// Max (max_drift) is the most drifted records allowed in the last diff; (max_open_reviews)
	// the most decisions left to a person; (max_rejects) the most rejected or refused records.
	Max int `json:"max,omitempty"`
	Pos Pos `json:"-"`
}

// Integration directions.
const (
	DirToCRM   = "to_crm"
	DirFromCRM = "from_crm"
	DirBoth    = "both"
)

// Integration is an external product connected to the CRM, switched from old
// to new at cutover.
type Integration struct {
	Name string `json:"name"`
	// System is free text naming the external product.
	System    string   `json:"system"`
	Direction string   `json:"direction"`
	Data      []string `json:"data,omitempty"`
	// Fields are the fields it writes in the CRM (OBJECT.FIELD): reports name it, and its owner,
	// where those fields drift.
	Fields []string `json:"fields,omitempty"`
	Owner  string   `json:"owner,omitempty"`
	// Pattern is how it connects: point_to_point, middleware or queue ("": not said).
	Pattern string `json:"pattern,omitempty"`
	// Sync is how often it moves data: realtime, or a batch every SyncEvery ("": not said).
	Sync        string   `json:"sync,omitempty"`
	SyncEvery   Duration `json:"sync_every,omitempty"`
	Order       int      `json:"order,omitempty"` // 0: not given
	Description string   `json:"description,omitempty"`
	Switch      *Action  `json:"switch"`
	Verify      *Action  `json:"verify,omitempty"`
	Rollback    *Action  `json:"rollback,omitempty"`

	Line int `json:"-"`
	Pos  Pos `json:"-"`
}

// Action is one step of an integration switch: exactly one of HTTP, Exec and
// SQL is set.
type Action struct {
	HTTP *HTTPAction `json:"http,omitempty"`
	Exec *ExecAction `json:"exec,omitempty"`
	SQL  *SQLAction  `json:"sql,omitempty"`
	Pos  Pos         `json:"-"`
}

// Kind returns "http", "exec" or "sql".
func (a *Action) Kind() string {
	switch {
	case a == nil:
		return ""
	case a.HTTP != nil:
		return "http"
	case a.Exec != nil:
		return "exec"
	case a.SQL != nil:
		return "sql"
	}
	return ""
}

// HTTPAction sends one request and expects a status code.
type HTTPAction struct {
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Body    string   `json:"body,omitempty"`
	Headers []Header `json:"headers,omitempty"`
	// Expect is the expected status code (default 200).
	Expect  int      `json:"expect"`
	Timeout Duration `json:"timeout"`
}

// MarshalJSON writes the action with header values and URL credentials
// removed (they usually hold tokens).
func (h *HTTPAction) MarshalJSON() ([]byte, error) {
	type plain HTTPAction
	hs := make([]Header, len(h.Headers))
	for i, x := range h.Headers {
		hs[i] = Header{Name: x.Name, Value: "REDACTED"}
	}
	return json.Marshal(struct {
		*plain
		URL     string   `json:"url"`
		Headers []Header `json:"headers,omitempty"`
	}{(*plain)(h), RedactHTTPURL(h.URL), hs})
}

// Header is one HTTP header, in plan order.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExecAction runs a command (no shell) in the plan's folder.
type ExecAction struct {
	Command    []string `json:"command"`
	ExpectExit int      `json:"expect_exit"`
	Timeout    Duration `json:"timeout"`
}

// SQLAction runs one statement on a postgres system of the plan.
type SQLAction struct {
	System    string `json:"system"`
	Statement string `json:"statement"`
	// ExpectRows, when set, is the number of rows the statement must affect.
	ExpectRows *int     `json:"expect_rows,omitempty"`
	Timeout    Duration `json:"timeout"`
}

// DependencyOrder lists the objects with referenced objects before the objects that reference
// them (plan order otherwise; a reference to the object itself or in a cycle does not reorder).
func (p *Plan) DependencyOrder() []*Object {
	var out []*Object
	seen := map[string]int{} // 1 visiting, 2 done
	var visit func(o *Object)
	visit = func(o *Object) {
		if seen[o.Name] != 0 {
			return
		}
		seen[o.Name] = 1
		for _, f := range o.Fields {
			if f.Type == TypeRef && f.To != o.Name {
				if to := p.Object(f.To); to != nil {
					visit(to)
				}
			}
		}
		seen[o.Name] = 2
		out = append(out, o)
	}
	for _, o := range p.Objects {
		visit(o)
	}
	return out
}

// ObjectNames lists the plan's objects' names, in plan order.
func (p *Plan) ObjectNames() []string {
	out := make([]string, 0, len(p.Objects))
	for _, o := range p.Objects {
		out = append(out, o.Name)
	}
	return out
}
