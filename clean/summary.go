package clean

import (
	"fmt"
	"time"

	"github.com/crmigrate/crmigrate/clean/dedup"
	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
)

// Summary is what a clean did; `crmigrate clean` renders it and stores it with the run.
type Summary struct {
	Plan          string           `json:"plan"`
	RunID         int64            `json:"run_id"`
	Objects       []*ObjectSummary `json:"objects"`
	Types         TypeSummary      `json:"types"`
	Read          int64            `json:"read"`
	Rejected      int64            `json:"rejected"`
	RejectRate    float64          `json:"reject_rate"`
	MaxRejectRate float64          `json:"max_reject_rate"`
	Passed        bool             `json:"passed"`
	Problems      []string         `json:"problems,omitempty"`
	Pipeline      []Pipeline       `json:"pipeline,omitempty"`
	Seconds       float64          `json:"seconds"`
	RecordsPerSec float64          `json:"records_per_second"`
	Timing        Timing           `json:"timing"`
	PeakRSSMB     float64          `json:"peak_rss_mb,omitempty"` // filled in by the command
}

// Timing is the seconds spent per stage. Read is the wall time of reading and normalizing, which
// run side by side: Source is the part spent waiting for the source (database or file), Normalize
// the CPU time of the normalizing goroutines added up. Dedup is Blocking + Learning (EM) +
// Comparison + Clustering.
type Timing struct {
	Read       float64 `json:"read_normalize"`
	Source     float64 `json:"source"`
	Normalize  float64 `json:"normalize_cpu"`
	Dedup      float64 `json:"dedup"`
	Blocking   float64 `json:"blocking"`
	Learning   float64 `json:"learning"`
	Comparison float64 `json:"comparison"`
	Clustering float64 `json:"clustering"`
	Merge      float64 `json:"merge"`
	Write      float64 `json:"write"`
}

// ObjectSummary is one object's counts.
type ObjectSummary struct {
	Object          string         `json:"object"`
	Sources         []SourceCount  `json:"sources"`
	Read            int64          `json:"read"`
	Rejected        int64          `json:"rejected"`
	Records         int64          `json:"records"` // read minus rejected
	ExactDuplicates int64          `json:"exact_duplicates"`
	FuzzyDuplicates int64          `json:"fuzzy_duplicates"` // joined by an automatic fuzzy match
	Accepted        int64          `json:"accepted"`         // joined by an accepted review decision
	Clusters        int64          `json:"clusters"`         // clusters with more than one record
	Golden          int64          `json:"golden"`
	Review          int64          `json:"review"`
	Conflicts       int64          `json:"conflicts"` // fields with merge: review whose values disagree
	Oversized       []OversizedRef `json:"oversized_blocks,omitempty"`
	Comparisons     int64          `json:"comparisons"`
}

// OversizedRef is a block that was capped.
type OversizedRef struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
}

// SourceCount is the records read from one system.
type SourceCount struct {
	System   string `json:"system"`
	Read     int64  `json:"read"`
	Rejected int64  `json:"rejected"`
}

// Pipeline is the money counted more than once because of duplicates.
type Pipeline struct {
	Object             string  `json:"object"`
	Field              string  `json:"field"`
	Currency           string  `json:"currency"`
	SourceTotal        float64 `json:"source_total"`
	GoldenTotal        float64 `json:"golden_total"`
	Overstated         float64 `json:"overstated"`
	Percent            float64 `json:"percent"`
	OnDuplicateParents int64   `json:"on_duplicate_parents"` // records whose company or contact was a duplicate
}

// TypeSummary counts values per field type and status.
type TypeSummary []TypeCount

// TypeCount is the values of one field type.
type TypeCount struct {
	Type       string `json:"type"`
	Normalized int64  `json:"normalized"`
	Unchanged  int64  `json:"unchanged"`
	Invalid    int64  `json:"invalid"`
	Empty      int64  `json:"empty"`
}

func (ts *TypeSummary) add(t *normalize.Counts) {
	if len(*ts) == 0 {
		for _, name := range normalize.Types {
			*ts = append(*ts, TypeCount{Type: name})
		}
	}
	for i := range normalize.Types {
		(*ts)[i].Normalized += t[i][normalize.Normalized]
		(*ts)[i].Unchanged += t[i][normalize.Unchanged]
		(*ts)[i].Invalid += t[i][normalize.Invalid]
		(*ts)[i].Empty += t[i][normalize.Empty]
	}
}

func newSummary(p *plans.Plan, runID int64) *Summary {
	return &Summary{Plan: p.Name, RunID: runID, MaxRejectRate: p.Clean.MaxRejectRate}
}

func (s *Summary) object(name string) *ObjectSummary {
	for _, o := range s.Objects {
		if o.Object == name {
			return o
		}
	}
	o := &ObjectSummary{Object: name}
	s.Objects = append(s.Objects, o)
	return o
}

func (o *ObjectSummary) addRead(system string, read, rejected int64) {
	o.Sources = append(o.Sources, SourceCount{System: system, Read: read, Rejected: rejected})
	o.Read += read
	o.Rejected += rejected
	o.Records = o.Read - o.Rejected
}

func (o *ObjectSummary) addDedup(res *dedup.Result, golden int) {
	for _, cl := range res.Clusters {
		if len(cl) > 1 {
			o.Clusters++
		}
	}
	o.ExactDuplicates, o.FuzzyDuplicates, o.Accepted = dupCounts(res)
	o.Golden = int64(golden)
	o.Review = int64(len(res.Review))
	for _, b := range res.Oversized {
		o.Oversized = append(o.Oversized, OversizedRef{Key: b.Key, Size: b.Size})
	}
	o.Comparisons = res.Stats.Comparisons
}

// dupCounts counts the records that are duplicates of another by how they were joined: in each
// cluster, every record but the first counts, by its own decision.
func dupCounts(res *dedup.Result) (exact, fuzzy, accepted int64) {
	for _, cl := range res.Clusters {
		if len(cl) < 2 {
			continue
		}
		for _, i := range cl[1:] {
			switch res.Decision[i] {
			case dedup.DecisionExact:
				exact++
			case dedup.DecisionAuto:
				fuzzy++
			case dedup.DecisionAccepted:
				accepted++
			}
		}
	}
	return
}

func (s *Summary) finish(p *plans.Plan, took time.Duration) {
	s.Read, s.Rejected = 0, 0
	for _, o := range s.Objects {
		s.Read += o.Read
		s.Rejected += o.Rejected
	}
	if s.Read > 0 {
		s.RejectRate = float64(s.Rejected) / float64(s.Read)
	}
	s.Seconds = took.Seconds()
	if s.Seconds > 0 {
		s.RecordsPerSec = float64(s.Read) / s.Seconds
	}
	s.Passed = true
	if s.RejectRate > s.MaxRejectRate {
		s.Passed = false
		s.Problems = append(s.Problems, fmtRate(s.RejectRate, s.MaxRejectRate))
	}
}

func fmtRate(rate, max float64) string {
	return fmt.Sprintf("reject rate %.2f%% is over the plan's clean.max_reject_rate %.2f%%", rate*100, max*100)
}
