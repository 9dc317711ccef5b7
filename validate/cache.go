package validate

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// Incremental reads. With Options.Cache, validation keeps what it read of each system in files
// (per object: for each source system the records' ids, a digest of their raw values and their
// normalized values; for the new CRM its records as read, in its read order), and the next
// validation with Cache.Incremental reads again only the records changed since (by the
// mappings' updated_at, from the cached read's watermark less Cache.Overlap), lists the ids to
// find the deleted ones, and takes the rest from the files. What it compares is then exactly
// what a full read would give, as long as every change moves updated_at: a file whose records do
// not add up (an id the system lists that is neither cached nor changed: a record backdated,
// restored) is dropped and the object read in full. Whatever is written to a cache file was read
// in this validation; a file is replaced atomically when its read is complete.

// Cache is where and how validation keeps its reads for the next one.
type Cache struct {
	Dir string
	// Incremental reads only what changed since the cached reads; false reads everything (and
	// still skips normalizing the source records whose raw values have not changed).
	Incremental bool
	// Watermark is the time this read stands for (the snapshot's as-of time, no later than when
	// the read begins): the next incremental read asks for the records updated since it, less
	// Overlap.
	Watermark time.Time
	Overlap   time.Duration
	// Written lists the ids in new of the records crmigrate wrote to an object in the runs that
	// had not ended by a time (its journal); a record written since the cached read began whose
	// updated_at did not move makes the new CRM's side of the object read in full. Nil: not
	// checked.
	Written func(object string, since time.Time) ([]string, error)
}

// SourceRead says how validation read one system's records of an object.
type SourceRead struct {
	System      string `json:"system"`
	Incremental bool   `json:"incremental"`
	Read        int64  `json:"read"`          // records read from the system
	Reused      int64  `json:"reused"`        // records taken from the cache instead of being read (or, read in full, normalized) again
	Why         string `json:"why,omitempty"` // why the read was a full one
}

// staleError says that a cache file did not add up with what its system holds: the object is
// read again in full.
type staleError struct{ object, system, why string }

func (e *staleError) Error() string {
	return fmt.Sprintf("cached read of %s in %s does not match the system (%s)", e.object, e.system, e.why)
}

var cacheMagic = [8]byte{'C', 'R', 'M', 'C', 'A', 'C', 'H', '1'}

// cacheHeader opens every cache file.
type cacheHeader struct {
	Config    [32]byte // what the entries depend on besides the records: see cacheConfig
	Watermark int64    // Unix nanoseconds
	Began     int64    // when the read began, Unix nanoseconds
}

// buildID names this build of crmigrate (normalization may change between versions): a digest of
// its executable, or of its build information when the executable cannot be read.
var buildID = sync.OnceValue(func() string {
	h := sha256.New()
	if exe, err := os.Executable(); err == nil {
		if f, err := os.Open(exe); err == nil {
			_, cerr := io.Copy(h, f)
			f.Close()
			if cerr == nil {
				return fmt.Sprintf("%x", h.Sum(nil))
			}
			h.Reset()
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		h.Write([]byte(bi.String()))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
})

// cacheFormat is the version of the files' layout and of what they hold.
const cacheFormat = 2

// cacheConfig is the digest of what a cached read depends on besides the records: the build, the
// object's fields as read, the system's mapping and the normalization options.
func cacheConfig(p *plans.Plan, obj *plans.Object, system string, side string) [32]byte {
	loc := ""
	if p.Location != nil {
		loc = p.Location.String()
	}
	b, _ := json.Marshal(struct {
		Format  int
		Build   string
		Side    string
		System  string
		Object  *plans.Object
		Mapping *plans.Mapping
		Region  string
		Loc     string
		Free    []string
	}{cacheFormat, buildID(), side, system, obj, obj.Mapping(system), p.DefaultRegion, loc, p.Clean.FreeMailDomains})
	return sha256.Sum256(b)
}

// cachePath is the file of an object's read of a system.
func (c *Cache) path(object, system, side string) string {
	return filepath.Join(c.Dir, url.PathEscape(object)+"."+url.PathEscape(system)+"."+side)
}

// cacheWriter writes a cache file under a temporary name; commit renames it into place.
type cacheWriter struct {
	f    *os.File
	w    *bufio.Writer
	path string
	n    int64
	buf  []byte
	err  error
	done bool
}

func newCacheWriter(path string, h cacheHeader) (*cacheWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the parallel-run cache: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create the parallel-run cache: %w", err)
	}
	cw := &cacheWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), path: path}
	cw.write(cacheMagic[:])
	cw.write(h.Config[:])
	cw.buf = binary.LittleEndian.AppendUint64(cw.buf[:0], uint64(h.Watermark))
	cw.buf = binary.LittleEndian.AppendUint64(cw.buf, uint64(h.Began))
	cw.write(cw.buf)
	return cw, cw.err
}

func (cw *cacheWriter) write(b []byte) {
	if cw.err == nil {
		_, cw.err = cw.w.Write(b)
	}
}

