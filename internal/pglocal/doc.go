// Package pglocal runs crmigrate's private PostgreSQL cluster from the local server binaries.
//
// A cluster lives in a folder (normally `.crmigrate/` beside the plan). [Acquire] creates it with
// initdb the first time, starts the server (127.0.0.1 on a free port plus a Unix socket in a
// private folder) or joins the one already running, and registers the calling process as a user.
// A small supervisor process (this same executable, re-run in supervisor mode; see init) owns the
// server: it stops it as soon as no crmigrate process uses it, which covers Ctrl-C, panics and
// SIGKILL of the users, since each user's registration is a shared flock the kernel drops when the
// process dies. A cluster started with Options.Keep stays up until [Stop].
//
// As root the server runs as the unprivileged `postgres` user (or CRMIGRATE_PG_USER); when that
// user cannot reach the folder, the data directory moves under that user's cache folder and
// Acquire says so on Options.Log.
//
// Connections from crmigrate go through the Unix socket with trust authentication; the folder
// holding the socket is readable by the server's user only. TCP connections need the generated
// password kept in cluster.json (mode 0600). [Info.URL] never contains a password.
//
// Costs: the first Acquire runs initdb (about 1–2 s); starting a stopped server takes about 0.3–1 s;
// joining a running one a few milliseconds.
package pglocal
