package pglocal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the name of the superuser role of every private cluster.
const SuperUser = "crmigrate"

// Options say where the private cluster lives and how it behaves.
type Options struct {
	// Home is the cluster's folder, normally `.crmigrate/` beside the plan. It always holds the
	// lock files and the cluster description; the data directory goes there too unless the server's
	// user cannot reach it.
	Home string
	// Keep leaves the server running after the last crmigrate process releases it
	// (`crmigrate db start`, `demo --keep`). `crmigrate db stop` ends it.
	Keep bool
	// Ephemeral removes the whole cluster when it stops (tests).
	Ephemeral bool
	// Fast trades crash safety for speed (fsync off); for tests only.
	Fast bool
	// Log receives one-line notices meant for the user (where the data directory went, …). May be nil.
	Log io.Writer
	// StartTimeout bounds initdb plus start-up; 0 means 90 s.
	StartTimeout time.Duration
}

// Info describes a private cluster; `crmigrate db status --json` prints it.
type Info struct {
	Home          string    `json:"home"`
	DataDir       string    `json:"data_dir"`
	SocketDir     string    `json:"socket_dir"`
	LogFile       string    `json:"log_file"`
	ServerUser    string    `json:"server_user"`
	Version       string    `json:"version"`
	Fallback      bool      `json:"data_dir_moved"` // the data directory is not under Home (the server user cannot reach Home)
	Running       bool      `json:"running"`
	Port          int       `json:"port,omitempty"`
	SupervisorPID int       `json:"supervisor_pid,omitempty"`
	PostmasterPID int       `json:"postmaster_pid,omitempty"`
	StartedAt     time.Time `json:"started_at,omitzero"`
	Kept          bool      `json:"kept"`
}

// URL returns a connection URL for database db through the Unix socket. It holds no password.
func (i Info) URL(db string) string {
	q := url.Values{}
	q.Set("host", i.SocketDir)
	q.Set("port", strconv.Itoa(i.Port))
	q.Set("user", SuperUser)
	q.Set("sslmode", "disable")
	return "postgres:///" + url.PathEscape(db) + "?" + q.Encode()
}

// clusterFile is `cluster.json` in Home: where the parts of the cluster are. Written once, at initdb.
type clusterFile struct {
	Base       string `json:"base"`
	DataDir    string `json:"data_dir"`
	SocketDir  string `json:"socket_dir"`
	LogFile    string `json:"log_file"`
	ServerUser string `json:"server_user"`
	Version    string `json:"version"`
	BinDir     string `json:"bin_dir"`
	Password   string `json:"password"` // for TCP connections only; never printed
	Fallback   bool   `json:"fallback"`
	Ephemeral  bool   `json:"ephemeral"`
	Fast       bool   `json:"fast"`
}

// runFile is `run.json` in Home while a server runs; the supervisor writes it once the server is up.
type runFile struct {
	SupervisorPID int       `json:"supervisor_pid"`
	PostmasterPID int       `json:"postmaster_pid"`
	Port          int       `json:"port"`
	StartedAt     time.Time `json:"started_at"`
}

const (
	clusterName = "cluster.json"
	runName     = "run.json"
	keepName    = "keep"
	usersLock   = "users.lock"
	ctlLock     = "ctl.lock"
	envSuper    = "CRMIGRATE_PGLOCAL_SUPERVISE"
)

// Handle is one process's use of a running private cluster. Release it when done.
type Handle struct {
	home  string
	users *os.File
	cf    clusterFile
	rf    runFile
}