// entry writes one encoded entry.
func (cw *cacheWriter) entry(e []byte) {
	cw.write([]byte{1})
	cw.write(e)
	cw.n++
}

// commit ends the file and puts it in place of the previous one.
func (cw *cacheWriter) commit() error {
	if cw.done {
		return nil
	}
	cw.done = true
	cw.write([]byte{0})
	cw.write(binary.LittleEndian.AppendUint64(nil, uint64(cw.n)))
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	if cw.err == nil {
		cw.err = cw.f.Sync()
	}
	if err := cw.f.Close(); cw.err == nil {
		cw.err = err
	}
	if cw.err == nil {
		cw.err = os.Rename(cw.f.Name(), cw.path)
	}
	if cw.err != nil {
		os.Remove(cw.f.Name())
		return fmt.Errorf("write the parallel-run cache %s: %w", cw.path, cw.err)
	}
	return nil
}

// abort drops the file.
func (cw *cacheWriter) abort() {
	if cw == nil || cw.done {
		return
	}
	cw.done = true
	cw.f.Close()
	os.Remove(cw.f.Name())
}

// cacheReader reads a cache file's entries.
type cacheReader struct {
	f    *os.File
	r    *bufio.Reader
	path string
	h    cacheHeader
	n    int64
	b    []byte
}

// openCache opens a cache file whose configuration is cfg; (nil, why) when there is none to use.
func openCache(path string, cfg [32]byte) (*cacheReader, string) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "no cached read yet"
	}
	if err != nil {
		return nil, "cache unreadable: " + err.Error()
	}
	cr := &cacheReader{f: f, r: bufio.NewReaderSize(f, 1<<20), path: path}
	var head [8 + 32 + 16]byte
	if _, err := io.ReadFull(cr.r, head[:]); err != nil || [8]byte(head[:8]) != cacheMagic {
		f.Close()
		return nil, "cache file damaged"
	}
	if [32]byte(head[8:40]) != cfg {
		f.Close()
		return nil, "the plan's mapping or crmigrate changed since the cached read"
	}
	cr.h.Config = cfg
	cr.h.Watermark = int64(binary.LittleEndian.Uint64(head[40:]))
	cr.h.Began = int64(binary.LittleEndian.Uint64(head[48:]))
	return cr, ""
}

func (cr *cacheReader) close() {
	if cr != nil {
		cr.f.Close()
	}
}

var errCacheDamaged = errors.New("cache file damaged")

// next returns the next entry's bytes (valid until the next call), or io.EOF after the last one.
func (cr *cacheReader) next() ([]byte, error) {
	kind, err := cr.r.ReadByte()
	if err != nil {
		return nil, errCacheDamaged
	}
	if kind == 0 {
		var n [8]byte
		if _, err := io.ReadFull(cr.r, n[:]); err != nil || int64(binary.LittleEndian.Uint64(n[:])) != cr.n {
			return nil, errCacheDamaged
		}
		return nil, io.EOF
	}
	if kind != 1 {
		return nil, errCacheDamaged
	}
	size, err := binary.ReadUvarint(cr.r)
	if err != nil || size > 1<<30 {
		return nil, errCacheDamaged
	}
	if uint64(cap(cr.b)) < size {
		cr.b = make([]byte, size)
	}
	cr.b = cr.b[:size]
	if _, err := io.ReadFull(cr.r, cr.b); err != nil {
		return nil, errCacheDamaged
	}
	cr.n++
	return cr.b, nil
}

// Entries are length-prefixed (the writer adds the prefix): entry appends its body.

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads an entry from one string: its values are substrings of it (one allocation an
// entry).
type decoder struct {
	s   string
	i   int
	err bool
}

func newDecoder(b []byte) decoder { return decoder{s: string(b)} }

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); d.i < len(d.s) && shift < 64; shift += 7 {
		c := d.s[d.i]
		d.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	d.err, d.i = true, len(d.s)
	return 0
}

func (d *decoder) str() string {
	n := d.uvarint()
	if uint64(len(d.s)-d.i) < n {
		d.err, d.i = true, len(d.s)
		return ""
	}
	v := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return v
}

func (d *decoder) done() bool { return !d.err && d.i == len(d.s) }

// idOf is an entry's id, without copying it (valid while b is).
func idOf(b []byte) []byte {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil
	}
	return b[k : k+int(n)]
}

// oldEntry is a source record as validation normalized it.
type oldEntry struct {
	id      string
	digest  uint64
	reject  bool
	key     string // canonical key ("" none)
	hasUpd  bool   // the record's updated_at is known:
	updSec  int64  // its Unix seconds
	updNsec int64  // and nanoseconds
	vals    string // canonical values packed
	invalid []bool // nil: none invalid
}

const (
	entryReject  = 1
	entryInvalid = 2
	entryUpdated = 4
)

