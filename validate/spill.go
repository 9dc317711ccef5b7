package validate

import (
	"bufio"
	"fmt"
	"os"
)

// spill is a table of strings appended to a temporary file, with 8 bytes of memory an entry:
// what validation must keep of every record but reads back for few of them (the first record of
// each canonical key, named only when a second one turns up).
type spill struct {
	f   *os.File
	w   *bufio.Writer
	end []uint64 // entry i is the file's bytes [end[i-1], end[i])
	buf []byte
	err error
}

func newSpill(dir string) (*spill, error) {
	f, err := os.CreateTemp(dir, "crmigrate-validate-*")
	if err != nil {
		return nil, fmt.Errorf("create a spill file for validation (set --memory higher or free the temporary directory): %w", err)
	}
	// Unlinked at once: the file lives while it is open, and a killed process leaves nothing.
	_ = os.Remove(f.Name())
	return &spill{f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

func (s *spill) len() int { return len(s.end) }

func (s *spill) add(v string) {
	var at uint64
	if n := len(s.end); n > 0 {
		at = s.end[n-1]
	}
	if s.err == nil {
		_, s.err = s.w.WriteString(v)
	}
	s.end = append(s.end, at+uint64(len(v)))
}

// get reads entry i back.
func (s *spill) get(i int) (string, error) {
	if s.err != nil {
		return "", fmt.Errorf("write the spill file: %w", s.err)
	}
	if s.w.Buffered() > 0 {
		if err := s.w.Flush(); err != nil {
			s.err = err
			return "", fmt.Errorf("write the spill file: %w", err)
		}
	}
	var from uint64
	if i > 0 {
		from = s.end[i-1]
	}
	n := s.end[i] - from
	if uint64(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	if _, err := s.f.ReadAt(b, int64(from)); err != nil {
		return "", fmt.Errorf("read the spill file: %w", err)
	}
	return string(b), nil
}

// close closes (and so frees) the file.
func (s *spill) close() {
	if s != nil {
		s.f.Close()
	}
}
