package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// The write side's optional powers.
var (
	_ crm.Target   = (*Source)(nil)
	_ crm.Reverter = (*Source)(nil)
	_ crm.Archiver = (*Source)(nil)
	_ crm.Lookup   = (*Source)(nil)
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

// target returns the source's connection and the object's table on it.
func (s *Source) target(ctx context.Context, obj *plans.Object) (*pgx.Conn, *table, error) {
	conn, err := s.live(ctx)
	if err != nil {
		return nil, nil, err
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