func (e *oldEntry) append(b []byte) []byte {
	body := len(b)
	b = appendStr(b, e.id)
	b = binary.LittleEndian.AppendUint64(b, e.digest)
	flags := byte(0)
	if e.reject {
		flags |= entryReject
	}
	if e.invalid != nil {
		flags |= entryInvalid
	}
	if e.hasUpd {
		flags |= entryUpdated
	}
	b = append(b, flags)
	if e.hasUpd {
		b = binary.AppendVarint(b, e.updSec)
		b = binary.AppendUvarint(b, uint64(e.updNsec))
	}
	b = appendStr(b, e.key)
	b = appendStr(b, e.vals)
	if e.invalid != nil {
		b = binary.AppendUvarint(b, uint64(len(e.invalid)))
		var cur byte
		for i, inv := range e.invalid {
			if inv {
				cur |= 1 << (i % 8)
			}
			if i%8 == 7 || i == len(e.invalid)-1 {
				b = append(b, cur)
				cur = 0
			}
		}
	}
	return prefixLen(b, body)
}

// prefixLen puts the length of b[body:] in front of it.
func prefixLen(b []byte, body int) []byte {
	n := len(b) - body
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n))
	b = append(b, pre[:k]...)
	copy(b[body+k:], b[body:body+n])
	copy(b[body:], pre[:k])
	return b
}

// decodeOld decodes an entry of a record of fields fields.
func decodeOld(b []byte, fields int) (oldEntry, bool) {
	d := newDecoder(b)
	var e oldEntry
	e.id = d.str()
	if len(d.s)-d.i < 9 {
		return e, false
	}
	for k := 7; k >= 0; k-- {
		e.digest = e.digest<<8 | uint64(d.s[d.i+k])
	}
	flags := d.s[d.i+8]
	d.i += 9
	e.reject = flags&entryReject != 0
	if flags&entryUpdated != 0 {
		u := d.uvarint()
		e.hasUpd, e.updSec = true, int64(u>>1)^-int64(u&1) // zig-zag, as binary.AppendVarint writes it
		if e.updNsec = int64(d.uvarint()); e.updNsec >= 1e9 {
			return e, false
		}
	}
	e.key = d.str()
	e.vals = d.str()
	if flags&entryInvalid != 0 {
		k := d.uvarint()
		if d.err || k != uint64(fields) || uint64(len(d.s)-d.i) < (k+7)/8 {
			return e, false
		}
		e.invalid = make([]bool, k)
		for i := range int(k) {
			e.invalid[i] = d.s[d.i+i/8]&(1<<(i%8)) != 0
		}
		d.i += int(k+7) / 8
	}
	return e, d.done()
}

// appendNew encodes a record of the new CRM.
func appendNew(b []byte, r crm.Record) []byte {
	body := len(b)
	b = appendStr(b, r.ID)
	b = appendStr(b, r.UpdatedAt)
	for _, v := range r.Values {
		b = appendStr(b, v)
	}
	return prefixLen(b, body)
}

func decodeNew(b []byte, fields int) (crm.Record, bool) {
	d := newDecoder(b)
	r := crm.Record{ID: d.str(), UpdatedAt: d.str(), Values: make([]string, fields)}
	for i := range r.Values {
		r.Values[i] = d.str()
	}
	return r, d.done()
}

// rawDigest is a digest of a source record as read (FNV-1a over its updated_at and values, each
// after its length): what decides that its cached normalized values still hold.
func rawDigest(r crm.Record) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(s string) {
		n := len(s)
		for range 4 {
			h = (h ^ uint64(n&0xff)) * prime
			n >>= 8
		}
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
	}
	mix(r.UpdatedAt)
	for _, s := range r.Values {
		mix(s)
	}
	return h
}

// Differ says how two validations of the same state differ ("" when they agree on every object's
// counts and drift): what an incremental read is checked against a full one with. How each read
// was done, in how many passes and how long it took are left out.
func Differ(a, b *Result) string {
	if len(a.Objects) != len(b.Objects) {
		return fmt.Sprintf("%d objects against %d", len(a.Objects), len(b.Objects))
	}
	for i := range a.Objects {
		x, y := a.Objects[i], b.Objects[i]
		dx, dy := x.Drift, y.Drift
		x.Drift, y.Drift, x.Reads, y.Reads, x.Seconds, y.Seconds, x.Passes, y.Passes = nil, nil, nil, nil, Timing{}, Timing{}, 0, 0
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if string(jx) != string(jy) {
			return fmt.Sprintf("object %s: counts %s against %s", x.Object, jx, jy)
		}
		for k := range max(len(dx), len(dy)) {
			if k >= len(dx) || k >= len(dy) {
				return fmt.Sprintf("object %s: %d drift rows against %d", x.Object, len(dx), len(dy))
			}
			jx, _ := json.Marshal(dx[k])
			jy, _ := json.Marshal(dy[k])
			if string(jx) != string(jy) {
				return fmt.Sprintf("object %s: drift row %d: %s against %s", x.Object, k+1, jx, jy)
			}
		}
	}
	return ""
}
