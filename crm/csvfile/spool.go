package csvfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spool keeps lines on disk (a temporary file, removed on close): the lines a parser read past the
// record limit looking for a closing quote, to give back when the quote turns out never to close.
// Memory stays bounded however many lines that is.
type spool struct {
	f *os.File
	w *bufio.Writer
	r *bufio.Reader
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "crmigrate-csv-spool-*")
	if err != nil {
		return nil, fmt.Errorf("read past the record limit: %w", err)
	}
	_ = os.Remove(f.Name()) // gone when closed, also after a crash
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<16)}, nil
}

// add appends a line.
func (s *spool) add(l line) error {
	var head [13]byte
	binary.LittleEndian.PutUint64(head[0:8], uint64(l.num))
	binary.LittleEndian.PutUint32(head[8:12], uint32(len(l.text)))
	if l.long {
		head[12] = 1
	}
	if _, err := s.w.Write(head[:]); err != nil {
		return fmt.Errorf("read past the record limit: %w", err)
	}
	if _, err := s.w.WriteString(l.text); err != nil {
		return fmt.Errorf("read past the record limit: %w", err)
	}
	return nil
}

// rewind makes the lines added so far readable with next, from the first.
func (s *spool) rewind() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("read past the record limit: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read past the record limit: %w", err)
	}
	s.r = bufio.NewReaderSize(s.f, 1<<16)
	return nil
}

// next returns the next line given back; ok is false after the last.
func (s *spool) next() (line, bool, error) {
	var head [13]byte
	if _, err := io.ReadFull(s.r, head[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return line{}, false, nil
		}
		return line{}, false, fmt.Errorf("read lines given back: %w", err)
	}
	text := make([]byte, binary.LittleEndian.Uint32(head[8:12]))
	if _, err := io.ReadFull(s.r, text); err != nil {
		return line{}, false, fmt.Errorf("read lines given back: %w", err)
	}
	return line{text: string(text), num: int64(binary.LittleEndian.Uint64(head[0:8])), long: head[12] == 1}, true, nil
}

func (s *spool) close() { _ = s.f.Close() }
