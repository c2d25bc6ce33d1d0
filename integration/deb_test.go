//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api/client"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// TestDebPackage is issue 14's proof of the package: built from the
// binaries the tests already built (stripped, as make deb strips them)
// by the Makefile's deb-pkg (nfpm; lintian with no error), installed with
// the real dpkg into the sandbox with /usr, /var and /run of its own
// (overlays and a tmpfs: the machine's dpkg database and /usr are never
// written); its postinst sets the driver up (account, sudoers rules with
// the installed plugins' digests, policy); systemd-analyze verifies the
// unit; the host starts from the installed files as the unit runs it (as
// driver, with systemd's directories and $NOTIFY_SOCKET, which gets
// READY=1); the installed CLI finds it on the system layout, creates and
// deletes a user; dpkg --purge leaves the account files as they were.
func TestDebPackage(t *testing.T) {
	sandbox.Require(t)
	for _, tool := range []string{"dpkg", "dpkg-deb", "make", "strip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/deps.sh installs it)", tool)
		}
	}
	quotasOn(t)
	deb := buildDeb(t)
	lint := lintInBackground(t, deb)
	before := machineState(t)
	privateUsrVarRun(t)

	out := mustRun(t, "dpkg", "-i", deb)
	if !strings.Contains(out, "wrote /etc/sudoers.d/hero_codescalers") {
		t.Errorf("postinst did not set the driver up:\n%s", out)
	}
	sudoers, _ := os.ReadFile("/etc/sudoers.d/hero_codescalers")
	for _, p := range []string{"shadow", "btrfs", "procfs"} {
		if !strings.Contains(string(sudoers), "/usr/lib/hero_codescalers/plugins/"+p) || !strings.Contains(string(sudoers), "sha256:") {
			t.Errorf("sudoers rules do not pin the installed %s:\n%s", p, sudoers)
		}
	}
	checkInstalledPlugins(t, "/usr/lib/hero_codescalers/plugins")
	if _, err := os.Stat("/etc/hero_codescalers/policy.toml"); err != nil {
		t.Errorf("no policy after install: %v", err)
	}
	unit := "/lib/systemd/system/hero_codescalers.service"
	verifyUnit(t, unit)

	h, journal := startAsUnit(t, parseUnit(t, unit))
	hostLog := func() string { b, _ := os.ReadFile(journal); return string(b) }
	home := "/root"
	cli := func(args ...string) (string, string, int) {
		cmd := exec.Command("/usr/bin/hero_codescalers", args...)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return o.String(), e.String(), code
	}
	if o, e, code := cli("status"); code != 0 || !strings.Contains(o, "system: the system host answers on /run/hero_codescalers/rpc.sock") {
		t.Fatalf("status of the installed host: exit %d\n%s%s\nhost log:\n%s", code, o, e, hostLog())
	}
	// A socket dir left by an own host run earlier (root's `make run`,
	// stopped or killed, its socket file still there) does not hide the
	// running system host.
	home = t.TempDir()
	stale := filepath.Join(home, "hero", "var", "sockets", "hero_codescalers")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if l, err := net.Listen("unix", filepath.Join(stale, "rpc.sock")); err == nil {
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
	}
	if o, e, code := cli("status"); code != 0 || !strings.Contains(o, "system: the system host answers on") {
		t.Fatalf("status beside a stale own socket dir: exit %d\n%s%s", code, o, e)
	}
	home = "/root"
	if o, e, code := cli("user-create", "debuser", "--quota", "1G"); code != 0 || !strings.Contains(o, "created user debuser") {
		t.Fatalf("user-create: exit %d\n%s%s\nhost log:\n%s", code, o, e, hostLog())
	}
	if fi, err := os.Stat("/home/debuser/.ssh"); err != nil || !fi.IsDir() {
		t.Errorf("no home for debuser: %v", err)
	}
	if o, e, code := cli("user-delete", "debuser"); code != 0 {
		t.Fatalf("user-delete: exit %d\n%s%s\nhost log:\n%s", code, o, e, hostLog())
	}
	h.stop()
	if l := hostLog(); !strings.Contains(l, "<6>level=INFO msg=\"host serving\"") || strings.Contains(l, "time=") {
		t.Errorf("on the journal stream each line carries its priority and no time:\n%s", l)
	}

	mustRun(t, "dpkg", "--purge", "hero-codescalers")
	after := machineState(t)
	for _, f := range []string{"passwd", "shadow", "group", "gshadow"} {
		if after[f] != before[f] {
			t.Errorf("purge left /etc/%s changed:\n--- before\n%s\n--- after\n%s", f, before[f], after[f])
		}
	}
	if err := <-lint; err != nil {
		t.Error(err)
	}
	for _, gone := range []string{"/usr/bin/hero_codescalers", "/usr/lib/hero_codescalers", "/etc/sudoers.d/hero_codescalers", "/etc/hero_codescalers/config.toml", "/var/lib/hero_codescalers"} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s survived the purge", gone)
		}
	}
	debOverAdminDriver(t, deb)
}

