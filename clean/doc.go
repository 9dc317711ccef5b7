// Package clean is the clean phase: it turns the records of the source CRMs
// into golden records. It reads every source system, normalizes the records,
// resolves canonical keys, finds exact and fuzzy duplicates (blocking,
// Fellegi–Sunter scoring, clustering), merges clusters by the survivorship
// rules and writes staging.
//
// Values are normalized by package normalize (normalize.Normalizer.Values, one
// canonical string per field value): the very normalization migrate's delta
// runs use, so both stage the same values, keys and digests. Clusters are
// merged into golden records by package merge.
package clean
