package phase

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/crmigrate/crmigrate/plans"
	"github.com/crmigrate/crmigrate/state"
)

// ErrNoRun says that the run asked for is not one of the phase's, or that none has finished.
var ErrNoRun = errors.New("no such run")

// Saved is a finished run of a phase with what it left: its saved report and its rejects (with
// the rejected golden records' values, by golden id, to tell which field a refusal is about).
type Saved struct {
	Run     *state.RunRecord
	Found   bool // a report was saved (into the value passed to LoadSaved)
	Rejects []state.RejectRow
	Golden  map[string][]string
}

// LoadSaved finds run id of phase name (0: the last finished one) and loads its report into into.
func LoadSaved(ctx context.Context, db *state.DB, p *plans.Plan, name string, id int64, into any) (*Saved, error) {
	var run *state.RunRecord
	var err error
	if id > 0 {
		if run, err = db.RunRecordOf(ctx, p.Name, id); err != nil {
			return nil, err
		}
		if run == nil || run.Phase != name {
			return nil, fmt.Errorf("%w: run %d is not a %s run of plan %s", ErrNoRun, id, name, p.Name)
		}
	} else if run, err = db.LastFinished(ctx, p.Name, name); err != nil {
		return nil, err
	} else if run == nil {
		return nil, fmt.Errorf("%w: no %s run has finished yet for plan %s", ErrNoRun, name, p.Name)
	}
	s := &Saved{Run: run, Golden: map[string][]string{}}
	if s.Found, err = db.LoadReport(ctx, run.ID, into); err != nil {
		return nil, err
	}
	if s.Rejects, err = db.Rejects(ctx, p.Name, run.ID); err != nil {
		return nil, err
	}
	ids := map[string][]string{}
	for _, r := range s.Rejects {
		if r.System == plans.SystemNew && r.SourceID != "" {
			ids[r.Object] = append(ids[r.Object], r.SourceID)
		}
	}
	for o, list := range ids {
		vals, err := db.GoldenValues(ctx, p.Name, o, list)
		if err != nil {
			return nil, err
		}
		maps.Copy(s.Golden, vals)
	}
	return s, nil
}
