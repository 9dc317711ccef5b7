// Package pipeline is the ordered worker pipeline that the clean phase (read →
// normalize → store the records of a source) and migrate (read golden records
// → write batches → record counts and checkpoints) share: one producer, N
// workers, and one committer that sees the results in the order they were
// produced.
//
// Costs: three channel operations and one small map operation per item, so
// items should be batches (hundreds or thousands of records), not single
// records. Memory is bounded by the queue sizes of Config: a slow worker holds
// back the commits after its item, and once the queues are full the producer
// waits.
//
// Concurrency: produce runs in one goroutine, work in Config.Workers
// goroutines, commit in one goroutine; Ordered returns only after all of them
// have ended, so whatever commit wrote may be read by the caller afterwards
// without locking. The first error cancels the stages' context; Config.Stop
// ends production gracefully instead.
package pipeline
