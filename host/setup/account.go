package setup

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
)

// userRE is what useradd accepts on every distribution we target.
var userRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// nologins are where distributions keep nologin; /bin/false is the last
// resort.
var nologins = []string{"/usr/sbin/nologin", "/sbin/nologin", "/usr/bin/nologin", "/bin/false"}

// ensureAccount creates the driver account unless it exists, and reports
// whether it did.
func ensureAccount(opts Options) (bool, error) {
	if !userRE.MatchString(opts.User) {
		return false, fmt.Errorf("setup: account name %q must match %s", opts.User, userRE)
	}
	exists, err := accountExists(opts.Root, opts.User)
	if err != nil || exists {
		return false, err
	}
	args := []string{"--system", "--user-group", "--home-dir", opts.Home, "--create-home",
		"--shell", nologin(opts.Root), "--comment", "hero_codescalers host"}
	if opts.Root != "/" {
		args = append(args, "--root", opts.Root)
	}
	args = append(args, "--", opts.User)
	if out, err := opts.Run("useradd", args...); err != nil {
		return false, fmt.Errorf("setup: useradd %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return true, nil
}

// checkHome refuses a home useradd would misread or place somewhere
// else than it says: it must be an absolute, clean path.
func checkHome(home string) error {
	if !filepath.IsAbs(home) || filepath.Clean(home) != home || strings.ContainsAny(home, ":\n") {
		return fmt.Errorf("setup: the driver's home %q must be an absolute, clean path (no .., no trailing /, no ':')", home)
	}
	return nil
}

// accountExists looks in root's /etc/passwd, and, for the machine itself,
// in NSS too (an account from LDAP counts).
func accountExists(root, name string) (bool, error) {
	f, err := os.Open(filepath.Join(root, "etc/passwd"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if n, _, _ := strings.Cut(sc.Text(), ":"); n == name {
				return true, nil
			}
		}
		if err := sc.Err(); err != nil {
			return false, err
		}
	}
	if root == "/" {
		if _, err := user.Lookup(name); err == nil {
			return true, nil
		}
	}
	return false, nil
}

func nologin(root string) string {
	for _, p := range nologins {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return p
		}
	}
	return "/bin/false"
}
