// Package state is crmigrate's control database: versioned schema migrations, plans, runs of
// phases, the per-phase lock and the append-only audit log.
//
// [Open] connects with a pgx pool and applies the embedded migrations (migrations/NNNN_name.sql),
// each in its own transaction under an advisory lock, recording a SHA-256 checksum; a migration
// edited after it was applied is an error wrapping [ErrMigrationEdited]. All objects live in the
// schema `crmigrate`, so the control database may share a database with other things.
//
// Locks and runs: [DB.TakeLock] takes a session-level advisory lock keyed by the plan's name and a
// lock name (a phase's own, or one that several phases share, such as the writer lock of package
// phase) on a connection it keeps until [Lock.Release], or, once [Lock.Begin] recorded a run, until
// [Run.Finish]. A second taker fails at once with a [*LockedError] naming the holder's run id,
// phase, host, user, pid and start time. Runs of the lock's phases still marked running when the
// lock is taken died with their process and are marked abandoned. Package phase decides which
// lock a phase takes and what must have passed before it; this package only records.
//
// Connection strings are shown through [Redact] only; errors never carry a password.
package state
