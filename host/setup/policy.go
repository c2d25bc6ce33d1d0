package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// PolicySettings are what `setup driver` writes into a new policy
// (policy.Path): the home roots (default /home), the marker group
// (default codescalers) and the existing groups a managed user may join
// by name. The uid and gid ranges are login.defs' and the driver is
// Options.User. An existing policy is kept, as an admin may have edited
// it, unless Rewrite.
type PolicySettings struct {
	HomeRoots   []string
	MarkerGroup string
	Groups      []string
	Rewrite     bool
}

// policyPath is the policy file under opts.Root.
func policyPath(opts Options) string { return filepath.Join(opts.Root, policy.Path) }

// newPolicy is the policy the settings describe, checked.
func newPolicy(opts Options) (policy.Policy, error) {
	s := opts.Policy
	p := policy.Defaults(filepath.Join(opts.Root, "etc"))
	if len(s.HomeRoots) > 0 {
		p.HomeRoots = nil
		for _, r := range s.HomeRoots {
			p.HomeRoots = append(p.HomeRoots, filepath.Clean(r))
		}
	}
	if s.MarkerGroup != "" {
		p.MarkerGroup = s.MarkerGroup
	}
	p.Groups = s.Groups
	p.Driver = opts.User
	for _, g := range append([]string{p.MarkerGroup}, p.Groups...) {
		if !userRE.MatchString(g) {
			return p, fmt.Errorf("setup: group name %q must match %s", g, userRE)
		}
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("setup: policy: %w", err)
	}
	return p, nil
}

// writePolicy writes the policy unless one exists and Rewrite is false,
// and says which on opts.Out: the directory root:root 0755, the file
// root:root 0644, written to a temporary file beside it, synced and
// renamed into place, so a plugin starting meanwhile reads the old file
// or the new one, never half of one.
func writePolicy(opts Options) (bool, error) {
	path := policyPath(opts)
	p, err := newPolicy(opts)
	if err != nil {
		return false, err
	}
	if _, err := os.Lstat(path); err == nil && !opts.Policy.Rewrite {
		fmt.Fprintf(opts.Out, "kept %s: an existing policy is never replaced (an admin may have edited it); --rewrite-policy writes a new one\n", path)
		return false, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := ensureRootDir(filepath.Dir(path)); err != nil {
		return false, err
	}
	if err := writeRootFile(path, p.Render(), 0o644); err != nil {
		return false, err
	}
	fmt.Fprintf(opts.Out, "wrote %s: %s\n", path, describePolicy(p))
	return true, nil
}

// describePolicy is a policy in one line.
func describePolicy(p policy.Policy) string {
	groups := "none"
	if len(p.Groups) > 0 {
		groups = strings.Join(p.Groups, ", ")
	}
	return fmt.Sprintf("home roots %s, marker group %s, uids %d..%d, gids %d..%d, joinable groups %s, driver %s",
		strings.Join(p.HomeRoots, ", "), p.MarkerGroup, p.UIDMin, p.UIDMax, p.GIDMin, p.GIDMax, groups, p.Driver)
}

// ensureRootDir makes dir (its parent must exist), or takes the one there,
// as a real directory of root:root 0755; a symlink is refused.
func ensureRootDir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("setup: %s is not a directory; move it away", dir)
	}
	if err := chownRoot(dir); err != nil {
		return err
	}
	return os.Chmod(dir, 0o755)
}

// writeRootFile replaces path with data, root-owned with mode: a temporary
// file beside it, synced, renamed over it, and the directory synced.
func writeRootFile(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = chownRoot(tmp.Name())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("setup: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// chownRoot gives path to root:root; when not root (tests, image builds
// by an unprivileged user) the file stays the caller's.
func chownRoot(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	return os.Lchown(path, 0, 0)
}
