package pglocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// The supervisor is this same executable started with CRMIGRATE_PGLOCAL_SUPERVISE=HOME. Any program
// that links pglocal (crmigrate, and every test binary) turns into the supervisor before main runs.
// It starts the server as its child and stops it when no crmigrate process holds the users lock
// any more (every user holds a shared flock, which the kernel drops when a process dies, even by
// SIGKILL), unless the cluster is kept. The server gets SIGQUIT if the supervisor itself dies.
func init() {
	home := os.Getenv(envSuper)
	if home == "" {
		return
	}
	os.Exit(supervise(home))
}

func supervise(home string) int {
	runtime.LockOSThread() // Pdeathsig is tied to the thread that started the child
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s supervisor %d: %s\n", time.Now().Format(time.RFC3339), os.Getpid(), fmt.Sprintf(format, args...))
	}
	cf, err := readCluster(home)
	if err != nil {
		logf("%v", err)
		return 1
	}
	acct, err := serverAccount()
	if err != nil {
		logf("%v", err)
		return 1
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	var cmd *exec.Cmd
	var port int
	var exited chan error
	for attempt := 0; ; attempt++ {
		exited = make(chan error, 1)
		port, err = freePort()
		if err != nil {
			logf("find a free port: %v", err)
			return 1
		}
		cmd, err = startPostgres(cf, acct, port)
		if err != nil {
			logf("%v", err)
			return 1
		}
		go func() { exited <- cmd.Wait() }()
		if waitSocket(cf.SocketDir, port, exited, 60*time.Second) {
			break
		}
		if attempt >= 2 {
			logf("postgres did not start; see %s", cf.LogFile)
			return 1
		}
		logf("postgres did not start on port %d; trying another port", port)
	}
	rf := runFile{SupervisorPID: os.Getpid(), PostmasterPID: cmd.Process.Pid, Port: port, StartedAt: time.Now().UTC()}
	if err := writeFileAtomic(filepath.Join(home, runName), mustJSON(rf), 0o644); err != nil {
		logf("write run description: %v", err)
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		return 1
	}
	logf("postgres %d listening on 127.0.0.1:%d and %s", cmd.Process.Pid, port, cf.SocketDir)

	stop := func(why string) int {
		logf("stopping postgres: %s", why)
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			<-exited
		}
		_ = os.Remove(filepath.Join(home, runName))
		if cf.Ephemeral {
			_ = os.RemoveAll(cf.Base)
			_ = os.RemoveAll(cf.SocketDir)
			_ = os.RemoveAll(home)
		}
		return 0
	}

	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			logf("postgres exited: %v", err)
			_ = os.Remove(filepath.Join(home, runName))
			return 1
		case s := <-signals:
			return stop("signal " + s.String())
		case <-tick.C:
			if done, code := checkUsers(home, stop); done {
				return code
			}
		}
	}
}

// checkUsers stops the server when no process holds the users lock and the cluster is not kept.
// It holds the control lock meanwhile, so no process can join a server that is stopping.
func checkUsers(home string, stop func(string) int) (bool, int) {
	if _, err := os.Stat(home); errors.Is(err, os.ErrNotExist) {
		return true, stop("its folder " + home + " was removed")
	}
	ctl, err := os.OpenFile(filepath.Join(home, ctlLock), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return false, 0
	}
	defer ctl.Close()
	if syscall.Flock(int(ctl.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false, 0
	}
	defer syscall.Flock(int(ctl.Fd()), syscall.LOCK_UN)
	users, err := os.OpenFile(filepath.Join(home, usersLock), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return false, 0
	}
	defer users.Close()
	if syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false, 0 // someone uses it
	}
	defer syscall.Flock(int(users.Fd()), syscall.LOCK_UN)
	if _, kept := statOK(filepath.Join(home, keepName)); kept {
		return false, 0
	}
	return true, stop("no crmigrate process uses it any more")
}

func startPostgres(cf clusterFile, acct account, port int) (*exec.Cmd, error) {
	// The server's log is for the user who runs crmigrate: no other local user may read it (it
	// names tables, and an older version logged failing rows), so its folder is 0700, the file
	// 0600, also when an earlier version made them readable.
	if err := os.Chmod(filepath.Dir(cf.LogFile), 0o700); err != nil {
		return nil, fmt.Errorf("set mode of the server log folder: %w", err)
	}
	logFile, err := os.OpenFile(cf.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close()
	if err := logFile.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("set mode of the server log: %w", err)
	}
	if err := acct.chown(cf.LogFile); err != nil {
		return nil, err
	}
	args := []string{"-D", cf.DataDir,
		"-c", "port=" + strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + cf.SocketDir,
		"-c", "unix_socket_permissions=0700",
		"-c", "logging_collector=off",
		// Customer data stays out of the log: no DETAIL lines ("Failing row contains (…)", key
		// values of a duplicate) and no statements of failed queries.
		"-c", "log_error_verbosity=terse",
		"-c", "log_min_error_statement=panic",
		// Errors of clients' statements are not logged at all (the client has them): their
		// messages can quote a value ("invalid input syntax for type integer: …").
		"-c", "log_min_messages=log",
		"-c", "max_connections=200",
		"-c", "application_name=crmigrate-private",
		// Loads of millions of rows: room for the indexes being written, and checkpoints by time
		// rather than every few hundred megabytes of WAL.
		"-c", "shared_buffers=512MB",
		"-c", "max_wal_size=8GB",
		"-c", "checkpoint_timeout=15min",
		"-c", "maintenance_work_mem=256MB",
		// Staging tables are created and filled in one transaction: with minimal WAL PostgreSQL writes
		// them once and syncs them at commit instead of logging every row. Nothing here replicates.
		"-c", "wal_level=minimal",
		"-c", "max_wal_senders=0",
	}
	if cf.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(cf.BinDir, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = cf.DataDir
	env := []string{"LC_ALL=C", "TZ=UTC"}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, "PATH="+p)
	}
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: acct.credential(), Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return cmd, nil
}

// waitSocket waits until the server accepts connections on its Unix socket.
func waitSocket(dir string, port int, exited chan error, limit time.Duration) bool {
	sock := filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port))
	url := Info{SocketDir: dir, Port: port}.URL("postgres")
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return false
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := os.Stat(sock); err != nil {
			continue
		}
		if ping(context.Background(), url) == nil {
			return true
		}
	}
	return false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
