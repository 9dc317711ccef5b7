package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pgerr"
	"github.com/crmigrate/crmigrate/plans"
)

// column is a column of a target table.
type column struct {
	name    string
	typ     string // format_type: what values are cast to
	notNull bool
	def     string // the default expression of a NOT NULL column ("" otherwise)
}

// table describes a target table.
type table struct {
	name  string // as in the plan
	q     string // quoted
	cols  map[string]column
	order []string // all columns in table order
	id    column   // the mapping's id column
}

func (s *Source) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect to system %s: %w", s.sys.Name, classify(ctx, err))
	}
	return conn, nil
}

func (s *Source) describe(ctx context.Context, conn querier, obj *plans.Object) (*table, error) {
	m := obj.Mapping(s.sys.Name)
	if m == nil || m.Table == "" {
		return nil, fmt.Errorf("object %s has no table on system %s; add %s: {table: TABLE, id: COLUMN} to the object", obj.Name, s.sys.Name, s.sys.Name)
	}
	t := &table{name: m.Table, q: QuoteTable(m.Table), cols: map[string]column{}}
	rows, err := conn.Query(ctx, `SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		CASE WHEN a.attnotnull THEN coalesce(pg_get_expr(d.adbin, d.adrelid), '') ELSE '' END
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, t.q)
	if err != nil {
		return nil, fmt.Errorf("inspect table %s on system %s: %w", m.Table, s.sys.Name, classify(ctx, err))
	}
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.def); err != nil {
			return nil, fmt.Errorf("inspect table %s on system %s: %w", m.Table, s.sys.Name, err)
		}
		t.cols[c.name] = c
		t.order = append(t.order, c.name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inspect table %s on system %s: %w", m.Table, s.sys.Name, classify(ctx, err))
	}
	if len(t.order) == 0 {
		return nil, fmt.Errorf("table %s on system %s: %w; create it in the new CRM or fix objects.%s.%s.table", m.Table, s.sys.Name, crm.ErrNotFound, obj.Name, s.sys.Name)
	}
	id, ok := t.cols[m.ID]
	if !ok {
		return nil, fmt.Errorf("table %s on system %s has no column %q; fix objects.%s.%s.id", m.Table, s.sys.Name, m.ID, obj.Name, s.sys.Name)
	}
	t.id = id
	return t, nil
}

// unique reports whether col alone has a unique index (no predicate, no expression) on the table.
func unique(ctx context.Context, conn *pgx.Conn, t *table, col string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
		AND a.attname = $2)`, t.q, col).Scan(&ok)
	return ok, err
}

// Writer prepares writing obj's rows to its table on this system, on a connection of its own.
func (s *Source) Writer(ctx context.Context, obj *plans.Object, spec crm.WriteSpec) (crm.ObjectWriter, error) {
	w := &writer{src: s, obj: obj, spec: spec}
	if err := w.open(ctx); err != nil {
		w.Close(ctx)
		return nil, err
	}
	return w, nil
}

type writer struct {
	src  *Source
	obj  *plans.Object
	spec crm.WriteSpec
	conn *pgx.Conn
	t    *table
	// SQL built once per writer.
	copyCols             []string
	imagesSQL, updateSQL string
	insertSQL, fixSQL    string
	// precheckSQL finds, before a batch is written, the rows the table's NOT NULL, CHECK and
	// unique constraints would refuse; it is used once a batch has been refused (dirty), since a
	// refused statement costs the work it did before it failed.
	precheckSQL string
	dirty       bool
}

