package plans

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML tree of a plan and collects every error.
type decoder struct {
	file string
	errs Errors
	orig map[*yaml.Node]string // text before ${VAR} interpolation
	// failed holds scalars whose interpolation failed (already reported);
	// they are skipped silently by the value decoders.
	failed  map[*yaml.Node]bool
	aliases int

	// objNames and objOrder are the object names as written (valid or not),
	// so that references to an object with errors do not cascade.
	objNames map[string]bool
	objOrder []string
	// userField is the first field of type user, if any.
	userField *yaml.Node
	userPath  string
}

const maxAliases = 10000

func (d *decoder) addAt(line, col int, msg, hint string) {
	if line <= 0 {
		line, col = 1, 1
	}
	if col <= 0 {
		col = 1
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Col: col, Msg: msg, Hint: hint})
}

func (d *decoder) add(n *yaml.Node, msg, hint string) {
	if n == nil {
		d.addAt(1, 1, msg, hint)
		return
	}
	d.addAt(n.Line, n.Column, msg, hint)
}

// errf adds "PATH: msg" at n.
func (d *decoder) errf(n *yaml.Node, path, hint, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.add(n, msg, hint)
}

func pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{1, 1}
	}
	return Pos{n.Line, n.Column}
}

// deref follows aliases.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.aliases++
		if d.aliases > maxAliases {
			d.add(n, "too many aliases", "expand the *alias references by hand")
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// show returns a value as written in the plan, quoted, for messages. An
// interpolated value is shown as its ${VAR} template so that secrets never
// reach a message.
func (d *decoder) show(n *yaml.Node) string {
	s := n.Value
	if o, ok := d.orig[n]; ok {
		s = o
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return strconv.Quote(s)
}

// showURL is show for URLs written in the plan: credentials and query values
// are removed (an interpolated URL is shown as its ${VAR} template).
func (d *decoder) showURL(n *yaml.Node) string {
	if _, ok := d.orig[n]; ok {
		return d.show(n)
	}
	if strings.ContainsAny(n.Value, "@?") {
		return strconv.Quote(RedactHTTPURL(n.Value))
	}
	return d.show(n)
}

// describe says what a node is, for "expected X, found Y".
func (d *decoder) describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "the number " + d.show(n)
	case "!!bool":
		return "the boolean " + d.show(n)
	}
	return "the string " + d.show(n)
}

func lastKey(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return strings.TrimSuffix(path[i+1:], "]")
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// str decodes a non-empty scalar as a string.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = d.deref(n)
	if n == nil || d.failed[n] {
		return "", false
	}
	if isNull(n) {
		d.errf(n, path, fmt.Sprintf("give %s a value or remove the key", lastKey(path)), "missing value")
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errf(n, path, "write a single value (quote it if it contains \": \" or \" #\")",
			"expected a string, found %s", d.describe(n))
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		d.errf(n, path, fmt.Sprintf("give %s a value or remove the key", lastKey(path)), "empty value")
		return "", false
	}
	return n.Value, true
}

// integer decodes a plain (unquoted) whole number.
func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	n = d.deref(n)
	if n == nil || d.failed[n] {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err == nil && v >= math.MinInt32 && v <= math.MaxInt32 {
			return int(v), true
		}
	}
	d.errf(n, path, fmt.Sprintf("write digits without quotes, e.g. %s: 10", lastKey(path)),
		"expected a whole number, found %s", d.describe(n))
	return 0, false
}

// number decodes a plain (unquoted) finite number.
func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	n = d.deref(n)
	if n == nil || d.failed[n] {
		return 0, false
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	d.errf(n, path, fmt.Sprintf("write a number without quotes, e.g. %s: 2", lastKey(path)),
		"expected a number, found %s", d.describe(n))
	return 0, false
}

// boolean decodes true or false.
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = d.deref(n)
	if n == nil || d.failed[n] {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return v, true
		}
	}
	d.errf(n, path, fmt.Sprintf("write %s: true or %s: false", lastKey(path), lastKey(path)),
		"expected true or false, found %s", d.describe(n))
	return false, false
}

