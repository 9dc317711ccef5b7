package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// The write side's optional powers.
var (
	_ crm.Target        = (*Source)(nil)
	_ crm.Reverter      = (*Source)(nil)
	_ crm.Transactional = (*Source)(nil)
	_ crm.Dependents    = (*Source)(nil)
	_ crm.Archiver      = (*Source)(nil)
	_ crm.Lookup        = (*Source)(nil)
)

// live returns the source's connection, connecting again when it was lost.
func (s *Source) live(ctx context.Context) (*pgx.Conn, error) {
	if s.conn == nil || s.conn.IsClosed() {
		conn, err := s.connect(ctx)
		if err != nil {
			return nil, err
		}
		s.conn = conn
	}
	return s.conn, nil
}

// querier is a connection or a transaction on it.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// target returns the source's connection (its open transaction between Begin and Commit) and the
// object's table on it.
func (s *Source) target(ctx context.Context, obj *plans.Object) (querier, *table, error) {
	var conn querier = s.tx
	if s.tx == nil {
		c, err := s.live(ctx)
		if err != nil {
			return nil, nil, err
		}
		conn = c
	}
	t, err := s.describe(ctx, conn, obj)
	if err != nil {
		return nil, nil, err
	}
	return conn, t, nil
}

// idList casts a text[] parameter to the id column's array type.
func idList(t *table) string { return "$1::text[]::" + t.id.typ + "[]" }

// Delete implements crm.Reverter: it deletes rows by id in one transaction.
func (s *Source) Delete(ctx context.Context, obj *plans.Object, ids []string) (int64, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return 0, err
	}
	tag, err := conn.Exec(ctx, `DELETE FROM `+t.q+` AS t WHERE t.`+pgx.Identifier{t.id.name}.Sanitize()+` = ANY(`+idList(t)+`)`, ids)
	if err != nil {
		return 0, fmt.Errorf("delete %d rows from %s: %w", len(ids), t.name, classify(ctx, err))
	}
	return tag.RowsAffected(), nil
}

// DeleteKeys implements crm.Reverter: it deletes rows by their key column's value.
func (s *Source) DeleteKeys(ctx context.Context, obj *plans.Object, column string, keys []string) (int64, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return 0, err
	}
	c, ok := t.cols[column]
	if !ok {
		return 0, fmt.Errorf("table %s has no column %q", t.name, column)
	}
	tag, err := conn.Exec(ctx, `DELETE FROM `+t.q+` AS t WHERE t.`+pgx.Identifier{column}.Sanitize()+` = ANY($1::text[]::`+castType(c.typ)+`[])`, keys)
	if err != nil {
		return 0, fmt.Errorf("delete %d rows from %s: %w", len(keys), t.name, classify(ctx, err))
	}
	return tag.RowsAffected(), nil
}

