// Package sandbox runs a test binary inside a private mount namespace in
// which /etc is a bind-mounted copy of the machine's /etc and /home is a fresh
// btrfs filesystem on a loop device, so tests can create and delete real
// accounts and subvolumes without ever touching the machine's own; /run
// and /var/log are fresh tmpfs and /var/lib an overlay whose writes stay in
// the sandbox.
//
// TestMain calls Main; it re-executes the test binary under
// `unshare --mount --propagation private --pid --fork --mount-proc`, sets
// the mounts up inside, runs the tests, and tears everything down. The pid
// namespace matters as much as the mounts: processes are judged by uid
// (userdel's "in use", a delete's kill(-1) as the user), and a sandbox's
// uids are the same numbers as another sandbox's, or the machine's. Tests call Require first: it skips
// with a clear message when not root, and fails if the sandbox is not in
// place, so no test can reach the real /etc by accident.
package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const envInside = "HERO_CODESCALERS_SANDBOX"

// HomeRoot is the btrfs home root inside the sandbox.
const HomeRoot = "/home"

// Main wraps testing.M.Run. Outside the namespace (as root) it re-executes
// itself inside one and returns that run's exit code.
func Main(m *testing.M) int {
	if os.Getuid() != 0 {
		return m.Run()
	}
	if os.Getenv(envInside) == "" {
		return reexec()
	}
	if os.Getpid() == 1 {
		return initAndWait() // the pid namespace's init: see pidns.go
	}
	dir, err := setUp()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		tearDown(dir)
		return 1
	}
	code := m.Run()
	if err := tearDown(dir); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: teardown:", err)
	}
	return code
}

func reexec() int {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: unshare (util-linux) is required for the root tests:", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	args := append([]string{"--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc", "--", self}, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The machine's /etc, opened before the bind mount hides it, goes to
	// the child as fd 3 so tests can prove they never wrote to it.
	etc, err := os.Open("/etc")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	defer etc.Close()
	cmd.ExtraFiles = []*os.File{etc}
	cmd.Env = append(os.Environ(), envInside+"=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		return 1
	}
	return 0
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func setUp() (string, error) {
	dir, err := os.MkdirTemp("", "hc-sandbox-")
	if err != nil {
		return "", err
	}
	etc := filepath.Join(dir, "etc")
	if err := run("cp", "-a", "/etc/.", etc+"/"); err != nil {
		return dir, err
	}
	if err := run("mount", "--bind", etc, "/etc"); err != nil {
		return dir, err
	}
	// The image is allocated up front, not sparse: /etc's copy and the
	// host's state live on the same filesystem as the image, and there an
	// fsync (useradd's, Badger's) waits for the image's writes into holes
	// to reach the disk first. A real node's /home is its own device; with
	// a sparse image one useradd in ten took 40-340 ms instead of 17.
	img := filepath.Join(dir, "home.img")
	if err := run("fallocate", "-l", "1G", img); err != nil {
		return dir, err
	}
	if err := run("mkfs.btrfs", "-q", "-f", img); err != nil {
		return dir, err
	}
	if err := os.MkdirAll(HomeRoot, 0o755); err != nil {
		return dir, err
	}
	if err := run("mount", "-o", "loop", img, HomeRoot); err != nil {
		return dir, err
	}
	privateVarLib(dir)
	return dir, privateRunAndLogs()
}

// privateRunAndLogs puts fresh tmpfs over /run and /var/log, so sshd's
// utmp, wtmp and lastlog records, its /run/sshd and sudo's timestamps stay
// inside the sandbox. The machine's /run/systemd is bound back in, read
// only (ShowMachineSystemd): the tests run against /run as the machine
// has it — a stale /run/systemd/seats without logind, say — not only
// against an empty one.
func privateRunAndLogs() error {
	if err := openMachineSystemd(); err != nil {
		return err
	}
	for _, mnt := range []string{"/run", "/var/log"} {
		if err := run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", mnt); err != nil {
			return err
		}
	}
	for _, f := range []string{"/run/utmp", "/var/log/wtmp", "/var/log/lastlog", "/var/log/btmp"} {
		if err := os.WriteFile(f, nil, 0o664); err != nil {
			return err
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll("/run/lock", 0o1777); err != nil {
		return err
	}
	return ShowMachineSystemd()
}

// privateVarLib puts an overlay over /var/lib whose writes land in the
// sandbox's dir: a test that runs `setup driver` (whose account's home
// defaults to /var/lib/hero_codescalers), or a tool keeping state there
// (sudo's lecture records), never writes the machine's /var/lib. Without
// overlayfs the tests still run, with a warning: none of them needs to
// write there.
func privateVarLib(dir string) {
	upper, work := filepath.Join(dir, "varlib", "upper"), filepath.Join(dir, "varlib", "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox: warning: no private /var/lib:", err)
			return
		}
	}
	if err := run("mount", "-t", "overlay", "-o", "lowerdir=/var/lib,upperdir="+upper+",workdir="+work, "overlay", "/var/lib"); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox: warning: no private /var/lib (overlayfs):", err)
	}
}

