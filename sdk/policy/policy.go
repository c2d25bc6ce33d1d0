// Package policy is the privileged side's own fence. Anyone allowed to start
// a plugin (the driver account, through its sudoers rule) can speak
// go-plugin to it directly, so a root plugin must never trust what its
// caller says: it reads this root-owned policy itself at start and acts only
// within it — paths beneath the home roots (and its own extra roots), owners
// within the managed uid/gid range, accounts in the marker group, and the
// supplementary groups a managed user may join.
//
// `hero_codescalers setup driver` writes the file (Path, root:root 0644).
// Only root can widen it, by editing it; nothing the host says can. With no
// file, Load gives the built-in defaults, equal to the host's own defaults
// (home root /home, marker group codescalers, login.defs' uid range), so an
// install that predates the policy keeps working until setup writes one.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
)

// Path is where the policy lives. A plugin reads it from here and nowhere
// else: no flag or environment variable of its caller can point it
// elsewhere. Tests and the conformance kit run plugins in a private mount
// namespace whose /etc holds their own policy.
const Path = "/etc/hero_codescalers/policy.toml"

// The built-in defaults, equal to the host's.
const (
	DefaultHomeRoot    = "/home"
	DefaultMarkerGroup = "codescalers"
	DefaultDriver      = "driver"
)

// Policy is what a plugin may act on.
type Policy struct {
	// HomeRoots are the directories users' homes (and shared group
	// volumes) live beneath; never "/".
	HomeRoots []string `toml:"home_roots"`
	// MarkerGroup is the group every managed account belongs to; accounts
	// outside it are never modified, locked, deleted or signalled.
	MarkerGroup string `toml:"marker_group"`
	// UIDMin..UIDMax and GIDMin..GIDMax bound the ids a plugin gives a
	// managed account or group, or chowns a file to. 0 is never allowed.
	UIDMin uint32 `toml:"uid_min"`
	UIDMax uint32 `toml:"uid_max"`
	GIDMin uint32 `toml:"gid_min"`
	GIDMax uint32 `toml:"gid_max"`
	// Groups are the existing groups a managed user may join by name,
	// besides the groups hero_codescalers made itself (group-create).
	Groups []string `toml:"groups"`
	// Driver is the account the unprivileged host runs as: the one
	// unmanaged account an ACL entry may name.
	Driver string `toml:"driver"`
	// Roots are extra roots by plugin or concern name, for a plugin that
	// legitimately writes outside the homes (e.g. authorizedkeysd, or any
	// sshkeys plugin, under /etc/ssh/authorized_keys.d).
	Roots map[string][]string `toml:"roots"`

	// Source says where the policy came from: the file, or "built-in
	// defaults" when there is none.
	Source string `toml:"-"`
}

// ErrInsecure marks a policy file (or a directory above it) that someone
// other than root could have written: it is refused, not used.
var ErrInsecure = errors.New("policy file is not root-owned and protected")

// Load reads the machine's policy at Path, or returns the defaults when
// there is no file. A file
// that is not root-owned, is group- or world-writable, or lies in such a
// directory is an error, as is one that does not parse or validate: a
// plugin must then refuse to serve rather than guess.
func Load() (Policy, error) {
	return LoadFile(Path, "/etc")
}

// LoadFile reads the policy at path, taking defaults for what it leaves
// out from etcDir's login.defs; a missing file gives Defaults(etcDir).
func LoadFile(path, etcDir string) (Policy, error) {
	data, err := readProtected(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Defaults(etcDir), nil
	}
	if err != nil {
		return Policy{}, err
	}
	p := Defaults(etcDir)
	p.HomeRoots = nil
	if _, err := toml.Decode(string(data), &p); err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", path, err)
	}
	if len(p.HomeRoots) == 0 {
		p.HomeRoots = []string{DefaultHomeRoot}
	}
	p.Source = path
	if err := p.Validate(); err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// Defaults is the policy without a file: /home, the marker group, the
// driver account, and login.defs' UID_MIN..UID_MAX and GID_MIN..GID_MAX
// (1000..60000 where unset) read from etcDir.
func Defaults(etcDir string) Policy {
	defs := readLoginDefs(filepath.Join(etcDir, "login.defs"))
	return Policy{
		HomeRoots:   []string{DefaultHomeRoot},
		MarkerGroup: DefaultMarkerGroup,
		UIDMin:      defs.num("UID_MIN", 1000),
		UIDMax:      defs.num("UID_MAX", 60000),
		GIDMin:      defs.num("GID_MIN", 1000),
		GIDMax:      defs.num("GID_MAX", 60000),
		Driver:      DefaultDriver,
		Source:      "built-in defaults",
	}
}

// Validate checks that the policy fences something: absolute, clean roots
// that are not "/", a marker group, and id ranges that exclude 0.
func (p Policy) Validate() error {
	if len(p.HomeRoots) == 0 {
		return errors.New("home_roots is empty")
	}
	for _, r := range p.HomeRoots {
		if err := checkRoot("home_roots", r); err != nil {
			return err
		}
	}
	for name, roots := range p.Roots {
		for _, r := range roots {
			if err := checkRoot("roots."+name, r); err != nil {
				return err
			}
		}
	}
	if p.MarkerGroup == "" {
		return errors.New("marker_group is empty")
	}
	if p.UIDMin == 0 || p.UIDMin > p.UIDMax {
		return fmt.Errorf("uid range %d..%d: want 0 < uid_min <= uid_max", p.UIDMin, p.UIDMax)
	}
	if p.GIDMin == 0 || p.GIDMin > p.GIDMax {
		return fmt.Errorf("gid range %d..%d: want 0 < gid_min <= gid_max", p.GIDMin, p.GIDMax)
	}
	return nil
}

