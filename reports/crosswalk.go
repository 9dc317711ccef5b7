package reports

import (
	"encoding/csv"
	"encoding/json"
	"io"

	"github.com/crmigrate/crmigrate/state"
)

// CrosswalkFormats are the formats of the crosswalk export.
var CrosswalkFormats = []string{"csv", "json"}

// CrosswalkWriter writes the crosswalk export as it streams: CSV with a header, or JSON lines
// (one object a line). Canonical keys that are emails or phone numbers are masked unless showPII.
type CrosswalkWriter struct {
	csv     *csv.Writer
	json    *json.Encoder
	showPII bool
	started bool
}

// NewCrosswalkWriter writes to w in format.
func NewCrosswalkWriter(w io.Writer, format string, showPII bool) (*CrosswalkWriter, error) {
	cw := &CrosswalkWriter{showPII: showPII}
	switch format {
	case "csv", "":
		cw.csv = csv.NewWriter(w)
	case "json":
		cw.json = json.NewEncoder(w)
	default:
		return nil, badFormat(format, CrosswalkFormats)
	}
	return cw, nil
}

// Write writes one id pair.
func (cw *CrosswalkWriter) Write(c state.CrosswalkID) error {
	if !cw.showPII {
		c.Key = maskKey(c.Key)
	}
	if cw.json != nil {
		return cw.json.Encode(c)
	}
	if !cw.started {
		cw.started = true
		if err := cw.csv.Write([]string{"object", "source", "old_id", "new_id", "golden_id", "canonical_key"}); err != nil {
			return err
		}
	}
	return cw.csv.Write([]string{c.Object, c.Source, c.OldID, c.NewID, c.Golden, c.Key})
}

// Close flushes what is written.
func (cw *CrosswalkWriter) Close() error {
	if cw.csv == nil {
		return nil
	}
	if !cw.started { // the header, even for an empty export
		if err := cw.csv.Write([]string{"object", "source", "old_id", "new_id", "golden_id", "canonical_key"}); err != nil {
			return err
		}
	}
	cw.csv.Flush()
	return cw.csv.Error()
}
