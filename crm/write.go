package crm

import (
	"context"
	"errors"

	"github.com/crmigrate/crmigrate/plans"
)

// Target is the write side of a connector: a system that can be loaded. A connector's Source
// implements it when its kind can be written (found by type assertion, see AsTarget).
type Target interface {
	// Writer prepares writing one object's records with the columns of spec. It checks that the
	// table and columns exist and that the conflict column is unique, so a re-run finds the rows
	// an earlier run wrote.
	Writer(ctx context.Context, obj *plans.Object, spec WriteSpec) (ObjectWriter, error)
}

// WriteSpec says how an object's rows are written.
type WriteSpec struct {
	// Columns are the target columns in Row.Values order. KeyColumn is one of them or not.
	Columns []string
	// KeyColumn holds Row.Key: the external-id column (the golden id goes there) or the canonical
	// key's column. Rows are matched on it (and on the target id when known), and it is the
	// conflict target of the upsert.
	KeyColumn string
	// Touch, if set, is a column set to the current time on every insert or update (the target's
	// updated_at when no field maps to it).
	Touch string
	// DryRun writes each batch in a transaction that is rolled back: the outcomes (and refusals)
	// are real, nothing stays.
	DryRun bool
	// Keep lists columns (of Columns) whose value in a row that exists is kept when it is not
	// empty: the new CRM owns them (a field whose authority is new, during the parallel run).
	Keep []string
}

// Row is one record to write.
type Row struct {
	Key    string    // the value of WriteSpec.KeyColumn; never empty
	ID     string    // the record's id on the target when an earlier run wrote it, else ""
	Values []*string // in WriteSpec.Columns order; nil is NULL
}

// Action is what a write did to one row.
type Action uint8

// Actions.
const (
	Unchanged Action = iota // the target already held these values
	Inserted
	Updated
	Rejected // the target refused the row; Outcome.Reason says why
)

func (a Action) String() string {
	return [...]string{"unchanged", "inserted", "updated", "rejected"}[a]
}

// Outcome is what happened to one row of a batch.
type Outcome struct {
	Action Action
	ID     string // the row's id on the target ("" when rejected)
	Reason string // the target's message, for rejected rows
}

// Image is a row as the target held it before a write: its id and its columns as JSON. A row
// that did not exist has an empty ID and nil JSON.
type Image struct {
	ID   string
	JSON []byte
}

// ObjectWriter writes one object's rows in batches. It is used by one goroutine at a time; open
// one per worker.
type ObjectWriter interface {
	// Write writes a batch in one transaction. It first finds and locks the rows the batch will
	// change and passes their before-images (in batch order) to journal, which must store them
	// durably; only then does it write. Rows the target refuses (a constraint, a value of the wrong
	// type) are left out and reported with the target's message; the rest is written. An error
	// from Write means nothing of the batch was committed (or, for a lost connection, that it is
	// unknown whether it was): the batch may be written again.
	Write(ctx context.Context, rows []Row, journal func([]Image) error) ([]Outcome, error)
	// Close finishes the object (a file target renames its file into place) and frees the writer.
	Close(ctx context.Context) error
}

// Reverter is an optional power of a Target: undoing writes from before-images.
type Reverter interface {
	// Delete removes rows by target id; rows already gone are skipped.
	Delete(ctx context.Context, obj *plans.Object, ids []string) (int64, error)
	// DeleteKeys removes rows by the value of their key column (WriteSpec.KeyColumn).
	DeleteKeys(ctx context.Context, obj *plans.Object, column string, keys []string) (int64, error)
	// Restore puts rows back as their before-images say: updated where the id exists, inserted
	// where it no longer does.
	Restore(ctx context.Context, obj *plans.Object, images [][]byte) (int64, error)
	// Images returns the rows' current images by target id (empty Image for rows that are gone).
	Images(ctx context.Context, obj *plans.Object, ids []string) ([]Image, error)
}

// Uniques is an optional power of a Target: the sets of columns of an object's table whose values
// must be unique (unique constraints and indexes on plain columns, without a predicate), so that
// migrate can settle in advance, the same way on every run, which of two records sharing such a
// value is written.
type Uniques interface {
	UniqueColumns(ctx context.Context, obj *plans.Object) ([][]string, error)
}

// Transactional is an optional power of a Target: between Begin and Commit, its Reverter and
// Archiver calls run in one transaction, so an undo changes everything or nothing.
type Transactional interface {
	Begin(ctx context.Context) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context)
}

// Dependents is an optional power of a Target: the rows of any table that refer (by a foreign
// key) to rows of obj about to be deleted (ids) and are not deleted with them (leaving: the ids
// deleted too, per table name as the plan maps it).
type Dependents interface {
	Dependents(ctx context.Context, obj *plans.Object, ids []string, leaving map[string][]string) ([]Dependent, error)
	// IDsOf returns the ids of the rows whose column holds one of keys.
	IDsOf(ctx context.Context, obj *plans.Object, column string, keys []string) ([]string, error)
}

// Dependent is a set of rows that refer to rows about to be deleted.
type Dependent struct {
	Table    string   // the referring table
	Column   string   // its referring column
	Rows     int64    // how many rows refer
	Sample   []string // a few of their ids (empty when the table has no single-column primary key)
	OnDelete string   // the foreign key's action: no action, restrict, cascade, set null, set default
}

// Blocks says whether the rows stop the deletion (no action, restrict) or would be deleted with it
// although nobody asked (cascade).
func (d Dependent) Blocks() bool {
	return d.OnDelete == "no action" || d.OnDelete == "restrict" || d.OnDelete == "cascade"
}

// Archiver is an optional power of a Target: marking rows as archived (column set to now() or
// true) for records deleted in the old CRM; rows already archived are left alone.
type Archiver interface {
	Archive(ctx context.Context, obj *plans.Object, column string, ids []string) (int64, error)
}

// Lookup is an optional power of a Target: a map from a key column's values to ids, for small
// tables such as the new CRM's users (looked up by email, case-insensitively).
type Lookup interface {
	Lookup(ctx context.Context, table, keyColumn, idColumn string) (map[string]string, error)
}

// FileTarget marks targets that rewrite whole files: every run writes every row, unchanged ones
// included, and an interrupted object starts again from its first row.
type FileTarget interface {
	RewritesFiles() bool
}

// ErrNotWritable is returned when a system's connector cannot write.
var ErrNotWritable = errors.New("this kind of system cannot be written")

// AsTarget returns src's write side, or ErrNotWritable.
func AsTarget(src Source) (Target, error) {
	t, ok := src.(Target)
	if !ok {
		return nil, ErrNotWritable
	}
	return t, nil
}

// ErrTransient is wrapped by connectors around errors worth retrying: the connection was lost,
// the server is restarting or shutting down, or the transaction lost a serialization race.
var ErrTransient = errors.New("transient fault")

// Defaulter is implemented by targets whose columns may fill themselves: Defaulted lists the
// columns of obj's table that take a default when a row is written without a value there (what
// migrate writes as NULL, the new CRM fills).
type Defaulter interface {
	Defaulted(ctx context.Context, obj *plans.Object) ([]string, error)
}
