package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmigrate/crmigrate/crm"
	"github.com/crmigrate/crmigrate/plans"
)

// Record is one source record in canonical form, as clean stages it.
type Record struct {
	Vals    []string  // canonical values in field order (invalid values kept trimmed, as clean keeps them)
	Key     string    // the canonical key ("" when empty, invalid or a free-mail domain)
	Updated time.Time // zero when unknown
	Reject  string    // why the record cannot be used ("" when it can); the other fields are then zero
}

// Record normalizes a record of obj read from a source system: every value by its field's type
// (phones in the region of the record's country field, else the default region), the key, the
// last update. It is the one normalization of a record: migrate's delta runs call it, the clean
// phase's workers call Values, its allocation-free form (and validate is to call either).
func (n *Normalizer) Record(obj *plans.Object, cr crm.Record) Record {
	l := LayoutOf(obj)
	var sc Scratch
	v := n.Values(obj, l, cr, nil, &sc)
	if v.Reject != "" {
		return Record{Reject: v.Reject}
	}
	out := Record{Vals: slices.Clone(v.Vals), Updated: v.Updated}
	if v.Key {
		out.Key = out.Vals[l.Key]
	}
	return out
}

// Layout is where Values finds an object's country field (the region of its phone numbers) and
// its key field; compute it once per object with LayoutOf.
type Layout struct {
	Country int // the field named "country", -1 if none
	Key     int // the object's key field, -1 if none
}

// LayoutOf returns the layout of obj.
func LayoutOf(obj *plans.Object) Layout {
	l := Layout{Country: obj.FieldIndex("country"), Key: -1}
	if obj.Key != "" {
		l.Key = obj.FieldIndex(obj.Key)
	}
	return l
}

// Scratch is one goroutine's buffers for Values, reused from record to record.
type Scratch struct {
	vals, match []string
}

// Values is a record normalized by Normalizer.Values. Its slices belong to the Scratch passed and
// are overwritten by the next call with it.
type Values struct {
	// Vals are the canonical values in field order; NUL bytes are removed (PostgreSQL text
	// cannot hold them).
	Vals []string
	// Match is nil unless some value is Invalid; it is then Vals with the invalid values blanked:
	// an invalid value ("n/a", "call me") is kept in the record but must not make two records
	// look alike.
	Match []string
	// Key says that Vals[Layout.Key] is the record's canonical key: valid, not empty, and not a
	// free-mail domain.
	Key     bool
	Updated time.Time // zero when unknown
	Reject  string    // why the record cannot be used ("" when it can)
}

// Values is the low-level form of Record, for the clean phase's workers: it allocates nothing
// but the canonical values themselves, and tallies every value's status in counts (nil: not
// counted). l is LayoutOf(obj). On a reject, the values after the offending field are not
// normalized.
func (n *Normalizer) Values(obj *plans.Object, l Layout, cr crm.Record, counts *Counts, sc *Scratch) Values {
	k := len(obj.Fields)
	vals := append(sc.vals[:0], make([]string, k)...)
	sc.vals = vals
	var match []string
	region := ""
	if l.Country >= 0 {
		region = countryCode(cr.Values[l.Country])
	}
	out := Values{Vals: vals}
	for i, f := range obj.Fields {
		spec := FieldSpecOf(f)
		spec.Region = region
		v, status := n.Value(f.Type, cr.Values[i], spec)
		if strings.IndexByte(v, 0) >= 0 {
			v = strings.ReplaceAll(v, "\x00", "")
		}
		if counts != nil {
			counts.add(f.Type, status)
		}
		vals[i] = v
		if status == Invalid && v != "" {
			if match == nil {
				match = append(sc.match[:0], make([]string, k)...)
				sc.match = match
				copy(match, vals[:i])
			}
		} else if match != nil {
			match[i] = v
		}
		if f.Required && v == "" {
			return Values{Reject: fmt.Sprintf("required field %s is empty", f.Name)}
		}
		if i == l.Key && status != Invalid && v != "" {
			if f.Type == plans.TypeDomain && n.IsFreeMail(v) {
				continue // a free-mail domain never identifies a company
			}
			out.Key = true
		}
	}
	out.Match = match
	if cr.UpdatedAt != "" {
		if v, status := n.DateTime(cr.UpdatedAt); status != Invalid && v != "" {
			out.Updated, _ = time.Parse(time.RFC3339, v)
		}
	}
	return out
}

// Types are the field types Counts tallies, in its order.
var Types = [...]string{plans.TypeText, plans.TypeEmail, plans.TypePhone, plans.TypeDomain, plans.TypeURL, plans.TypeNumber,
	plans.TypeMoney, plans.TypeDate, plans.TypeDateTime, plans.TypeBool, plans.TypeEnum, plans.TypeRef, plans.TypeUser}

// Counts tallies normalized values: Counts[t][s] is how many values of type Types[t] came out
// with Status s. Values of a type not in Types are not counted.
type Counts [len(Types)][Invalid + 1]int64

func (c *Counts) add(typ string, s Status) {
	for i, name := range Types {
		if name == typ {
			c[i][s]++
			return
		}
	}
}

// Digest is the digest of a record's canonical values that staging stores and delta runs compare:
// 24 hex digits of the SHA-256 of the values, each followed by 0x1f.
func Digest(vals []string) string {
	h := sha256.New()
	for _, v := range vals {
		h.Write([]byte(v))
		h.Write([]byte{0x1f})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// countryCode turns a country field into an ISO 3166 alpha-2 region for phone parsing.
func countryCode(v string) string {
	v = strings.TrimSpace(v)
	if len(v) == 2 {
		if up := strings.ToUpper(v); up != "UK" {
			return up
		}
		return "GB" // the United Kingdom's usual abbreviation; its ISO code is GB
	}
	return countryNames[strings.ToLower(v)]
}

// RegionOf returns the ISO 3166 region of a country as records write it ("SE", "Sweden", "UK"),
// "" when unknown: the region phones of that record are read in.
func RegionOf(country string) string { return countryCode(country) }

var countryNames = map[string]string{
	"sweden": "SE", "sverige": "SE", "france": "FR", "germany": "DE", "deutschland": "DE",
	"united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
	"united states": "US", "usa": "US", "united states of america": "US",
	"norway": "NO", "norge": "NO", "denmark": "DK", "danmark": "DK", "finland": "FI", "suomi": "FI",
	"spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL", "nederland": "NL",
	"belgium": "BE", "switzerland": "CH", "austria": "AT", "österreich": "AT", "ireland": "IE",
	"portugal": "PT", "poland": "PL", "canada": "CA", "australia": "AU",
}
