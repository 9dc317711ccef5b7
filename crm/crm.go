package crm

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/crmigrate/crmigrate/plans"
)

// Record is one record of an object as a system holds it: raw values in the object's field order
// (plans.Object.Fields), "" for NULL or a missing column. Hot paths pass records in batches and
// never use maps per record.
type Record struct {
	ID        string    // the record's id on its system, trimmed
	UpdatedAt string    // the raw last-modified value ("" if the mapping has none); parsed by clean
	Values    []string  // raw values in field order
	Line      int64     // where it came from: CSV line (1-based, header is line 1) or row number
	Time      time.Time // UpdatedAt parsed, filled in by clean; zero when unknown
}

// Reject is a source record that could not be read; it goes to the rejects with its line and reason.
type Reject struct {
	System string `json:"system"`
	Object string `json:"object"`
	Line   int64  `json:"line"`
	ID     string `json:"source_id,omitempty"`
	Reason string `json:"reason"`
	Raw    string `json:"raw,omitempty"` // the raw row, cut to a few hundred bytes
}

// RecordReader yields one object's records in batches.
type RecordReader interface {
	// Next returns the next batch; it returns (nil, io.EOF) at the end. The batch is the caller's.
	Next(ctx context.Context) ([]Record, error)
	Close() error
}

// Source is a system that can be read.
type Source interface {
	// Reader opens the object's records on this system; rows that cannot be read are passed to
	// reject and skipped, and reading goes on.
	Reader(ctx context.Context, obj *plans.Object, reject func(Reject)) (RecordReader, error)
	Close() error
}

// Env is what a connector needs from its surroundings.
type Env struct {
	Plan *plans.Plan
	// URL resolves a postgres system's connection URL (local:DB → the private cluster).
	URL func(ctx context.Context, s *plans.System) (string, error)
}

// Opener opens a connector of one kind for a system.
type Opener func(ctx context.Context, s *plans.System, env Env) (Source, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Opener{}
)

// Register makes a connector kind available by name. It panics on a duplicate or nil opener;
// connectors call it from init.
func Register(kind string, open Opener) {
	regMu.Lock()
	defer regMu.Unlock()
	if open == nil {
		panic("crm: Register opener is nil for " + kind)
	}
	if _, dup := registry[kind]; dup {
		panic("crm: Register called twice for " + kind)
	}
	registry[kind] = open
}

// Kinds lists the registered connector kinds.
func Kinds() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Open opens the system with the connector registered for its kind.
func Open(ctx context.Context, s *plans.System, env Env) (Source, error) {
	regMu.RLock()
	open := registry[s.Kind]
	regMu.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("open system %s: no connector for kind %q (have %v)", s.Name, s.Kind, Kinds())
	}
	src, err := open(ctx, s, env)
	if err != nil {
		return nil, fmt.Errorf("open system %s: %w", s.Name, err)
	}
	return src, nil
}

// BatchSize is how many records a reader returns at a time.
const BatchSize = 2000
