// Package postgres is the PostgreSQL connector: it reads and (later) writes CRM tables through pgx.
// Identifiers from the plan are always quoted; values are always parameters.
package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// QuoteTable quotes a table name from the plan, which may be schema-qualified ("crm.accounts").
func QuoteTable(name string) string {
	return pgx.Identifier(strings.Split(name, ".")).Sanitize()
}

// TableColumns returns the columns of table, and false when the table does not exist.
func TableColumns(ctx context.Context, conn *pgx.Conn, table string) ([]string, bool, error) {
	var cols []string
	var found bool
	err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL,
		coalesce((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
		          WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped), '{}')`,
		QuoteTable(table)).Scan(&found, &cols)
	if err != nil {
		return nil, false, fmt.Errorf("inspect table %s: %w", table, err)
	}
	return cols, found, nil
}

// QueryColumns returns the column names a read query produces, without reading any row.
func QueryColumns(ctx context.Context, conn *pgx.Conn, query string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT * FROM ("+query+") AS q LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for _, fd := range rows.FieldDescriptions() {
		cols = append(cols, fd.Name)
	}
	rows.Close()
	return cols, rows.Err()
}
