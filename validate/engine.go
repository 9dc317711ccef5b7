package validate

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/internal/pipeline"
	"github.com/crmigrate/crmigrate/merge"
	"github.com/crmigrate/crmigrate/normalize"
	"github.com/crmigrate/crmigrate/plans"
)

// Memory. Validation holds one object at a time, plus what the objects it references need for
// their references (membership and ids in new): per golden record its id, its staged size, its
// id in new and its expected values packed in one string; per source record 12 bytes of hash
// index; per record in new 12 bytes. Records of clusters with several members wait, packed,
// until their last member is read.

type validator struct {
	p    *plans.Plan
	opts Options
	norm *normalize.Normalizer
	seed maphash.Seed
	sets map[string]*goldenSet
	done map[string]bool // objects validated
	// The new CRM's users: email (lower case) → id and back; nil when owners are written as emails.
	userID    map[string]string
	userEmail map[string]string
	// Incremental reads (Options.Cache): when this validation began, the objects whose records in
	// new it has cached already, the reads to do in full (object NUL system → why) and how each
	// object was read.
	began   time.Time
	fresh   map[string]bool
	noCache map[string]string
	reads   map[string][]SourceRead
}

// goldenSet is an object's golden records as staging and the crosswalk know them, indexed by
// position in golden id order.
type goldenSet struct {
	ids    *strs     // golden ids, sorted
	size   []int32   // staged members per golden record
	member hashIndex // hash of SOURCE, ID → golden index
	newOf  *strs     // id in new from the active crosswalk ("" none)
	byNew  hashIndex // hash of the id in new → golden index
	inNew  hashSet   // hashes of the ids the new CRM holds
	read   bool      // inNew is filled
}

