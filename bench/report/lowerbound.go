package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmigrate/crmigrate/plans"
)

// cleanLowerBound measures the least a clean of the plan can cost on this machine: every source
// read once (a postgres mapping's table or query with COPY into a CSV file, a csv export read
// whole into a copy of it), then every one of those files written once with COPY into the control
// database (a logged table of text columns created in the same transaction, as crash-safe staging
// would be). It prints the seconds of each part and of the whole.
//
//	go run ./bench/report clean-lower-bound PLAN OLD_URL CONTROL_URL WORKDIR
func cleanLowerBound(planPath, oldURL, controlURL, work string) {
	ctx := context.Background()
	p, err := plans.LoadWith(planPath, func(string) (string, bool) { return "", true })
	if err != nil {
		fail(err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		fail(err)
	}
	start := time.Now()
	var files []string
	old, err := pgx.Connect(ctx, oldURL)
	if err != nil {
		fail(err)
	}
	for _, obj := range p.Objects {
		for _, m := range obj.Mappings {
			sys := p.System(m.System)
			if sys == nil || m.System == plans.SystemNew {
				continue
			}
			out := filepath.Join(work, fmt.Sprintf("%s-%s.csv", obj.Name, m.System))
			switch sys.Kind {
			case plans.KindPostgres:
				src := m.Query
				if src == "" {
					src = "SELECT * FROM " + pgx.Identifier(strings.Split(m.Table, ".")).Sanitize()
				}
				f, err := os.Create(out)
				if err != nil {
					fail(err)
				}
				w := bufio.NewWriterSize(f, 1<<20)
				if _, err := old.PgConn().CopyTo(ctx, w, "COPY ("+src+") TO STDOUT (FORMAT csv)"); err != nil {
					fail(fmt.Errorf("copy %s from old: %w", obj.Name, err))
				}
				if err := w.Flush(); err != nil {
					fail(err)
				}
				f.Close()
			case plans.KindCSV:
				in, err := os.Open(filepath.Join(p.Resolve(sys.Dir), m.File))
				if err != nil {
					fail(err)
				}
				f, err := os.Create(out)
				if err != nil {
					fail(err)
				}
				r := csv.NewReader(bufio.NewReaderSize(in, 1<<20))
				r.FieldsPerRecord, r.LazyQuotes = -1, true
				w := csv.NewWriter(bufio.NewWriterSize(f, 1<<20))
				if _, err := r.Read(); err != nil { // the header
					fail(err)
				}
				for {
					rec, err := r.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						continue // a broken row: clean rejects it; it costs nothing here
					}
					_ = w.Write(rec)
				}
				w.Flush()
				f.Close()
				in.Close()
			}
			files = append(files, out)
		}
	}
	old.Close(ctx)
	read := time.Since(start).Seconds()
	t0 := time.Now()
	ctl, err := pgx.Connect(ctx, controlURL)
	if err != nil {
		fail(err)
	}
	defer ctl.Close(ctx)
	for i, path := range files {
		cols, err := csvWidth(path)
		if err != nil {
			fail(err)
		}
		table := fmt.Sprintf("crmigrate_lower_bound_%d", i)
		defs := make([]string, cols)
		for c := range defs {
			defs[c] = fmt.Sprintf("c%d text", c)
		}
		tx, err := ctl.Begin(ctx)
		if err != nil {
			fail(err)
		}
		if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+table+"; CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
			fail(err)
		}
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY "+table+" FROM STDIN (FORMAT csv)"); err != nil {
			fail(fmt.Errorf("copy %s into the control database: %w", path, err))
		}
		f.Close()
		if err := tx.Commit(ctx); err != nil {
			fail(err)
		}
		if _, err := ctl.Exec(ctx, "DROP TABLE "+table); err != nil {
			fail(err)
		}
	}
	write := time.Since(t0).Seconds()
	fmt.Printf("lower bound         %.1f s (every source read once into files %.1f s, written once with COPY into the control database %.1f s)\n",
		read+write, read, write)
}

// csvWidth is the number of fields of a CSV file's widest record among its first thousand.
func csvWidth(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	w := 1
	for i := 0; i < 1000; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		w = max(w, len(rec))
	}
	return w, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}