// Images implements crm.Reverter.
func (s *Source) Images(ctx context.Context, obj *plans.Object, ids []string) ([]crm.Image, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return nil, err
	}
	id := pgx.Identifier{t.id.name}.Sanitize()
	rows, err := conn.Query(ctx, `SELECT t.`+id+`::text, row_to_json(t)::text FROM `+t.q+` AS t WHERE t.`+id+` = ANY(`+idList(t)+`)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", t.name, classify(ctx, err))
	}
	byID := map[string][]byte{}
	for rows.Next() {
		var k string
		var j []byte
		if err := rows.Scan(&k, &j); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read rows of %s: %w", t.name, err)
		}
		byID[k] = j
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", t.name, classify(ctx, err))
	}
	out := make([]crm.Image, len(ids))
	for i, k := range ids {
		if j, ok := byID[k]; ok {
			out[i] = crm.Image{ID: k, JSON: j}
		}
	}
	return out, nil
}

// Restore implements crm.Reverter: rows whose id still exists get every column back from the
// image; rows that are gone are inserted again with their old id.
func (s *Source) Restore(ctx context.Context, obj *plans.Object, images [][]byte) (int64, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return 0, err
	}
	arr := make([]json.RawMessage, len(images))
	for i, j := range images {
		arr[i] = j
	}
	doc, err := json.Marshal(arr)
	if err != nil {
		return 0, fmt.Errorf("restore rows of %s: %w", t.name, err)
	}
	id := pgx.Identifier{t.id.name}.Sanitize()
	var set, all, rcols []string
	for _, c := range t.order {
		q := pgx.Identifier{c}.Sanitize()
		all = append(all, q)
		rcols = append(rcols, "r."+q)
		if c != t.id.name {
			set = append(set, q+" = r."+q)
		}
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("restore rows of %s: %w", t.name, classify(ctx, err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	src := `json_populate_recordset(NULL::` + t.q + `, $1::json) AS r`
	up, err := tx.Exec(ctx, `UPDATE `+t.q+` AS t SET `+strings.Join(set, ", ")+` FROM `+src+` WHERE t.`+id+` = r.`+id, doc)
	if err != nil {
		return 0, fmt.Errorf("restore rows of %s: %w", t.name, classify(ctx, err))
	}
	in, err := tx.Exec(ctx, `INSERT INTO `+t.q+` (`+strings.Join(all, ", ")+`) OVERRIDING SYSTEM VALUE SELECT `+strings.Join(rcols, ", ")+
		` FROM `+src+` WHERE NOT EXISTS (SELECT 1 FROM `+t.q+` AS t WHERE t.`+id+` = r.`+id+`)`, doc)
	if err != nil {
		return 0, fmt.Errorf("restore deleted rows of %s: %w", t.name, classify(ctx, err))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("restore rows of %s: %w", t.name, classify(ctx, err))
	}
	return up.RowsAffected() + in.RowsAffected(), nil
}

// Archive implements crm.Archiver: a boolean column is set to true, any other to now(), on rows
// not archived yet.
func (s *Source) Archive(ctx context.Context, obj *plans.Object, col string, ids []string) (int64, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return 0, err
	}
	c, ok := t.cols[col]
	if !ok {
		return 0, fmt.Errorf("table %s has no column %q to mark archived rows; fix objects.%s.%s.archived", t.name, col, obj.Name, s.sys.Name)
	}
	q := pgx.Identifier{col}.Sanitize()
	set, unset := q+" = now()", q+" IS NULL"
	if c.typ == "boolean" {
		set, unset = q+" = true", "NOT coalesce("+q+", false)"
	}
	tag, err := conn.Exec(ctx, `UPDATE `+t.q+` AS t SET `+set+` WHERE t.`+pgx.Identifier{t.id.name}.Sanitize()+` = ANY(`+idList(t)+`) AND `+unset, ids)
	if err != nil {
		return 0, fmt.Errorf("archive rows of %s: %w", t.name, classify(ctx, err))
	}
	return tag.RowsAffected(), nil
}

// Lookup implements crm.Lookup: lower-cased key → id of every row of a (small) table.
func (s *Source) Lookup(ctx context.Context, tableName, keyColumn, idColumn string) (map[string]string, error) {
	conn, err := s.live(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT lower(`+pgx.Identifier{keyColumn}.Sanitize()+`::text), `+pgx.Identifier{idColumn}.Sanitize()+
		`::text FROM `+QuoteTable(tableName)+` WHERE `+pgx.Identifier{keyColumn}.Sanitize()+` IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read %s.%s on system %s: %w", tableName, keyColumn, s.sys.Name, classify(ctx, err))
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read %s on system %s: %w", tableName, s.sys.Name, err)
		}
		if _, dup := out[k]; !dup {
			out[k] = v
		}
	}
	return out, rows.Err()
}

// Begin implements crm.Transactional: until Commit or Rollback, the Reverter and Archiver calls
// run in one transaction.
func (s *Source) Begin(ctx context.Context) error {
	if s.tx != nil {
		return fmt.Errorf("system %s: a transaction is already open", s.sys.Name)
	}
	conn, err := s.live(ctx)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin a transaction on system %s: %w", s.sys.Name, classify(ctx, err))
	}
	s.tx = tx
	return nil
}

// Commit implements crm.Transactional.
func (s *Source) Commit(ctx context.Context) error {
	tx := s.tx
	s.tx = nil
	if tx == nil {
		return fmt.Errorf("system %s: no transaction to commit", s.sys.Name)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit on system %s: %w", s.sys.Name, classify(ctx, err))
	}
	return nil
}

// Rollback implements crm.Transactional; it does nothing without an open transaction.
func (s *Source) Rollback(ctx context.Context) {
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.tx = nil
	}
}

// Dependents implements crm.Dependents: for every foreign key of any table that points at the
// object's table, the rows whose reference is among ids and that are not deleted too (leaving:
// ids per table name, for tables the plan maps; other tables' rows always count), with their
// table's ON DELETE action. Counted in the database, one query per foreign key.
func (s *Source) Dependents(ctx context.Context, obj *plans.Object, ids []string, leaving map[string][]string) ([]crm.Dependent, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT c.conrelid::regclass::text, a.attname::text, c.confdeltype::text,
			coalesce((SELECT pa.attname::text FROM pg_index pi JOIN pg_attribute pa ON pa.attrelid = pi.indrelid AND pa.attnum = pi.indkey[0]
			          WHERE pi.indrelid = c.conrelid AND pi.indisprimary AND pi.indnkeyatts = 1), '')
		FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.contype = 'f' AND c.confrelid = to_regclass($1) AND cardinality(c.conkey) = 1
		ORDER BY 1, 2`, t.q)
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys to %s: %w", t.name, classify(ctx, err))
	}
	type fk struct{ table, col, action, pk string }
	var fks []fk
	for rows.Next() {
		var f fk
		if err := rows.Scan(&f.table, &f.col, &f.action, &f.pk); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the foreign keys to %s: %w", t.name, err)
		}
		fks = append(fks, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the foreign keys to %s: %w", t.name, classify(ctx, err))
	}
	byTable := map[string][]string{}
	for name, ids := range leaving {
		byTable[unqualified(name)] = ids
	}
	actions := map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
	var out []crm.Dependent
	for _, f := range fks {
		// Typed like the referenced id, so that an index on the referring column is used.
		col, ref := pgx.Identifier{f.col}.Sanitize(), idList(t)
		q := `SELECT count(*), '{}'::text[] FROM ` + f.table + ` AS d WHERE d.` + col + ` = ANY(` + ref + `)`
		args := []any{ids}
		if f.pk != "" {
			pk := pgx.Identifier{f.pk}.Sanitize()
			q = `SELECT count(*), coalesce((array_agg(d.` + pk + `::text ORDER BY d.` + pk + `))[1:5], '{}') FROM ` + f.table + ` AS d
				WHERE d.` + col + ` = ANY(` + ref + `) AND NOT d.` + pk + `::text = ANY($2::text[])`
			args = append(args, append([]string{}, byTable[unqualified(f.table)]...))
		}
		var d crm.Dependent
		if err := conn.QueryRow(ctx, q, args...).Scan(&d.Rows, &d.Sample); err != nil {
			return nil, fmt.Errorf("count the rows of %s that refer to %s: %w", f.table, t.name, classify(ctx, err))
		}
		if d.Rows == 0 {
			continue
		}
		d.Table, d.Column, d.OnDelete = f.table, f.col, actions[f.action]
		out = append(out, d)
	}
	return out, nil
}

