// Package pipeline is the ordered worker pipeline that the clean phase (read →
// normalize → store the records of a source) and migrate (read golden records
// → write batches → record counts and checkpoints) share: one producer, N
// workers, and one committer that sees the results in the order they were
// produced.
//
// Costs: four channel operations and two small map operations per item, so
// items should be batches (hundreds or thousands of records), not single
// records. Memory is bounded by the sizes of Config: at most
// Queue+Results+2×Workers items are emitted and not committed yet; a slow item
// holds back the commits after it, and the producer waits when that window is
// full.
//
// Concurrency: produce runs in one goroutine, work in Config.Workers
// goroutines, commit in one goroutine; Ordered returns only after all of them
// have ended, so whatever commit wrote may be read by the caller afterwards
// without locking. The first error cancels the stages' context; Config.Stop
// ends production gracefully instead.
package pipeline
