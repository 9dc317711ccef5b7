package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// oldInput is how one source system's records of the object are read in this validation: in
// full (optionally skipping the normalization of records a previous read cached unchanged), or
// incrementally (the cached records, less those deleted or changed, and the changed ones).
type oldInput struct {
	si   int
	sys  *plans.System
	cfg  [32]byte
	prev string // the cache file to read (full: for digests; incremental: the records); "" none
	incr bool
	// Incremental: the records changed since the cached read, and the hashes of every id the
	// system lists now.
	changed map[string]crm.Record
	ids     []string // changed, sorted
	current hashSet
	w       *cacheWriter // the new cache file, written over all passes
	stat    SourceRead
}

// srcItem is a source record to use: read from the system, or cached.
type srcItem struct {
	rec    crm.Record
	c      *oldEntry // its cached normalized values (nil: normalize rec)
	digest uint64
}

// cacheOn says whether validation keeps its reads.
func (v *validator) cacheOn() bool { return v.opts.Cache != nil && v.opts.Cache.Dir != "" }

// prepareOld decides how each source system's records of the object are read and, for an
// incremental read, reads what changed and lists the ids.
func (r *objectRun) prepareOld(ctx context.Context) error {
	v := r.v
	r.src, r.at = r.pruned()
	r.inputs = nil
	for si, sys := range v.p.Systems {
		m := r.src.Mapping(sys.Name)
		if sys.Name == plans.SystemNew || m == nil {
			continue
		}
		in := &oldInput{si: si, sys: sys, stat: SourceRead{System: sys.Name}}
		r.inputs = append(r.inputs, in)
		if !v.cacheOn() {
			continue
		}
		c := v.opts.Cache
		in.cfg = cacheConfig(v.p, r.src, sys.Name, "old")
		path := c.path(r.obj.Name, sys.Name, "old")
		prev, why := openCache(path, in.cfg)
		if prev != nil {
			in.prev = path
		}
		if v.noCache[r.obj.Name+"\x00"+sys.Name] != "" {
			why, in.prev = v.noCache[r.obj.Name+"\x00"+sys.Name], ""
		}
		w, err := newCacheWriter(path, cacheHeader{Config: in.cfg, Watermark: c.Watermark.UnixNano(), Began: v.began.UnixNano()})
		if err != nil {
			prev.close()
			return err
		}
		in.w = w
		if in.prev == "" || !c.Incremental {
			if why == "" {
				why = "a full pass"
			}
			in.stat.Why = why
			prev.close()
			continue
		}
		since := time.Unix(0, prev.h.Watermark).Add(-c.Overlap)
		prev.close()
		err = func() error {
			src, err := crm.Open(ctx, sys, v.opts.Env)
			if err != nil {
				return err
			}
			defer src.Close()
			s, okSince := src.(crm.Since)
			lister, okIDs := src.(crm.IDLister)
			if !okSince || !okIDs || m.UpdatedAt == "" {
				in.stat.Why = sys.Name + " cannot list its changes (it needs an updated_at column in a database)"
				return nil
			}
			// The ids first: a record created after the listing is left for the next snapshot
			// (it is seen as changed then), where one created between the changes and the
			// listing would be neither cached nor changed.
			listed := 0
			if err := lister.IDs(ctx, r.src, func(ids []string) error {
				for _, id := range ids {
					in.current.add(v.hash(id))
				}
				listed += len(ids)
				return nil
			}); err != nil {
				return fmt.Errorf("list the ids of %s in %s: %w", r.obj.Name, sys.Name, err)
			}
			in.current.seal()
			if len(in.current.h) != listed {
				in.stat.Why = sys.Name + " lists some id twice (once trimmed): its records are read in full"
				return nil
			}
			rd, err := s.ReaderSince(ctx, r.src, since, func(crm.Reject) {})
			if err != nil {
				return fmt.Errorf("read %s changed in %s: %w", r.obj.Name, sys.Name, err)
			}
			defer rd.Close()
			in.changed = map[string]crm.Record{}
			for {
				b, err := rd.Next(ctx)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return fmt.Errorf("read %s changed in %s: %w", r.obj.Name, sys.Name, err)
				}
				for _, rec := range b {
					if _, dup := in.changed[rec.ID]; dup {
						in.stat.Why = sys.Name + " has two records with id " + rec.ID + " (once trimmed): its records are read in full"
						in.changed = nil
						return nil
					}
					in.changed[rec.ID] = rec
				}
			}
			for id := range in.changed {
				in.ids = append(in.ids, id)
			}
			slices.Sort(in.ids)
			in.incr = true
			return nil
		}()
		if err != nil {
			return err
		}
		in.stat.Incremental = in.incr
	}
	return nil
}

