// Package phase runs crmigrate's phases: the declared order (clean → migrate → validate →
// parallel run → cutover) with each phase's prerequisite, the audited --force, the locks, the run
// record with its final status and counts, and the saved report. Every phase and the demo run
// through [Execute]; the command line only sets flags and renders what comes back.
//
// A run's life: [Execute] takes the lock its phase needs (phases that write staging or the new CRM
// share the plan's writer lock and exclude each other; phases that only read take their own), so
// the check that the previous phase passed and the run that relies on it see the same state. It
// then checks the prerequisite (the last finished run of the phase before it must have passed;
// with Force it goes on and the run is recorded as forced, which the audit log keeps), records the
// run, calls the phase's body, and ends the run as passed, failed (an error, or a check of the
// phase's own that failed: [CheckFailedError]) or aborted (the context was cancelled: Ctrl-C), with
// its counts and its report saved as JSON. Ending the run works after Ctrl-C: it runs under its own
// short deadline.
//
// Concurrency: one Execute per phase run; the locks are PostgreSQL advisory locks held on a
// dedicated connection, so a second process is refused at once with a [*state.LockedError] naming
// the holder, and a process that dies releases its lock (the next holder marks its run abandoned).
package phase