// debOverAdminDriver installs the package where the admin already has a
// driver account, made without a home (useradd's default on Debian): the
// install uses it as it is, makes the host's state dir for it, and the
// purge keeps the account, which the install did not make.
func debOverAdminDriver(t *testing.T, deb string) {
	t.Helper()
	if exec.Command("id", "-u", "--", "driver").Run() != nil {
		mustRun(t, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--", "driver")
		t.Cleanup(func() { _ = exec.Command("userdel", "--", "driver").Run() })
	}
	os.RemoveAll("/var/lib/hero_codescalers")
	before := machineState(t)
	out := mustRun(t, "dpkg", "-i", deb)
	if !strings.Contains(out, "account driver exists") {
		t.Errorf("postinst over an existing driver:\n%s", out)
	}
	fi, err := os.Stat("/var/lib/hero_codescalers")
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("the host's state dir after the install: %v %v", fi, err)
	}
	if u, err := user.Lookup("driver"); err != nil || strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)) != u.Uid {
		t.Errorf("the state dir is not the driver's: %v", err)
	}
	if made, _ := os.ReadFile("/var/lib/hero_codescalers/.made-by-package"); strings.Contains(string(made), "driver") {
		t.Errorf("the install claims the admin's driver account: %q", made)
	}
	mustRun(t, "dpkg", "--purge", "hero-codescalers")
	if exec.Command("id", "-u", "--", "driver").Run() != nil {
		t.Error("the purge removed the admin's driver account")
	}
	after := machineState(t)
	for _, f := range []string{"passwd", "shadow", "group", "gshadow"} {
		if after[f] != before[f] {
			t.Errorf("purge left /etc/%s changed:\n--- before\n%s\n--- after\n%s", f, before[f], after[f])
		}
	}
}

// checkInstalledPlugins: dpkg installed the built-in plugins as one
// binary hard-linked by every plugin's name (issue 15: under 60 MB for all
// of them, counted once per file), and the package lists each name.
func checkInstalledPlugins(t *testing.T, dir string) {
	t.Helper()
	listed := mustRun(t, "dpkg", "-L", "hero-codescalers")
	inodes := map[uint64]int64{}
	linked := slices.DeleteFunc(slices.Clone(builtinPlugins), standalone)
	for _, p := range append([]string{multiCall}, linked...) {
		path := filepath.Join(dir, p)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, want a regular file (a hard link)", path, err)
			continue
		}
		inodes[fi.Sys().(*syscall.Stat_t).Ino] = fi.Size()
		if !strings.Contains(listed, path+"\n") {
			t.Errorf("dpkg -L does not list %s", path)
		}
	}
	var total int64
	for _, size := range inodes {
		total += size
	}
	if len(inodes) != 1 || total > 60<<20 {
		t.Errorf("the %d plugins are %d files of %d bytes in all; want one binary under 60 MB", len(linked), len(inodes), total)
	}
	t.Logf("installed plugins: %d names, %d file, %.1f MB", len(linked), len(inodes), float64(total)/(1<<20))
}

// lintInBackground runs lintian --fail-on error on the package while the
// test installs and runs it (lintian takes as long as the rest, on two
// cores); the channel gets its verdict.
func lintInBackground(t *testing.T, deb string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Log("lintian not installed (scripts/deps.sh installs it): the package is not linted")
		done <- nil
		return done
	}
	copyDeb := filepath.Join(t.TempDir(), filepath.Base(deb)) // dpkg's view of /usr changes meanwhile; lintian reads its own copy
	b, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(copyDeb, b, 0o644)
	go func() {
		out, err := exec.Command("lintian", "--fail-on", "error", copyDeb).CombinedOutput()
		if err != nil || strings.Contains(string(out), "\nE: ") || strings.HasPrefix(string(out), "E: ") {
			done <- fmt.Errorf("lintian: %v\n%s", err, out)
			return
		}
		done <- nil
	}()
	return done
}

// buildDeb stages the tests' binaries, stripped, and packs them with
// make deb-pkg (lintian runs beside the install: lintInBackground).
func buildDeb(t *testing.T) string {
	t.Helper()
	tree := buildTree(t, "")
	stage, out := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(stage, "lib", "plugins"), 0o755)
	copyStripped(t, filepath.Join(tree, "hero_codescalers"), filepath.Join(stage, "hero_codescalers"))
	copyStripped(t, filepath.Join(tree, "hero_codescalers_server"), filepath.Join(stage, "lib", "hero_codescalers_server"))
	multi := filepath.Join(stage, "lib", "plugins", multiCall)
	copyStripped(t, filepath.Join(tree, "plugins", multiCall), multi)
	for _, p := range builtinPlugins {
		if standalone(p) {
			copyStripped(t, filepath.Join(tree, "plugins", p), filepath.Join(stage, "lib", "plugins", p))
		} else if err := os.Link(multi, filepath.Join(stage, "lib", "plugins", p)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(tree, "plugins", p+".manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(stage, "lib", "plugins", p+".manifest.json"), b, 0o644)
	}
	began := time.Now()
	cmd := exec.Command("make", "-s", "-C", "..", "deb-pkg", "STAGE="+stage, "BIN="+out, "DEB_VERSION=0.0.1+test", "LINT=0")
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make deb-pkg: %v\n%s", err, b)
	}
	t.Logf("packed in %s", time.Since(began).Round(time.Millisecond))
	return filepath.Join(out, "hero-codescalers_0.0.1+test_amd64.deb")
}

