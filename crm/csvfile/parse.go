package csvfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// rawPreviewBytes is how much of a rejected record's first line the reject keeps.
const rawPreviewBytes = 300

// Encoding names accepted in the plan.
const (
	EncUTF8   = "utf-8"
	EncUTF16  = "utf-16"
	EncCP1252 = "windows-1252"
)

// line is one physical line, decoded to UTF-8, without its line ending.
type line struct {
	text string
	num  int64
	long bool // longer than the record limit: text holds its first limit+1 bytes
}

// lineSource reads physical lines, decoding each to UTF-8: UTF-16 (by BOM or plan) through a
// transformer; otherwise a line that is not valid UTF-8 is read as Windows-1252 (exports from
// Excel on Windows), so mixed files still come out right.
type lineSource struct {
	br      *bufio.Reader
	max     int // the record limit in bytes: a longer line is cut and marked long
	num     int64
	cp1252  bool // every line is Windows-1252 (plan says so)
	decoded int  // lines that needed the Windows-1252 fallback
	err     error
}

func newLineSource(r io.Reader, encoding string, maxBytes int) (*lineSource, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}), encoding == EncUTF16:
		dec := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
		if bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
			dec = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()
		}
		br = bufio.NewReaderSize(transform.NewReader(br, dec), 1<<16)
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case encoding == "" || encoding == EncUTF8 || encoding == EncCP1252:
	default:
		return nil, fmt.Errorf("unsupported encoding %q; use utf-8, utf-16 or windows-1252", encoding)
	}
	return &lineSource{br: br, max: maxBytes, cp1252: encoding == EncCP1252}, nil
}

// next returns the next line, or io.EOF.
func (s *lineSource) next() (line, error) {
	if s.err != nil {
		return line{}, s.err
	}
	var buf []byte
	long := false
	for {
		chunk, err := s.br.ReadSlice('\n')
		if room := s.max + 1 - len(buf); len(chunk) <= room {
			buf = append(buf, chunk...)
		} else {
			buf = append(buf, chunk[:max(room, 0)]...)
			long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err != io.EOF {
				s.err = err
				return line{}, err
			}
			if len(buf) == 0 {
				s.err = io.EOF
				return line{}, io.EOF
			}
			s.err = io.EOF
		}
		break
	}
	s.num++
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	if s.num == 1 {
		buf = bytes.TrimPrefix(buf, []byte("\ufeff")) // a BOM left by the UTF-16 decoder
	}
	text := string(buf)
	if s.cp1252 || !utf8.ValidString(text) {
		if dec, err := charmap.Windows1252.NewDecoder().String(text); err == nil {
			text = dec
			s.decoded++
		} else {
			text = strings.ToValidUTF8(text, "\uFFFD")
		}
	}
	return line{text: text, num: s.num, long: long}, nil
}

// recordParser splits lines into CSV records: quoted fields with "" escapes and newlines, spaces
// after delimiters, lenient about stray quotes inside unquoted fields. A quoted field may span any
// number of lines up to the record limit (max bytes). A quoted field that never closes is caught
// by the field count: the first line alone is rejected and parsing resumes on the next line, so one
// broken quote costs one row, not the rest of the file. A record over the limit is one reject, and
// the lines inside its quoted field are skipped, never read as records.
type recordParser struct {
	src     *lineSource
	replay  *spool // lines read past the limit and given back, read before src
	max     int    // the record limit in bytes
	delim   rune
	pending []line // lines read ahead, not yet consumed
	eof     bool
}

// rawRecord is one parsed record with the lines it came from.
type rawRecord struct {
	fields []string
	line   int64  // first physical line
	raw    string // the first line, cut, for rejects
	err    string // why it cannot be used ("" when fine)
}

func (p *recordParser) fill(n int) error {
	for len(p.pending) < n && p.replay != nil {
		l, ok, err := p.replay.next()
		if err != nil {
			return err
		}
		if !ok {
			p.replay.close()
			p.replay = nil
			break
		}
		p.pending = append(p.pending, l)
	}
	for len(p.pending) < n && !p.eof {
		l, err := p.src.next()
		if err == io.EOF {
			p.eof = true
			break
		}
		if err != nil {
			return err
		}
		p.pending = append(p.pending, l)
	}
	return nil
}

