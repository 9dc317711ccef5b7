package migrate

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// checkTarget compares what the crosswalk says this plan wrote of obj with the ids the new CRM
// holds now, and returns the golden ids of the rows that are gone, in order. A real run marks them
// for writing again in the crosswalk; a dry run leaves the crosswalk alone. The ids come from the
// target's IDLister power, else from reading its records (an import file; a removed file has none).
func checkTarget(ctx context.Context, p *plans.Plan, obj *plans.Object, src crm.Source, opts Options) ([]string, error) {
	each := func(fn func([]string) error) error {
		if lister, ok := src.(crm.IDLister); ok {
			return lister.IDs(ctx, obj, fn)
		}
		r, err := src.Reader(ctx, obj, func(crm.Reject) {})
		if errors.Is(err, crm.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		defer r.Close()
		for {
			recs, err := r.Next(ctx)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			ids := make([]string, len(recs))
			for i, rec := range recs {
				ids[i] = rec.ID
			}
			if err := fn(ids); err != nil {
				return err
			}
		}
	}
	var missing []string
	err := retry(ctx, opts.Retry, nil, func() error {
		var err error
		missing, err = opts.DB.ForgetMissing(ctx, p.Name, obj.Name, !opts.DryRun, each)
		return err
	})
	return missing, err
}

// union merges two sorted lists of golden ids into one sorted list without repeats.
func union(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
