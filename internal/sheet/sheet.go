// Package sheet writes CSV files meant for people, who open them in a spreadsheet: rejects,
// review exports, reports. A cell whose text starts with =, +, -, @, a tab or a carriage return
// would be taken for a formula (CSV injection); such a cell gets a leading apostrophe, as OWASP
// recommends, which spreadsheets hide and show the text as it is. Files read by machines
// (cluster exports, import files for a new CRM) keep their data as it is and do not use this.
package sheet

import (
	"encoding/csv"
	"io"
	"strings"
)

// Cell returns s neutralized for a spreadsheet: with a leading apostrophe when it starts with a
// character that would make it a formula.
func Cell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// Uncell undoes Cell: it removes the apostrophe that Cell put before a formula character.
func Uncell(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.IndexByte("=+-@\t\r", s[1]) >= 0 {
		return s[1:]
	}
	return s
}

// Writer is a csv.Writer whose cells go through Cell.
type Writer struct {
	cw  *csv.Writer
	buf []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{cw: csv.NewWriter(w)} }

// Write writes one record, each cell neutralized.
func (w *Writer) Write(record []string) error {
	w.buf = w.buf[:0]
	for _, c := range record {
		w.buf = append(w.buf, Cell(c))
	}
	return w.cw.Write(w.buf)
}

// Flush writes buffered data and returns any error of this or an earlier write.
func (w *Writer) Flush() error {
	w.cw.Flush()
	return w.cw.Error()
}