func (v *validator) hash(parts ...string) uint64 {
	if len(parts) == 1 {
		return maphash.String(v.seed, parts[0])
	}
	var h maphash.Hash
	h.SetSeed(v.seed)
	for _, p := range parts {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return h.Sum64()
}

func (v *validator) loadUsers(ctx context.Context) error {
	if v.p.Users.Table == "" {
		return nil
	}
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	lk, ok := src.(crm.Lookup)
	if !ok {
		return fmt.Errorf("users.table is set but the new system (kind %s) cannot look users up", v.p.New().Kind)
	}
	m, err := lk.Lookup(ctx, v.p.Users.Table, v.p.Users.Email, v.p.Users.ID)
	if err != nil {
		return fmt.Errorf("read the new CRM's users: %w", err)
	}
	v.userID, v.userEmail = map[string]string{}, map[string]string{}
	for email, id := range m {
		e := strings.ToLower(email)
		v.userID[e] = id
		v.userEmail[id] = e
	}
	return nil
}

// expectedOwner is the owner migrate writes for an old owner, as an email (lower case).
func (v *validator) expectedOwner(old string) string {
	if old != "" {
		target := old
		if m, ok := v.p.Users.Owner(old); ok {
			target = m
		}
		if v.userID == nil {
			return strings.ToLower(target)
		}
		if !strings.Contains(target, "@") { // users.map gave an id in new
			return v.userEmail[target]
		}
		if _, ok := v.userID[strings.ToLower(target)]; ok {
			return strings.ToLower(target)
		}
	}
	def := strings.ToLower(v.p.Users.DefaultOwner)
	if def == "" || v.userID == nil {
		return def
	}
	if _, ok := v.userID[def]; !ok {
		return ""
	}
	return def
}

// set builds (once) an object's whole golden set from staging and the crosswalk: what validating
// it in one pass, and resolving references to it, need.
func (v *validator) set(ctx context.Context, obj *plans.Object) (*goldenSet, error) {
	if s, ok := v.sets[obj.Name]; ok {
		return s, nil
	}
	golden, members, err := v.opts.DB.StagingSize(ctx, v.p.Name, obj.Name)
	if err != nil {
		return nil, err
	}
	s, err := v.buildSet(ctx, obj, 0, 1, nil, false, golden, members)
	if err != nil {
		return nil, err
	}
	v.sets[obj.Name] = s
	return s, nil
}

// known is the reason of the parallel-run known difference that covers a field today, when
// Options.SkipKnown asks for them to be left out ("" none).
func (v *validator) known(object, field string) string {
	if !v.opts.SkipKnown {
		return ""
	}
	loc := v.p.Location
	if loc == nil {
		loc = time.UTC
	}
	today := time.Now().In(loc).Format(time.DateOnly)
	for _, r := range v.p.ParallelRun.Ignore {
		if r.Object == object && r.Field == field && (r.Until == "" || r.Until >= today) {
			return r.Reason
		}
	}
	return ""
}

// keepSets drops the golden sets that none of the objects still to validate refers to.
func (v *validator) keepSets(todo []*plans.Object) {
	need := map[string]bool{}
	for _, o := range todo {
		for _, f := range o.Fields {
			if f.Type == plans.TypeRef {
				need[f.To] = true
			}
		}
	}
	for name := range v.sets {
		if !need[name] {
			delete(v.sets, name)
		}
	}
}

// elsewhere is what a pass needs to know of the golden records of the other passes: which source
// records are staged, which ids in new the crosswalk knows, and which pass a canonical key is in.
type elsewhere struct {
	staged   hashSet   // SOURCE, ID of every staged record
	newOwner hashIndex // every id in new of the active crosswalk → its golden record's position (the last one's, as in one pass)
}

// buildSet builds the golden set of pass p of parts: the golden records at positions (in golden
// id order) equal to p modulo parts, indexed from 0. With several parts, g is what every pass
// knows of the others: filled in pass 0 (fill), read in the others.
// golden and members are the object's sizes in staging, for the indexes' capacities.
func (v *validator) buildSet(ctx context.Context, obj *plans.Object, p, parts int, g *elsewhere, fill bool, golden, members int64) (*goldenSet, error) {
	s := &goldenSet{ids: newStrs(0)}
	s.member.e = make([]hashEntry, 0, members/int64(parts)+members/int64(8*parts)+16)
	s.size = make([]int32, 0, golden/int64(parts)+golden/int64(8*parts)+16)
	s.byNew.e = make([]hashEntry, 0, cap(s.size))
	s.ids.start, s.ids.size = make([]uint32, 0, cap(s.size)), make([]uint32, 0, cap(s.size))
	if fill {
		g.staged.h = make([]uint64, 0, members+16)
		g.newOwner.e = make([]hashEntry, 0, golden+16)
	}
	last, pos := "", -1
	var all *strs // every golden id, to find the crosswalk's (kept only while building)
	if parts > 1 {
		all = newStrs(0)
	}
	if err := v.opts.DB.EachMember(ctx, v.p.Name, obj.Name, func(golden, source, id []byte) error {
		if pos < 0 || string(golden) != last {
			last = string(golden)
			pos++
			if all != nil {
				all.add(last)
			}
			if pos%parts == p {
				s.ids.add(last)
				s.size = append(s.size, 0)
			}
		}
		h := v.hash(string(source), string(id))
		if fill {
			g.staged.add(h)
		}
		if pos%parts == p {
			gi := int32(s.ids.len() - 1)
			s.size[gi]++
			s.member.add(h, gi)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	s.newOf = newStrs(s.ids.len())
	if err := v.opts.DB.EachActiveCrosswalk(ctx, v.p.Name, obj.Name, func(golden, newID, key []byte) error {
		ids := s.ids
		if all != nil {
			ids = all
		}
		gp := sort.Search(ids.len(), func(i int) bool { return ids.get(i) >= string(golden) })
		if gp == ids.len() || ids.get(gp) != string(golden) {
			return nil // written by migrate, no longer staged: its row in new matches nothing expected
		}
		if fill {
			g.newOwner.add(v.hash(string(newID)), int32(gp))
		}
		if gp%parts != p {
			return nil
		}
		gi := gp / parts
		s.newOf.set(gi, string(newID))
		s.byNew.add(v.hash(string(newID)), int32(gi))
		return nil
	}); err != nil {
		return nil, err
	}
	s.member.seal()
	s.byNew.seal()
	if fill {
		g.staged.seal()
		g.newOwner.seal()
	}
	if g != nil {
		// An id in new that two golden records claim belongs to the last one, in one pass or many.
		s.byNew.keep(func(e hashEntry) bool {
			owner, ok := g.newOwner.get(e.h)
			return ok && int(owner) == int(e.v)*parts+p
		})
	}
	return s, nil
}

// trim drops what only validating the set's object needs: later objects need of it only what
// resolves their references (member, newOf, inNew).
func (s *goldenSet) trim() {
	s.byNew, s.size, s.ids = hashIndex{}, nil, newStrs(0)
}

// findNew returns the golden index of an id in new, if the crosswalk has it.
func (v *validator) findNew(s *goldenSet, id string) (int32, bool) {
	gi, ok := s.byNew.get(v.hash(id))
	if !ok || s.newOf.get(int(gi)) != id {
		return -1, false
	}
	return gi, true
}

// comparedField is a field mapped on new and on at least one source.
type comparedField struct {
	idx  int
	f    *plans.Field
	spec normalize.FieldSpec // for values read from new (enums: each new value maps to itself)
	// defaulted: the new CRM fills the column itself when migrate writes nothing there (a NOT NULL
	// column with a default), so any value it holds is expected where old has none.
	defaulted bool
}

func identityValues(vals []plans.EnumValue) []normalize.EnumValue {
	seen := map[string]bool{}
	var out []normalize.EnumValue
	for _, v := range vals {
		if !seen[v.New] {
			seen[v.New] = true
			out = append(out, normalize.EnumValue{Old: v.New, New: v.New})
		}
	}
	return out
}

// markDefaulted flags the compared fields whose column in new fills itself.
func (v *validator) markDefaulted(ctx context.Context, obj *plans.Object, fields []comparedField) error {
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	d, ok := src.(crm.Defaulter)
	if !ok {
		return nil
	}
	cols, err := d.Defaulted(ctx, obj)
	if err != nil {
		return fmt.Errorf("inspect %s in the new CRM: %w", obj.Name, err)
	}
	for i := range fields {
		col, _ := fields[i].f.Column(plans.SystemNew)
		fields[i].defaulted = slices.Contains(cols, col)
	}
	return nil
}

// readNewIDs lists the ids the new CRM holds for obj (once).
func (v *validator) readNewIDs(ctx context.Context, obj *plans.Object, s *goldenSet) error {
	if s.read {
		return nil
	}
	err := v.eachNew(ctx, obj, func(batch []crm.Record) error {
		for _, r := range batch {
			s.inNew.add(v.hash(r.ID))
		}
		return nil
	})
	s.inNew.seal()
	s.read = err == nil
	return err
}

// eachNew reads obj's records in the new CRM through its new mapping, a batch at a time: one
// goroutine reads (and decodes) the next batches while fn works on the last one.
func (v *validator) eachNew(ctx context.Context, obj *plans.Object, fn func([]crm.Record) error) error {
	if v.cacheOn() {
		return v.eachNewCached(ctx, obj, fn)
	}
	src, err := crm.Open(ctx, v.p.New(), v.opts.Env)
	if err != nil {
		return err
	}
	defer src.Close()
	rd, err := src.Reader(ctx, obj, func(crm.Reject) {})
	if err != nil {
		return fmt.Errorf("read %s in the new CRM: %w", obj.Name, err)
	}
	defer rd.Close()
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []crm.Record, 2)
	g.Go(func() error {
		defer close(batches)
		for {
			batch, err := rd.Next(gctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s in the new CRM: %w", obj.Name, err)
			}
			select {
			case batches <- batch:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	g.Go(func() error {
		for batch := range batches {
			if err := fn(batch); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

// objectRun is one object's validation under way.
type objectRun struct {
	v      *validator
	obj    *plans.Object
	fields []comparedField
	set    *goldenSet // this pass's golden records
	parts  int
	pass   int
	other  *elsewhere  // the other passes' (nil in one pass)
	inputs []*oldInput // how each source system is read
	refs   map[string]*goldenSet
	layout normalize.Layout // of src
	valid  merge.Validator
	src    *plans.Object // the object with the fields read from the sources
	none   []bool        // len(src.Fields) false values
	at     []int         // field index in obj → in src (-1: not read)
	// Expected, per golden index (staged golden records first, then records clean has not seen):
	exp     *strs    // compared values packed (see pack), valid when present
	key     *strs    // canonical key
	present []bool   // some source record of it was read
	changed []int64  // the latest change of its source records read (Unix seconds; 0 unknown)
	extra   []string // ids of the unstaged groups, for indexes past len(set.ids)
	// Clusters waiting for members: golden index → members read so far.
	pending  map[int32][]pmember
	unstaged map[string]int32 // group id ("key:K", "rec:SOURCE:ID") → index
	keyOf    map[uint64]int32 // unstaged groups by key hash
}

// pmember is a source record waiting for the rest of its cluster, packed.
type pmember struct {
	src     int
	id      string
	updated time.Time
	vals    string // canonical values packed
	invalid []bool // nil: none invalid
}

// sep separates packed values; canonical values hold no NUL.
const sep = "\x00"

func pack(vals []string) string { return strings.Join(vals, sep) }

func unpack(p string, n int, buf []string) []string {
	buf = buf[:0]
	for i := 0; i < n-1; i++ {
		v, rest, _ := strings.Cut(p, sep)
		buf = append(buf, v)
		p = rest
	}
	return append(buf, p)
}

// object validates one object; a cached read that does not add up with its system is done again
// in full.
func (v *validator) object(ctx context.Context, obj *plans.Object) (*ObjectResult, error) {
	for {
		or, err := v.objectOnce(ctx, obj)
		if err != nil && v.stale(err) {
			continue
		}
		return or, err
	}
}

func (v *validator) objectOnce(ctx context.Context, obj *plans.Object) (*ObjectResult, error) {
	or := &ObjectResult{Object: obj.Name, MatchedBy: map[string]int64{}, Fields: map[string]int64{}, Compared: []string{}, Drift: []Drift{}}
	run := &objectRun{v: v, obj: obj, refs: map[string]*goldenSet{}, pending: map[int32][]pmember{}, unstaged: map[string]int32{}, keyOf: map[uint64]int32{}}
	for i, f := range obj.Fields {
		_, inNew := f.Column(plans.SystemNew)
		inOld := false
		for _, c := range f.Columns {
			if c.System != plans.SystemNew {
				inOld = true
			}
		}
		switch {
		case inNew && inOld && v.known(obj.Name, f.Name) != "":
			if or.Known == nil {
				or.Known = map[string]string{}
			}
			or.Known[f.Name] = v.known(obj.Name, f.Name)
		case inNew && inOld:
			spec := normalize.FieldSpecOf(f)
			if f.Type == plans.TypeEnum && len(f.Values) > 0 {
				spec.Values = identityValues(f.Values)
			}
			run.fields = append(run.fields, comparedField{idx: i, f: f, spec: spec})
			or.Compared = append(or.Compared, f.Name)
		case inNew || inOld:
			or.Skipped = append(or.Skipped, f.Name)
		}
	}
	var err error
	t0 := time.Now()
	golden, members, err := v.opts.DB.StagingSize(ctx, v.p.Name, obj.Name)
	if err != nil {
		return nil, err
	}
	if err := v.markDefaulted(ctx, obj, run.fields); err != nil {
		return nil, err
	}
	for _, cf := range run.fields {
		if cf.f.Type != plans.TypeRef {
			continue
		}
		to := v.p.Object(cf.f.To)
		if to == nil {
			return nil, fmt.Errorf("object %s: field %s refers to unknown object %s", obj.Name, cf.f.Name, cf.f.To)
		}
		if run.refs[to.Name], err = v.set(ctx, to); err != nil {
			return nil, err
		}
		if err := v.readNewIDs(ctx, to, run.refs[to.Name]); err != nil {
			return nil, err
		}
		if v.done[to.Name] {
			run.refs[to.Name].trim()
		}
	}
	var held int64 // what the sets kept for this object's references and later ones' hold
	for _, s := range v.sets {
		held += s.bytes()
	}
	run.parts = v.passes(golden, members, held)
	if run.parts == 1 {
		if run.set, err = v.set(ctx, obj); err != nil {
			return nil, err
		}
	}
	refused, err := v.opts.DB.Refusals(ctx, v.p.Name, obj.Name)
	if err != nil {
		return nil, err
	}
	or.Seconds.Index = time.Since(t0).Seconds()
	t0 = time.Now()
	defer func() {
		for _, in := range run.inputs {
			in.w.abort() // unless committed
		}
	}()
	if err := run.prepareOld(ctx); err != nil {
		return nil, err
	}
	or.Seconds.Old += time.Since(t0).Seconds()
	parts := run.parts
	or.Passes = parts
	st := &scanState{keys: map[uint64]int32{}, oldFirst: map[uint64]int32{}}
	if st.firstIDs, err = newSpill(""); err != nil {
		return nil, err
	}
	defer st.firstIDs.close()
	if st.oldFirstIDs, err = newSpill(""); err != nil {
		return nil, err
	}
	defer st.oldFirstIDs.close()
	for p := range parts {
		run.pass = p
		if parts > 1 {
			t1 := time.Now()
			if p == 0 {
				run.other = &elsewhere{}
			}
			if run.set, err = v.buildSet(ctx, obj, p, parts, run.other, p == 0, golden, members); err != nil {
				return nil, err
			}
			or.Seconds.Index += time.Since(t1).Seconds()
		}
		if v.opts.Progress != nil {
			v.opts.Progress(obj.Name, "old")
		}
		t0 = time.Now()
		if err := run.expected(ctx, p, parts); err != nil {
			return nil, err
		}
		or.Seconds.Old += time.Since(t0).Seconds()
		if v.opts.Progress != nil {
			v.opts.Progress(obj.Name, "new")
		}
		t0 = time.Now()
		if err := run.compare(ctx, p, parts, st, or); err != nil {
			return nil, err
		}
		or.Seconds.New += time.Since(t0).Seconds()
	}
	if err := run.finish(refused, st, or); err != nil {
		return nil, err
	}
	for _, in := range run.inputs {
		if in.w != nil {
			if err := in.w.commit(); err != nil {
				return nil, err
			}
			v.reads[obj.Name] = append(v.reads[obj.Name], in.stat)
		}
	}
	if parts == 1 {
		run.set.inNew.seal()
		run.set.read = true // compare listed every id in new
		run.set.trim()
	}
	run.set, run.other = nil, nil
	v.done[obj.Name] = true
	// The old records of the drift rows listed (staged clusters; unstaged groups name theirs).
	var goldens []string
	for _, d := range or.Drift {
		if d.GoldenID != "" && len(d.OldIDs) == 0 {
			goldens = append(goldens, d.GoldenID)
		}
	}
	oldIDs, err := v.opts.DB.MembersOf(ctx, v.p.Name, obj.Name, goldens)
	if err != nil {
		return nil, err
	}
	for i := range or.Drift {
		if d := &or.Drift[i]; len(d.OldIDs) == 0 {
			d.OldIDs = oldIDs[d.GoldenID]
		}
	}
	return or, nil
}

// passes is how many passes validating an object takes to stay within the memory budget: each
// pass reads both sides and keeps the golden records of one partition (their positions in golden
// id order modulo the passes), with their indexes. Per pass, about 320 bytes a golden record (its
// expected values, key and indexes) and 48 a source record of its partition; over all passes,
// about 100 bytes a golden record and 8 a source record (what every pass needs known of the
// others, and the canonical keys seen, for duplicates) and held, what the objects referenced
// keep. These get three quarters of the budget (the Go heap's soft limit, see validatePhase)
// less fixedMemory; the rest is the runtime's and the collector's.
func (v *validator) passes(golden, members, held int64) int {
	if v.opts.Passes > 0 {
		return v.opts.Passes
	}
	budget := v.opts.MemoryBudget
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	budget = min(budget, 4<<30) // a pass's tables address up to 4 GiB
	usable := budget*3/4 - fixedMemory
	if usable-held >= golden*320+members*48+golden*80 {
		return 1 // one pass needs neither the other passes' indexes nor their keys
	}
	room := usable - held - golden*100 - members*8
	// Below a quarter of the budget per pass the passes multiply (each reads both sides again) for
	// little memory: the budget is then exceeded rather than the time (docs/validate.md).
	room = max(room, budget/4)
	per := golden*320 + members*48
	return min(max(int((per+room-1)/room), 1), 64)
}

// fixedMemory is what validation holds whatever the sizes: the program, the phone number cache,
// the batches in flight between the readers and the normalizing workers.
const fixedMemory = 32 << 20

// bytes is about what the set holds in memory.
func (s *goldenSet) bytes() int64 {
	n := int64(cap(s.size))*4 + int64(cap(s.member.e)+cap(s.byNew.e))*16 + int64(cap(s.inNew.h))*8 +
		s.member.dir.bytes() + s.byNew.dir.bytes() + s.inNew.dir.bytes()
	for _, t := range []*strs{s.ids, s.newOf} {
		if t != nil {
			n += t.memory()
		}
	}
	return n
}

// pruned is the object with only the fields validation reads from the sources: the compared
// ones, the key, and the country (phones are read in its region). Its field indexes are
// translated with at.
func (r *objectRun) pruned() (obj *plans.Object, at []int) {
	keep := map[int]bool{}
	for _, cf := range r.fields {
		keep[cf.idx] = true
	}
	if k := r.obj.FieldIndex(r.obj.Key); k >= 0 {
		keep[k] = true
	}
	if c := r.obj.FieldIndex("country"); c >= 0 {
		keep[c] = true
	}
	cp := *r.obj
	cp.Fields = nil
	at = make([]int, len(r.obj.Fields))
	for i, f := range r.obj.Fields {
		at[i] = -1
		if keep[i] {
			at[i] = len(cp.Fields)
			cp.Fields = append(cp.Fields, f)
		}
	}
	return &cp, at
}

// expected reads every source system's records of the object, normalizing them on all cores, and
// merges each golden record as soon as its last staged member is read (records clean has not seen
// join the golden record of their canonical key, or a group of their own, merged at the end).
func (r *objectRun) expected(ctx context.Context, p, parts int) error {
	v := r.v
	r.pending, r.unstaged, r.extra = map[int32][]pmember{}, map[string]int32{}, nil
	obj := r.src
	r.layout = normalize.LayoutOf(obj)
	r.valid = merge.ValidatorFor(v.norm, obj.Fields)
	r.none = make([]bool, len(obj.Fields)) // a member without invalid values (read-only, shared)
	n := r.set.ids.len()
	r.exp, r.key, r.present, r.changed = newStrs(n), newStrs(n), make([]bool, n), make([]int64, n)
	workers := runtime.GOMAXPROCS(0)
	scratch := make([]normalize.Scratch, workers)
	type normRec struct {
		gi     int32 // golden index, -1: not staged
		m      pmember
		key    string
		merged string // a golden record of one member, merged by the worker
		done   bool
		skip   bool   // rejected: only its cache entry is written
		cache  []byte // its cache entry, when this pass writes it
	}
	var mergeBuf mergeScratch
	wsc := make([]mergeScratch, workers)
	vbuf := make([][]string, workers)
	for _, in := range r.inputs {
		si, sys := in.si, in.sys
		err := pipeline.Ordered(ctx, pipeline.Config{Workers: workers},
			func(ctx context.Context, emit func([]srcItem) error) error {
				return r.produceOld(ctx, in, p, emit)
			},
			func(_ context.Context, w int, in2 []srcItem) ([]normRec, error) {
				out := make([]normRec, 0, len(in2))
				for _, it := range in2 {
					id := it.rec.ID
					if it.c != nil {
						id = it.c.id
					}
					// Which pass a staged record belongs to is known before it is normalized (the
					// costly part); a record clean has not seen is placed by its key.
					h := v.hash(sys.Name, id)
					gi, staged := r.set.member.get(h)
					if !staged && r.parts > 1 && r.other.staged.has(h) {
						continue // another pass's (which writes its cache entry)
					}
					// Each cached record is written once: by its pass, or by the first one.
					write := in.w != nil && (staged || p == 0)
					var (
						vals    []string
						updated time.Time
						key     string
						invalid []bool
						reject  bool
					)
					if c := it.c; c != nil {
						reject, key, invalid = c.reject, c.key, c.invalid
						if !reject {
							vbuf[w] = unpack(c.vals, len(obj.Fields), vbuf[w])
							vals = vbuf[w]
							if c.hasUpd {
								updated = time.Unix(c.updSec, c.updNsec)
							}
						}
					} else {
						nv := v.norm.Values(obj, r.layout, it.rec, nil, &scratch[w])
						reject = nv.Reject != ""
						if !reject {
							vals, updated = nv.Vals, nv.Updated
							if nv.Key {
								key = nv.Vals[r.layout.Key]
							}
							if nv.Match != nil {
								invalid = make([]bool, len(nv.Vals))
								for f := range nv.Vals {
									invalid[f] = nv.Vals[f] != "" && nv.Match[f] == ""
								}
							}
						}
					}
					var enc []byte
					if write {
						e := it.c
						if e == nil {
							e = &oldEntry{id: id, digest: it.digest, reject: reject, key: key, invalid: invalid}
							if !reject {
								e.vals = pack(vals)
								if !updated.IsZero() {
									e.hasUpd, e.updSec, e.updNsec = true, updated.Unix(), int64(updated.Nanosecond())
								}
							}
						}
						enc = e.append(nil)
					}
					if reject {
						if enc != nil {
							out = append(out, normRec{skip: true, cache: enc})
						}
						continue
					}
					nr := normRec{gi: -1, key: key, cache: enc}
					if !staged && !r.mine(h, false, sys.Name, id, nr.key) {
						if enc != nil {
							out = append(out, normRec{skip: true, cache: enc})
						}
						continue // another pass's
					}
					nr.m = pmember{src: si, id: id, updated: updated, invalid: invalid}
					if staged && r.set.size[gi] == 1 { // most golden records: merged here, on all cores
						nr.gi = gi
						nr.merged, nr.done = r.mergeVals([]pmember{{src: si, id: id, updated: updated, invalid: nr.m.invalid}}, vals, &wsc[w]), true
						out = append(out, nr)
						continue
					}
					if staged {
						nr.gi = gi
					}
					if it.c != nil {
						nr.m.vals = it.c.vals
					} else {
						nr.m.vals = pack(vals)
					}
					out = append(out, nr)
				}
				return out, nil
			},
			func(_ context.Context, recs []normRec) error {
				for _, nr := range recs {
					if nr.cache != nil {
						in.w.entry(nr.cache)
					}
					if nr.skip {
						continue
					}
					gi := nr.gi
					if gi < 0 {
						gi = r.unstagedIndex(sys.Name, nr.m.id, nr.key)
					}
					if !nr.m.updated.IsZero() {
						r.changed[gi] = max(r.changed[gi], nr.m.updated.Unix())
					}
					if k := r.key.get(int(gi)); nr.key != "" && (k == "" || nr.key < k) {
						r.key.set(int(gi), nr.key)
					}
					if nr.done {
						r.exp.set(int(gi), nr.merged)
						r.present[gi] = true
						continue
					}
					r.pending[gi] = append(r.pending[gi], nr.m)
					if int(gi) < n && int32(len(r.pending[gi])) == r.set.size[gi] {
						r.merge(gi, r.pending[gi], &mergeBuf)
						delete(r.pending, gi)
					}
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	// Clusters some of whose staged members are gone from the sources, and the unstaged groups.
	rest := make([]int32, 0, len(r.pending))
	for gi := range r.pending {
		rest = append(rest, gi)
	}
	slices.Sort(rest)
	for _, gi := range rest {
		r.merge(gi, r.pending[gi], &mergeBuf)
		delete(r.pending, gi)
	}
	return nil
}

// mine says whether this pass handles a source record (h is the hash of its system and id, staged
// whether this pass's golden records have it): a record of another pass's golden record is not;
// one clean has not seen goes with its group (see unstagedIndex).
func (r *objectRun) mine(h uint64, staged bool, source, id, key string) bool {
	if r.parts <= 1 || staged {
		return true
	}
	if r.other.staged.has(h) {
		return false
	}
	if key != "" {
		return int(r.v.hash("key:"+key)%uint64(r.parts)) == r.pass
	}
	return int(r.v.hash("rec:"+source+":"+id)%uint64(r.parts)) == r.pass
}

// unstagedIndex places a record clean has not seen (created in old since the last clean) in a group
// of its own canonical key, else alone. It does not join the golden record of its key: clean has
// not merged it, so it is one more record expected in new (and, beside a golden record with that
// key, a duplicate in old), which the next clean merges.
func (r *objectRun) unstagedIndex(source, id, key string) int32 {
	group := "rec:" + source + ":" + id
	if key != "" {
		group = "key:" + key
	}
	if gi, ok := r.unstaged[group]; ok {
		return gi
	}
	gi := int32(r.exp.len())
	r.unstaged[group] = gi
	r.extra = append(r.extra, group)
	r.exp.add("")
	r.key.add("")
	r.present = append(r.present, false)
	r.changed = append(r.changed, 0)
	return gi
}

// unixTime is a change time as the drift rows give it: RFC 3339 in UTC ("" unknown).
func unixTime(sec int64) string {
	if sec == 0 {
		return ""
	}
	return time.Unix(sec, 0).UTC().Format(time.RFC3339)
}

// newChanged is when a record in new last changed, as the drift rows give it ("" unknown).
func (r *objectRun) newChanged(rec crm.Record) string {
	if rec.UpdatedAt == "" {
		return ""
	}
	t, st := r.v.norm.DateTime(rec.UpdatedAt)
	if st != normalize.Normalized && st != normalize.Unchanged {
		return ""
	}
	return t
}

// goldenID names golden index gi: its staged id, or its group's.
func (r *objectRun) goldenID(gi int32) string {
	if int(gi) < r.set.ids.len() {
		return strings.Clone(r.set.ids.get(int(gi)))
	}
	return r.extra[int(gi)-r.set.ids.len()]
}

type mergeScratch struct {
	members []merge.Member
	bufs    [][]string
	vals    []string
}

// merge merges a golden record's members by the plan's rules and stores the values the new CRM
// should hold, packed.
func (r *objectRun) merge(gi int32, ms []pmember, sc *mergeScratch) {
	r.exp.set(int(gi), r.mergeVals(ms, nil, sc))
	r.present[gi] = true
}

// mergeVals merges members by the plan's rules and returns the values the new CRM should hold,
// packed. It only reads shared state: workers call it at the same time.
func (r *objectRun) mergeVals(ms []pmember, single []string, sc *mergeScratch) string {
	v := r.v
	k := len(r.src.Fields)
	slices.SortFunc(ms, func(a, b pmember) int { return cmp.Or(cmp.Compare(a.src, b.src), cmp.Compare(a.id, b.id)) })
	sc.members = sc.members[:0]
	for i, m := range ms {
		if i == len(sc.bufs) {
			sc.bufs = append(sc.bufs, nil)
		}
		vals := single // a lone member's values, not packed
		if vals == nil {
			sc.bufs[i] = unpack(m.vals, k, sc.bufs[i])
			vals = sc.bufs[i]
		}
		inv := m.invalid
		if inv == nil {
			inv = r.none
		}
		sc.members = append(sc.members, merge.Member{Source: v.p.Systems[m.src].Name, SourceIdx: m.src, ID: m.id, Updated: m.updated, Vals: vals, Invalid: inv})
	}
	gold := merge.Cluster(r.src.Fields, sc.members, r.valid)
	sc.vals = sc.vals[:0]
	for _, cf := range r.fields {
		fi := r.at[cf.idx]
		val := gold.Vals[fi]
		switch cf.f.Type {
		case plans.TypeRef:
			if val != "" {
				src, _, _ := strings.Cut(gold.Provenance[fi], ":")
				to := r.refs[cf.f.To]
				val = ""
				if rg, ok := to.member.get(v.hash(src, gold.Vals[fi])); ok {
					val = to.newOf.get(int(rg)) // "" when the referenced record is not in new (refused): expected empty
				}
			}
		case plans.TypeUser:
			val = v.expectedOwner(val)
		case plans.TypeMoney:
			val = moneyAmount(val)
		}
		sc.vals = append(sc.vals, val)
	}
	return pack(sc.vals)
}

// moneyAmount drops the currency of a canonical amount ("100.00 EUR" → "100.00"): the new CRM
// holds the currency in a field of its own.
func moneyAmount(v string) string {
	if i := strings.IndexByte(v, ' '); i > 0 {
		return v[:i]
	}
	return v
}

// newValue is the canonical form of value c of a record in new: owners as emails, references as
// ids in new, the rest normalized by type in the record's region.
func (r *objectRun) newValue(cf comparedField, raw, region string) string {
	v := r.v
	switch cf.f.Type {
	case plans.TypeRef:
		return strings.TrimSpace(raw)
	case plans.TypeUser:
		raw = strings.TrimSpace(raw)
		if v.userEmail != nil {
			if e, ok := v.userEmail[raw]; ok {
				return e
			}
			return raw // not a user: shown as it is
		}
		val, _ := v.norm.Value(plans.TypeEmail, raw, cf.spec)
		return val
	}
	spec := cf.spec
	spec.Region = region
	val, _ := v.norm.Value(cf.f.Type, raw, spec)
	if cf.f.Type == plans.TypeMoney {
		val = moneyAmount(val)
	}
	return val
}

// equal says whether a value in new is the expected one: as written (migrate writes canonical
// values, and an invalid value old kept as it was is written as it was), or once normalized.
func (r *objectRun) equal(cf comparedField, exp, raw, region string) (bool, string) {
	if t := strings.TrimSpace(raw); t == exp && cf.f.Type != plans.TypeUser {
		return true, t
	}
	nv := r.newValue(cf, raw, region)
	if nv == exp || (exp == "" && cf.defaulted) {
		return true, nv
	}
	return false, nv
}

// scanState is what one object's comparison carries from pass to pass (see passes).
type scanState struct {
	keys      map[uint64]int32 // canonical keys seen in new → the first record's id (in firstIDs)
	firstIDs  *spill
	dups      []newRec       // records in new with a key seen before
	loose     []newRec       // records in new no expected record claims through the crosswalk
	unmatched []unmatchedExp // expected records nothing in new claimed through the crosswalk
	// Duplicates in old: canonical keys of expected records → the first golden id seen with it (in
	// oldFirstIDs), and every golden id of a key seen more than once.
	oldFirst    map[uint64]int32
	oldFirstIDs *spill
	oldDups     map[uint64][]string
	oldDupKey   map[uint64]string
	pos         int64 // the position of the record in new being read, in stream order
	expVals     []string
}

// unmatchedExp is an expected record the crosswalk did not match, kept until the records in new
// that the crosswalk does not know have been tried against it by key.
type unmatchedExp struct {
	golden, key, exp, newOf string
	unstaged                bool
	matched                 bool
	changed                 int64 // Unix seconds
}

// compare compares the object's expected records of partition p (of parts) with the records in
// new: it streams new, matches records through the crosswalk and checks them field by field; what
// it cannot match waits in st for finish.
func (r *objectRun) compare(ctx context.Context, p, parts int, st *scanState, or *ObjectResult) error {
	v := r.v
	keyField, country := r.keyField(), r.obj.FieldIndex("country")
	matched := make([]bool, r.exp.len())
	for _, ok := range r.present {
		if ok {
			or.Old++
		}
	}
	st.pos = 0
	err := v.eachNew(ctx, r.obj, func(batch []crm.Record) error {
		for _, rec := range batch {
			st.pos++
			region := ""
			if country >= 0 {
				region = normalize.RegionOf(rec.Values[country])
			}
			gi, mine := v.findNew(r.set, rec.ID) // this pass's golden records
			known := mine
			if !known && r.other != nil {
				_, known = r.other.newOwner.get(v.hash(rec.ID))
			}
			if p == 0 {
				or.New++
				if parts == 1 && !r.set.read {
					r.set.inNew.add(v.hash(rec.ID))
				}
				key := ""
				if keyField >= 0 {
					raw := strings.TrimSpace(rec.Values[r.fields[keyField].idx])
					if mine && r.present[gi] && raw == r.key.get(int(gi)) {
						key = raw // as written: no need to normalize it
					} else {
						key = r.newValue(r.fields[keyField], raw, region)
					}
				}
				dup := false
				if key != "" {
					h := v.hash(key)
					if _, seen := st.keys[h]; seen {
						dup = true
						st.dups = append(st.dups, newRec{id: rec.ID, key: key, changed: r.newChanged(rec)})
					} else {
						st.keys[h] = int32(st.firstIDs.len())
						st.firstIDs.add(rec.ID)
					}
				}
				if !known && !dup {
					st.loose = append(st.loose, newRec{id: rec.ID, key: key, golden: -1, rec: cloneRecord(rec), region: region, pos: st.pos})
				}
			}
			if !mine {
				continue
			}
			if r.present[gi] {
				matched[gi] = true
				r.check(r.exp.get(int(gi)), r.changed[gi], func() (string, string) { return r.goldenID(gi), strings.Clone(r.key.get(int(gi))) },
					"crosswalk", rec, region, st, or)
				continue
			}
			// Written by migrate, but its old records are gone: it may still match another expected
			// record by key.
			key := ""
			if keyField >= 0 {
				key = r.newValue(r.fields[keyField], rec.Values[r.fields[keyField].idx], region)
			}
			st.loose = append(st.loose, newRec{id: rec.ID, key: key, golden: -1, knownGolden: r.goldenID(gi), known: true,
				rec: cloneRecord(rec), region: region, pos: st.pos})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, ok := range r.present {
		if !ok {
			continue
		}
		k := r.key.get(i)
		if k != "" {
			h := v.hash(k)
			if first, seen := st.oldFirst[h]; seen {
				if st.oldDups == nil {
					st.oldDups = map[uint64][]string{}
				}
				if len(st.oldDups[h]) == 0 {
					id, err := st.oldFirstIDs.get(int(first))
					if err != nil {
						return err
					}
					st.oldDups[h] = append(st.oldDups[h], id)
					if st.oldDupKey == nil {
						st.oldDupKey = map[uint64]string{}
					}
					st.oldDupKey[h] = strings.Clone(k)
				}
				st.oldDups[h] = append(st.oldDups[h], r.goldenID(int32(i)))
			} else {
				st.oldFirst[h] = int32(st.oldFirstIDs.len())
				st.oldFirstIDs.add(r.goldenID(int32(i)))
			}
		}
		if matched[i] {
			continue
		}
		u := unmatchedExp{golden: r.goldenID(int32(i)), key: strings.Clone(k), exp: strings.Clone(r.exp.get(i)), unstaged: i >= r.set.ids.len(),
			changed: r.changed[i]}
		if i < r.set.newOf.len() {
			u.newOf = strings.Clone(r.set.newOf.get(i))
		}
		st.unmatched = append(st.unmatched, u)
	}
	return nil
}

func (r *objectRun) keyField() int {
	for c, cf := range r.fields {
		if cf.f.Name == r.obj.Key {
			return c
		}
	}
	return -1
}

// drift records a drift row. With a limit, the rows kept are the first ones in the final order
// (driftOrder), whatever order they are found in: a heap holds the best so far.
func (r *objectRun) drift(or *ObjectResult, d Drift) {
	limit := r.v.opts.Limit
	switch {
	case limit < 0:
		or.Drift = append(or.Drift, d)
	case len(or.Drift) < limit:
		heap.Push((*driftHeap)(&or.Drift), d)
	default:
		or.DriftTruncated = true
		if limit > 0 && driftOrder(d, or.Drift[0]) < 0 {
			or.Drift[0] = d
			heap.Fix((*driftHeap)(&or.Drift), 0)
		}
	}
}

// driftOrder is the order of drift rows: what is missing first, then what differs, then what is
// extra; then by golden id, id in new and field.
func driftOrder(a, b Drift) int {
	return cmp.Or(cmp.Compare(driftRank(a.Class), driftRank(b.Class)), strings.Compare(a.GoldenID, b.GoldenID),
		strings.Compare(a.NewID, b.NewID), strings.Compare(a.Field, b.Field), strings.Compare(a.Class, b.Class))
}

// driftHeap is a max-heap of drift rows by driftOrder.
type driftHeap []Drift

func (h driftHeap) Len() int           { return len(h) }
func (h driftHeap) Less(i, j int) bool { return driftOrder(h[i], h[j]) > 0 }
func (h driftHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *driftHeap) Push(x any)        { *h = append(*h, x.(Drift)) }
func (h *driftHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// check compares a matched pair field by field; names gives the expected record's golden id and
// key, for drift rows.
func (r *objectRun) check(exp string, changed int64, names func() (string, string), how string, rec crm.Record, region string, st *scanState, or *ObjectResult) {
	or.Matched++
	oldAt, newAt := unixTime(changed), r.newChanged(rec)
	or.MatchedBy[how]++
	st.expVals = unpack(exp, len(r.fields), st.expVals)
	golden, gkey := "", ""
	named := func() {
		if golden == "" {
			golden, gkey = names()
		}
	}
	same := true
	for c, cf := range r.fields {
		ev, raw := st.expVals[c], rec.Values[cf.idx]
		if cf.f.Type == plans.TypeRef {
			if reason := r.refProblem(cf, ev, strings.TrimSpace(raw)); reason != "" {
				named()
				or.BrokenRefs++
				same = false
				r.drift(or, Drift{Class: BrokenRef, GoldenID: golden, NewID: rec.ID, Key: gkey, MatchedBy: how, Field: cf.f.Name,
					Type: cf.f.Type, Old: strings.Clone(ev), New: strings.TrimSpace(raw), Reason: reason, OldChanged: oldAt, NewChanged: newAt})
			}
			continue
		}
		if ok, nv := r.equal(cf, ev, raw, region); !ok {
			if same {
				or.Mismatched++
			}
			same = false
			named()
			or.Fields[cf.f.Name]++
			r.drift(or, Drift{Class: FieldMismatch, GoldenID: golden, NewID: rec.ID, Key: gkey, MatchedBy: how, Field: cf.f.Name,
				Type: cf.f.Type, Old: strings.Clone(ev), New: nv, OldChanged: oldAt, NewChanged: newAt})
		}
	}
	if same {
		or.Identical++
	}
}

// finish matches by canonical key the records in new the crosswalk does not tie to an expected
// record, and classifies what is left: missing in old, duplicates in new, missing in new.
func (r *objectRun) finish(refused map[string]string, st *scanState, or *ObjectResult) error {
	v := r.v
	// Whatever the passes, the same order: expected records by golden id, records in new as read.
	slices.SortFunc(st.unmatched, func(a, b unmatchedExp) int { return strings.Compare(a.golden, b.golden) })
	slices.SortFunc(st.loose, func(a, b newRec) int { return cmp.Compare(a.pos, b.pos) })
	keys := make([]uint64, 0, len(st.oldDups))
	for h := range st.oldDups {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	for _, h := range keys {
		ids := st.oldDups[h]
		slices.Sort(ids)
		for _, g := range ids[1:] { // the lowest golden id is the record; the others duplicate it
			or.DuplicatesInOld++
			r.drift(or, Drift{Class: DuplicateInOld, GoldenID: g, Key: st.oldDupKey[h], Reason: "same canonical key as " + ids[0]})
		}
	}
	byKey := map[string]int{}
	for i, u := range st.unmatched {
		if u.key != "" {
			if _, dup := byKey[u.key]; !dup {
				byKey[u.key] = i
			}
		}
	}
	for _, n := range st.loose {
		if i, ok := byKey[n.key]; ok && n.key != "" && !st.unmatched[i].matched {
			u := &st.unmatched[i]
			u.matched = true
			r.check(u.exp, u.changed, func() (string, string) { return u.golden, u.key }, "key", n.rec, n.region, st, or)
			continue
		}
		or.MissingInOld++
		d := Drift{Class: MissingInOld, NewID: n.id, Key: n.key, NewChanged: r.newChanged(n.rec)}
		if n.known {
			d.GoldenID = n.knownGolden
			d.Reason = "written by migrate; its old records are no longer in the sources"
		}
		r.drift(or, d)
	}
	for _, n := range st.dups {
		or.DuplicatesInNew++
		first, err := st.firstIDs.get(int(st.keys[v.hash(n.key)]))
		if err != nil {
			return err
		}
		r.drift(or, Drift{Class: DuplicateInNew, NewID: n.id, Key: n.key, Reason: "same canonical key as record " + first + " in new", NewChanged: n.changed})
	}
	for _, u := range st.unmatched {
		if u.matched {
			continue
		}
		or.MissingInNew++
		d := Drift{Class: MissingInNew, GoldenID: u.golden, Key: u.key, OldChanged: unixTime(u.changed)}
		if reason, ok := refused[u.golden]; ok {
			or.RefusedInNew++
			d.Class, d.Reason = RefusedInNew, reason
		} else {
			or.LostInNew++
			d.Class = LostInNew
			d.Reason = "never written to the new CRM"
			if u.newOf != "" {
				d.Reason = "written by migrate (id " + u.newOf + " in new), no longer in the new CRM"
			}
		}
		if u.unstaged && strings.HasPrefix(u.golden, "rec:") {
			d.OldIDs = []string{strings.TrimPrefix(u.golden, "rec:")}
		}
		r.drift(or, d)
	}
	slices.SortFunc(or.Drift, driftOrder)
	union := or.Old + or.New - or.Matched
	or.Parity = 1
	if union > 0 {
		or.Parity = float64(or.Identical) / float64(union)
	}
	return nil
}

// driftRank orders drift rows: what is missing first, then what differs, then what is extra.
func driftRank(class string) int {
	switch class {
	case RefusedInNew, LostInNew:
		return 0
	case BrokenRef, FieldMismatch:
		return 1
	case DuplicateInNew, DuplicateInOld:
		return 2
	}
	return 3
}

// refProblem says what is wrong with a reference in new ("" when nothing): exp is the id in new
// the old side points at ("" none).
func (r *objectRun) refProblem(cf comparedField, exp, got string) string {
	to := r.refs[cf.f.To]
	switch {
	case got == exp:
		return ""
	case got != "":
		if !to.inNew.has(r.v.hash(got)) {
			return "points at no " + cf.f.To + " in new"
		}
		if exp == "" {
			return "points at a " + cf.f.To + " the old side does not reference"
		}
		return "points at the wrong " + cf.f.To + " (the old side points at " + exp + " in new)"
	}
	return "reference lost: the old side points at " + cf.f.To + " " + exp + " in new"
}

// newRec is a record in new that the crosswalk does not tie to an expected record, or a duplicate.
type newRec struct {
	id          string
	key         string
	golden      int32  // its golden index through the crosswalk (duplicates)
	known       bool   // the crosswalk knows it
	knownGolden string // the crosswalk's golden id of a record whose old records are gone
	rec         crm.Record
	region      string
	pos         int64  // in the stream of records in new
	changed     string // when it last changed (duplicates)
}

func cloneRecord(r crm.Record) crm.Record {
	r.Values = slices.Clone(r.Values)
	return r
}
