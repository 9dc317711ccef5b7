// Package merge is survivorship: it builds the golden record of a cluster of
// duplicate source records by each field's merge rule in the plan
// (most_recent, longest, non_empty, prefer:SYSTEM, max, sum, review), and says
// where each value came from and which review fields disagree.
//
// The clean phase merges every cluster it stages with Cluster, migrate's delta
// runs merge the clusters whose records changed, `crmigrate review show`
// previews the merge of a pair, and validate can recompute golden records
// without the dedup engine: the package depends only on plans and normalize.
//
// Cluster works on canonical values (package normalize): it compares numbers,
// money and dates in their canonical forms and sums money exactly (math/big).
// It costs a sort of the members and one pass over their values per field; a
// one-member cluster (most of them) is returned without copying its values.
// It keeps no state and is safe for concurrent use; members are not modified.
package merge
