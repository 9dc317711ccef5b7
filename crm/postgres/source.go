package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

func init() { crm.Register(plans.KindPostgres, Open) }

// Source reads objects from a PostgreSQL database.
type Source struct {
	sys  *plans.System
	cfg  *pgx.ConnConfig // for the writers' own connections
	conn *pgx.Conn
	tx   pgx.Tx         // between Begin and Commit/Rollback: the undo's calls run in it
	loc  *time.Location // the plan's time zone: what a timestamp without time zone is in
}

// Open connects to the system's database (local:DB through env.URL).
func Open(ctx context.Context, s *plans.System, env crm.Env) (crm.Source, error) {
	url := s.URL
	if env.URL != nil {
		var err error
		if url, err = env.URL(ctx, s); err != nil {
			return nil, err
		}
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse connection URL of system %s: %w", s.Name, err)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "crmigrate"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	src := &Source{sys: s, cfg: cfg, conn: conn, loc: time.UTC}
	if env.Plan != nil && env.Plan.Location != nil {
		src.loc = env.Plan.Location
	}
	return src, nil
}

// Close closes the connection.
func (s *Source) Close() error { return s.conn.Close(context.Background()) }

// Conn is the source's connection (for tests and tools).
func (s *Source) Conn() *pgx.Conn { return s.conn }

// Columns lists the mapping's columns; a missing table is crm.ErrNotFound.
func (s *Source) Columns(ctx context.Context, m *plans.Mapping) ([]string, error) {
	if m.Query != "" {
		return QueryColumns(ctx, s.conn, m.Query)
	}
	cols, found, err := TableColumns(ctx, s.conn, m.Table)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("table %s: %w", m.Table, crm.ErrNotFound)
	}
	return cols, nil
}

// SelectSQL builds the read query of an object's mapping: id, updated_at and the field columns in
// field order, all as text, ordered by id. Identifiers are quoted; a read query is wrapped.
func SelectSQL(obj *plans.Object, m *plans.Mapping, system string) string {
	return selectSQL(obj, m, system, "")
}

// selectSQL is SelectSQL with an extra condition on the source rows s.
func selectSQL(obj *plans.Object, m *plans.Mapping, system, cond string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	col := func(name string) {
		if name == "" {
			b.WriteString("NULL::text")
			return
		}
		b.WriteString("s." + pgx.Identifier{name}.Sanitize() + "::text")
	}
	col(m.ID)
	b.WriteString(", ")
	col(m.UpdatedAt)
	for _, f := range obj.Fields {
		b.WriteString(", ")
		c, _ := f.Column(system)
		col(c)
	}
	var where []string
	if m.Query != "" {
		b.WriteString(" FROM (" + m.Query + ") AS s")
	} else {
		b.WriteString(" FROM " + QuoteTable(m.Table) + " AS s")
		if m.Where != "" {
			where = append(where, "("+m.Where+")")
		}
	}
	if cond != "" {
		where = append(where, cond)
	}
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY 1")
	return b.String()
}

// ReaderSince implements crm.Since: the rows whose updated_at column is at or after since, or
// NULL (such a row may have changed). A
// column of type timestamp (without time zone) holds times in the plan's time zone, as clean
// reads them: it is compared with since in that zone, less timestampSlack for a system that
// writes them in another (what is read twice is looked at again, never missed).
func (s *Source) ReaderSince(ctx context.Context, obj *plans.Object, since time.Time, reject func(crm.Reject)) (crm.RecordReader, error) {
	m := obj.Mapping(s.sys.Name)
	if m == nil || m.UpdatedAt == "" {
		return nil, fmt.Errorf("object %s has no updated_at column on system %s; add updated_at: COLUMN to its mapping for delta runs", obj.Name, s.sys.Name)
	}
	col := "s." + pgx.Identifier{m.UpdatedAt}.Sanitize()
	from := QuoteTable(m.Table) + " AS s"
	if m.Query != "" {
		from = "(" + m.Query + ") AS s"
	}
	var typ string
	if err := s.conn.QueryRow(ctx, "SELECT pg_typeof("+col+")::text FROM "+from+" LIMIT 1").Scan(&typ); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read %s from system %s: the type of %s: %w", obj.Name, s.sys.Name, m.UpdatedAt, err)
	}
	if typ == "timestamp without time zone" {
		q := selectSQL(obj, m, s.sys.Name, fmt.Sprintf("(%s >= $1::timestamp - interval '%d hours' OR %s IS NULL)", col, int(timestampSlack.Hours()), col))
		return s.reader(ctx, obj, reject, q, since.In(s.loc).Format("2006-01-02 15:04:05.999999"))
	}
	q := selectSQL(obj, m, s.sys.Name, "("+col+"::timestamptz >= $1 OR "+col+" IS NULL)")
	return s.reader(ctx, obj, reject, q, since)
}

