package pglocal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The server's logs are readable by their owner alone, and a refused row's values never reach them.
func TestServerLogsArePrivateAndHoldNoRowValues(t *testing.T) {
	ctx := context.Background()
	home := testHome(t)
	h, err := Acquire(ctx, Options{Home: home, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	conn, err := pgx.Connect(ctx, h.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const secret = "ursula.neumann.secret@example.com"
	if _, err := conn.Exec(ctx, `CREATE TABLE people (email text UNIQUE CHECK (email NOT LIKE '%secret%'), phone text)`); err != nil {
		t.Fatal(err)
	}
	// A CHECK refusal ("Failing row contains") and a duplicate key ("Key (email)=(…)"), through
	// parameters and through a literal statement.
	_, _ = conn.Exec(ctx, `INSERT INTO people VALUES ($1, '+46701234567')`, secret)
	_, _ = conn.Exec(ctx, `INSERT INTO people VALUES ('`+secret+`', '+46701234567')`)
	if _, err := conn.Exec(ctx, `INSERT INTO people VALUES ('dup.person@example.com', '+46709999999')`); err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Exec(ctx, `INSERT INTO people VALUES ($1, '+46709999999')`, "dup.person@example.com")
	// A value of the wrong type: the message itself quotes it.
	_, _ = conn.Exec(ctx, `SELECT $1::integer`, "ursula.neumann.secret@example.com")

	cf := h.cf
	for path, want := range map[string]os.FileMode{filepath.Dir(cf.LogFile): 0o700, cf.LogFile: 0o600, filepath.Join(home, "supervisor.log"): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
	log, err := os.ReadFile(cf.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "ready to accept connections") {
		t.Fatalf("the server's own messages are not in the log (is it the right file?):\n%s", log)
	}
	for _, leak := range []string{"ursula", "dup.person", "+467", "Failing row"} {
		if strings.Contains(string(log), leak) {
			t.Errorf("the server log shows %q:\n%s", leak, log)
		}
	}
}