// next returns the next non-blank record; want is the header's field count (0: any).
func (p *recordParser) next(want int) (rawRecord, error) {
	for {
		if err := p.fill(1); err != nil {
			return rawRecord{}, err
		}
		if len(p.pending) == 0 {
			return rawRecord{}, io.EOF
		}
		if strings.TrimSpace(p.pending[0].text) == "" {
			p.pending = p.pending[1:]
			continue
		}
		first := p.pending[0]
		rec := rawRecord{line: first.num, raw: cut(first.text)}
		if first.long {
			p.pending = p.pending[1:]
			rec.err = fmt.Sprintf("line %d is longer than the %s record limit; if it is real, raise max_record_mb for this csv system in the plan", first.num, mib(p.max))
			return rec, nil
		}
		fields, used, ok, dirty, over, err := p.parseDirty()
		if err != nil {
			return rawRecord{}, err
		}
		if over {
			return p.skipOverLimit(rec, used)
		}
		switch {
		case !ok && used > 1:
			// An unterminated quote: give up on the first line only.
			p.pending = p.pending[1:]
			rec.err = "unterminated quoted field (a \" that never closes)"
			return rec, nil
		case !ok:
			p.pending = p.pending[1:]
			rec.err = "unterminated quoted field at the end of the file"
			return rec, nil
		case dirty && used > 1:
			p.pending = p.pending[1:]
			rec.err = fmt.Sprintf("unterminated quoted field: a \" opened on line %d closes only on line %d, followed by more text", first.num, first.num+int64(used)-1)
			return rec, nil
		}
		if want > 0 && len(fields) != want && used > 1 {
			// A multi-line record with the wrong shape is most likely a stray quote: reject the
			// first line alone and parse again from the next.
			if alone, ok := p.parseOne(first.text); !ok || len(alone) != want {
				p.pending = p.pending[1:]
				rec.err = fmt.Sprintf("a quoted field spans lines %d–%d and the record has %d fields, the header %d: probably a stray quote", first.num, first.num+int64(used)-1, len(fields), want)
				return rec, nil
			}
		}
		p.pending = p.pending[used:]
		rec.fields = fields
		if want > 0 && len(fields) != want {
			// Extra empty trailing fields are harmless (spreadsheet exports add them).
			for len(fields) > want && strings.TrimSpace(fields[len(fields)-1]) == "" {
				fields = fields[:len(fields)-1]
			}
			if len(fields) != want {
				rec.err = fmt.Sprintf("%d fields, the header has %d", len(rec.fields), want)
				rec.fields = nil
				return rec, nil
			}
			rec.fields = fields
		}
		return rec, nil
	}
}

// parseOne parses a single line as a whole record; ok is false if a quote stays open.
func (p *recordParser) parseOne(text string) ([]string, bool) {
	saved, savedEOF := p.pending, p.eof
	p.pending, p.eof = []line{{text: text}}, true
	fields, _, ok, _, over, _ := p.parseDirty()
	p.pending, p.eof = saved, savedEOF
	return fields, ok && !over
}

// skipOverLimit ends a record whose quoted field went past the record limit after used pending
// lines: it reads on, without keeping them, to the line where the field (and the record) ends, and
// returns one reject for all those lines.
func (p *recordParser) skipOverLimit(rec rawRecord, used int) (rawRecord, error) {
	last := rec.line
	if used > 0 {
		last = p.pending[used-1].num
	}
	after := p.pending[1:] // if the quote never closes, parsing resumes with these
	rest := p.pending[used:]
	p.pending = nil
	var sp *spool // lines read from the source during the scan, on disk, to give back
	defer func() {
		if sp != nil && sp != p.replay {
			sp.close()
		}
	}()
	inQuote := true
	for inQuote {
		var l line
		switch {
		case len(rest) > 0:
			l, rest = rest[0], rest[1:]
		case p.replay != nil:
			var ok bool
			var err error
			if l, ok, err = p.replay.next(); err != nil {
				return rawRecord{}, err
			}
			if !ok {
				p.replay.close()
				p.replay = nil
				continue
			}
			if sp == nil {
				if sp, err = newSpool(); err != nil {
					return rawRecord{}, err
				}
			}
			if err := sp.add(l); err != nil {
				return rawRecord{}, err
			}
		case p.eof:
		default:
			var err error
			if l, err = p.src.next(); err == io.EOF {
				p.eof = true
				continue
			} else if err != nil {
				return rawRecord{}, err
			}
			if sp == nil {
				if sp, err = newSpool(); err != nil {
					return rawRecord{}, err
				}
			}
			if err := sp.add(l); err != nil {
				return rawRecord{}, err
			}
		}
		if l.text == "" && l.num == 0 { // the source is exhausted
			break
		}
		last = l.num
		inQuote = endsInQuote(l.text, p.delim)
	}
	if inQuote {
		// The quote never closes: a stray quote, not a long field. Reject the first line alone
		// and read on from the next, as within the limit: the lines read past it are given back.
		p.pending = after
		if sp != nil {
			if err := sp.rewind(); err != nil {
				return rawRecord{}, err
			}
			p.replay = sp
		}
		rec.err = "unterminated quoted field (a \" that never closes)"
		return rec, nil
	}
	p.pending = rest
	rec.err = fmt.Sprintf("record over the %s limit: a quoted field opened on line %d closes only on line %d; if it is real, raise max_record_mb for this csv system in the plan",
		mib(p.max), rec.line, last)
	return rec, nil
}