// timestampSlack is how far a timestamp without time zone may be behind the plan's zone: the
// zones of the world span 26 hours (UTC−12 to UTC+14).
const timestampSlack = 26 * time.Hour

// IDs implements crm.IDLister: the ids in the order the readers return the records.
func (s *Source) IDs(ctx context.Context, obj *plans.Object, batch func(ids []string) error) error {
	m := obj.Mapping(s.sys.Name)
	if m == nil {
		return fmt.Errorf("object %s has no mapping on system %s", obj.Name, s.sys.Name)
	}
	from := QuoteTable(m.Table) + " AS s"
	if m.Query != "" {
		from = "(" + m.Query + ") AS s"
	} else if m.Where != "" {
		from += " WHERE " + m.Where
	}
	conn, err := s.live(ctx) // connects again when the connection was lost (a retried call)
	if err != nil {
		return err
	}
	id := "s." + pgx.Identifier{m.ID}.Sanitize() + "::text"
	// In the readers' order (ORDER BY id as text), which incremental reads rely on.
	rows, err := conn.Query(ctx, "SELECT "+id+" FROM "+from+" ORDER BY "+id)
	if err != nil {
		return fmt.Errorf("list ids of %s on system %s: %w", obj.Name, s.sys.Name, classify(ctx, err))
	}
	defer rows.Close()
	ids := make([]string, 0, crm.BatchSize)
	for rows.Next() {
		var id *string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("list ids of %s on system %s: %w", obj.Name, s.sys.Name, err)
		}
		if id != nil {
			if t := strings.TrimSpace(*id); t != "" { // trimmed as the readers trim it
				ids = append(ids, t)
			}
		}
		if len(ids) == cap(ids) {
			if err := batch(ids); err != nil {
				return err
			}
			ids = ids[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list ids of %s on system %s: %w", obj.Name, s.sys.Name, classify(ctx, err))
	}
	if len(ids) > 0 {
		return batch(ids)
	}
	return nil
}

// Reader streams the object's rows in one query (pgx reads them from the socket as they come, so
// memory stays bounded by the batch size).
func (s *Source) Reader(ctx context.Context, obj *plans.Object, reject func(crm.Reject)) (crm.RecordReader, error) {
	m := obj.Mapping(s.sys.Name)
	if m == nil {
		return nil, fmt.Errorf("object %s has no mapping on system %s", obj.Name, s.sys.Name)
	}
	return s.reader(ctx, obj, reject, SelectSQL(obj, m, s.sys.Name))
}

func (s *Source) reader(ctx context.Context, obj *plans.Object, reject func(crm.Reject), q string, args ...any) (crm.RecordReader, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return nil, fmt.Errorf("read %s from system %s: %w: %s", obj.Name, s.sys.Name, crm.ErrNotFound, pgErr.Message)
		}
		return nil, fmt.Errorf("read %s from system %s: %w", obj.Name, s.sys.Name, err)
	}
	return &reader{rows: rows, n: len(obj.Fields), obj: obj.Name, sys: s.sys.Name, reject: reject}, nil
}

type reader struct {
	rows   pgx.Rows
	n      int
	row    int64
	obj    string
	sys    string
	reject func(crm.Reject)
	done   bool
}

func (r *reader) Next(ctx context.Context) ([]crm.Record, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	batch := make([]crm.Record, 0, crm.BatchSize)
	vals := make([]*string, r.n+2)
	for len(batch) < crm.BatchSize {
		if !r.rows.Next() {
			r.done = true
			r.rows.Close()
			if err := r.rows.Err(); err != nil {
				return nil, fmt.Errorf("read %s from system %s at row %d: %w", r.obj, r.sys, r.row, err)
			}
			break
		}
		r.row++
		dst := make([]any, r.n+2)
		for i := range vals {
			vals[i] = nil
			dst[i] = &vals[i]
		}
		if err := r.rows.Scan(dst...); err != nil {
			r.reject(crm.Reject{System: r.sys, Object: r.obj, Line: r.row, Reason: "cannot read row: " + err.Error()})
			continue
		}
		rec := crm.Record{Line: r.row, Values: make([]string, r.n)}
		if vals[0] != nil {
			rec.ID = strings.TrimSpace(*vals[0])
		}
		if vals[1] != nil {
			rec.UpdatedAt = *vals[1]
		}
		for i := 0; i < r.n; i++ {
			if v := vals[i+2]; v != nil {
				rec.Values[i] = *v
			}
		}
		if rec.ID == "" {
			r.reject(crm.Reject{System: r.sys, Object: r.obj, Line: r.row, Reason: "empty id", Raw: rawOf(rec.Values)})
			continue
		}
		batch = append(batch, rec)
	}
	if len(batch) == 0 && r.done {
		return nil, io.EOF
	}
	return batch, nil
}

func (r *reader) Close() error {
	r.rows.Close()
	return nil
}

func rawOf(vals []string) string {
	s := strings.Join(vals, ",")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}