func checkRoot(field, r string) error {
	if !filepath.IsAbs(r) || filepath.Clean(r) != r {
		return fmt.Errorf("%s: %q must be an absolute, clean path", field, r)
	}
	if r == "/" {
		return fmt.Errorf("%s: \"/\" would fence nothing", field)
	}
	return nil
}

// RootsFor is the roots a plugin may act beneath: the home roots, then the
// extra roots of each of names — its own name, and the concerns it serves
// ([roots] may name either: "authorizedkeysd" or "sshkeys"), each once.
func (p Policy) RootsFor(names ...string) []string {
	out := slices.Clone(p.HomeRoots)
	for _, n := range names {
		for _, r := range p.Roots[n] {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// UIDAllowed reports whether uid is a managed account's uid.
func (p Policy) UIDAllowed(uid uint32) bool { return uid != 0 && uid >= p.UIDMin && uid <= p.UIDMax }

// GIDAllowed reports whether gid is within the managed gid range.
func (p Policy) GIDAllowed(gid uint32) bool { return gid != 0 && gid >= p.GIDMin && gid <= p.GIDMax }

// GroupAllowedByName reports whether the policy names group as one a
// managed user may join (the marker group always is).
func (p Policy) GroupAllowedByName(group string) bool {
	return group == p.MarkerGroup || slices.Contains(p.Groups, group)
}

// Beneath reports the root of roots that path lies beneath (or is), and
// whether there is one. path must be absolute and clean; nothing is
// resolved on disk here (see sdk/fsutil for the open that never follows a
// link).
func Beneath(roots []string, path string) (string, bool) {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return "", false
	}
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+"/") {
			return r, true
		}
	}
	return "", false
}

// Render is the policy as the TOML file setup writes, with a comment per
// setting.
func (p Policy) Render() []byte {
	var b bytes.Buffer
	b.WriteString("# hero_codescalers policy: what its root plugins may act on. Written by\n" +
		"# `hero_codescalers setup driver`; root:root 0644. Every plugin reads it\n" +
		"# at start and refuses anything outside it, whatever its caller asks.\n\n")
	fmt.Fprintf(&b, "# Users' homes and shared group volumes live beneath these.\nhome_roots = %s\n\n", tomlList(p.HomeRoots))
	fmt.Fprintf(&b, "# Accounts outside this group are never modified, locked, deleted or signalled.\nmarker_group = %q\n\n", p.MarkerGroup)
	fmt.Fprintf(&b, "# The ids a managed account, group or file may have (never 0).\n"+
		"uid_min = %d\nuid_max = %d\ngid_min = %d\ngid_max = %d\n\n", p.UIDMin, p.UIDMax, p.GIDMin, p.GIDMax)
	fmt.Fprintf(&b, "# Existing groups a managed user may join, besides those hero_codescalers made.\ngroups = %s\n\n", tomlList(p.Groups))
	fmt.Fprintf(&b, "# The account the unprivileged host runs as.\ndriver = %q\n", p.Driver)
	names := make([]string, 0, len(p.Roots))
	for n := range p.Roots {
		names = append(names, n)
	}
	slices.Sort(names)
	b.WriteString("\n# Extra roots by plugin or concern name, for plugins that write outside the homes,\n" +
		"# e.g. sshkeys = [\"/etc/ssh/authorized_keys.d\"] for the authorizedkeysd plugin.\n[roots]\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s = %s\n", n, tomlList(p.Roots[n]))
	}
	return b.Bytes()
}

func tomlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// readProtected reads path after checking that it, and every directory
// above it, is owned by root (or, for tests run unprivileged, by the
// caller) and writable by nobody else. It never follows a symlink at path.
func readProtected(path string) ([]byte, error) {
	f, err := openProtected(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		di, err := os.Lstat(dir)
		if err != nil {
			return nil, err
		}
		if err := protected(dir, di); err != nil {
			return nil, err
		}
		if dir == "/" {
			break
		}
	}
	return readAll(f)
}

// openProtected opens path, never through a symlink, and checks it is a
// regular file owned by root (or the caller) that nobody else may write.
func openProtected(path string) (*os.File, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("path %q is not absolute", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%w: %s is a symlink", ErrInsecure, path)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s is not a regular file", ErrInsecure, path)
	}
	if err == nil {
		err = protected(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// protected checks owner and write bits. A sticky directory (like /tmp)
// is not acceptable either: the policy must sit in root's own tree.
func protected(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: cannot stat %s", ErrInsecure, path)
	}
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d", ErrInsecure, path, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %#o)", ErrInsecure, path, fi.Mode().Perm())
	}
	return nil
}

func readAll(f *os.File) ([]byte, error) {
	const max = 1 << 20
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if len(data) > max {
		return nil, fmt.Errorf("policy file is over the %d-byte limit", max)
	}
	return data, nil
}