// endsInQuote scans a line that starts inside a quoted field and says whether it ends inside one.
func endsInQuote(text string, delim rune) bool {
	inQuote, fieldStart := true, false
	d := string(delim)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inQuote && c == '"':
			if i+1 < len(text) && text[i+1] == '"' {
				i++
			} else {
				inQuote = false
			}
		case inQuote:
		case strings.HasPrefix(text[i:], d):
			fieldStart = true
			i += len(d) - 1
		case c == '"' && fieldStart:
			inQuote = true
		case c != ' ' && c != '\t':
			fieldStart = false
		}
	}
	return inQuote
}

func mib(n int) string { return fmt.Sprintf("%d MB", n>>20) }

// parseDirty parses one record from the pending lines, reading more as a quoted field needs them.
// It returns the fields, how many lines it used, ok=false when a quoted field never closed, whether
// text followed a closing quote (`"a"b`, which in a record spanning lines means a stray quote
// swallowed the lines after it), and over=true when a quoted field went past the record limit.
func (p *recordParser) parseDirty() (fields []string, used int, ok, dirty, over bool, err error) {
	var field strings.Builder
	li := 0
	text := p.pending[0].text
	pos := 0
	size := len(text)
	for {
		// At the start of a field: skip spaces, see whether it is quoted.
		for pos < len(text) && (text[pos] == ' ' || text[pos] == '\t') && rune(text[pos]) != p.delim {
			pos++
		}
		if pos < len(text) && text[pos] == '"' {
			pos++
			closed := false
			for !closed {
				i := strings.IndexByte(text[pos:], '"')
				if i < 0 {
					field.WriteString(text[pos:])
					// The field goes on on the next line.
					li++
					if size > p.max {
						return nil, li, false, dirty, true, nil
					}
					if err := p.fill(li + 1); err != nil {
						return nil, li, false, dirty, false, err
					}
					if li >= len(p.pending) {
						return nil, li, false, dirty, false, nil
					}
					field.WriteByte('\n')
					text, pos = p.pending[li].text, 0
					size += len(text)
					continue
				}
				field.WriteString(text[pos : pos+i])
				pos += i + 1
				if pos < len(text) && text[pos] == '"' { // "" is a quote
					field.WriteByte('"')
					pos++
					continue
				}
				closed = true
			}
			// After the closing quote: anything up to the delimiter is kept (lenient).
			j := p.indexDelim(text[pos:])
			if rest := text[pos:]; j >= 0 {
				rest = rest[:j]
				if strings.TrimSpace(rest) != "" {
					dirty = true
				}
			} else if strings.TrimSpace(rest) != "" {
				dirty = true
			}
			if j < 0 {
				field.WriteString(strings.TrimRight(text[pos:], " \t"))
				fields = append(fields, field.String())
				return fields, li + 1, true, dirty, false, nil
			}
			field.WriteString(strings.TrimRight(text[pos:pos+j], " \t"))
			fields = append(fields, field.String())
			field.Reset()
			pos += j + utf8.RuneLen(p.delim)
			continue
		}
		j := p.indexDelim(text[pos:])
		if j < 0 {
			fields = append(fields, strings.TrimRight(text[pos:], " \t"))
			return fields, li + 1, true, dirty, false, nil
		}
		fields = append(fields, strings.TrimRight(text[pos:pos+j], " \t"))
		pos += j + utf8.RuneLen(p.delim)
	}
}

func (p *recordParser) indexDelim(s string) int { return strings.IndexRune(s, p.delim) }

// detectDelimiter picks the most frequent of , ; tab | outside quotes in the header line.
func detectDelimiter(header string) rune {
	counts := map[rune]int{}
	inQ := false
	for _, r := range header {
		switch {
		case r == '"':
			inQ = !inQ
		case !inQ && (r == ',' || r == ';' || r == '\t' || r == '|'):
			counts[r]++
		}
	}
	best, n := ',', 0
	for _, r := range []rune{',', ';', '\t', '|'} {
		if counts[r] > n {
			best, n = r, counts[r]
		}
	}
	return best
}

func cut(s string) string {
	if len(s) <= rawPreviewBytes {
		return s
	}
	s = s[:rawPreviewBytes]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

var errNoHeader = errors.New("the file is empty: no header line")
