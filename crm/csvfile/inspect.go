// Package csvfile is the CSV-export connector (kind "csv"): one file per object in the system's
// folder. It reads UTF-8 with or without a byte-order mark, UTF-16 (by BOM or `encoding: utf-16`)
// and Windows-1252 (by `encoding: windows-1252`, or line by line when a line is not valid UTF-8);
// detects the delimiter (, ; tab |); handles quoted newlines, "" escapes and spaces after
// delimiters; and matches the plan's column names to the header through the dialect's aliases
// (HubSpot- and Salesforce-style exports). A malformed row goes to the rejects with its line and
// reason; reading goes on. Memory is bounded by the batch size and the largest record (16 MiB).
package csvfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

func init() { crm.Register(plans.KindCSV, Open) }

// Source reads the export files of one csv system.
type Source struct {
	sys *plans.System
	dir string
}

// Open opens a csv system: its folder, relative to the plan.
func Open(_ context.Context, s *plans.System, env crm.Env) (crm.Source, error) {
	dir := s.Dir
	if env.Plan != nil {
		dir = env.Plan.Resolve(s.Dir)
	}
	st, err := os.Stat(dir)
	if err != nil && os.IsNotExist(err) && s.Name == plans.SystemNew {
		return &Source{sys: s, dir: dir}, nil // a target folder is created when written
	}
	if err != nil {
		return nil, fmt.Errorf("export folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("export folder %s is not a folder", dir)
	}
	return &Source{sys: s, dir: dir}, nil
}

// Close does nothing; files are closed by their readers.
func (s *Source) Close() error { return nil }

// Path is the file of a mapping.
func (s *Source) Path(m *plans.Mapping) string { return filepath.Join(s.dir, m.File) }

// Columns returns the header of the mapping's file; a missing file is crm.ErrNotFound.
func (s *Source) Columns(_ context.Context, m *plans.Mapping) ([]string, error) {
	h, err := Header(s.Path(m), s.sys.Encoding, s.sys.Delimiter)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", s.Path(m), crm.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	// Report the header plus the plan-side names its aliases answer to.
	return append(h, aliasNames(s.sys.Dialect, h)...), nil
}

// Header returns the column names of a CSV file's first line.
func Header(path, encoding, delimiter string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, header, err := openParser(f, encoding, delimiter, 0)
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	_ = p
	return header, nil
}

// openParser reads the header; maxMB is the record limit in MiB (0: plans.DefaultMaxRecordMB).
func openParser(r io.Reader, encoding, delimiter string, maxMB int) (*recordParser, []string, error) {
	if maxMB <= 0 {
		maxMB = plans.DefaultMaxRecordMB
	}
	src, err := newLineSource(r, encoding, maxMB<<20)
	if err != nil {
		return nil, nil, err
	}
	p := &recordParser{src: src, max: maxMB << 20}
	if err := p.fill(1); err != nil {
		return nil, nil, err
	}
	if len(p.pending) == 0 {
		return nil, nil, errNoHeader
	}
	if delimiter != "" {
		p.delim = []rune(delimiter)[0]
	} else {
		p.delim = detectDelimiter(p.pending[0].text)
	}
	rec, err := p.next(0)
	if err != nil {
		return nil, nil, err
	}
	if rec.err != "" {
		return nil, nil, fmt.Errorf("header line %d: %s", rec.line, rec.err)
	}
	for i := range rec.fields {
		rec.fields[i] = strings.TrimSpace(rec.fields[i])
	}
	return p, rec.fields, nil
}

// Reader reads the object's file.
func (s *Source) Reader(ctx context.Context, obj *plans.Object, reject func(crm.Reject)) (crm.RecordReader, error) {
	m := obj.Mapping(s.sys.Name)
	if m == nil {
		return nil, fmt.Errorf("object %s has no mapping on system %s", obj.Name, s.sys.Name)
	}
	path := s.Path(m)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, crm.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	p, header, err := openParser(f, s.sys.Encoding, s.sys.Delimiter, s.sys.MaxRecordMB)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	idx := newHeaderIndex(s.sys.Dialect, header)
	r := &reader{f: f, p: p, want: len(header), reject: reject, sys: s.sys.Name, obj: obj.Name, file: m.File}
	var missing []string
	find := func(col string) int {
		if col == "" {
			return -1
		}
		i := idx.find(col)
		if i < 0 {
			missing = append(missing, fmt.Sprintf("%q", col))
		}
		return i
	}
	r.id = find(m.ID)
	r.updated = find(m.UpdatedAt)
	r.cols = make([]int, len(obj.Fields))
	for i, fl := range obj.Fields {
		c, _ := fl.Column(s.sys.Name)
		r.cols[i] = find(c)
	}
	if len(missing) > 0 {
		f.Close()
		return nil, fmt.Errorf("read %s: column %s not in its header (%s)", path, strings.Join(missing, ", "), strings.Join(header, ", "))
	}
	return r, nil
}

type reader struct {
	f       *os.File
	p       *recordParser
	want    int
	id      int
	updated int
	cols    []int
	reject  func(crm.Reject)
	sys     string
	obj     string
	file    string
	done    bool
}

func (r *reader) Next(ctx context.Context) ([]crm.Record, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	batch := make([]crm.Record, 0, crm.BatchSize)
	for len(batch) < crm.BatchSize {
		raw, err := r.p.next(r.want)
		if err == io.EOF {
			r.done = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s after line %d: %w", r.file, r.p.src.num, err)
		}
		if raw.err != "" {
			r.reject(crm.Reject{System: r.sys, Object: r.obj, Line: raw.line, Reason: r.file + ": " + raw.err, Raw: raw.raw})
			continue
		}
		rec := crm.Record{Line: raw.line, Values: make([]string, len(r.cols))}
		rec.ID = strings.TrimSpace(raw.fields[r.id])
		if r.updated >= 0 {
			rec.UpdatedAt = raw.fields[r.updated]
		}
		for i, c := range r.cols {
			if c >= 0 {
				rec.Values[i] = raw.fields[c]
			}
		}
		if rec.ID == "" {
			r.reject(crm.Reject{System: r.sys, Object: r.obj, Line: raw.line, Reason: r.file + ": empty id", Raw: raw.raw})
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
	if r.p.replay != nil {
		r.p.replay.close()
		r.p.replay = nil
	}
	return r.f.Close()
}