func (w *writer) open(ctx context.Context) error {
	conn, err := w.src.connect(ctx)
	if err != nil {
		return err
	}
	w.conn = conn
	t, err := w.src.describe(ctx, conn, w.obj)
	if err != nil {
		return err
	}
	w.t = t
	spec := w.spec
	for _, c := range append(append([]string{spec.KeyColumn}, spec.Columns...), spec.Touch) {
		if _, ok := t.cols[c]; !ok && c != "" {
			return fmt.Errorf("table %s on system %s has no column %q; fix the plan's columns of object %s on %s", t.name, w.src.sys.Name, c, w.obj.Name, w.src.sys.Name)
		}
	}
	ok, err := unique(ctx, conn, t, spec.KeyColumn)
	if err != nil {
		return fmt.Errorf("inspect indexes of %s: %w", t.name, classify(ctx, err))
	}
	if !ok {
		return fmt.Errorf("column %q of table %s on system %s has no unique index, so a re-run could not find the rows it wrote; "+
			"create one (CREATE UNIQUE INDEX ON %s (%s)) or name a unique external_id column in objects.%s.%s",
			spec.KeyColumn, t.name, w.src.sys.Name, t.q, pgx.Identifier{spec.KeyColumn}.Sanitize(), w.obj.Name, w.src.sys.Name)
	}
	w.build()
	// Index scans, whatever the statistics say: a table that was empty when last analyzed (the
	// usual first load) would otherwise be scanned whole for every row of every batch. No JIT.
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off; SET jit = off`); err != nil {
		return fmt.Errorf("set up the connection to %s: %w", t.name, classify(ctx, err))
	}
	if err := w.buildPrecheck(ctx, conn); err != nil {
		return fmt.Errorf("inspect the constraints of %s: %w", t.name, classify(ctx, err))
	}
	if _, err := conn.Exec(ctx, w.stageDDL()); err != nil {
		return fmt.Errorf("create staging table for %s: %w", t.name, classify(ctx, err))
	}
	return nil
}

// stageDDL is the per-connection staging table: ordinal, known target id, key, then the values
// as text in spec order (named c0, c1, … so that no plan identifier reaches it).
func (w *writer) stageDDL() string {
	var b strings.Builder
	b.WriteString("CREATE TEMP TABLE IF NOT EXISTS crmigrate_stage (_n integer, _id text, _key text")
	for i := range w.spec.Columns {
		fmt.Fprintf(&b, ", c%d text", i)
	}
	b.WriteString(") ON COMMIT DELETE ROWS")
	return b.String()
}

func (w *writer) build() {
	t, spec := w.t, w.spec
	id := pgx.Identifier{t.id.name}.Sanitize()
	key := pgx.Identifier{spec.KeyColumn}.Sanitize()
	keyCast := "s._key::" + castType(t.cols[spec.KeyColumn].typ)
	w.copyCols = []string{"_n", "_id", "_key"}
	// Target columns and the expressions that fill them from the stage row s.
	// A NULL for a NOT NULL column with a default takes the default on insert and keeps the
	// row's value on update (a source without created_at must not fail on created_at).
	var cols, vals, insVals []string
	keyInCols := false
	for i, c := range spec.Columns {
		w.copyCols = append(w.copyCols, "c"+strconv.Itoa(i))
		q := pgx.Identifier{c}.Sanitize()
		cols = append(cols, q)
		v := fmt.Sprintf("s.c%d::%s", i, castType(t.cols[c].typ))
		if d := t.cols[c].def; d != "" {
			insVals = append(insVals, "coalesce("+v+", "+d+")")
			v = "coalesce(" + v + ", t." + q + ")"
		} else {
			insVals = append(insVals, v)
		}
		vals = append(vals, v)
		if c == spec.KeyColumn {
			keyInCols = true
		}
	}
	// A kept column keeps the row's value unless it is empty (Keep).
	keep := func(q, v string) string {
		return "CASE WHEN t." + q + " IS NULL OR t." + q + "::text = '' THEN " + v + " ELSE t." + q + " END"
	}
	kept := map[string]bool{}
	for _, c := range spec.Keep {
		kept[pgx.Identifier{c}.Sanitize()] = true
	}
	if !keyInCols {
		cols = append(cols, key)
		vals = append(vals, keyCast)
		insVals = append(insVals, keyCast)
	}
	var tcols, excl []string
	for i, c := range cols {
		tcols = append(tcols, "t."+c)
		x := "EXCLUDED." + c
		if kept[c] {
			x = keep(c, x)
			vals[i] = keep(c, vals[i])
		}
		excl = append(excl, x)
	}
	set := "(" + strings.Join(cols, ", ") + ") = ROW(" + strings.Join(vals, ", ") + ")"
	setEx := "(" + strings.Join(cols, ", ") + ") = ROW(" + strings.Join(excl, ", ") + ")"
	insCols, insVal := strings.Join(cols, ", "), strings.Join(insVals, ", ")
	if spec.Touch != "" && !contains(spec.Columns, spec.Touch) {
		touch := pgx.Identifier{spec.Touch}.Sanitize()
		set += ", " + touch + " = now()"
		setEx += ", " + touch + " = now()"
		insCols += ", " + touch
		insVal += ", now()"
	}
	idCast := "s._id::" + t.id.typ
	w.imagesSQL = `SELECT s._n, m.id, m.j FROM crmigrate_stage s CROSS JOIN LATERAL (
		SELECT t.` + id + `::text AS id, row_to_json(t)::text AS j FROM ` + t.q + ` t WHERE s._id IS NOT NULL AND t.` + id + ` = ` + idCast + `
		UNION ALL
		SELECT t.` + id + `::text, row_to_json(t)::text FROM ` + t.q + ` t WHERE t.` + key + ` = ` + keyCast + `
		LIMIT 1) m ORDER BY s._n`
	w.fixSQL = `UPDATE crmigrate_stage s SET _id = v.id FROM unnest($1::integer[], $2::text[]) AS v(n, id) WHERE s._n = v.n`
	w.updateSQL = `UPDATE ` + t.q + ` AS t SET ` + set + ` FROM crmigrate_stage s
		WHERE s._id IS NOT NULL AND s._n BETWEEN $1 AND $2 AND s._n <> ALL($3::integer[]) AND t.` + id + ` = ` + idCast + `
		AND ROW(` + strings.Join(tcols, ", ") + `) IS DISTINCT FROM ROW(` + strings.Join(vals, ", ") + `)
		RETURNING s._n`
	w.insertSQL = `INSERT INTO ` + t.q + ` AS t (` + insCols + `) SELECT ` + insVal + ` FROM crmigrate_stage s
		WHERE s._id IS NULL AND s._n BETWEEN $1 AND $2 AND s._n <> ALL($3::integer[]) ORDER BY s._n
		ON CONFLICT (` + key + `) DO UPDATE SET ` + setEx + `
		WHERE ROW(` + strings.Join(tcols, ", ") + `) IS DISTINCT FROM ROW(` + strings.Join(excl, ", ") + `)
		RETURNING t.` + id + `::text, t.` + key + `::text, (t.xmax = 0)`
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Write implements crm.ObjectWriter.
func (w *writer) Write(ctx context.Context, rows []crm.Row, journal func([]crm.Image) error) ([]crm.Outcome, error) {
	if w.conn == nil || w.conn.IsClosed() {
		if err := w.open(ctx); err != nil {
			return nil, err
		}
	}
	out, err := w.write(ctx, rows, journal)
	if err != nil {
		err = classify(ctx, err)
		if errors.Is(err, crm.ErrTransient) && w.conn != nil {
			// The connection may be broken; the next Write opens a new one.
			_ = w.conn.Close(context.Background())
			w.conn = nil
		}
		return nil, fmt.Errorf("write %d rows to %s: %w", len(rows), w.t.name, err)
	}
	return out, nil
}

func (w *writer) write(ctx context.Context, rows []crm.Row, journal func([]crm.Image) error) ([]crm.Outcome, error) {
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	ncol := len(w.spec.Columns)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"crmigrate_stage"}, w.copyCols, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := rows[i]
		v := make([]any, 3+ncol)
		v[0] = int32(i)
		if r.ID != "" {
			v[1] = r.ID
		}
		v[2] = r.Key
		for j, s := range r.Values {
			if s != nil {
				v[3+j] = *s
			}
		}
		return v, nil
	})); err != nil {
		return nil, fmt.Errorf("copy into staging table: %w", err)
	}
	// Before-images of the rows the batch will touch, matched on the known id, else on the key.
	images := make([]crm.Image, len(rows))
	res, err := tx.Query(ctx, w.imagesSQL)
	if err != nil {
		return nil, fmt.Errorf("read before-images: %w", err)
	}
	for res.Next() {
		var n int32
		var img crm.Image
		if err := res.Scan(&n, &img.ID, &img.JSON); err != nil {
			res.Close()
			return nil, fmt.Errorf("read before-images: %w", err)
		}
		images[n] = img
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("read before-images: %w", err)
	}
	var fixN []int32
	var fixID []*string
	for i, r := range rows {
		if images[i].ID != r.ID {
			fixN = append(fixN, int32(i))
			if images[i].ID == "" {
				fixID = append(fixID, nil)
			} else {
				id := images[i].ID
				fixID = append(fixID, &id)
			}
		}
	}
	if len(fixN) > 0 {
		if _, err := tx.Exec(ctx, w.fixSQL, fixN, fixID); err != nil {
			return nil, fmt.Errorf("match existing rows: %w", err)
		}
	}
	if journal != nil {
		if err := journal(images); err != nil {
			return nil, err
		}
	}
	out := make([]crm.Outcome, len(rows))
	for i := range rows {
		out[i] = crm.Outcome{Action: crm.Unchanged, ID: images[i].ID}
	}
	keyIdx := make(map[string]int32, len(rows))
	for i, r := range rows {
		keyIdx[r.Key] = int32(i)
	}
	var skip []int32
	if w.dirty && w.precheckSQL != "" {
		for _, c := range w.precheck(ctx, tx, int32(len(rows)-1)) {
			out[c.n] = crm.Outcome{Action: crm.Rejected, Reason: c.reason}
			skip = append(skip, c.n)
		}
	}
	if err := w.apply(ctx, tx, 0, int32(len(rows)-1), out, keyIdx, &skip); err != nil {
		return nil, err
	}
	if w.spec.DryRun {
		return out, tx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// apply writes the stage rows lo..hi (but those in skip) under a savepoint. When the target
// refuses a row, it finds the rows refused for the same reason with one set-based query (see
// culprits), rejects them with the target's message and tries again without them; when it cannot
// tell which rows, it halves the range until the refused rows are alone.
func (w *writer) apply(ctx context.Context, tx pgx.Tx, lo, hi int32, out []crm.Outcome, keyIdx map[string]int32, skip *[]int32) error {
	if lo > hi {
		return nil
	}
	for {
		sp, err := tx.Begin(ctx) // a savepoint
		if err != nil {
			return err
		}
		err = w.applyRange(ctx, sp, lo, hi, out, keyIdx, *skip)
		if err == nil {
			return sp.Commit(ctx)
		}
		_ = sp.Rollback(ctx)
		pgErr, refused := pgerr.Refusal(err)
		if !refused {
			return err
		}
		// What applyRange recorded for this range was rolled back with it.
		for i := lo; i <= hi; i++ {
			switch out[i].Action {
			case crm.Inserted:
				out[i] = crm.Outcome{Action: crm.Unchanged}
			case crm.Updated:
				out[i].Action = crm.Unchanged
			}
		}
		if lo == hi {
			out[lo] = crm.Outcome{Action: crm.Rejected, Reason: pgerr.Message(pgErr)}
			*skip = append(*skip, lo)
			return nil
		}
		w.dirty = true
		found := w.culprits(ctx, tx, lo, hi, *skip, pgErr)
		if len(found) == 0 {
			mid := lo + (hi-lo)/2
			if err := w.apply(ctx, tx, lo, mid, out, keyIdx, skip); err != nil {
				return err
			}
			return w.apply(ctx, tx, mid+1, hi, out, keyIdx, skip)
		}
		for _, c := range found {
			out[c.n] = crm.Outcome{Action: crm.Rejected, Reason: c.reason}
			*skip = append(*skip, c.n)
		}
	}
}

// culprit is a row the target refuses, and why.
type culprit struct {
	n      int32
	reason string
}

// castErrorFunc reports why a value cannot be read as a type (NULL when it can). It lives in the
// connection's temporary schema and is used only on batches the target refused.
const castErrorFunc = `CREATE OR REPLACE FUNCTION pg_temp.crmigrate_cast_error(v text, t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	IF v IS NULL THEN RETURN NULL; END IF;
	EXECUTE format('SELECT %L::%s', v, t);
	RETURN NULL;
EXCEPTION WHEN others THEN
	RETURN SQLERRM;
END $$`

var typmodLen = regexp.MustCompile(`^(character varying|character|bit varying|bit)\((\d+)\)$`)

// castType is the type a staged text value is cast to for a column: character types are cast to
// text, so that assigning an over-long value fails (an explicit cast to varchar(n) would cut it).
func castType(typ string) string {
	if strings.HasPrefix(typ, "character") {
		return "text"
	}
	return typ
}

// culprits finds, with one query, the rows of lo..hi (but skip) that the target refuses for the
// reason pgErr gives: a NULL in a NOT NULL column, a failed CHECK constraint, a value that
// collides on a unique index (with another row of the table or an earlier row of the batch), or
// values their column's type does not accept (all of them at once, each with its own message).
// It returns nil when it cannot tell.
func (w *writer) culprits(ctx context.Context, tx pgx.Tx, lo, hi int32, skip []int32, pgErr *pgconn.PgError) []culprit {
	t := w.t
	colOf := func(name string) (string, bool) { // the stage expression holding a target column's value
		if name == w.spec.KeyColumn {
			return "s._key", true
		}
		for i, c := range w.spec.Columns {
			if c == name {
				return "s.c" + strconv.Itoa(i), true
			}
		}
		return "", false
	}
	where := ` FROM crmigrate_stage s WHERE s._n BETWEEN $1 AND $2 AND s._n <> ALL($3::integer[])`
	reason := quote(pgerr.Message(pgErr))
	var q string
	switch {
	case pgErr.Code == "23502": // not null
		if c, ok := colOf(pgErr.ColumnName); ok {
			q = `SELECT s._n, ` + reason + where + ` AND ` + c + ` IS NULL`
		}
	case pgErr.Code == "23514": // check
		var expr string
		if err := tx.QueryRow(ctx, `SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2 AND contype = 'c'`,
			t.q, pgErr.ConstraintName).Scan(&expr); err != nil {
			return nil
		}
		var cols []string
		for _, c := range append([]string{w.spec.KeyColumn}, w.spec.Columns...) {
			e, _ := colOf(c)
			cols = append(cols, e+"::"+castType(t.cols[c].typ)+" AS "+pgx.Identifier{c}.Sanitize())
		}
		q = `SELECT x._n, ` + reason + ` FROM (SELECT s._n, ` + strings.Join(cols, ", ") + where + `) AS x WHERE NOT (` + expr + `)`
	case pgErr.Code == "23505": // unique: the detail names one row's key; the others collide on their own
		var cols []string
		if err := tx.QueryRow(ctx, `SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND ic.relname = $2`,
			t.q, pgErr.ConstraintName).Scan(&cols); err != nil || len(cols) != 1 {
			return nil
		}
		c, ok := colOf(cols[0])
		if !ok {
			return nil
		}
		col, id := pgx.Identifier{cols[0]}.Sanitize(), pgx.Identifier{t.id.name}.Sanitize()
		typ := castType(t.cols[cols[0]].typ)
		q = `SELECT d._n, ` + quote(pgErr.Message) + ` || ' (' || ` + quote(cols[0]) + ` || ')' FROM (SELECT s._n, ` + c + ` AS v, s._id, row_number() OVER (PARTITION BY ` + c + `::` + typ + ` ORDER BY s._n) AS k` + where +
			` AND ` + c + ` IS NOT NULL) AS d WHERE d.k > 1 OR EXISTS (SELECT 1 FROM ` + t.q + ` AS t WHERE t.` + col + ` = d.v::` + typ +
			` AND (d._id IS NULL OR t.` + id + ` <> d._id::` + t.id.typ + `))`
	case strings.HasPrefix(pgErr.Code, "22"): // data exceptions: every value its column's type refuses
		var checks []string
		for i, c := range append([]string{w.spec.KeyColumn}, w.spec.Columns...) {
			e := "s._key"
			if i > 0 {
				e = "s.c" + strconv.Itoa(i-1)
			}
			typ := t.cols[c].typ
			switch {
			case typ == "text":
			case typmodLen.MatchString(typ):
				n := typmodLen.FindStringSubmatch(typ)[2]
				checks = append(checks, `CASE WHEN length(`+e+`) > `+n+` THEN 'value too long for type `+typ+` in column `+strings.ReplaceAll(c, "'", "''")+`' END`)
			case strings.HasPrefix(typ, "character"):
			default:
				checks = append(checks, `pg_temp.crmigrate_cast_error(`+e+`, `+quote(typ)+`)`)
			}
		}
		if len(checks) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, castErrorFunc); err != nil {
			return nil
		}
		q = `SELECT x._n, x.r FROM (SELECT s._n, coalesce(` + strings.Join(checks, ", ") + `) AS r` + where + `) AS x WHERE x.r IS NOT NULL`
	}
	if q == "" {
		return nil
	}
	return w.query(ctx, tx, q, lo, hi, skip)
}

