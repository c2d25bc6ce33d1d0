//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
)

// ensureDriver makes the driver account exist in the sandbox, so create's
// socket ACL step has someone to grant to.
func ensureDriver(t *testing.T) {
	t.Helper()
	if exec.Command("id", "-u", "--", "driver").Run() == nil {
		return
	}
	mustRun(t, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--", "driver")
}

// clientKey makes an ssh keypair for the test's developer.
func clientKey(t *testing.T) (priv, pub string) {
	t.Helper()
	priv = filepath.Join(t.TempDir(), "id_ed25519")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f", priv)
	return priv, priv + ".pub"
}

// wantPath checks a path's owner and mode against DESIGN.md §3.
func wantPath(t *testing.T, path string, uid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || fi.Mode().Perm() != mode {
		t.Errorf("%s: owner %d mode %04o, want %d %04o", path, st.Uid, fi.Mode().Perm(), uid, mode)
	}
}

// TestLifecycleEndToEnd is issue 5's proof, as a user would do it: the CLI
// creates alice, her key logs her in over a real sshd, her session is
// listed and killed, a hand-broken mode is repaired, and her deletion leaves
// passwd, shadow, group, gshadow and the btrfs lists as they were.
func TestLifecycleEndToEnd(t *testing.T) {
	h, before := startNode(t)
	priv, pub := clientKey(t)
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("forge-s3cret-token\n"), 0o600)

	out := h.mustCLI("--json", "user-create", "alice", "--ssh-key-file", pub, "--forge-token-file", tokFile, "--quota", "200M")
	var u core.User
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.UID == 0 || !strings.HasPrefix(u.PublicKey, "ssh-ed25519 ") {
		t.Fatalf("user-create output %q: %v", out, err)
	}
	checkLayout(t, u)

	port, _ := startSSHD(t, sshdOptions{})
	login := exec.Command("ssh", append(sshArgs(priv, port), "alice@127.0.0.1", "id -un")...)
	if b, err := login.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "alice" {
		t.Fatalf("ssh login as alice: %v %s", err, b)
	}
	sess := sessOpen(t, port, "alice", priv, true, "sleep 600")
	var sl api.SessionListResult
	// The session of the pty, running its command: the `id -un` login
	// above may still be tearing down, and a kill of that one alone would
	// leave the pty's session, still logging in, running.
	waitFor(t, "alice's session listed", 10*time.Second, func() bool {
		o, _, code := h.cli("--json", "session-list", "alice")
		return code == 0 && json.Unmarshal([]byte(o), &sl) == nil && len(sl.Sessions) == 1 &&
			sessHasCmd(sessions.Session{PIDs: sl.Sessions[0].PIDs}, "sleep 600")
	})
	h.mustCLI("session-kill", "alice")
	sess.waitExit(t, 10*time.Second)

	os.Chmod("/home/alice", 0o700)
	if o := h.mustCLI("user-reset", "alice"); !strings.Contains(o, "mode of /home/alice was 0700") {
		t.Errorf("user-reset did not report the broken mode: %s", o)
	}
	wantPath(t, "/home/alice", u.UID, 0o755)
	if o := h.mustCLI("user-reset", "alice"); !strings.Contains(o, "nothing to repair") {
		t.Errorf("second reset: %s", o)
	}

	h.mustCLI("user-delete", "alice")
	sameMachine(t, before, machineState(t))
	if _, err := os.Lstat("/home/alice"); !os.IsNotExist(err) {
		t.Errorf("/home/alice survived: %v", err)
	}
	auditHasNoToken(t, h)
}

func checkLayout(t *testing.T, u core.User) {
	t.Helper()
	home := "/home/alice"
	for path, mode := range map[string]os.FileMode{
		home: 0o755, home + "/.ssh": 0o700, home + "/.ssh/authorized_keys": 0o600,
		home + "/.ssh/id_ed25519": 0o600, home + "/.ssh/id_ed25519.pub": 0o644,
		home + "/hero/cfg/hero_cfg.toml": 0o600, home + "/hero/var/sockets": 0o755,
	} {
		wantPath(t, path, u.UID, mode)
	}
	if out, err := exec.Command("btrfs", "subvolume", "show", home).CombinedOutput(); err != nil {
		t.Errorf("%s is not a subvolume: %v %s", home, err, out)
	}
	if out, _ := exec.Command("btrfs", "qgroup", "show", "-re", "--raw", home).CombinedOutput(); !strings.Contains(string(out), "209715200") {
		t.Errorf("qgroup limit of 200M not visible:\n%s", out)
	}
	if out, _ := exec.Command("getfacl", "-p", home+"/hero/var/sockets").CombinedOutput(); !strings.Contains(string(out), "user:driver:r-x") || !strings.Contains(string(out), "default:user:driver:rwx") {
		t.Errorf("driver ACL missing:\n%s", out)
	}
	if b, _ := os.ReadFile(home + "/hero/cfg/hero_cfg.toml"); !strings.Contains(string(b), "forge-s3cret-token") {
		t.Errorf("hero_cfg.toml lacks the token")
	}
	if out, _ := exec.Command("id", "-nG", "--", "alice").Output(); !strings.Contains(string(out), "codescalers") {
		t.Errorf("alice not in the marker group: %s", out)
	}
}

// auditHasNoToken reads the whole audit log and the host log: the forge
// token must be in neither.
func auditHasNoToken(t *testing.T, h *hostUnderTest) {
	t.Helper()
	out := h.mustCLI("--json", "audit-list", "--limit", "1000")
	if !strings.Contains(out, `"user.create"`) || !strings.Contains(out, `"user.delete"`) {
		t.Errorf("audit lacks the calls: %s", out)
	}
	if strings.Contains(out, "forge-s3cret-token") || strings.Contains(h.log.String(), "forge-s3cret-token") {
		t.Error("the forge token leaked into the audit log or the host log")
	}
}
