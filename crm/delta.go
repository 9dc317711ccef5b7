package crm

import (
	"context"
	"time"

	"github.com/crmigrate/crmigrate/plans"
)

// Since is an optional power of a Source: reading only the records updated at or after a time
// (by the mapping's updated_at column). Sources without it are read whole and filtered.
type Since interface {
	ReaderSince(ctx context.Context, obj *plans.Object, since time.Time, reject func(Reject)) (RecordReader, error)
}

// IDLister is an optional power of a Source: listing the ids of an object's records without
// reading them, in batches, to find the records deleted since the last run. The ids come in the
// order Reader returns the records (incremental validation merges them with its cached read).
type IDLister interface {
	IDs(ctx context.Context, obj *plans.Object, batch func(ids []string) error) error
}
