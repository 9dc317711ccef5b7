package csvfile

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// A csv system can be a target: a folder of import files for CRMs that only take CSV imports.
var (
	_ crm.Target     = (*Source)(nil)
	_ crm.FileTarget = (*Source)(nil)
)

// RewritesFiles implements crm.FileTarget: each run writes the whole file.
func (s *Source) RewritesFiles() bool { return true }

// Writer writes obj's rows to its file on this system: a header with the key column and the
// columns, then one line per row (UTF-8, comma-separated, RFC 4180 quoting). The rows go to a
// temporary file beside it, renamed into place by Close, so an import never sees half a file.
func (s *Source) Writer(_ context.Context, obj *plans.Object, spec crm.WriteSpec) (crm.ObjectWriter, error) {
	m := obj.Mapping(s.sys.Name)
	if m == nil || m.File == "" {
		return nil, fmt.Errorf("object %s has no file on system %s; add %s: {file: NAME.csv, id: COLUMN} to the object", obj.Name, s.sys.Name, s.sys.Name)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create import folder: %w", err)
	}
	path := s.Path(m)
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create import file for %s: %w", obj.Name, err)
	}
	w := &fileWriter{path: path, f: f, cw: csv.NewWriter(f), spec: spec}
	header := append([]string{m.ID}, spec.Columns...)
	if spec.KeyColumn != "" && spec.KeyColumn != m.ID && !contains(spec.Columns, spec.KeyColumn) {
		header = append(header, spec.KeyColumn)
		w.keyCol = true
	}
	if err := w.cw.Write(header); err != nil {
		w.Abort()
		return nil, fmt.Errorf("write import file for %s: %w", obj.Name, err)
	}
	return w, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type fileWriter struct {
	path   string
	f      *os.File
	cw     *csv.Writer
	spec   crm.WriteSpec
	keyCol bool
	rec    []string
}

// Write implements crm.ObjectWriter: every row is written; its id in the file is its key.
func (w *fileWriter) Write(_ context.Context, rows []crm.Row, journal func([]crm.Image) error) ([]crm.Outcome, error) {
	if journal != nil {
		if err := journal(make([]crm.Image, len(rows))); err != nil {
			return nil, err
		}
	}
	out := make([]crm.Outcome, len(rows))
	for i, r := range rows {
		w.rec = append(w.rec[:0], r.Key)
		for _, v := range r.Values {
			if v == nil {
				w.rec = append(w.rec, "")
			} else {
				w.rec = append(w.rec, *v)
			}
		}
		if w.keyCol {
			w.rec = append(w.rec, r.Key)
		}
		if err := w.cw.Write(w.rec); err != nil {
			return nil, fmt.Errorf("write %s: %w", w.path, err)
		}
		out[i] = crm.Outcome{Action: crm.Inserted, ID: r.Key}
	}
	return out, nil
}

// Close flushes, syncs and renames the file into place.
func (w *fileWriter) Close(context.Context) error {
	if w.f == nil {
		return nil
	}
	w.cw.Flush()
	err := w.cw.Error()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		_ = os.Remove(w.f.Name())
		w.f = nil
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.f = nil
	return nil
}

// Abort removes the temporary file; the file in place is left as it was.
func (w *fileWriter) Abort() {
	if w.f != nil {
		_ = w.f.Close()
		_ = os.Remove(w.f.Name())
		w.f = nil
	}
}
