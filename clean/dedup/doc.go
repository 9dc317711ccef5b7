// Package dedup is the clean phase's duplicate-detection engine: given one
// object's normalized records, it finds those that are the same entity.
// Records sharing a canonical key are joined first; blocking (block.go) picks
// the candidate pairs; each pair is compared field by field by the plan's
// methods (match_compare.go, match_methods.go: exact, jaro_winkler,
// levenshtein, token_set, numeric, date, name, phone, email); a
// Fellegi–Sunter model learned from the data without labels
// (fellegisunter.go) turns the comparison into a match probability; and
// clustering with a chaining guard (cluster.go) joins the pairs above
// Config.AutoMerge. Pairs between Review and AutoMerge come back for review.
// docs/dedup.md explains the method and its measured quality.
//
// Run takes []Record; the clean phase passes its packed record store to
// RunInput (any Input) so the records are not copied. The package knows
// nothing of plans, staging or the control database.
//
// Costs: near-linear for plans whose blocks are small, about 0.5 µs per
// candidate pair on two cores plus a few µs per record; memory beyond the
// input is a few bytes per record per blocking spec, a compact copy of the
// compared values and about 100 bytes per record while clustering (Run's
// documentation has the details).
//
// Concurrency: Run uses Config.Workers goroutines and returns after all of
// them have ended; its result depends only on the input and its order, never
// on scheduling. The package holds no mutable state, so runs may go on
// concurrently.
package dedup
