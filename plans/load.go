package plans

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the plan file at path, interpolates ${VAR} references from the
// environment and validates it. A missing or unreadable file gives a plain
// error ("open plan: …"); a bad plan gives *Errors with every problem found.
func Load(path string) (*Plan, error) {
	return LoadWith(path, os.LookupEnv)
}

// LoadWith is Load with lookup resolving ${VAR} references instead of the
// process environment (nil means no variable is set), as in [Parse]. Tests use
// it to give each plan its own variables.
func LoadWith(path string, lookup func(string) (string, bool)) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open plan: %w", err)
	}
	return Parse(path, data, lookup)
}

// Parse is Load for bytes already read. filename is used in messages and to
// find the plan's folder; lookup resolves ${VAR} references (os.LookupEnv in
// Load; nil means no variable is set). On failure it returns *Errors.
func Parse(filename string, data []byte, lookup func(string) (string, bool)) (*Plan, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	sum := sha256.Sum256(data)
	p := &Plan{File: filename, Hash: hex.EncodeToString(sum[:])}
	if abs, err := filepath.Abs(filename); err == nil {
		p.Path = abs
	} else {
		p.Path = filename
	}
	p.Dir = filepath.Dir(p.Path)

	d := &decoder{file: filename, orig: map[*yaml.Node]string{}, failed: map[*yaml.Node]bool{}}
	root := d.parseYAML(data)
	if root != nil {
		d.checkKeys(root, map[*yaml.Node]bool{})
		d.interpolate(root, lookup, map[*yaml.Node]bool{})
		d.plan(root, p)
	}
	if len(d.errs) > 0 {
		d.errs.sort()
		errs := dedupErrors(d.errs)
		return nil, &errs
	}
	return p, nil
}

// dedupErrors drops errors identical to the one before (sorted input).
func dedupErrors(es Errors) Errors {
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseYAML parses data into the plan's root node (a document's content), or
// records an error and returns nil.
func (d *decoder) parseYAML(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errs = append(d.errs, &Error{File: d.file, Line: 1, Col: 1, Msg: "the plan file is empty",
				Hint: "start with name: and systems: (see docs/plan.md for a complete example)"})
			return nil
		}
		d.syntaxError(err, data)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.addAt(extra.Line, extra.Column, "the plan file holds more than one YAML document",
			"keep one document: remove the --- line and what follows, or merge it into the first")
	} else if !errors.Is(err, io.EOF) {
		d.syntaxError(err, data)
	}
	if len(doc.Content) == 0 {
		d.errs = append(d.errs, &Error{File: d.file, Line: 1, Col: 1, Msg: "the plan file is empty",
			Hint: "start with name: and systems: (see docs/plan.md for a complete example)"})
		return nil
	}
	return doc.Content[0]
}

// parserProblems are the yaml parser's (not scanner's) messages; the yaml
// package reports their line 0-based.
var parserProblems = []string{"did not find expected", "found undefined tag handle",
	"found duplicate %YAML directive", "found incompatible YAML document", "found duplicate %TAG directive"}

var unknownAnchorRE = regexp.MustCompile(`^(?:yaml: )?unknown anchor '(.*)' referenced$`)

func (d *decoder) syntaxError(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, col := 1, 1
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		for _, p := range parserProblems {
			if strings.HasPrefix(msg, p) {
				line++
				break
			}
		}
	} else if m := unknownAnchorRE.FindStringSubmatch(err.Error()); m != nil {
		// Point at the first use of the alias.
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line = bytes.Count(data[:i], []byte("\n")) + 1
			col = i - bytes.LastIndexByte(data[:i], '\n')
		}
	}
	hint := "check the indentation and quoting on this line and the one before; quote values that contain \": \", \" #\" or start with a special character"
	switch {
	case strings.Contains(msg, "tab"):
		hint = "indent with spaces, not tabs"
	case strings.HasPrefix(msg, "unknown anchor"):
		hint = "define the anchor with &NAME before using *NAME"
	case strings.Contains(msg, "',' or '}'"):
		hint = "close the { ... } mapping that starts on this line, and quote values that contain , { } [ ] or #"
	case strings.Contains(msg, "',' or ']'"):
		hint = "close the [ ... ] list that starts on this line, and quote values that contain , { } [ ] or #"
	}
	d.addAt(line, col, "YAML syntax error: "+msg, hint)
}

// checkKeys reports duplicate keys and non-scalar keys in every mapping of the
// tree, once per node.
func (d *decoder) checkKeys(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.MappingNode:
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				d.add(k, "a mapping key must be a plain name, not a list or mapping",
					"write name: value; a ? complex key is not allowed in a plan")
			} else if k.Tag != "!!merge" {
				if f, dup := first[k.Value]; dup {
					d.add(k, fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, f.Line),
						"remove one of them; a key may appear only once in a mapping")
				} else {
					first[k.Value] = k
				}
			}
			d.checkKeys(n.Content[i+1], seen)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			d.checkKeys(c, seen)
		}
	}
}

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// interpolate replaces ${VAR} (and ${VAR:-default}) in every scalar value of
// the tree; $${ stands for a literal ${. Keys are left alone. The original
// text of each changed scalar is kept in d.orig so that messages never show
// an interpolated value.
func (d *decoder) interpolate(n *yaml.Node, lookup func(string) (string, bool), seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.interpolate(n.Content[i+1], lookup, seen)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			d.interpolate(c, lookup, seen)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		out, changed := d.expand(n, lookup)
		if !changed {
			return
		}
		if d.failed[n] {
			return
		}
		d.orig[n] = n.Value
		n.Value = out
		if n.Style == 0 || n.Style == yaml.TaggedStyle && n.Tag == "" {
			n.Tag = resolvePlain(out)
		}
	}
}

// expand interpolates one scalar, reporting unset variables and bad syntax at
// the scalar's position.
func (d *decoder) expand(n *yaml.Node, lookup func(string) (string, bool)) (string, bool) {
	s := n.Value
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			changed = true
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		changed = true
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			d.add(n, "unterminated ${ in a value", "close the reference with } as in ${VAR}, or write $${ for a literal ${")
			d.failed[n] = true
			return s, false
		}
		ref := s[i+2 : i+end]
		i += end + 1
		name, def, hasDef := strings.Cut(ref, ":-")
		if !varNameRE.MatchString(name) {
			d.add(n, fmt.Sprintf("invalid environment variable reference ${%s}", ref),
				"a reference is ${NAME} or ${NAME:-default} where NAME is letters, digits and _; write $${ for a literal ${")
			d.failed[n] = true
			continue
		}
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			d.add(n, fmt.Sprintf("environment variable %s is not set", name), "export it or remove the reference")
			d.failed[n] = true
		}
	}
	return b.String(), changed
}

var (
	intRE   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	floatRE = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// resolvePlain returns the YAML tag a plain scalar with text s would get.
func resolvePlain(s string) string {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return "!!null"
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	}
	if intRE.MatchString(s) {
		return "!!int"
	}
	if floatRE.MatchString(s) {
		return "!!float"
	}
	return "!!str"
}
