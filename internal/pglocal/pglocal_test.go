package pglocal

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testHome makes a cluster folder the server's user can reach (tests may run as root).
func testHome(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = Stop(context.Background(), filepath.Join(dir, ".crmigrate"))
		os.RemoveAll(dir)
	})
	return filepath.Join(dir, ".crmigrate")
}

func waitGone(t *testing.T, pid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running after %s", pid, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func query(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestStartJoinStop(t *testing.T) {
	ctx := context.Background()
	home := testHome(t)
	h1, err := Acquire(ctx, Options{Home: home, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	info := h1.Info()
	if !info.Running || info.Port == 0 || info.PostmasterPID == 0 {
		t.Fatalf("after Acquire: %+v", info)
	}
	if strings.Contains(info.URL("x"), h1.cf.Password) {
		t.Fatalf("socket URL holds the password: %s", info.URL("x"))
	}
	if got := query(t, h1.URL("postgres"), "SELECT current_user"); got != SuperUser {
		t.Fatalf("current_user = %q", got)
	}
	// TCP works with the generated password.
	if got := query(t, h1.TCPURL("postgres"), "SELECT inet_server_addr()::text"); !strings.HasPrefix(got, "127.0.0.1") {
		t.Fatalf("TCP connection went to %q", got)
	}
	if err := h1.EnsureDatabase(ctx, "demo_old"); err != nil {
		t.Fatal(err)
	}
	if err := h1.EnsureDatabase(ctx, "demo_old"); err != nil {
		t.Fatalf("second EnsureDatabase: %v", err)
	}

	// A second user joins the same server.
	h2, err := Acquire(ctx, Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if h2.Info().PostmasterPID != info.PostmasterPID {
		t.Fatalf("second Acquire started another server: %d vs %d", h2.Info().PostmasterPID, info.PostmasterPID)
	}
	// The first leaves: the server stays for the second.
	if err := h1.Release(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // several supervisor checks
	if !alive(info.PostmasterPID) {
		t.Fatal("server stopped while a user still holds it")
	}
	query(t, h2.URL("demo_old"), "SELECT 'still up'")
	// The last leaves: the server stops before Release returns.
	if err := h2.Release(); err != nil {
		t.Fatal(err)
	}
	if alive(info.PostmasterPID) || alive(info.SupervisorPID) {
		t.Fatal("server or supervisor still running after the last Release")
	}
	st, err := Status(home)
	if err != nil {
		t.Fatal(err)
	}
	if st.Running {
		t.Fatalf("Status says running after stop: %+v", st)
	}

	// Starting again reuses the data: the database made before is still there.
	h3, err := Acquire(ctx, Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer h3.Release()
	if got := query(t, h3.URL("postgres"), "SELECT count(*)::text FROM pg_database WHERE datname = 'demo_old'"); got != "1" {
		t.Fatalf("demo_old lost across restart")
	}
}

func TestKeepAndStop(t *testing.T) {
	ctx := context.Background()
	home := testHome(t)
	h, err := Acquire(ctx, Options{Home: home, Keep: true, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	pid := h.Info().PostmasterPID
	if err := h.Release(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	st, err := Status(home)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running || !st.Kept || !alive(pid) {
		t.Fatalf("kept cluster not running after release: %+v", st)
	}
	if err := Stop(ctx, home); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatal("server running after Stop")
	}
	if st, _ := Status(home); st.Running || st.Kept {
		t.Fatalf("after Stop: %+v", st)
	}
	if err := Stop(ctx, home); err != nil {
		t.Fatalf("Stop of a stopped cluster: %v", err)
	}
	if _, err := Status(filepath.Join(t.TempDir(), "nothing")); err == nil {
		t.Fatal("Status of an empty folder gave no error")
	}
}

// TestHelperProcess is not a test: the killed-parent test runs it in a child process.
func TestHelperProcess(t *testing.T) {
	home := os.Getenv("PGLOCAL_HELPER_HOME")
	if home == "" {
		return
	}
	h, err := Acquire(context.Background(), Options{Home: home, Fast: true})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("READY", h.Info().PostmasterPID, h.Info().SupervisorPID)
	time.Sleep(time.Minute)
	os.Exit(0)
}

func TestNoStrayServerAfterKilledParent(t *testing.T) {
	home := testHome(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "PGLOCAL_HELPER_HOME="+home)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "READY ") {
		t.Fatalf("helper said %q (%v)", line, err)
	}
	f := strings.Fields(line)
	pm, _ := strconv.Atoi(f[1])
	sup, _ := strconv.Atoi(f[2])
	if !alive(pm) {
		t.Fatal("server not running while the helper holds it")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pm, 20*time.Second)
	waitGone(t, sup, 5*time.Second)
	if st, err := Status(home); err != nil || st.Running {
		t.Fatalf("status after killed parent: %+v %v", st, err)
	}
}

func TestSupervisorKilledTakesServerDown(t *testing.T) {
	ctx := context.Background()
	home := testHome(t)
	h, err := Acquire(ctx, Options{Home: home, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	info := h.Info()
	if err := syscall.Kill(info.SupervisorPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, info.PostmasterPID, 20*time.Second)
	_ = h.Release()
	// The next user finds no server and starts a new one.
	h2, err := Acquire(ctx, Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Release()
	if h2.Info().PostmasterPID == info.PostmasterPID {
		t.Fatal("reused a dead server")
	}
	query(t, h2.URL("postgres"), "SELECT 'up'")
}

func TestRootRunsServerAsUnprivilegedUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("not root: the server runs as the current user; checking that")
	}
	ctx := context.Background()
	home := testHome(t)
	var log bytes.Buffer
	h, err := Acquire(ctx, Options{Home: home, Fast: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	uid := procUID(t, h.Info().PostmasterPID)
	if os.Geteuid() == 0 && uid == 0 {
		t.Fatal("server runs as root")
	}
	if os.Geteuid() != 0 && uid != os.Geteuid() {
		t.Fatalf("server runs as uid %d, want %d", uid, os.Geteuid())
	}
	if h.Info().Fallback {
		t.Fatalf("reachable folder moved anyway: %s", log.String())
	}
}

func TestRootFallsBackWhenFolderUnreachable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("not root: every folder the user owns is reachable; the fallback is root-only")
		acct, err := serverAccount()
		if err != nil || acct.Switch {
			t.Fatalf("serverAccount as non-root: %+v %v", acct, err)
		}
		return
	}
	ctx := context.Background()
	private, err := os.MkdirTemp("", "pglocal-private-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(private) // MkdirTemp makes it 0700, owned by root
	home := filepath.Join(private, "project", ".crmigrate")
	var log bytes.Buffer
	h, err := Acquire(ctx, Options{Home: home, Fast: true, Ephemeral: true, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	info := h.Info()
	defer func() {
		_ = h.Release()
		_ = os.RemoveAll(filepath.Dir(info.DataDir))
	}()
	if !info.Fallback || strings.HasPrefix(info.DataDir, private) {
		t.Fatalf("data dir %s not moved out of unreachable %s", info.DataDir, private)
	}
	if !strings.Contains(log.String(), info.Home) || !strings.Contains(log.String(), filepath.Dir(info.DataDir)) {
		t.Fatalf("fallback not explained: %q", log.String())
	}
	query(t, h.URL("postgres"), "SELECT 'up'")
	// cluster.json is where the user looks for it.
	if _, err := os.Stat(filepath.Join(home, clusterName)); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinariesMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CRMIGRATE_PG_BINDIR", t.TempDir())
	b, err := FindBinaries()
	if err == nil {
		// /usr/lib/postgresql/*/bin may still exist on this machine; then it must be valid.
		if !isExec(b.Path("postgres")) {
			t.Fatalf("found invalid binaries %+v", b)
		}
		return
	}
	if !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("error does not say how to install: %v", err)
	}
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Uid:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	t.Fatal("no Uid line")
	return -1
}

func TestKeptClusterStopsWhenItsFolderIsRemoved(t *testing.T) {
	ctx := context.Background()
	home := testHome(t)
	h, err := Acquire(ctx, Options{Home: home, Keep: true, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	info := h.Info()
	if err := h.Release(); err != nil {
		t.Fatal(err)
	}
	// The server writes into its data folder until it stops, which may be in the middle of the
	// removal: RemoveAll then fails with "directory not empty". Remove again, as a user would, until
	// the folder is gone; the supervisor stops the server once it notices.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := os.RemoveAll(filepath.Dir(home))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remove the cluster's folder: %v", err)
		}
		t.Logf("remove the cluster's folder while the server writes into it: %v; again", err)
		time.Sleep(100 * time.Millisecond)
	}
	waitGone(t, info.PostmasterPID, 20*time.Second)
	waitGone(t, info.SupervisorPID, 5*time.Second)
}
