package postgres

import (
	"context"
	"fmt"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

var _ crm.Uniques = (*Source)(nil)

// UniqueColumns implements crm.Uniques: the column sets of the table's unique indexes (unique
// constraints and primary keys included) on plain columns without a predicate, in index order.
func (s *Source) UniqueColumns(ctx context.Context, obj *plans.Object) ([][]string, error) {
	conn, t, err := s.target(ctx, obj)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT array_agg(a.attname::text ORDER BY k.ord)
		FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
		GROUP BY i.indexrelid ORDER BY i.indexrelid`, t.q)
	if err != nil {
		return nil, fmt.Errorf("read the unique indexes of %s: %w", t.name, classify(ctx, err))
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var cols []string
		if err := rows.Scan(&cols); err != nil {
			return nil, fmt.Errorf("read the unique indexes of %s: %w", t.name, err)
		}
		out = append(out, cols)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the unique indexes of %s: %w", t.name, classify(ctx, err))
	}
	return out, nil
}