// buildPrecheck writes precheckSQL from the table's constraints on the columns written.
func (w *writer) buildPrecheck(ctx context.Context, conn *pgx.Conn) error {
	t, spec := w.t, w.spec
	rel := strings.ReplaceAll(t.name[strings.LastIndexByte(t.name, '.')+1:], `"`, `""`)
	var cols, conds, reasons []string
	colExpr := map[string]string{}
	for i, c := range append([]string{spec.KeyColumn}, spec.Columns...) {
		e := "s._key"
		if i > 0 {
			e = "s.c" + strconv.Itoa(i-1)
		}
		q := pgx.Identifier{c}.Sanitize()
		if _, dup := colExpr[c]; dup {
			continue
		}
		colExpr[c] = q
		cols = append(cols, e+"::"+castType(t.cols[c].typ)+" AS "+q)
		if col := t.cols[c]; col.notNull && col.def == "" {
			conds = append(conds, "x."+q+" IS NULL")
			reasons = append(reasons, `null value in column "`+c+`" of relation "`+rel+`" violates not-null constraint`)
		}
	}
	rows, err := conn.Query(ctx, `SELECT conname::text, pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'c' ORDER BY conname`, t.q)
	if err != nil {
		return err
	}
	type check struct{ Name, Expr string }
	checks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[check])
	if err != nil {
		return err
	}
	var windows []string
	for _, c := range checks {
		conds = append(conds, "NOT coalesce(("+c.Expr+"), true)")
		reasons = append(reasons, `new row for relation "`+rel+`" violates check constraint "`+c.Name+`"`)
	}
	rows, err = conn.Query(ctx, `SELECT ic.relname::text, a.attname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL ORDER BY 1`, t.q)
	if err != nil {
		return err
	}
	type uniq struct{ Name, Col string }
	uniqs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[uniq])
	if err != nil {
		return err
	}
	id := pgx.Identifier{t.id.name}.Sanitize()
	for i, u := range uniqs {
		q, ok := colExpr[u.Col]
		if !ok || u.Col == spec.KeyColumn || u.Col == t.id.name {
			continue // the key is the upsert's conflict target; the id is the table's
		}
		k := "k" + strconv.Itoa(i)
		windows = append(windows, "row_number() OVER (PARTITION BY "+q+" ORDER BY _n) AS "+k)
		conds = append(conds, "(x."+q+" IS NOT NULL AND (x."+k+" > 1 OR EXISTS (SELECT 1 FROM "+t.q+" AS t WHERE t."+q+" = x."+q+
			" AND (x._id IS NULL OR t."+id+" <> x._id::"+t.id.typ+"))))")
		reasons = append(reasons, `duplicate key value violates unique constraint "`+u.Name+`" (`+u.Col+`)`)
	}
	if len(conds) == 0 {
		return nil
	}
	var cases []string
	for i, c := range conds {
		cases = append(cases, "WHEN "+c+" THEN "+quote(reasons[i]))
	}
	inner := "SELECT s._n, s._id, " + strings.Join(cols, ", ") + " FROM crmigrate_stage s WHERE s._n <= $1"
	if len(windows) > 0 {
		inner = "SELECT y.*, " + strings.Join(windows, ", ") + " FROM (" + inner + ") AS y"
	}
	w.precheckSQL = "SELECT x._n, CASE " + strings.Join(cases, " ") + " END FROM (" + inner + ") AS x WHERE " + strings.Join(conds, " OR ")
	return nil
}

