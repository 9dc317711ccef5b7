package pglocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned (wrapped) when no PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found; " +
	"install them with `apt-get install -y postgresql` (Debian/Ubuntu), `dnf install postgresql-server` (Fedora) " +
	"or `brew install postgresql` (macOS), or put their folder on PATH, or set CRMIGRATE_PG_BINDIR")

// Binaries is a folder holding initdb and postgres.
type Binaries struct {
	Dir     string `json:"dir"`
	Version string `json:"version"`
}

// Path returns the full path of the named program in the folder.
func (b Binaries) Path(name string) string { return filepath.Join(b.Dir, name) }

// FindBinaries looks for initdb and postgres: CRMIGRATE_PG_BINDIR, PATH, `pg_config --bindir`,
// then /usr/lib/postgresql/*/bin (newest major first). It runs `postgres --version` on the one found.
func FindBinaries() (Binaries, error) {
	var candidates []string
	if d := os.Getenv("CRMIGRATE_PG_BINDIR"); d != "" {
		candidates = append(candidates, d)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	candidates = append(candidates, dirs...)
	candidates = append(candidates, "/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin")

	for _, d := range candidates {
		if d == "" {
			continue
		}
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			b := Binaries{Dir: d}
			out, err := exec.Command(b.Path("postgres"), "--version").Output()
			if err != nil {
				return Binaries{}, fmt.Errorf("run %s --version: %w", b.Path("postgres"), err)
			}
			b.Version = strings.TrimSpace(string(out))
			return b, nil
		}
	}
	return Binaries{}, ErrNoBinaries
}

func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