// Acquire starts the private cluster in opts.Home (creating it with initdb the first time) or joins
// the one already running there, and registers this process as a user of it. The server stops when
// the last user releases it or exits (also by a crash or SIGKILL), unless it was started with Keep.
func Acquire(ctx context.Context, opts Options) (*Handle, error) {
	if opts.Home == "" {
		return nil, errors.New("start private PostgreSQL: no folder given")
	}
	home, err := filepath.Abs(opts.Home)
	if err != nil {
		return nil, fmt.Errorf("start private PostgreSQL: %w", err)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", home, err)
	}
	ctl, err := lockFile(ctx, filepath.Join(home, ctlLock), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlockFile(ctl)

	users, err := lockFile(ctx, filepath.Join(home, usersLock), syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			unlockFile(users)
		}
	}()

	cf, err := loadOrInit(ctx, home, opts)
	if err != nil {
		return nil, err
	}
	if opts.Keep {
		if err := os.WriteFile(filepath.Join(home, keepName), []byte("started to be kept running; `crmigrate db stop` stops it\n"), 0o644); err != nil {
			return nil, fmt.Errorf("mark cluster kept: %w", err)
		}
	}
	rf, running := readRun(home)
	if running {
		if err := ping(ctx, Info{SocketDir: cf.SocketDir, Port: rf.Port}.URL("postgres")); err != nil {
			// A supervisor without a working server: end it and start afresh.
			_ = stopSupervisor(ctx, home, rf)
			running = false
		}
	}
	if !running {
		if rf, err = startSupervisor(ctx, home, cf); err != nil {
			return nil, err
		}
	}
	ok = true
	return &Handle{home: home, users: users, cf: cf, rf: rf}, nil
}

// Info describes the cluster this handle uses.
func (h *Handle) Info() Info {
	_, kept := statOK(filepath.Join(h.home, keepName))
	return infoOf(h.home, h.cf, h.rf, true, kept)
}

// Alive says whether the cluster's server is there: its postmaster process lives, or it answers.
// A slow or recovering server is alive.
func (h *Handle) Alive(ctx context.Context) bool {
	if rf, ok := readRun(h.home); ok && alive(rf.PostmasterPID) {
		return true
	}
	return ping(ctx, h.URL("postgres")) == nil
}

// URL returns a socket URL (no password) for database db on this cluster.
func (h *Handle) URL(db string) string { return h.Info().URL(db) }

// TCPURL returns a URL over 127.0.0.1 with the cluster's generated password, for tools that
// cannot use a Unix socket. It contains a secret: never print it.
func (h *Handle) TCPURL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(SuperUser, h.cf.Password),
		Host: "127.0.0.1:" + strconv.Itoa(h.rf.Port), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// EnsureDatabase creates database name on the cluster if it does not exist.
func (h *Handle) EnsureDatabase(ctx context.Context, name string) error {
	return EnsureDatabase(ctx, h.URL("postgres"), name)
}

// Release ends this process's use of the cluster. When it was the last user and the cluster was not
// started to be kept, the server is stopped before Release returns.
func (h *Handle) Release() error {
	if h == nil || h.users == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	users := h.users
	h.users = nil
	ctl, err := lockFile(ctx, filepath.Join(h.home, ctlLock), syscall.LOCK_EX)
	if err != nil {
		unlockFile(users)
		return err
	}
	defer unlockFile(ctl)
	last := syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
	defer unlockFile(users)
	if !last {
		return nil
	}
	if _, kept := statOK(filepath.Join(h.home, keepName)); kept {
		return nil
	}
	rf, running := readRun(h.home)
	if !running {
		return nil
	}
	return stopSupervisor(ctx, h.home, rf)
}

// Status describes the cluster in home without starting it.
func Status(home string) (Info, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return Info{}, err
	}
	cf, err := readCluster(home)
	if err != nil {
		return Info{}, err
	}
	rf, running := readRun(home)
	_, kept := statOK(filepath.Join(home, keepName))
	return infoOf(home, cf, rf, running, kept), nil
}

// ErrNoCluster is returned by Status and Stop for a folder that holds no private cluster.
var ErrNoCluster = errors.New("no private PostgreSQL cluster here")