// precheck runs precheckSQL on the staged rows 0..hi. A value its column's type refuses makes
// the query fail: those rows are found first (the cast-error query) and left out. Any other
// failure returns nothing, and the write finds the refused rows as it goes.
func (w *writer) precheck(ctx context.Context, tx pgx.Tx, hi int32) []culprit {
	var skipped []culprit
	for attempt := 0; attempt < 2; attempt++ {
		skip := make([]int32, len(skipped))
		for i, c := range skipped {
			skip[i] = c.n
		}
		q := w.precheckSQL + " AND x._n <> ALL($2::integer[])"
		sp, err := tx.Begin(ctx)
		if err != nil {
			return skipped
		}
		rows, err := sp.Query(ctx, q, hi, skip)
		var found []culprit
		if err == nil {
			found, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (culprit, error) {
				var c culprit
				return c, r.Scan(&c.n, &c.reason)
			})
		}
		if err == nil {
			if sp.Commit(ctx) != nil {
				return skipped
			}
			return append(skipped, found...)
		}
		_ = sp.Rollback(ctx)
		pgErr, refused := pgerr.Refusal(err)
		if !refused || !strings.HasPrefix(pgErr.Code, "22") || attempt > 0 {
			return skipped
		}
		skipped = append(skipped, w.culprits(ctx, tx, 0, hi, skip, pgErr)...)
	}
	return skipped
}