// produceOld emits one source system's records for pass p, in batches.
func (r *objectRun) produceOld(ctx context.Context, in *oldInput, p int, emit func([]srcItem) error) error {
	v := r.v
	count := func(read, reused int64) {
		if p == 0 {
			in.stat.Read += read
			in.stat.Reused += reused
		}
	}
	batch := make([]srcItem, 0, crm.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		b := batch
		batch = make([]srcItem, 0, crm.BatchSize)
		return emit(b)
	}
	if in.incr {
		cr, why := openCache(in.prev, in.cfg)
		if cr == nil {
			return &staleError{r.obj.Name, in.sys.Name, why}
		}
		defer cr.close()
		kept := 0
		for {
			b, err := cr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return &staleError{r.obj.Name, in.sys.Name, err.Error()}
			}
			e, ok := decodeOld(b, len(r.src.Fields))
			if !ok {
				return &staleError{r.obj.Name, in.sys.Name, errCacheDamaged.Error()}
			}
			if _, ch := in.changed[e.id]; ch || !in.current.has(v.hash(e.id)) {
				continue // read again, or deleted
			}
			kept++
			batch = append(batch, srcItem{c: &e})
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		fresh := 0
		for _, id := range in.ids {
			if !in.current.has(v.hash(id)) {
				continue // deleted since it was read
			}
			fresh++
			rec := in.changed[id]
			batch = append(batch, srcItem{rec: rec, digest: rawDigest(rec)})
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if kept+fresh != len(in.current.h) {
			return &staleError{r.obj.Name, in.sys.Name, fmt.Sprintf("it lists %d records, the cache and the changes account for %d: a record changed without moving its updated_at", len(in.current.h), kept+fresh)}
		}
		count(int64(fresh), int64(kept))
		return flush()
	}
	src, err := crm.Open(ctx, in.sys, v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	rd, err := src.Reader(ctx, r.src, func(crm.Reject) {}) // clean rejected them too
	if err != nil {
		return fmt.Errorf("read %s in %s: %w", r.obj.Name, in.sys.Name, err)
	}
	defer rd.Close()
	var win *window
	if in.prev != "" {
		if cr, _ := openCache(in.prev, in.cfg); cr != nil {
			win = &window{cr: cr, at: map[string]int{}, fields: len(r.src.Fields)}
			defer cr.close()
		}
	}
	for {
		b, err := rd.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s in %s: %w", r.obj.Name, in.sys.Name, err)
		}
		var reused int64
		for _, rec := range b {
			it := srcItem{rec: rec}
			if in.w != nil {
				it.digest = rawDigest(rec)
			}
			if win != nil {
				if e := win.find(rec.ID, it.digest); e != nil {
					it.c = e
					reused++
				}
			}
			batch = append(batch, it)
		}
		count(int64(len(b)), reused)
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}

// window finds the cached entries of a full read's records when both come in about the same
// order (a file read again): it looks a few thousand entries ahead and drops what it passed.
type window struct {
	cr     *cacheReader
	fields int // of the records
	q      []oldEntry
	head   int
	at     map[string]int // id → absolute position in the stream
	base   int            // absolute position of q[head]
	eof    bool
	bad    bool
}

const windowSize = 4096

func (w *window) find(id string, digest uint64) *oldEntry {
	for !w.eof && !w.bad && len(w.q)-w.head < windowSize {
		b, err := w.cr.next()
		if err != nil {
			w.eof, w.bad = true, !errors.Is(err, io.EOF)
			break
		}
		e, ok := decodeOld(b, w.fields)
		if !ok {
			w.eof, w.bad = true, true
			break
		}
		w.at[e.id] = w.base + len(w.q) - w.head
		w.q = append(w.q, e)
	}
	pos, ok := w.at[id]
	if !ok || w.bad {
		return nil
	}
	for w.base <= pos { // drop what came before it, and it
		e := w.q[w.head]
		if w.at[e.id] == w.base {
			delete(w.at, e.id)
		}
		w.head++
		w.base++
	}
	e := w.q[w.head-1]
	if w.head > windowSize {
		w.q = append(w.q[:0], w.q[w.head:]...)
		w.head = 0
	}
	if e.digest != digest {
		return nil
	}
	return &e
}

// newRead is how the new CRM's records of an object were read in this validation: the file
// that now holds them, read again by the later passes and references.
type newRead struct{ path string }

// eachNewCached reads obj's records in the new CRM through the cache: the file this validation
// already wrote, or (incremental) the previous file merged with what changed, or the new CRM in
// full; what it reads is written to the new file.
func (v *validator) eachNewCached(ctx context.Context, obj *plans.Object, fn func([]crm.Record) error) error {
	c := v.opts.Cache
	cfg := cacheConfig(v.p, obj, plans.SystemNew, "new")
	path := c.path(obj.Name, plans.SystemNew, "new")
	if v.fresh[obj.Name] {
		return v.replayNew(ctx, obj, path, cfg, fn)
	}
	stat := SourceRead{System: plans.SystemNew}
	prev, why := openCache(path, cfg)
	defer func() { prev.close() }()
	if r := v.noCache[obj.Name+"\x00"+plans.SystemNew]; r != "" {
		prev.close()
		prev, why = nil, r
	}
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	m := obj.Mapping(plans.SystemNew)
	s, okSince := src.(crm.Since)
	lister, okIDs := src.(crm.IDLister)
	switch {
	case prev == nil:
	case !c.Incremental:
		why = "a full pass"
	case !okSince || !okIDs || m.UpdatedAt == "":
		why = "the new CRM cannot list its changes (it needs an updated_at column in a database)"
	}
	incr := why == "" && prev != nil
	w, err := newCacheWriter(path, cacheHeader{Config: cfg, Watermark: c.Watermark.UnixNano(), Began: v.began.UnixNano()})
	if err != nil {
		return err
	}
	defer w.abort()
	var changed map[string]crm.Record
	var written map[string]bool
	var listed []string // incremental: every id, in the reader's order
	if incr {
		// The ids first (see prepareOld), then what changed.
		seen := hashSet{}
		if err := lister.IDs(ctx, obj, func(ids []string) error {
			for _, id := range ids {
				listed = append(listed, id)
				seen.add(v.hash(id))
			}
			return nil
		}); err != nil {
			return fmt.Errorf("list the ids of %s in the new CRM: %w", obj.Name, err)
		}
		seen.seal()
		if len(seen.h) != len(listed) {
			incr, why = false, "the new CRM lists some id twice (once trimmed)"
		}
	}
	if incr {
		since := time.Unix(0, prev.h.Watermark).Add(-c.Overlap)
		rd, err := s.ReaderSince(ctx, obj, since, func(crm.Reject) {})
		if err != nil {
			return fmt.Errorf("read %s changed in the new CRM: %w", obj.Name, err)
		}
		changed = map[string]crm.Record{}
		for incr {
			b, err := rd.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rd.Close()
				return fmt.Errorf("read %s changed in the new CRM: %w", obj.Name, err)
			}
			for _, rec := range b {
				if _, dup := changed[rec.ID]; dup {
					incr, why = false, "the new CRM has two records with id "+rec.ID+" (once trimmed)"
					break
				}
				changed[rec.ID] = rec
			}
		}
		rd.Close()
		if incr && c.Written != nil {
			ids, err := c.Written(obj.Name, time.Unix(0, prev.h.Began))
			if err != nil {
				return err
			}
			written = map[string]bool{}
			for _, id := range ids {
				if _, ok := changed[id]; !ok {
					written[id] = true
				}
			}
		}
	}
	if !incr {
		prev.close()
		prev = nil
		listed = nil
	}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []crm.Record, 2)
	g.Go(func() error {
		defer close(batches)
		var enc []byte
		send := func(b []crm.Record) error {
			for _, rec := range b {
				enc = appendNew(enc[:0], rec)
				w.entry(enc)
			}
			select {
			case batches <- b:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		if !incr {
			rd, err := src.Reader(gctx, obj, func(crm.Reject) {})
			if err != nil {
				return fmt.Errorf("read %s in the new CRM: %w", obj.Name, err)
			}
			defer rd.Close()
			for {
				b, err := rd.Next(gctx)
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return fmt.Errorf("read %s in the new CRM: %w", obj.Name, err)
				}
				stat.Read += int64(len(b))
				if err := send(b); err != nil {
					return err
				}
			}
		}
		stat.Incremental = true
		batch := make([]crm.Record, 0, crm.BatchSize)
		err := func() error {
			for _, id := range listed {
				if rec, ok := changed[id]; ok {
					batch = append(batch, rec)
					stat.Read++
				} else {
					if written[id] {
						return &staleError{obj.Name, plans.SystemNew, "record " + id + " was written by crmigrate since the cached read but its updated_at did not move"}
					}
					rec, err := nextNew(prev, id, len(obj.Fields))
					if err != nil {
						return &staleError{obj.Name, plans.SystemNew, "record " + id + " is neither cached nor changed: " + err.Error()}
					}
					batch = append(batch, rec)
					stat.Reused++
				}
				if len(batch) == cap(batch) {
					if err := send(batch); err != nil {
						return err
					}
					batch = make([]crm.Record, 0, crm.BatchSize)
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			return send(batch)
		}
		return nil
	})
	g.Go(func() error {
		for b := range batches {
			if err := fn(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		return err
	}
	if stat.Why == "" && !stat.Incremental {
		stat.Why = why
	}
	v.fresh[obj.Name] = true
	v.reads[obj.Name] = append(v.reads[obj.Name], stat)
	return nil
}

// nextNew advances a cached read of new to the record id (those it passes were deleted or
// changed since).
func nextNew(cr *cacheReader, id string, fields int) (crm.Record, error) {
	for {
		b, err := cr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return crm.Record{}, errors.New("not in the cache")
			}
			return crm.Record{}, err
		}
		if string(idOf(b)) != id {
			continue
		}
		rec, ok := decodeNew(b, fields)
		if !ok {
			return crm.Record{}, errCacheDamaged
		}
		return rec, nil
	}
}

// replayNew reads the new CRM's records of an object from the file this validation wrote.
func (v *validator) replayNew(ctx context.Context, obj *plans.Object, path string, cfg [32]byte, fn func([]crm.Record) error) error {
	cr, why := openCache(path, cfg)
	if cr == nil {
		return fmt.Errorf("read %s in the new CRM again: %s", obj.Name, why)
	}
	defer cr.close()
	batch := make([]crm.Record, 0, crm.BatchSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := cr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s in the new CRM again from %s: %w", obj.Name, path, err)
		}
		rec, ok := decodeNew(b, len(obj.Fields))
		if !ok {
			return fmt.Errorf("read %s in the new CRM again from %s: %w", obj.Name, path, errCacheDamaged)
		}
		batch = append(batch, rec)
		if len(batch) == cap(batch) {
			if err := fn(batch); err != nil {
				return err
			}
			batch = make([]crm.Record, 0, crm.BatchSize)
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// stale reports whether err is a cache that did not add up; it then marks the read to be done in
// full and says so.
func (v *validator) stale(err error) bool {
	var se *staleError
	if !errors.As(err, &se) {
		return false
	}
	k := se.object + "\x00" + se.system
	if v.noCache[k] != "" {
		return false // already read in full: not a cache problem
	}
	v.noCache[k] = "the cached read did not add up (" + se.why + ")"
	if se.system == plans.SystemNew {
		delete(v.fresh, se.object)
	}
	return true
}
