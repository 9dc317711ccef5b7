package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/crmigrate/crmigrate/state"
)

// Drift classes, shared by the identity diff and the plan's diff.
const (
	MissingInNew    = "missing_in_new"
	MissingInOld    = "missing_in_old"
	FieldMismatch   = "field_mismatch"
	DuplicateInNew  = "duplicate_in_new"
	DuplicateInOld  = "duplicate_in_old"
	MatchedIdentity = "matched_identical"
)

// TableSpec names a table to compare in identity mode: the same table (by name) on two
// PostgreSQL databases, matched by a key column.
type TableSpec struct {
	OldURL, NewURL string
	Table          string // "name" or "schema.name"
	Key            string // the key column
	// Limit is how many differences the result lists with their values (every difference is
	// counted, and passed to OnDifference); 0 means 100.
	Limit int
	// OnDifference, when set, receives every difference in key order (the values of the
	// Difference are only valid during the call).
	OnDifference func(Difference) error
}

// TableDiff is the result of an identity-mode comparison.
type TableDiff struct {
	Table   string   `json:"table"`
	Key     string   `json:"key"`
	Columns []string `json:"columns"`            // compared, in the old table's order (the key first)
	OnlyOld []string `json:"only_old,omitempty"` // columns only the old table has (not compared)
	OnlyNew []string `json:"only_new,omitempty"`

	Old             int64            `json:"old"` // rows
	New             int64            `json:"new"`
	Matched         int64            `json:"matched"`
	Identical       int64            `json:"identical"`
	MissingInNew    int64            `json:"missing_in_new"`
	MissingInOld    int64            `json:"missing_in_old"`
	Mismatched      int64            `json:"mismatched"`
	DuplicatesInOld int64            `json:"duplicates_in_old"`
	DuplicatesInNew int64            `json:"duplicates_in_new"`
	Fields          map[string]int64 `json:"fields"` // mismatched rows per column
	Differences     []Difference     `json:"differences"`
	Truncated       bool             `json:"differences_truncated,omitempty"`
	Seconds         float64          `json:"seconds"`
}

// Same reports whether the two tables hold the same rows.
func (d *TableDiff) Same() bool {
	return d.MissingInNew == 0 && d.MissingInOld == 0 && d.Mismatched == 0 && d.DuplicatesInOld == 0 && d.DuplicatesInNew == 0
}

// Difference is one key whose rows differ.
type Difference struct {
	Key    string      `json:"key"`
	Class  string      `json:"class"`
	Fields []FieldDiff `json:"fields,omitempty"` // field_mismatch: the columns that differ
}

// FieldDiff is one column's values on both sides (nil for NULL).
type FieldDiff struct {
	Field string  `json:"field"`
	Old   *string `json:"old"`
	New   *string `json:"new"`
}

// Session settings that make both sides print values the same way.
var copySettings = map[string]string{
	"TimeZone":           "UTC",
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"extra_float_digits": "1",
	"bytea_output":       "hex",
	"application_name":   "crmigrate-validate",
}

// column is a column of a compared table.
type column struct{ name, typ string }