func copyStripped(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "strip", "--strip-unneeded", dst)
}

// privateUsrVarRun gives the sandbox a /usr and a /var of its own (overlays
// whose writes land in a temp dir) and a fresh /run, so dpkg installs into
// them and never into the machine's; the test's cleanup unmounts them.
func privateUsrVarRun(t *testing.T) {
	t.Helper()
	scratch := t.TempDir()
	for _, dir := range []string{"/usr", "/var"} {
		up, work := filepath.Join(scratch, dir, "up"), filepath.Join(scratch, dir, "work")
		os.MkdirAll(up, 0o755)
		os.MkdirAll(work, 0o755)
		opts := "lowerdir=" + dir + ",upperdir=" + up + ",workdir=" + work
		if err := syscall.Mount("overlay", dir, "overlay", 0, opts); err != nil {
			t.Skipf("overlay on %s: %v (overlayfs needed for a private /usr)", dir, err)
		}
		t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	}
	if err := syscall.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount("/run", syscall.MNT_DETACH) })
	os.MkdirAll("/run/lock", 0o1777)
}

// verifyUnit runs systemd-analyze verify on the installed unit; a machine
// without it skips with a message (CI installs the systemd package).
func verifyUnit(t *testing.T, unit string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed (scripts/deps.sh installs the systemd package): the unit is not verified")
		return
	}
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	if err != nil || strings.Contains(string(out), "hero_codescalers.service:") {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
}

// unitService is the [Service] section of a unit, key to values.
type unitService map[string][]string

func parseUnit(t *testing.T, path string) unitService {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	svc, section := unitService{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			section = line
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && section == "[Service]" {
			svc[k] = append(svc[k], v)
		}
	}
	return svc
}

func (u unitService) get(k string) string {
	if v := u[k]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// startAsUnit runs the unit's ExecStart the way systemd would: as its
// User and Group, with its RuntimeDirectory and StateDirectory made,
// owned by that user and exported, stderr as the journal stream, and a
// notify socket that must get READY=1.
func startAsUnit(t *testing.T, u unitService) (*hostUnderTest, string) {
	t.Helper()
	if u.get("Type") != "notify" {
		t.Fatalf("Type=%s, want notify", u.get("Type"))
	}
	usr, err := user.Lookup(u.get("User"))
	if err != nil {
		t.Fatalf("the unit's User=%s: %v", u.get("User"), err)
	}
	uid, _ := strconv.Atoi(usr.Uid)
	gid, _ := strconv.Atoi(usr.Gid)
	run := filepath.Join("/run", u.get("RuntimeDirectory"))
	state := filepath.Join("/var/lib", u.get("StateDirectory"))
	for dir, mode := range map[string]string{run: u.get("RuntimeDirectoryMode"), state: u.get("StateDirectoryMode")} {
		m, _ := strconv.ParseUint(mode, 8, 32)
		os.MkdirAll(dir, os.FileMode(m))
		os.Chmod(dir, os.FileMode(m))
		os.Chown(dir, uid, gid)
	}
	// systemd's notify socket is one the service's user can reach.
	os.MkdirAll("/run/systemd", 0o755)
	notify := "/run/systemd/notify-hc-test"
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	os.Chmod(notify, 0o777)

	argv := strings.Fields(u.get("ExecStart"))
	h := &hostUnderTest{t: t, log: &logBuffer{}, done: make(chan struct{})}
	h.cmd = exec.Command(argv[0], argv[1:]...)
	logFile, err := os.CreateTemp(t.TempDir(), "journal")
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	syscall.Fstat(int(logFile.Fd()), &st)
	h.cmd.Env = []string{
		"HOME=" + usr.HomeDir, "USER=" + usr.Username, "LOGNAME=" + usr.Username,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"RUNTIME_DIRECTORY=" + run, "STATE_DIRECTORY=" + state, "NOTIFY_SOCKET=" + notify,
		"JOURNAL_STREAM=" + strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10),
	}
	h.cmd.Dir = "/"
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, Setsid: true}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd, done := h.cmd, h.done
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(h.kill)

	buf := make([]byte, 4096)
	ln.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		n, err := ln.Read(buf)
		if err != nil {
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("no READY=1 from the host: %v\n%s", err, b)
		}
		if strings.Contains(string(buf[:n]), "READY=1") {
			break
		}
	}
	c := client.New(filepath.Join(run, "rpc.sock"))
	defer c.Close()
	waitFor(t, "the installed host's plugins", 30*time.Second, func() bool {
		hr, err := c.GetHealth(context.Background())
		return err == nil && hr.Status == "ok"
	})
	return h, logFile.Name()
}
