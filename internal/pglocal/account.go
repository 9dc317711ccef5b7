package pglocal

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the operating-system user the PostgreSQL server runs as.
type account struct {
	Name   string
	UID    int
	GID    int
	Groups []int
	Home   string
	// Switch is true when crmigrate runs as root and the server must run as this other user.
	Switch bool
}

// serverAccount picks the user the server runs as: the current user, or, as root (PostgreSQL refuses
// to run as root), CRMIGRATE_PG_USER or the `postgres` system user.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return account{}, fmt.Errorf("look up current user: %w", err)
		}
		return toAccount(u, false)
	}
	name := os.Getenv("CRMIGRATE_PG_USER")
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, fmt.Errorf("running as root, and PostgreSQL refuses to run as root: look up the unprivileged user %q to run the server as: %w; "+
			"create it (`useradd --system --home /var/lib/postgresql postgres`, or install the postgresql package) or set CRMIGRATE_PG_USER", name, err)
	}
	a, err := toAccount(u, true)
	if err != nil {
		return account{}, err
	}
	if a.UID == 0 {
		return account{}, fmt.Errorf("server user %q is root; PostgreSQL refuses to run as root: set CRMIGRATE_PG_USER to an unprivileged user", name)
	}
	return a, nil
}

func toAccount(u *user.User, sw bool) (account, error) {
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	a := account{Name: u.Username, UID: uid, GID: gid, Home: u.HomeDir, Switch: sw, Groups: []int{gid}}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.Atoi(g); err == nil && n != gid {
				a.Groups = append(a.Groups, n)
			}
		}
	}
	return a, nil
}

// credential returns the SysProcAttr credential for running a program as the account, or nil.
func (a account) credential() *syscall.Credential {
	if !a.Switch {
		return nil
	}
	groups := make([]uint32, 0, len(a.Groups))
	for _, g := range a.Groups {
		groups = append(groups, uint32(g))
	}
	return &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID), Groups: groups}
}

// chown gives path to the account when crmigrate runs as root.
func (a account) chown(path string) error {
	if !a.Switch {
		return nil
	}
	if err := os.Chown(path, a.UID, a.GID); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, a.Name, err)
	}
	return nil
}

// mkdirOwned creates dir (and parents) with perm and gives the created folders to the account.
func (a account) mkdirOwned(dir string, perm os.FileMode) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, d := range missing {
		if err := os.Chmod(d, perm); err != nil {
			return fmt.Errorf("set mode of %s: %w", d, err)
		}
		if err := a.chown(d); err != nil {
			return err
		}
	}
	return nil
}

// canReach reports whether the account can enter every folder on the way to dir and, when write is
// set, create files in dir itself. It reads permission bits; it does not switch users.
func (a account) canReach(dir string, write bool) bool {
	if !a.Switch {
		return true
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	// Walk from the root down; a missing folder is judged by its nearest existing parent,
	// which must then be writable (the folder will be created by root and chowned, so only
	// traversal of the existing part matters).
	var chain []string
	for d := abs; ; d = filepath.Dir(d) {
		chain = append([]string{d}, chain...)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i, d := range chain {
		st, err := os.Stat(d)
		if err != nil {
			return true // the rest will be created and owned by the account
		}
		need := os.FileMode(0o1) // execute (search)
		if i == len(chain)-1 && write {
			need = 0o3 // write + search
		}
		if !a.hasPerm(st, need) {
			return false
		}
	}
	return true
}

func (a account) hasPerm(st os.FileInfo, need os.FileMode) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := st.Mode().Perm()
	switch {
	case int(sys.Uid) == a.UID:
		return (mode>>6)&need == need
	case a.inGroup(int(sys.Gid)):
		return (mode>>3)&need == need
	default:
		return mode&need == need
	}
}

func (a account) inGroup(gid int) bool {
	for _, g := range a.Groups {
		if g == gid {
			return true
		}
	}
	return false
}