// DiffTables compares a table on two PostgreSQL databases row by row, raw values as the server
// prints them, no normalization. Each side is read once with one COPY of its rows ordered by the
// key, both at the same time, and the two streams are merge-joined; memory does not grow with
// the table.
func DiffTables(ctx context.Context, spec TableSpec) (*TableDiff, error) {
	start := time.Now()
	if spec.Limit == 0 {
		spec.Limit = 100
	}
	ident, err := tableIdent(spec.Table)
	if err != nil {
		return nil, err
	}
	var conns [2]*pgx.Conn
	for i, url := range []string{spec.OldURL, spec.NewURL} {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("connect to the %s database %s: %s", sideName(i), state.Redact(url), redactErr(err, url))
		}
		for k, v := range copySettings {
			cfg.RuntimeParams[k] = v
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("connect to the %s database %s: %s", sideName(i), state.Redact(url), redactErr(err, url))
		}
		defer c.Close(context.WithoutCancel(ctx))
		conns[i] = c
	}
	var cols [2][]column
	for i, c := range conns {
		if cols[i], err = tableColumns(ctx, c, ident); err != nil {
			return nil, fmt.Errorf("%s database: %w", sideName(i), err)
		}
	}
	d := &TableDiff{Table: spec.Table, Key: spec.Key, Fields: map[string]int64{}, Differences: []Difference{}}
	newCols := map[string]column{}
	for _, c := range cols[1] {
		newCols[c.name] = c
	}
	var keyType [2]string
	var compared []string
	for _, c := range cols[0] {
		nc, ok := newCols[c.name]
		if !ok {
			d.OnlyOld = append(d.OnlyOld, c.name)
			continue
		}
		delete(newCols, c.name)
		if c.name == spec.Key {
			keyType = [2]string{c.typ, nc.typ}
			continue
		}
		compared = append(compared, c.name)
	}
	for _, c := range cols[1] {
		if _, ok := newCols[c.name]; ok {
			d.OnlyNew = append(d.OnlyNew, c.name)
		}
	}
	if keyType[0] == "" {
		return nil, fmt.Errorf("table %s: key column %q is not in both tables", spec.Table, spec.Key)
	}
	d.Columns = append([]string{spec.Key}, compared...)
	// Integer keys are ordered as numbers (the primary key's index serves); any other key as its
	// text, byte by byte, which Go compares the same way.
	numeric := isInteger(keyType[0]) && isInteger(keyType[1])
	sel := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		sel[i] = pgx.Identifier{c}.Sanitize()
	}
	order := sel[0]
	if !numeric {
		// Read the key as text, the text ordered byte by byte: what the merge compares is what the
		// server ordered (a char(n) key's text drops its padding, for one).
		sel[0] += `::text`
		order = sel[0] + ` COLLATE "C"`
	}
	query := `COPY (SELECT ` + strings.Join(sel, ", ") + ` FROM ` + ident + ` ORDER BY ` + order + `) TO STDOUT`

	g, gctx := errgroup.WithContext(ctx)
	var streams [2]*lineStream
	for i, c := range conns {
		streams[i] = newLineStream()
		s := streams[i]
		g.Go(func() error {
			_, err := c.PgConn().CopyTo(gctx, s, query)
			s.close(err)
			if err != nil && !s.abandoned() { // abandoned: the merge stopped, with its own error
				return fmt.Errorf("read %s from the %s database: %w", spec.Table, sideName(i), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		err := d.merge(gctx, streams, numeric, spec)
		for _, s := range streams {
			s.abandon()
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	d.Seconds = time.Since(start).Seconds()
	return d, nil
}

func sideName(i int) string {
	if i == 0 {
		return "old"
	}
	return "new"
}

func redactErr(err error, url string) string {
	return strings.ReplaceAll(err.Error(), url, state.Redact(url))
}

// tableIdent quotes "name" or "schema.name".
func tableIdent(t string) (string, error) {
	parts := strings.Split(t, ".")
	if t == "" || len(parts) > 2 || slices.Contains(parts, "") || strings.ContainsRune(t, 0) {
		return "", fmt.Errorf("table %q: give a table name, or schema.name", t)
	}
	return pgx.Identifier(parts).Sanitize(), nil
}

func tableColumns(ctx context.Context, c *pgx.Conn, ident string) ([]column, error) {
	var oid *uint32
	if err := c.QueryRow(ctx, `SELECT to_regclass($1)::oid`, ident).Scan(&oid); err != nil {
		return nil, fmt.Errorf("find table %s: %w", ident, err)
	}
	if oid == nil {
		return nil, fmt.Errorf("table %s does not exist", ident)
	}
	rows, err := c.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, *oid)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", ident, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.typ)
		return c, err
	})
}

func isInteger(typ string) bool {
	return typ == "smallint" || typ == "integer" || typ == "bigint"
}

// merge joins the two ordered streams.
func (d *TableDiff) merge(ctx context.Context, streams [2]*lineStream, numeric bool, spec TableSpec) error {
	var cur [2][]byte
	var ok [2]bool
	var prevKey [2][]byte
	var err error
	next := func(i int) error {
		cur[i], ok[i], err = streams[i].next(ctx)
		if err != nil || !ok[i] {
			return err
		}
		if i == 0 {
			d.Old++
		} else {
			d.New++
		}
		return nil
	}
	for i := range 2 {
		if err := next(i); err != nil {
			return err
		}
	}
	emit := func(diff Difference) error {
		if len(d.Differences) < spec.Limit {
			cp := Difference{Key: strings.Clone(diff.Key), Class: diff.Class}
			for _, f := range diff.Fields {
				cp.Fields = append(cp.Fields, FieldDiff{Field: f.Field, Old: clonePtr(f.Old), New: clonePtr(f.New)})
			}
			d.Differences = append(d.Differences, cp)
		} else {
			d.Truncated = true
		}
		if spec.OnDifference != nil {
			return spec.OnDifference(diff)
		}
		return nil
	}
	// dup reports whether line's key repeats the previous key of side i (and remembers it).
	dup := func(i int, key []byte) bool {
		same := prevKey[i] != nil && bytes.Equal(prevKey[i], key)
		prevKey[i] = append(prevKey[i][:0], key...)
		return same
	}
	var fieldBuf []FieldDiff
	for n := 0; ok[0] || ok[1]; n++ {
		if n&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var k [2][]byte
		for i := range 2 {
			if ok[i] {
				k[i] = lineKey(cur[i])
			}
		}
		// A key seen again on one side is a duplicate there: counted, never matched.
		for i := range 2 {
			for ok[i] && prevKey[i] != nil && bytes.Equal(prevKey[i], k[i]) {
				class := DuplicateInOld
				if i == 1 {
					class = DuplicateInNew
					d.DuplicatesInNew++
				} else {
					d.DuplicatesInOld++
				}
				if err := emit(Difference{Key: decodeCopy(k[i]), Class: class}); err != nil {
					return err
				}
				if err := next(i); err != nil {
					return err
				}
				if ok[i] {
					k[i] = lineKey(cur[i])
				}
			}
		}
		if !ok[0] && !ok[1] {
			break
		}
		c := 0
		switch {
		case !ok[0]:
			c = 1
		case !ok[1]:
			c = -1
		default:
			c = compareKeys(k[0], k[1], numeric)
		}
		switch {
		case c < 0: // only in old
			dup(0, k[0])
			d.MissingInNew++
			if err := emit(Difference{Key: decodeCopy(k[0]), Class: MissingInNew}); err != nil {
				return err
			}
			if err := next(0); err != nil {
				return err
			}
		case c > 0: // only in new
			dup(1, k[1])
			d.MissingInOld++
			if err := emit(Difference{Key: decodeCopy(k[1]), Class: MissingInOld}); err != nil {
				return err
			}
			if err := next(1); err != nil {
				return err
			}
		default:
			dup(0, k[0])
			dup(1, k[1])
			d.Matched++
			if bytes.Equal(cur[0], cur[1]) {
				d.Identical++
			} else {
				d.Mismatched++
				fieldBuf = d.fieldDiffs(fieldBuf[:0], cur[0], cur[1])
				if err := emit(Difference{Key: decodeCopy(k[0]), Class: FieldMismatch, Fields: fieldBuf}); err != nil {
					return err
				}
			}
			for i := range 2 {
				if err := next(i); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func clonePtr(s *string) *string {
	if s == nil {
		return nil
	}
	c := strings.Clone(*s)
	return &c
}

// lineKey is the first field of a COPY text line.
func lineKey(line []byte) []byte {
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		return line[:i]
	}
	return line
}

// compareKeys orders two keys as the COPY query did: integers as numbers, anything else byte
// by byte on its text (decoded from COPY's escapes).
func compareKeys(a, b []byte, numeric bool) int {
	// NULL (\N) sorts after every value, as ORDER BY … ASC puts it.
	if an, bn := string(a) == `\N`, string(b) == `\N`; an || bn {
		switch {
		case an && bn:
			return 0
		case an:
			return 1
		}
		return -1
	}
	if numeric {
		x, errA := strconv.ParseInt(string(a), 10, 64)
		y, errB := strconv.ParseInt(string(b), 10, 64)
		if errA == nil && errB == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.Compare(a, b)
	}
	return strings.Compare(decodeCopy(a), decodeCopy(b))
}

// fieldDiffs lists the columns whose values differ between two lines of the same key.
func (d *TableDiff) fieldDiffs(out []FieldDiff, a, b []byte) []FieldDiff {
	for i := 0; len(a) > 0 || len(b) > 0; i++ {
		var fa, fb []byte
		fa, a = cutField(a)
		fb, b = cutField(b)
		if i == 0 || bytes.Equal(fa, fb) {
			continue
		}
		name := fmt.Sprintf("column %d", i+1)
		if i < len(d.Columns) {
			name = d.Columns[i]
		}
		d.Fields[name]++
		out = append(out, FieldDiff{Field: name, Old: copyValue(fa), New: copyValue(fb)})
	}
	return out
}

func cutField(line []byte) (field, rest []byte) {
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, nil
}

// copyValue decodes a COPY text field; nil for NULL.
func copyValue(f []byte) *string {
	if string(f) == `\N` {
		return nil
	}
	s := decodeCopy(f)
	return &s
}

// decodeCopy undoes COPY text format's backslash escapes.
func decodeCopy(f []byte) string {
	if bytes.IndexByte(f, '\\') < 0 {
		return string(f)
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := f[i]; e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x':
			n, j := 0, 0
			for j < 2 && i+1+j < len(f) && isHex(f[i+1+j]) {
				n = n*16 + hexVal(f[i+1+j])
				j++
			}
			if j == 0 {
				b.WriteByte('x')
				continue
			}
			b.WriteByte(byte(n))
			i += j
		default:
			if e >= '0' && e <= '7' {
				n, j := 0, 0
				for j < 3 && i+j < len(f) && f[i+j] >= '0' && f[i+j] <= '7' {
					n = n*8 + int(f[i+j]-'0')
					j++
				}
				b.WriteByte(byte(n))
				i += j - 1
				continue
			}
			b.WriteByte(e)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// lineStream turns the bytes COPY writes into lines, handed from the reading goroutine to the
// merging one in chunks of about 1 MB (a line is never split across chunks).
type lineStream struct {
	chunks chan []byte
	free   chan []byte
	done   chan struct{}
	err    error
	buf    []byte // being filled
	// reader side
	chunk []byte
	pos   int
}

const chunkSize = 1 << 20

func newLineStream() *lineStream {
	s := &lineStream{chunks: make(chan []byte, 4), free: make(chan []byte, 6), done: make(chan struct{})}
	return s
}

var errAbandoned = errors.New("stream abandoned")

// Write receives COPY data (PostgreSQL sends one row per message; any split is handled).
func (s *lineStream) Write(p []byte) (int, error) {
	if s.buf == nil {
		s.buf = s.newBuf()
	}
	s.buf = append(s.buf, p...)
	if len(s.buf) >= chunkSize {
		// Hand over up to the last complete line.
		cut := bytes.LastIndexByte(s.buf, '\n') + 1
		if cut == 0 {
			return len(p), nil // one line longer than a chunk: keep growing
		}
		out := s.buf[:cut]
		var rest []byte
		if cut < len(s.buf) {
			rest = append(s.newBuf(), s.buf[cut:]...)
		}
		select {
		case s.chunks <- out:
		case <-s.done:
			return 0, errAbandoned
		}
		s.buf = rest
	}
	return len(p), nil
}

// newBuf returns an empty chunk buffer, a recycled one when the reader gave one back.
func (s *lineStream) newBuf() []byte {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]byte, 0, chunkSize+4096)
	}
}

// abandoned reports whether the reader gave up.
func (s *lineStream) abandoned() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// close ends the stream after the last Write, with the COPY's error.
func (s *lineStream) close(err error) {
	if err == nil && len(s.buf) > 0 {
		if s.buf[len(s.buf)-1] != '\n' {
			s.buf = append(s.buf, '\n')
		}
		select {
		case s.chunks <- s.buf:
		case <-s.done:
		}
	}
	s.err = err
	close(s.chunks)
}

// abandon tells the writer nobody reads any more.
func (s *lineStream) abandon() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
}

// next returns the next line without its newline; the slice is valid until the next call but one
// (two lines, one per side, are held at once; a chunk is recycled only after the reader moved on).
func (s *lineStream) next(ctx context.Context) ([]byte, bool, error) {
	for s.chunk == nil || s.pos >= len(s.chunk) {
		if s.chunk != nil {
			select {
			case s.free <- s.chunk:
			default:
			}
			s.chunk = nil
		}
		select {
		case c, ok := <-s.chunks:
			if !ok {
				if s.err != nil {
					return nil, false, s.err
				}
				return nil, false, nil
			}
			s.chunk, s.pos = c, 0
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	rest := s.chunk[s.pos:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		i = len(rest)
	}
	line := rest[:i]
	s.pos += i + 1
	return line, true, nil
}

var _ io.Writer = (*lineStream)(nil)
