package clean

import (
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// Recleaner normalizes single source records exactly as a clean run does, for delta migrations
// that re-clean the records changed since the last run without running a whole clean.
type Recleaner struct {
	p    *plans.Plan
	norm *Normalizer
}

// NewRecleaner returns a Recleaner for the plan.
func NewRecleaner(p *plans.Plan) *Recleaner {
	return &Recleaner{p: p, norm: NewNormalizer(NormalizerOptions{Region: p.DefaultRegion, Location: p.Location, FreeMailDomains: p.Clean.FreeMailDomains})}
}

// Recleaned is one source record after normalization.
type Recleaned struct {
	Vals    []string  // canonical values in field order (invalid values kept raw, as clean keeps them)
	Key     string    // the canonical key ("" when empty, invalid or a free-mail domain)
	Updated time.Time // zero when unknown
	Reject  string    // why the record cannot be used ("" when it can)
}

// Record normalizes a record of obj read from the plan's system number si.
func (r *Recleaner) Record(obj *plans.Object, si int, cr crm.Record) Recleaned {
	countryIdx := obj.FieldIndex("country")
	keyIdx := obj.FieldIndex(obj.Key)
	var st typeCounts
	var sc normScratch
	rec, _, reason := normalizeRecord(r.p, obj, r.norm, cr, si, countryIdx, keyIdx, &st, &sc)
	if reason != "" {
		return Recleaned{Reject: reason}
	}
	n := len(obj.Fields)
	out := Recleaned{Vals: make([]string, n), Updated: rec.updated()}
	for i := range out.Vals {
		out.Vals[i] = packedValue(rec.data, i, n+1)
	}
	if rec.flags&recKey != 0 {
		out.Key = out.Vals[keyIdx]
	}
	return out
}

// Digest is the staging digest of a golden record's values.
func Digest(vals []string) string { return digest(vals) }
