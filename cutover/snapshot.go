package cutover

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/atomicfile"
	"github.com/crmigrate/crmigrate/plans"
)

// SnapshotVersion is the version of a snapshot's manifest.
const SnapshotVersion = 1

// SnapshotMaxAge is how old a snapshot may be for the go/no-go to count it as the way back.
const SnapshotMaxAge = 24 * time.Hour

// Manifest is what a snapshot of the CRMs wrote: one CSV file per system and object with its rows
// and SHA-256, in the folder of the snapshot (manifest.json beside them, written last).
type Manifest struct {
	Version int       `json:"version"`
	Plan    string    `json:"plan"`
	RunID   int64     `json:"run_id"`
	Dir     string    `json:"dir"`
	TakenAt time.Time `json:"taken_at"`
	Files   []File    `json:"files"`
	Rows    int64     `json:"rows"`
	Seconds float64   `json:"seconds"`
}

// File is one object of one system in a snapshot.
type File struct {
	System   string `json:"system"`
	Object   string `json:"object"`
	Path     string `json:"path"` // relative to the snapshot's folder
	Rows     int64  `json:"rows"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
	Rejected int64  `json:"rejected"` // rows the system returned that could not be read (no id)
}

// Counts are the snapshot's figures for its run record.
func (m *Manifest) Counts() map[string]int64 {
	return map[string]int64{"files": int64(len(m.Files)), "rows": m.Rows}
}

// TakeSnapshot exports every mapped object of every system of the plan (the old CRM, the new one
// and the exports) to CSV files in dir, each with its id, its updated_at and its mapped fields as
// the system holds them, streamed; the manifest (rows and SHA-256 of every file) is written last,
// so a folder without one is not a snapshot.
func TakeSnapshot(ctx context.Context, p *plans.Plan, env crm.Env, dir string, runID int64) (*Manifest, error) {
	start := time.Now()
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return nil, fmt.Errorf("%s already holds a snapshot; give another --dir", dir)
	}
	m := &Manifest{Version: SnapshotVersion, Plan: p.Name, RunID: runID, Dir: dir, TakenAt: start.UTC(), Files: []File{}}
	for _, sys := range p.Systems {
		for _, obj := range p.Objects {
			if obj.Mapping(sys.Name) == nil {
				continue
			}
			f, err := exportObject(ctx, p, env, sys, obj, dir)
			if err != nil {
				return nil, fmt.Errorf("snapshot %s of %s: %w", obj.Name, sys.Name, err)
			}
			m.Files = append(m.Files, f)
			m.Rows += f.Rows
		}
	}
	m.Seconds = time.Since(start).Seconds()
	if err := atomicfile.Write(filepath.Join(dir, "manifest.json"), 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}); err != nil {
		return nil, fmt.Errorf("write the snapshot's manifest: %w", err)
	}
	return m, nil
}

func exportObject(ctx context.Context, p *plans.Plan, env crm.Env, sys *plans.System, obj *plans.Object, dir string) (File, error) {
	f := File{System: sys.Name, Object: obj.Name, Path: filepath.Join(sys.Name, obj.Name+".csv")}
	// Customer data: readable by its owner only.
	if err := os.MkdirAll(filepath.Join(dir, sys.Name), 0o700); err != nil {
		return f, err
	}
	src, err := crm.Open(ctx, sys, env)
	if err != nil {
		return f, err
	}
	defer src.Close()
	rd, err := src.Reader(ctx, obj, func(crm.Reject) { f.Rejected++ })
	if err != nil {
		return f, err
	}
	defer rd.Close()
	out, err := os.OpenFile(filepath.Join(dir, f.Path), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return f, err
	}
	defer out.Close()
	h := sha256.New()
	counted := &countWriter{w: io.MultiWriter(out, h)}
	bw := bufio.NewWriterSize(counted, 1<<20)
	cw := csv.NewWriter(bw)
	head := []string{"id", "updated_at"}
	for _, fl := range obj.Fields {
		head = append(head, fl.Name)
	}
	if err := cw.Write(head); err != nil {
		return f, err
	}
	row := make([]string, len(head))
	for {
		batch, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, err
		}
		for _, r := range batch {
			row = append(row[:0], r.ID, r.UpdatedAt)
			row = append(row, r.Values...)
			if err := cw.Write(row); err != nil {
				return f, err
			}
			f.Rows++
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return f, err
	}
	if err := bw.Flush(); err != nil {
		return f, err
	}
	if err := out.Sync(); err != nil {
		return f, err
	}
	f.Bytes, f.SHA256 = counted.n, hex.EncodeToString(h.Sum(nil))
	return f, out.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