// machineSystemd is the machine's /run/systemd, opened (O_PATH) before
// the sandbox's /run hid it; nil where the machine has none.
var machineSystemd *os.File

func openMachineSystemd() error {
	fd, err := unix.Open("/run/systemd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the machine's /run/systemd: %w", err)
	}
	machineSystemd = os.NewFile(uintptr(fd), "/run/systemd")
	return nil
}

// ShowMachineSystemd binds the machine's /run/systemd, read only, at
// /run/systemd of the /run now mounted: the sandbox's, or a test's own
// tmpfs over it (which hides the sandbox's bind).
func ShowMachineSystemd() error {
	if machineSystemd == nil {
		return nil
	}
	if err := os.MkdirAll("/run/systemd", 0o755); err != nil {
		return err
	}
	src := fmt.Sprintf("/proc/self/fd/%d", machineSystemd.Fd())
	if err := syscall.Mount(src, "/run/systemd", "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind the machine's /run/systemd: %w", err)
	}
	flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY)
	if err := syscall.Mount("", "/run/systemd", "", flags, ""); err != nil {
		return fmt.Errorf("make /run/systemd read only: %w", err)
	}
	return nil
}

func tearDown(dir string) error {
	var first error
	for _, mnt := range []string{"/var/lib", "/var/log", "/run", HomeRoot, "/etc"} {
		if isMountOf(mnt, dir) {
			if err := run("umount", "-l", mnt); err != nil && first == nil {
				first = err
			}
		}
	}
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// isMountOf reports whether mnt is one of the sandbox's mounts.
func isMountOf(mnt, dir string) bool {
	if dir == "" {
		return false
	}
	_, ok := mountInfo(mnt)
	return ok
}

// mountInfo returns the filesystem type of the mount at mnt.
func mountInfo(mnt string) (fstype string, ok bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint opts ... - fstype source superopts
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[4] != mnt {
			continue
		}
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) {
				fstype, ok = fields[i+1], true
			}
		}
	}
	return fstype, ok
}

// MachineEtc is the path, inside the sandbox, of the machine's own /etc
// (through the descriptor inherited from outside), for read-only checks that
// the sandbox kept it untouched.
const MachineEtc = "/proc/self/fd/3"

// Require skips the test when not root and fails it when the sandbox is not
// in place. Every test that touches accounts, /etc or /home calls it first.
func Require(t testing.TB) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: runs useradd, btrfs and sshd inside a private mount namespace (CI runs it as root)")
	}
	if os.Getenv(envInside) == "" {
		t.Fatal("sandbox: not inside the private mount namespace; call sandbox.Main from TestMain")
	}
	if _, ok := mountInfo("/etc"); !ok {
		t.Fatal("sandbox: /etc is not the bind-mounted copy; refusing to touch the machine's accounts")
	}
	if fs, ok := mountInfo(HomeRoot); !ok || fs != "btrfs" {
		t.Fatalf("sandbox: %s is not the loop-mounted btrfs (got %q)", HomeRoot, fs)
	}
}