// percent decodes "0.5%" or a plain number into a fraction in [lo, hi].
func (d *decoder) percent(n *yaml.Node, path string, lo, hi float64, loOpen bool) (float64, bool) {
	n = d.deref(n)
	if n == nil || d.failed[n] {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.errf(n, path, fmt.Sprintf("write a percentage or fraction, e.g. %s: \"0.5%%\" or %s: 0.005", lastKey(path), lastKey(path)),
			"expected a percentage, found %s", d.describe(n))
		return 0, false
	}
	v, err := ParsePercent(n.Value)
	if err != nil {
		d.errf(n, path, fmt.Sprintf("write a percentage or fraction, e.g. %s: \"0.5%%\" or %s: 0.005", lastKey(path), lastKey(path)),
			"%s is not a percentage", d.show(n))
		return 0, false
	}
	if v < lo || v > hi || loOpen && v == lo {
		rng := fmt.Sprintf("between %s and %s", fmtPct(lo), fmtPct(hi))
		if loOpen {
			rng = fmt.Sprintf("above %s and at most %s", fmtPct(lo), fmtPct(hi))
		}
		d.errf(n, path, "use a value "+rng, "%s is out of range", d.show(n))
		return 0, false
	}
	return v, true
}

func fmtPct(f float64) string {
	return strconv.FormatFloat(f*100, 'f', -1, 64) + "%"
}

// duration decodes a duration ("15m", "7d") of at least lo.
func (d *decoder) duration(n *yaml.Node, path string, lo Duration) (Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.errf(d.deref(n), path, "write a duration such as 30s, 15m, 24h or 7d", "%s is not a duration", d.show(d.deref(n)))
		return 0, false
	}
	if Duration(v) < lo {
		d.errf(d.deref(n), path, "use at least "+lo.String(), "%s is too short", d.show(d.deref(n)))
		return 0, false
	}
	return Duration(v), true
}

// list decodes a sequence (a lone value is not accepted).
func (d *decoder) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = d.deref(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.SequenceNode {
		hint := fmt.Sprintf("write a list, e.g. %s: [a, b] or one \"- item\" per line", lastKey(path))
		if isNull(n) {
			hint = "add \"- item\" lines below it (indented), or remove the empty key"
		}
		d.errf(n, path, hint, "expected a list, found %s", d.describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = d.deref(c); c != nil {
			out = append(out, c)
		}
	}
	return out, true
}

// strList decodes a list of non-empty strings.
func (d *decoder) strList(n *yaml.Node, path string) ([]string, []*yaml.Node, bool) {
	items, ok := d.list(n, path)
	if !ok {
		return nil, nil, false
	}
	var out []string
	var nodes []*yaml.Node
	for i, it := range items {
		s, ok2 := d.str(it, fmt.Sprintf("%s[%d]", path, i))
		if ok2 {
			out = append(out, s)
			nodes = append(nodes, it)
		} else {
			ok = false
		}
	}
	return out, nodes, ok
}

// mnode is a decoded YAML mapping.
type mnode struct {
	d    *decoder
	path string
	// at is where "missing key" errors point: the key that introduced the
	// mapping, or the mapping itself.
	at   *yaml.Node
	n    *yaml.Node
	keys []*yaml.Node
	vals []*yaml.Node
	idx  map[string]int
}

// mapping decodes n as a mapping; keyNode is the key that introduced it (for
// positions of "missing key" errors). It reports an error and returns nil when
// n is not a mapping.
func (d *decoder) mapping(keyNode, n *yaml.Node, path string) *mnode {
	n = d.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		hint := fmt.Sprintf("write %s: {key: value, ...} or an indented block of key: value lines", lastKey(path))
		switch {
		case isNull(n):
			hint = "add its keys below it (indented), or remove the empty key"
		case strings.HasSuffix(path, "]"):
			hint = "write each list item as key: value pairs, e.g. - {name: ..., ...}"
		}
		d.errf(n, path, hint, "expected a mapping, found %s", d.describe(n))
		return nil
	}
	m := &mnode{d: d, path: path, at: keyNode, n: n, idx: map[string]int{}}
	if m.at == nil {
		m.at = n
	}
	m.addPairs(n, 0)
	return m
}

