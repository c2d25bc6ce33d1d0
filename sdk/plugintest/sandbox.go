package plugintest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// sandboxEnv carries a sandboxSpec, as JSON, to the kit's own binary
// re-executed as the sandbox helper (see init in hostdeath.go): it enters
// a private mount namespace, sets the mounts up, and execs the plugin.
const sandboxEnv = "HERO_CODESCALERS_PLUGINTEST_SANDBOX"

// coverDirs are hidden under a fresh tmpfs in the plugin's namespace,
// besides the machine policy's roots: homes, root's home, the
// world-writable temporary directories, and the logs and mail spools an
// account tool writes beside the account files (useradd zeroes a new
// uid's lastlog and faillog records, and may make its mailbox).
var coverDirs = []string{"/home", "/root", "/tmp", "/var/tmp", "/var/log", "/var/mail", "/var/spool/mail"}

// sandboxSpec is what the helper mounts. The scratch /etc is an overlay:
// the machine's /etc below, a fresh copy of Upper (the changed account
// files and the policy) above, and whatever the plugin writes lands in
// that copy. Each start of the plugin gets its own copy: two overlays on
// one upper directory at once (the plugin serving while `describe` runs)
// make overlayfs refuse writes. Where overlayfs is missing (or the upper
// layer cannot be one, as on an overlay root), the helper copies /etc and
// Upper into a fresh directory and binds that instead.
type sandboxSpec struct {
	Upper string   `json:"upper"`
	Cover []string `json:"cover"` // each under a fresh tmpfs
	Keep  []string `json:"keep"`  // visible at their own paths even under a covered directory
}

// sandbox is one run's private machine for the plugin: a scratch copy of
// /etc whose policy's only root is the scratch directory and whose account
// files hold one managed account, the owner the checks give files to.
type sandbox struct {
	dir     string // holds the etc copy, the outside dir and the socket dir
	spec    sandboxSpec
	policy  policy.Policy // the policy written into the scratch /etc
	granted []string      // the plugin's own roots the policy gives it
	refused []string      // those it declares outside what the sandbox replaces
	outside string        // beneath no root of the policy: the fence check's target
	sockDir string        // where the plugin makes its go-plugin socket
	owner   owner
}

// owner is the account the checks give files and ACL entries to.
type owner struct {
	uid, gid uint32
	name     string
}

// newSandbox prepares the sandbox of a run whose scratch directory is
// scratch; keep are further paths the plugin must see.
func newSandbox(scratch string, keep []string) (*sandbox, error) {
	dir, err := os.MkdirTemp("", "plugintest-sandbox-")
	if err != nil {
		return nil, err
	}
	s := &sandbox{dir: dir, outside: filepath.Join(dir, "outside"), sockDir: filepath.Join(dir, "sock")}
	if err := s.prepare(scratch, keep); err == nil {
		err = s.try()
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("plugintest sandbox: %w", err)
	}
	return s, nil
}

