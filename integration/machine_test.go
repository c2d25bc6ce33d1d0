//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// TestSandboxShowsMachineSystemd: the sandbox hides the machine's /run
// (utmp, sshd) but not its /run/systemd, so the tests see what a host
// started on this machine would see.
func TestSandboxShowsMachineSystemd(t *testing.T) {
	sandbox.Require(t)
	if _, err := os.Stat("/run/systemd"); os.IsNotExist(err) {
		t.Skip("the machine has no /run/systemd")
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/run/systemd", &st); err != nil {
		t.Fatal(err)
	}
	if st.Flags&unix.ST_RDONLY == 0 {
		t.Error("the machine's /run/systemd is writable from the sandbox")
	}
	if err := os.WriteFile("/run/systemd/hc-probe", nil, 0o644); err == nil {
		os.Remove("/run/systemd/hc-probe")
		t.Error("a test could write into the machine's /run/systemd")
	}
}

// staleSystemd gives the test a /run/systemd with a seats dir and no
// logind behind it (the sandbox's /run has no system bus), as on a Debian
// VM or container booted without systemd — whatever this machine runs.
func staleSystemd(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll("/run/systemd", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", "/run/systemd", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on /run/systemd: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount("/run/systemd", 0); err != nil {
			t.Errorf("umount /run/systemd: %v", err)
			_ = unix.Unmount("/run/systemd", unix.MNT_DETACH)
		}
	})
	for _, d := range []string{"/run/systemd/seats", "/run/systemd/sessions", "/run/systemd/users"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("/run/dbus/system_bus_socket"); err == nil {
		t.Fatal("the sandbox's /run has a system bus: logind could answer")
	}
}

// TestSessionsFallBackFromStaleLogind is issue 10 §7's proof: on a
// machine whose /run/systemd/seats exists while logind does not run, the
// host no longer settles for logind (health degraded, session calls and
// even user-delete failing): logind's probe says not ready, the host
// falls back to procfs, says why in its log and in plugin-list, and is
// healthy; session-list, user-lock and user-delete work.
func TestSessionsFallBackFromStaleLogind(t *testing.T) {
	sandbox.Require(t)
	ensureDriver(t)
	quotasOn(t)
	staleSystemd(t)
	h := newHost(t, buildTree(t, ""))
	h.unpinned = true
	h.start() // waits for health "ok"
	var pl api.PluginListResult
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "plugin-list")), &pl); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pl.Plugins, func(p core.PluginInfo) bool { return p.Concern == "sessions" })
	if i < 0 {
		t.Fatalf("plugin-list: %+v", pl)
	}
	s := pl.Plugins[i]
	if s.Name != "procfs" || s.State != "ready" || len(s.PassedOver) != 1 || !strings.Contains(s.PassedOver[0], "logind not ready: systemd-logind is not running") {
		t.Fatalf("sessions: %+v", s)
	}
	if table := h.mustCLI("plugin-list"); !strings.Contains(table, "fallback: logind not ready") {
		t.Errorf("plugin-list's table does not say why:\n%s", table)
	}
	if !strings.Contains(h.log.String(), "falling back to the next plugin") {
		t.Errorf("the host's log does not say it fell back:\n%s", h.log)
	}
	if out := h.mustCLI("health"); !strings.Contains(out, "ok") {
		t.Errorf("health: %s", out)
	}
	h.mustCLI("user-create", "gus")
	h.mustCLI("session-list", "gus")
	h.mustCLI("user-lock", "gus")
	h.mustCLI("user-delete", "gus")
}

// TestSandboxOwnsItsPids: the tests run in a pid namespace of their own,
// whose init is the sandbox's reaper, so nothing judged by uid (userdel's
// "in use", a delete's kill(-1) as the user) sees or reaches another
// sandbox's processes or the machine's.
func TestSandboxOwnsItsPids(t *testing.T) {
	sandbox.Require(t)
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	init, err := os.Readlink("/proc/1/exe")
	if err != nil || init != self {
		t.Fatalf("pid 1 is %q (%v), want the sandbox's own init %q", init, err, self)
	}
	if os.Getppid() != 1 {
		t.Errorf("the tests' parent is pid %d, not the sandbox's init", os.Getppid())
	}
}
