package demo

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/internal/pgtest"
)

// benchOptions is the benchmark-sized world: 1M contacts, 100k companies, 300k deals.
var benchOptions = Options{Companies: 100_000, Contacts: 1_000_000, Deals: 300_000, Seed: 1}

// BenchmarkGenerateContacts generates rows of the contacts table of a
// 1M-contact world in order, as CreateOldCRM does (no database); one op is
// one row.
func BenchmarkGenerateContacts(b *testing.B) {
	g := newGen(benchOptions)
	spec := &oldSpecs[2]
	if spec.name != "contacts" {
		b.Fatal(spec.name)
	}
	vals := make([]any, len(spec.columns))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spec.fill(g, i%g.lay.N, vals, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGenerateDefault generates every old-CRM table of the default world.
func BenchmarkGenerateDefault(b *testing.B) {
	o := DefaultOptions()
	rows := 0
	for i := 0; i < b.N; i++ {
		g := newGen(o)
		for s := range oldSpecs {
			spec := &oldSpecs[s]
			vals := make([]any, len(spec.columns))
			for r := 0; r < spec.count(g); r++ {
				if spec.fill(g, r, vals, nil) {
					rows++
				}
			}
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCreateOldCRM loads the default world into PostgreSQL.
func BenchmarkCreateOldCRM(b *testing.B) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CreateOldCRM(ctx, conn, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFiles writes the default world's files.
func BenchmarkWriteFiles(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := WriteFiles(dir, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
