// Package normalize turns raw CRM values into canonical strings, one per field
// value, and raw source records into canonical records. The clean phase and
// migrate's delta runs normalize through it (and so will validate), so they
// agree on every value, key and digest.
//
// # Values
//
// A Normalizer turns every field value into one canonical string chosen by
// the field's type (plans.Type*), so that diffs, digests and dedup compare
// canonical strings: "+33612345678", "06 12 34 56 78" and "612345678" (in
// region FR) are the same phone; "https://www.Acme.se/contact" and
// "jane@sales.acme.se" give the same company domain "acme.se". Each method
// returns the canonical value and a Status:
//
//   - Empty: blank after trimming; the value is "".
//   - Unchanged: already canonical; the input string is returned as is,
//     without allocating.
//   - Normalized: rewritten into canonical form.
//   - Invalid: not understood. The value is the raw value trimmed (invalid
//     UTF-8 replaced by U+FFFD): it is kept and flagged, never dropped and
//     never guessed.
//
// Canonical forms, in short:
//
//	text      trimmed, inner whitespace collapsed to one space, control and
//	          zero-width characters removed, Unicode NFC
//	email     jane.doe@acme.se (lower case, NFC, domain in punycode)
//	phone     E.164: +33612345678, extension +14155552671;ext=123
//	domain    registrable domain in punycode: acme.co.uk, xn--mnchen-3ya.de
//	url       https://acme.se/path (scheme added, host lower-cased)
//	number    -1234.5 (no exponent, no leading or trailing zeros)
//	money     12500.00 EUR (currency decimals, ISO 4217 code)
//	date      2024-03-05
//	datetime  2024-03-05T13:30:00Z (UTC, whole seconds)
//	bool      true, false
//	enum      the new system's value, through the plan's value map
//	ref       trimmed
//	user      as email when it holds an "@", else as text
//
// Normalizing a canonical value again returns it Unchanged (Invalid values
// come back the same and Invalid), so canonical values can be stored and
// re-read safely. Each method's documentation lists the formats it reads and
// the rules it applies to ambiguous input: numeric dates are day first except
// in US-style regions, two-digit years are Invalid, a single "." in a number
// is the decimal point (in money followed by three digits it groups
// thousands), free-mail domains never identify a company (CompanyDomain).
//
// A Normalizer is safe for concurrent use. Values are parsed with simple
// scans, not regular expressions, and each method caps the length it looks
// at, so a megabyte of garbage in a phone field is rejected in microseconds.
// Phone numbers, which cost 10–20 µs to parse, are cached in a bounded
// sharded cache keyed by region and value.
//
// # Records
//
// Normalizer.Record turns a record read from a source system (a crm.Record of
// a plans.Object) into its canonical values in field order, its canonical key
// (the key field's value unless it is empty, invalid or a free-mail domain),
// its last update and, when a required field is empty, the reason it is
// rejected. Normalizer.Values is the same normalization for hot loops: it
// writes into a caller's Scratch, allocates nothing but the canonical values
// themselves, and tallies every value's Status per field type in Counts (the
// clean phase runs it on millions of records). Digest is the digest of a
// record's canonical values that staging stores and delta runs compare.
//
// The package depends only on plans and crm (for their types), the Go
// standard library and the phone-number and public-suffix libraries.
package normalize