// Stop stops the server in home (whoever uses it) and clears its kept mark. Stopping a cluster
// that is not running is not an error.
func Stop(ctx context.Context, home string) error {
	home, err := filepath.Abs(home)
	if err != nil {
		return err
	}
	if _, err := readCluster(home); err != nil {
		return err
	}
	ctl, err := lockFile(ctx, filepath.Join(home, ctlLock), syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlockFile(ctl)
	_ = os.Remove(filepath.Join(home, keepName))
	rf, running := readRun(home)
	if !running {
		return nil
	}
	return stopSupervisor(ctx, home, rf)
}

func infoOf(home string, cf clusterFile, rf runFile, running, kept bool) Info {
	i := Info{Home: home, DataDir: cf.DataDir, SocketDir: cf.SocketDir, LogFile: cf.LogFile,
		ServerUser: cf.ServerUser, Version: cf.Version, Fallback: cf.Fallback, Kept: kept, Running: running}
	if running {
		i.Port, i.SupervisorPID, i.PostmasterPID, i.StartedAt = rf.Port, rf.SupervisorPID, rf.PostmasterPID, rf.StartedAt
	}
	return i
}

func readCluster(home string) (clusterFile, error) {
	var cf clusterFile
	b, err := os.ReadFile(filepath.Join(home, clusterName))
	if errors.Is(err, os.ErrNotExist) {
		return cf, fmt.Errorf("%s: %w", home, ErrNoCluster)
	}
	if err != nil {
		return cf, fmt.Errorf("read cluster description: %w", err)
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		return cf, fmt.Errorf("read %s: %w", filepath.Join(home, clusterName), err)
	}
	return cf, nil
}

// readRun returns the run description and whether its supervisor is alive.
func readRun(home string) (runFile, bool) {
	var rf runFile
	b, err := os.ReadFile(filepath.Join(home, runName))
	if err != nil || json.Unmarshal(b, &rf) != nil || rf.SupervisorPID <= 0 {
		return runFile{}, false
	}
	if !alive(rf.SupervisorPID) {
		_ = os.Remove(filepath.Join(home, runName))
		return runFile{}, false
	}
	return rf, true
}

// loadOrInit reads cluster.json or, the first time, chooses where the data goes and runs initdb.
func loadOrInit(ctx context.Context, home string, opts Options) (clusterFile, error) {
	if cf, err := readCluster(home); err == nil {
		if _, err := os.Stat(filepath.Join(cf.DataDir, "PG_VERSION")); err == nil {
			return cf, nil
		}
		// The data directory vanished (a cache cleaned up): initialise again.
	} else if !errors.Is(err, ErrNoCluster) {
		return cf, err
	}
	bins, err := FindBinaries()
	if err != nil {
		return clusterFile{}, err
	}
	acct, err := serverAccount()
	if err != nil {
		return clusterFile{}, err
	}
	cf := clusterFile{Base: home, ServerUser: acct.Name, Version: bins.Version, BinDir: bins.Dir,
		Ephemeral: opts.Ephemeral, Fast: opts.Fast}
	if !acct.canReach(home, false) {
		cf.Base = fallbackBase(acct, home)
		cf.Fallback = true
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "crmigrate: the PostgreSQL server runs as user %s, which cannot reach %s; its data directory is %s instead\n",
				acct.Name, home, cf.Base)
		}
	}
	cf.DataDir = filepath.Join(cf.Base, "data")
	cf.LogFile = filepath.Join(cf.Base, "log", "postgres.log")
	cf.SocketDir = filepath.Join(cf.Base, "run")
	if len(cf.SocketDir)+len("/.s.PGSQL.65535") > 100 { // sun_path is 108 bytes
		sum := sha256.Sum256([]byte(home))
		cf.SocketDir = filepath.Join(os.TempDir(), "crmigrate-"+hex.EncodeToString(sum[:6]))
	}
	cf.Password = randomHex(18)

	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{cf.Base, 0o755}, {filepath.Dir(cf.LogFile), 0o700}, {cf.SocketDir, 0o700}} { // logs: no other local user reads them
		if err := acct.mkdirOwned(d.path, d.perm); err != nil {
			return cf, fmt.Errorf("prepare private PostgreSQL: %w", err)
		}
	}
	_ = os.RemoveAll(cf.DataDir)
	if err := acct.mkdirOwned(cf.DataDir, 0o700); err != nil {
		return cf, fmt.Errorf("prepare private PostgreSQL: %w", err)
	}
	pwfile := filepath.Join(cf.Base, ".pwfile")
	if err := os.WriteFile(pwfile, []byte(cf.Password+"\n"), 0o600); err != nil {
		return cf, fmt.Errorf("prepare private PostgreSQL: %w", err)
	}
	defer os.Remove(pwfile)
	if err := acct.chown(pwfile); err != nil {
		return cf, err
	}
	args := []string{"-D", cf.DataDir, "-U", SuperUser, "--pwfile", pwfile, "-E", "UTF8", "--locale", "C",
		"--auth-local", "trust", "--auth-host", "scram-sha-256"}
	if opts.Fast {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, bins.Path("initdb"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acct.credential()}
	cmd.Dir = cf.Base
	if out, err := cmd.CombinedOutput(); err != nil {
		return cf, fmt.Errorf("initdb %s: %w\n%s", cf.DataDir, err, tail(string(out), 2000))
	}
	if err := writeFileAtomic(filepath.Join(home, clusterName), mustJSON(cf), 0o600); err != nil {
		return cf, fmt.Errorf("write cluster description: %w", err)
	}
	return cf, nil
}

