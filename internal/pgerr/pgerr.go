// Package pgerr sorts PostgreSQL errors into the kinds crmigrate treats differently: transient
// faults worth retrying, and refusals of data (which send a record to the rejects).
package pgerr

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Transient reports whether err is worth retrying: the connection was lost or refused, the
// server is shutting down, restarting, out of memory or of connections, or the transaction lost a
// serialization race or a deadlock. A full disk (53100) or a configuration limit (53400) is not:
// retrying only delays the error.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || // connection exception
			c == "40001" || c == "40P01" || // serialization failure, deadlock
			c == "57P01" || c == "57P02" || c == "57P03" || // admin shutdown, crash shutdown, cannot connect now
			c == "53200" || c == "53300" // out of memory, too many connections
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

// Refusal reports whether err is the server refusing the data rather than failing: a data
// exception (SQLSTATE class 22: a value of the wrong type or out of range) or an integrity
// constraint (class 23: not null, foreign key, unique, check).
func Refusal(err error) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		return pgErr, true
	}
	return nil, false
}

// Message is a PostgreSQL error's message with its detail and constraint, for a reject's reason.
// A "Failing row contains (…)" detail is left out: it repeats the whole row, personal data
// included, and the reject names the record already.
func Message(e *pgconn.PgError) string {
	msg := e.Message
	if e.Detail != "" && !strings.HasPrefix(e.Detail, "Failing row contains") {
		msg += " (" + e.Detail + ")"
	}
	if e.ConstraintName != "" && !strings.Contains(msg, e.ConstraintName) {
		msg += " [" + e.ConstraintName + "]"
	}
	return msg
}
