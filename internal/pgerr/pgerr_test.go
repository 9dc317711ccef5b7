package pgerr

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestClassification(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("write: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	for _, c := range []struct {
		err               error
		transient, refuse bool
	}{
		{pg("08006"), true, false},  // connection failure
		{pg("57P01"), true, false},  // admin shutdown
		{pg("40001"), true, false},  // serialization failure
		{pg("40P01"), true, false},  // deadlock
		{pg("53300"), true, false},  // too many connections
		{pg("53100"), false, false}, // disk full: permanent, not retried
		{pg("53400"), false, false}, // configuration limit exceeded
		{pg("58030"), false, false}, // io error (read-only file system)
		{pg("23505"), false, true},  // unique violation
		{pg("23514"), false, true},  // check violation
		{pg("22P02"), false, true},  // invalid text representation
		{pg("42P01"), false, false}, // undefined table: permanent
		{pg("42501"), false, false}, // insufficient privilege: permanent
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true, false},
		{errors.New("conn closed"), true, false},
		{errors.New("something else"), false, false},
	} {
		if got := Transient(c.err); got != c.transient {
			t.Errorf("Transient(%v) = %v", c.err, got)
		}
		if _, got := Refusal(c.err); got != c.refuse {
			t.Errorf("Refusal(%v) = %v", c.err, got)
		}
	}
	msg := Message(&pgconn.PgError{Message: "new row violates check constraint \"c\"", Detail: "Failing row contains (1, jane@x.se).", ConstraintName: "c"})
	if msg != `new row violates check constraint "c"` {
		t.Errorf("Message kept the failing row: %q", msg)
	}
	msg = Message(&pgconn.PgError{Message: "duplicate key value violates unique constraint", Detail: "Key (legacy)=(g1) already exists.", ConstraintName: "t_legacy_key"})
	if msg != "duplicate key value violates unique constraint (Key (legacy)=(g1) already exists.) [t_legacy_key]" {
		t.Errorf("Message: %q", msg)
	}
}