// quote makes an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// query runs a culprit query under a savepoint (it may fail on a value it casts) and returns the
// rows it names; nil on any error.
func (w *writer) query(ctx context.Context, tx pgx.Tx, q string, lo, hi int32, skip []int32) []culprit {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil
	}
	if skip == nil {
		skip = []int32{}
	}
	rows, err := sp.Query(ctx, q, lo, hi, skip)
	if err != nil {
		_ = sp.Rollback(ctx)
		return nil
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (culprit, error) {
		var c culprit
		err := r.Scan(&c.n, &c.reason)
		return c, err
	})
	if err != nil {
		_ = sp.Rollback(ctx)
		return nil
	}
	if sp.Commit(ctx) != nil {
		return nil
	}
	return found
}

// Close implements crm.ObjectWriter.
func (w *writer) Close(ctx context.Context) error {
	if w.conn != nil {
		err := w.conn.Close(ctx)
		w.conn = nil
		return err
	}
	return nil
}

// classify wraps errors worth retrying with crm.ErrTransient.
func classify(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, crm.ErrTransient) || ctx.Err() != nil || !pgerr.Transient(err) {
		return err
	}
	return fmt.Errorf("%w: %w", crm.ErrTransient, err)
}

func (w *writer) applyRange(ctx context.Context, tx pgx.Tx, lo, hi int32, out []crm.Outcome, keyIdx map[string]int32, skip []int32) error {
	if skip == nil {
		skip = []int32{}
	}
	rows, err := tx.Query(ctx, w.updateSQL, lo, hi, skip)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n int32
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		out[n].Action = crm.Updated
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, w.insertSQL, lo, hi, skip)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, key string
		var inserted bool
		if err := rows.Scan(&id, &key, &inserted); err != nil {
			return err
		}
		n, ok := keyIdx[key]
		if !ok {
			return fmt.Errorf("the new row with %s = %q does not match a row of the batch (does the column change values on insert?)", w.spec.KeyColumn, key)
		}
		out[n] = crm.Outcome{Action: crm.Updated, ID: id}
		if inserted {
			out[n].Action = crm.Inserted
		}
	}
	return rows.Err()
}