// IDsOf implements crm.Dependents.
func (s *Source) IDsOf(ctx context.Context, obj *plans.Object, column string, keys []string) ([]string, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return nil, err
	}
	if _, ok := t.cols[column]; !ok {
		return nil, fmt.Errorf("table %s has no column %q", t.name, column)
	}
	rows, err := conn.Query(ctx, `SELECT t.`+pgx.Identifier{t.id.name}.Sanitize()+`::text FROM `+t.q+` AS t WHERE t.`+pgx.Identifier{column}.Sanitize()+`::text = ANY($1::text[])`, keys)
	if err != nil {
		return nil, fmt.Errorf("find rows of %s by %s: %w", t.name, column, classify(ctx, err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find rows of %s by %s: %w", t.name, column, classify(ctx, err))
	}
	return ids, nil
}

// unqualified is a table name without quotes and without the public schema, as a key that a
// plan's table name and a name printed by PostgreSQL agree on.
func unqualified(name string) string {
	name = strings.TrimPrefix(name, "public.")
	return strings.Trim(name, `"`)
}

// Defaulted lists the columns of obj's table that take their default when migrate writes nothing
// there (NOT NULL columns with a default: the writer inserts the default for a NULL).
func (s *Source) Defaulted(ctx context.Context, obj *plans.Object) ([]string, error) {
	conn, err := s.live(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.describe(ctx, conn, obj)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range t.order {
		if t.cols[name].def != "" {
			out = append(out, name)
		}
	}
	return out, nil
}