// try enters the sandbox once with true(1), so a machine where it cannot
// be made (root without CAP_SYS_ADMIN, in a container) is a clear error
// before any plugin runs, never a plugin run without it.
func (s *sandbox) try() error {
	truth, err := exec.LookPath("true")
	if err != nil {
		return err
	}
	argv, env, err := s.wrap([]string{truth})
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot run a plugin in a private mount namespace here: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s *sandbox) prepare(scratch string, keep []string) error {
	for _, d := range []string{s.outside, s.sockDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	s.spec = sandboxSpec{Upper: filepath.Join(s.dir, "upper"), Cover: coverList(),
		Keep: append([]string{scratch, s.outside, s.sockDir}, keep...)}
	// The overlay's root takes the upper layer's mode: /etc's own.
	if err := os.Mkdir(s.spec.Upper, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(s.spec.Upper, 0o755); err != nil {
		return err
	}
	p := policy.Defaults("/etc")
	p.HomeRoots = []string{scratch}
	var err error
	if s.owner, err = addOwner("/etc", s.spec.Upper, p); err != nil {
		return err
	}
	s.policy = p
	return writePolicy(s.spec.Upper, p)
}

// grant gives plugin name the roots it declares that lie beneath /etc
// (the scratch copy) or a covered directory (a tmpfs): the sandbox's
// policy is rewritten before the plugin's next start. Others stay
// refused, and the checks that need them skip as "cannot run here".
func (s *sandbox) grant(name string, roots []string) {
	replaced := append([]string{"/etc"}, s.spec.Cover...)
	for _, r := range roots {
		if top, ok := policy.Beneath(replaced, r); ok && r != top {
			s.granted = append(s.granted, r)
		} else {
			s.refused = append(s.refused, r)
		}
	}
	if len(s.granted) == 0 {
		return
	}
	p := s.policy
	p.Roots = map[string][]string{name: s.granted}
	if err := writePolicy(s.spec.Upper, p); err != nil {
		s.refused, s.granted = append(s.refused, s.granted...), nil
	}
}

// coverList is coverDirs and the roots of the machine's own policy (the
// defaults when it has none or cannot be read), minus /etc, which the copy
// replaces whole.
func coverList() []string {
	out := slices.Clone(coverDirs)
	p, err := policy.Load()
	if err != nil {
		p = policy.Defaults("/etc")
	}
	roots := slices.Clone(p.HomeRoots)
	for _, r := range p.Roots {
		roots = append(roots, r...)
	}
	for _, r := range roots {
		if _, ok := policy.Beneath([]string{"/etc"}, r); !ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func writePolicy(etc string, p policy.Policy) error {
	dir := filepath.Join(etc, "hero_codescalers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "policy.toml")
	os.Remove(path)
	return os.WriteFile(path, p.Render(), 0o644)
}

// wrap returns the command that runs argv inside the sandbox: the kit's
// own binary as the helper, with the spec in its environment.
func (s *sandbox) wrap(argv []string) ([]string, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot re-execute the kit for its sandbox: %w", err)
	}
	spec, err := json.Marshal(s.spec)
	if err != nil {
		return nil, nil, err
	}
	return append([]string{self}, argv...), []string{sandboxEnv + "=" + string(spec)}, nil
}

func (s *sandbox) close() {
	if s != nil && s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// describe is the sandbox as the report states it.
func (s *sandbox) describe() string {
	d := fmt.Sprintf("the plugin runs in a private mount namespace: /etc is a scratch copy whose policy's only home root is %s "+
		"and whose managed account %s (uid %d) owns what the checks create; %s are empty tmpfs there",
		s.spec.Keep[0], s.owner.name, s.owner.uid, strings.Join(s.spec.Cover, ", "))
	if len(s.granted) > 0 {
		d += "; the roots its manifest names are granted there: " + strings.Join(s.granted, ", ")
	}
	if len(s.refused) > 0 {
		d += "; roots its manifest names outside what the sandbox replaces are not: " + strings.Join(s.refused, ", ")
	}
	return d
}

// enterSandbox is the helper: it runs as root in the kit's re-executed
// binary, moves this thread into a new mount namespace (the thread is
// locked, and exec keeps its namespace for the whole new program), makes
// every mount private so nothing propagates back, replaces /etc and the
// covered directories, re-exposes the kept paths, and execs argv.
func enterSandbox(argv []string) int {
	runtime.LockOSThread()
	var spec sandboxSpec
	if err := json.Unmarshal([]byte(os.Getenv(sandboxEnv)), &spec); err != nil || len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "plugintest sandbox: bad spec or no command:", err)
		return 2
	}
	os.Unsetenv(sandboxEnv)
	// The binary is reached through a descriptor opened before /tmp is
	// covered (it may live there); not close-on-exec, so a script plugin's
	// interpreter can open it too.
	bin, err := unix.Open(argv[0], unix.O_PATH, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugintest sandbox:", err)
		return 1
	}
	if err := sandboxMounts(spec); err != nil {
		fmt.Fprintln(os.Stderr, "plugintest sandbox:", err)
		return 1
	}
	err = unix.Exec(fmt.Sprintf("/proc/self/fd/%d", bin), argv, os.Environ())
	fmt.Fprintln(os.Stderr, "plugintest sandbox: exec", argv[0], err)
	return 1
}

func sandboxMounts(spec sandboxSpec) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare the mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	kept := map[string]int{}
	for _, k := range spec.Keep {
		fd, err := unix.Open(k, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("keep %s: %w", k, err)
		}
		kept[k] = fd
	}
	if err := scratchEtc(spec); err != nil {
		return err
	}
	covered := map[string]bool{}
	for _, c := range spec.Cover {
		if fi, err := os.Stat(c); err != nil || !fi.IsDir() {
			continue
		}
		// One tmpfs a directory: /var/spool/mail is a link to /var/mail
		// on Debian.
		if real, err := filepath.EvalSymlinks(c); err == nil {
			if covered[real] {
				continue
			}
			covered[real] = true
		}
		mode := "0755"
		switch c {
		case "/tmp", "/var/tmp":
			mode = "1777"
		case "/root":
			mode = "0700"
		}
		if err := unix.Mount("tmpfs", c, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode="+mode); err != nil {
			return fmt.Errorf("cover %s: %w", c, err)
		}
	}
	for _, k := range spec.Keep {
		if err := reexpose(k, kept[k], spec.Cover); err != nil {
			return err
		}
	}
	return nil
}

// scratchEtc puts the scratch /etc in place: an overlay of a fresh copy
// of Upper on the machine's /etc, or a bound copy of both where overlayfs
// is not there.
func scratchEtc(spec sandboxSpec) error {
	dir, err := os.MkdirTemp(filepath.Dir(spec.Upper), "start-")
	if err != nil {
		return err
	}
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		return err
	}
	if err := copyTree(spec.Upper, upper); err != nil {
		return err
	}
	opts := "lowerdir=/etc,upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", "/etc", "overlay", 0, opts); err == nil {
		return nil
	}
	copied := filepath.Join(dir, "etc")
	if err := copyTree("/etc", copied); err != nil {
		return err
	}
	if err := copyTree(spec.Upper, copied); err != nil {
		return err
	}
	if err := unix.Mount(copied, "/etc", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind the scratch /etc: %w", err)
	}
	return nil
}

// copyTree copies src's content into dst (made when missing) with cp -a:
// modes, owners and links as they are.
func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", "--", src+"/.", dst+"/").CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s for the scratch /etc: %v: %s", src, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// reexpose bind-mounts the kept path (open as fd) back at its own path
// when a covered directory hid it.
func reexpose(path string, fd int, cover []string) error {
	if _, hidden := policy.Beneath(cover, path); !hidden {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		}
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("keep %s visible: %w", path, err)
	}
	return nil
}
