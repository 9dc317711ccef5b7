// Package state is crmigrate's control database: versioned schema migrations, plans, runs of
// phases, the per-phase lock and the append-only audit log.
//
// [Open] connects with a pgx pool and applies the embedded migrations (migrations/NNNN_name.sql),
// each in its own transaction under an advisory lock, recording a SHA-256 checksum; a migration
// edited after it was applied is an error wrapping [ErrMigrationEdited]. All objects live in the
// schema `crmigrate`, so the control database may share a database with other things.
//
// One writer per phase: [DB.StartRun] takes a session-level advisory lock keyed by the plan's name
// and the phase on a connection it keeps until [Run.Finish]. A second run fails at once with a
// [*LockedError] naming the holder's run id, host, user, pid and start time. A run whose process
// died is marked abandoned by the next run of the same phase.
//
// Connection strings are shown through [Redact] only; errors never carry a password.
package state