// fallbackBase is where the data goes when the server's user cannot reach home: under that user's
// cache folder, else under the system temporary folder; named by a hash of home so that every plan
// folder keeps its own cluster.
func fallbackBase(acct account, home string) string {
	sum := sha256.Sum256([]byte(home))
	name := filepath.Base(filepath.Dir(home)) + "-" + hex.EncodeToString(sum[:6])
	if acct.Home != "" && acct.canReach(acct.Home, true) {
		return filepath.Join(acct.Home, ".cache", "crmigrate", name)
	}
	return filepath.Join(os.TempDir(), "crmigrate-"+acct.Name, name)
}

// startSupervisor starts the supervisor process (this same executable, in supervisor mode), which
// starts the server and stays beside it; it waits until the server accepts connections.
func startSupervisor(ctx context.Context, home string, cf clusterFile) (runFile, error) {
	exe, err := os.Executable()
	if err != nil {
		return runFile{}, fmt.Errorf("start private PostgreSQL: find own executable: %w", err)
	}
	_ = os.Remove(filepath.Join(home, runName))
	logf, err := os.OpenFile(filepath.Join(home, "supervisor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return runFile{}, fmt.Errorf("start private PostgreSQL: %w", err)
	}
	_ = logf.Chmod(0o600) // a log made by an earlier version was world-readable
	defer logf.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envSuper+"="+home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return runFile{}, fmt.Errorf("start private PostgreSQL supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if this process outlives it

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return runFile{}, fmt.Errorf("private PostgreSQL did not start (%v); server log %s:\n%s", err, cf.LogFile, tailFile(cf.LogFile, 3000))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return runFile{}, fmt.Errorf("private PostgreSQL did not start in time: %w; server log %s:\n%s", ctx.Err(), cf.LogFile, tailFile(cf.LogFile, 3000))
		case <-tick.C:
		}
		rf, ok := readRun(home)
		if !ok || rf.SupervisorPID != cmd.Process.Pid {
			continue
		}
		if ping(ctx, Info{SocketDir: cf.SocketDir, Port: rf.Port}.URL("postgres")) == nil {
			return rf, nil
		}
	}
}

// stopSupervisor asks the supervisor to stop the server and waits until both are gone.
func stopSupervisor(ctx context.Context, home string, rf runFile) error {
	if err := syscall.Kill(rf.SupervisorPID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop private PostgreSQL (supervisor %d): %w", rf.SupervisorPID, err)
	}
	deadline := time.Now().Add(45 * time.Second)
	for alive(rf.SupervisorPID) || (rf.PostmasterPID > 0 && alive(rf.PostmasterPID)) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(rf.SupervisorPID, syscall.SIGKILL)
			if rf.PostmasterPID > 0 {
				_ = syscall.Kill(rf.PostmasterPID, syscall.SIGQUIT)
			}
			return fmt.Errorf("stop private PostgreSQL: it did not stop within 45 s; sent SIGKILL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = os.Remove(filepath.Join(home, runName))
	return nil
}

// EnsureDatabase creates database name on the server adminURL points to, if it does not exist.
func EnsureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("create database %s: connect: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var pgErr interface{ SQLState() string }
		if errors.As(err, &pgErr) && pgErr.SQLState() == "42P04" { // created meanwhile by another process
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func ping(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// lockFile opens path and takes a flock of the given kind, polling until ctx ends.
func lockFile(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: another crmigrate process holds it: %w", path, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func unlockFile(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

func statOK(p string) (os.FileInfo, bool) {
	st, err := os.Stat(p)
	return st, err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func tailFile(p string, n int) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return tail(string(b), n)
}

// ListDatabases lists the databases (not templates) on the server adminURL points to.
func ListDatabases(ctx context.Context, adminURL string) ([]string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname")
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