func (m *mnode) addPairs(n *yaml.Node, depth int) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue // reported by checkKeys
		}
		if k.Tag == "!!merge" {
			merges = append(merges, n.Content[i+1])
			continue
		}
		if _, dup := m.idx[k.Value]; dup {
			continue // reported by checkKeys (or overridden merge)
		}
		m.idx[k.Value] = len(m.keys)
		m.keys = append(m.keys, k)
		m.vals = append(m.vals, n.Content[i+1])
	}
	// "<<: *defaults" merges keys not set explicitly.
	for _, mv := range merges {
		mv = m.d.deref(mv)
		if mv == nil || depth > 10 {
			continue
		}
		srcs := []*yaml.Node{mv}
		if mv.Kind == yaml.SequenceNode {
			srcs = mv.Content
		}
		for _, src := range srcs {
			src = m.d.deref(src)
			if src == nil || src.Kind != yaml.MappingNode {
				m.d.add(mv, "<< must merge a mapping", "write <<: *anchor where the anchor names a mapping")
				continue
			}
			m.addPairs(src, depth+1)
		}
	}
}

// has reports whether key is present.
func (m *mnode) has(key string) bool {
	if m == nil {
		return false
	}
	_, ok := m.idx[key]
	return ok
}

// get returns the value of key (aliases followed) or nil.
func (m *mnode) get(key string) *yaml.Node {
	if m == nil {
		return nil
	}
	i, ok := m.idx[key]
	if !ok {
		return nil
	}
	return m.d.deref(m.vals[i])
}

// keyNode returns the key node of key, or nil.
func (m *mnode) keyNode(key string) *yaml.Node {
	if m == nil {
		return nil
	}
	i, ok := m.idx[key]
	if !ok {
		return nil
	}
	return m.keys[i]
}

// names returns the keys in file order.
func (m *mnode) names() []string {
	if m == nil {
		return nil
	}
	out := make([]string, len(m.keys))
	for i, k := range m.keys {
		out[i] = k.Value
	}
	return out
}

// sub returns the path of key below this mapping.
func (m *mnode) sub(key string) string { return join(m.path, key) }

// unknown reports keys not accepted by ok. known lists the keys to suggest
// from; explain, when not nil, may give a better hint for a key.
func (m *mnode) unknown(ok func(string) bool, known []string, explain func(key string) string) {
	if m == nil {
		return
	}
	for _, k := range m.keys {
		if ok(k.Value) {
			continue
		}
		hint := ""
		if explain != nil {
			hint = explain(k.Value)
		}
		if hint == "" {
			if s := suggest(k.Value, known); s != "" {
				hint = fmt.Sprintf("did you mean `%s`?", s)
			} else {
				hint = "valid keys here: " + strings.Join(known, ", ")
			}
		}
		where := "unknown key"
		if m.path == "" {
			where = "unknown top-level key"
		}
		m.d.errf(k, m.path, hint, "%s %q", where, k.Value)
	}
}

// only reports keys that are not in allowed.
func (m *mnode) only(allowed ...string) {
	set := map[string]bool{}
	for _, a := range allowed {
		set[a] = true
	}
	m.unknown(func(k string) bool { return set[k] }, allowed, nil)
}

// require reports key as missing when absent.
func (m *mnode) require(key, hint string) bool {
	if m == nil {
		return false
	}
	if m.has(key) {
		return true
	}
	m.d.errf(m.at, m.path, hint, "missing required key %q", key)
	return false
}

// str decodes an optional string key; ok is false when absent or invalid.
func (m *mnode) str(key string) (string, *yaml.Node, bool) {
	v := m.get(key)
	if v == nil {
		return "", nil, false
	}
	s, ok := m.d.str(v, m.sub(key))
	return s, v, ok
}

// enum decodes an optional string key that must be one of valid.
func (m *mnode) enum(key string, valid []string) (string, bool) {
	s, n, ok := m.str(key)
	if !ok {
		return "", false
	}
	for _, v := range valid {
		if s == v {
			return s, true
		}
	}
	m.d.errf(n, m.sub(key), oneOf(s, valid), "invalid %s %s", key, m.d.show(n))
	return "", false
}

// integer decodes an optional whole number key within [lo, hi].
func (m *mnode) integer(key string, lo, hi int) (int, bool) {
	v := m.get(key)
	if v == nil {
		return 0, false
	}
	i, ok := m.d.integer(v, m.sub(key))
	if !ok {
		return 0, false
	}
	if i < lo || i > hi {
		hint := fmt.Sprintf("use a whole number from %d to %d", lo, hi)
		if hi >= 1<<30 {
			hint = fmt.Sprintf("use a whole number of at least %d", lo)
		}
		m.d.errf(v, m.sub(key), hint, "%d is out of range", i)
		return 0, false
	}
	return i, true
}
