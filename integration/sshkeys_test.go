//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// sshUser is a sandbox account with the password field "*" (key logins
// only) and a 0755 home under /home, removed at cleanup.
type sshUser struct {
	name, home string
	uid, gid   uint32
}

// lu is the user as the sshkeys contract names it.
func (u sshUser) lu() lifecycle.User {
	return lifecycle.User{Name: u.name, UID: u.uid, GID: u.gid, Home: u.home}
}

func newSSHUser(t *testing.T, name string) sshUser {
	t.Helper()
	home := "/home/" + name
	managedUser(t, name, "--home-dir", home)
	t.Cleanup(func() { os.RemoveAll(home) })
	mustRun(t, "usermod", "--password", "*", "--", name)
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chown(home, uid, gid)
	return sshUser{name: name, home: home, uid: uint32(uid), gid: uint32(gid)}
}

// wantFile checks a path's type bits, permission bits and owner exactly.
func wantFile(t *testing.T, path string, mode uint32, uid, gid uint32) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode != mode || st.Uid != uid || st.Gid != gid {
		t.Errorf("%s: mode %o owner %d:%d, want %o %d:%d", path, st.Mode, st.Uid, st.Gid, mode, uid, gid)
	}
}

// TestOpenSSHPlugin runs the openssh plugin: its keys are what ssh-keygen
// reads, authorized_keys is kept exactly, no symlink is followed, and a
// real sshd lets the user in with the generated key, until the account is
// locked.
func TestOpenSSHPlugin(t *testing.T) {
	sandbox.Require(t)
	bin := buildPlugin(t, "openssh")
	k := dispense[sshkeys.SSHKeys](t, startPlugin(t, bin, aclEnv...), sdk.ConcernSSHKeys)
	alice := newSSHUser(t, "hcsshalice")
	var kp sshkeys.Keypair
	t.Run("keypair", func(t *testing.T) { kp = sshKeypair(t, k, alice) })
	t.Run("authorized-keys", func(t *testing.T) { sshAuthorized(t, k, alice, kp) })
	t.Run("symlinks", func(t *testing.T) { sshSymlinks(t, k) })
	t.Run("sshd-login", func(t *testing.T) { sshLogin(t, k, alice, kp) })
	t.Run("plugintest", func(t *testing.T) {
		plugintest.Run(t, bin, plugintest.Options{ScratchDir: aclScratch(t), Destructive: true, Env: aclEnv})
	})
}

func sshKeypair(t *testing.T, k sshkeys.SSHKeys, u sshUser) sshkeys.Keypair {
	ctx := context.Background()
	spec := sshkeys.KeypairSpec{User: u.lu(), Dir: filepath.Join(u.home, ".ssh"), Comment: u.name + "@hc"}
	kp, err := k.GenerateKeypair(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	wantFile(t, spec.Dir, unix.S_IFDIR|0o700, u.uid, u.gid)
	wantFile(t, kp.PrivatePath, unix.S_IFREG|0o600, u.uid, u.gid)
	wantFile(t, kp.PublicPath, unix.S_IFREG|0o644, u.uid, u.gid)
	listed := strings.Fields(mustRun(t, "ssh-keygen", "-l", "-f", kp.PublicPath))
	if len(listed) < 4 || listed[1] != kp.Fingerprint || listed[2] != u.name+"@hc" || listed[len(listed)-1] != "(ED25519)" {
		t.Fatalf("ssh-keygen -l: %v, want %s", listed, kp.Fingerprint)
	}
	derived := strings.Fields(mustRun(t, "ssh-keygen", "-y", "-f", kp.PrivatePath))
	if mine := strings.Fields(kp.PublicKey); len(derived) < 2 || derived[0] != mine[0] || derived[1] != mine[1] {
		t.Fatalf("ssh-keygen -y: %v, plugin said %q", derived, kp.PublicKey)
	}
	before, _ := os.ReadFile(kp.PrivatePath)
	again, err := k.GenerateKeypair(ctx, spec)
	after, _ := os.ReadFile(kp.PrivatePath)
	if err != nil || again.Fingerprint != kp.Fingerprint || again.PublicKey != kp.PublicKey || !bytes.Equal(before, after) {
		t.Fatalf("a second GenerateKeypair changed the pair: %v %+v", err, again)
	}
	return kp
}

func sshAuthorized(t *testing.T, k sshkeys.SSHKeys, u sshUser, kp sshkeys.Keypair) {
	ctx := context.Background()
	laptop := filepath.Join(t.TempDir(), "laptop")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f", laptop)
	raw, _ := os.ReadFile(laptop + ".pub")
	withOpts := `no-pty,from="127.0.0.1" ` + strings.TrimSpace(string(raw))
	lp, _ := sshkeys.ParseAuthorizedKey(withOpts)
	if a, err := k.AddAuthorizedKeys(ctx, u.lu(), []string{kp.PublicKey, withOpts}); err != nil || a.Added != 2 {
		t.Fatalf("add: %+v %v", a, err)
	}
	if a, err := k.AddAuthorizedKeys(ctx, u.lu(), []string{strings.TrimSpace(string(raw)), kp.PublicKey}); err != nil || a.Added != 0 {
		t.Fatalf("add again (one without its options): %+v %v", a, err)
	}
	path := filepath.Join(u.home, ".ssh", "authorized_keys")
	wantFile(t, path, unix.S_IFREG|0o600, u.uid, u.gid)
	if data, _ := os.ReadFile(path); string(data) != kp.PublicKey+"\n"+withOpts+"\n" {
		t.Fatalf("authorized_keys:\n%s", data)
	}
	listed := mustRun(t, "ssh-keygen", "-l", "-f", path)
	if !strings.Contains(listed, kp.Fingerprint) || !strings.Contains(listed, lp.Fingerprint) {
		t.Fatalf("ssh-keygen -l of authorized_keys:\n%s", listed)
	}
	keys, err := k.ListAuthorizedKeys(ctx, u.lu())
	if err != nil || len(keys) != 2 || keys[1].Options != `no-pty,from="127.0.0.1"` || keys[1].Comment != "me@laptop" || keys[1].Fingerprint != lp.Fingerprint {
		t.Fatalf("list: %+v %v", keys, err)
	}
	for want := 1; want >= 0; want-- {
		if n, err := k.RemoveAuthorizedKey(ctx, u.lu(), lp.Fingerprint); err != nil || n != want {
			t.Fatalf("remove: %d %v, want %d", n, err, want)
		}
	}
	wantFile(t, path, unix.S_IFREG|0o600, u.uid, u.gid)
	if keys, _ := k.ListAuthorizedKeys(ctx, u.lu()); len(keys) != 1 || keys[0].Fingerprint != kp.Fingerprint {
		t.Fatalf("after remove: %+v", keys)
	}
	_, err = k.AddAuthorizedKeys(ctx, u.lu(), []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== broken"})
	if !sdkerr.Is(err, sdkerr.InvalidArgument) || !strings.Contains(err.Error(), "key 1") {
		t.Fatalf("invalid key: %v", err)
	}
}

// sshSymlinks plants the links a user could: ~/.ssh → /etc, and
// authorized_keys → /etc/shadow (a symlink, then a hard link); every call
// is refused and the targets stay as they were.
func sshSymlinks(t *testing.T, k sshkeys.SSHKeys) {
	ctx := context.Background()
	m := newSSHUser(t, "hcsshmallory")
	key := sshkeys.FakePublicKey("mallory")
	fp, _ := sshkeys.ParseAuthorizedKey(key)
	shadow, _ := os.ReadFile("/etc/shadow")
	calls := func(t *testing.T, what string) {
		t.Helper()
		_, errAdd := k.AddAuthorizedKeys(ctx, m.lu(), []string{key})
		_, errRm := k.RemoveAuthorizedKey(ctx, m.lu(), fp.Fingerprint)
		_, errLs := k.ListAuthorizedKeys(ctx, m.lu())
		_, errGen := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: m.lu(), Dir: filepath.Join(m.home, ".ssh")})
		for name, err := range map[string]error{"add": errAdd, "remove": errRm, "list": errLs, "generate": errGen} {
			if what == "hard link" && name == "generate" {
				continue // id_ed25519 is not the link here
			}
			if !sdkerr.Is(err, sdkerr.FailedPrecondition) {
				t.Errorf("%s with %s: %v", name, what, err)
			}
		}
	}
	os.Symlink("/etc", filepath.Join(m.home, ".ssh"))
	calls(t, ".ssh → /etc")
	os.Remove(filepath.Join(m.home, ".ssh"))
	os.Mkdir(filepath.Join(m.home, ".ssh"), 0o700)
	link := filepath.Join(m.home, ".ssh", "authorized_keys")
	os.Symlink("/etc/shadow", link)
	os.Symlink("/etc/shadow", filepath.Join(m.home, ".ssh", "id_ed25519"))
	calls(t, "authorized_keys → /etc/shadow")
	// A hard link needs the same filesystem: link to a root file on /home.
	secret := filepath.Join(filepath.Dir(aclScratch(t)), "secret")
	os.WriteFile(secret, []byte("root-only\n"), 0o600)
	os.Remove(link)
	if err := os.Link(secret, link); err != nil {
		t.Fatal(err)
	}
	calls(t, "hard link")
	for _, p := range []string{"/etc/authorized_keys", "/etc/id_ed25519"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created through the .ssh symlink", p)
		}
	}
	if now, _ := os.ReadFile("/etc/shadow"); !bytes.Equal(now, shadow) {
		t.Error("/etc/shadow changed")
	}
	if b, _ := os.ReadFile(secret); string(b) != "root-only\n" {
		t.Error("the hard-linked file changed")
	}
	wantFile(t, secret, unix.S_IFREG|0o600, 0, 0)
}

// sshLogin starts a real sshd (UsePAM no, StrictModes yes, only the user
// allowed) on 127.0.0.1 with a host key the plugin generated, and logs in
// with the user's key.
func sshLogin(t *testing.T, k sshkeys.SSHKeys, u sshUser, kp sshkeys.Keypair) {
	// posixacl grants a traverse entry on the home, as the host does for
	// its driver account: StrictModes must still accept the home.
	aclUser(t, "hcsshdriver")
	a := dispense[acl.ACL](t, startPlugin(t, buildPlugin(t, "posixacl"), aclEnv...), sdk.ConcernACL)
	if err := a.Grant(context.Background(), u.home, []acl.Entry{user1("hcsshdriver", "x")}, false); err != nil {
		t.Fatal(err)
	}
	// The host key is root's, outside any home: ssh-keygen makes it (the
	// plugin gives keys to managed accounts, beneath the home roots, only).
	hostKey := filepath.Join(t.TempDir(), "hostkey")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hc-test-host", "-f", hostKey)
	port, logs := startSSHD(t, sshdOptions{HostKey: hostKey, AllowUsers: u.name})
	login := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ssh", append(sshArgs(kp.PrivatePath, port), u.name+"@127.0.0.1", "echo", "in")...).CombinedOutput()
		if err == nil && !strings.Contains(string(out), "in") {
			err = fmt.Errorf("unexpected output %q", out)
		}
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := login(); err != nil {
		t.Fatalf("key login: %v\nsshd:\n%s", err, logs)
	}
	// StrictModes is on: a world-writable home locks the keys out. (Debian's
	// sshd lets a group-writable home pass when the group is the user's
	// private one; upstream does not, so the acl plugins refuse both.)
	os.Chmod(u.home, 0o757)
	if err := login(); err == nil {
		t.Fatalf("login with a world-writable home succeeded; StrictModes is off?\nsshd:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "bad ownership or modes for directory "+u.home) {
		t.Errorf("sshd refused for another reason:\n%s", logs)
	}
	os.Chmod(u.home, 0o755)
	if err := login(); err != nil {
		t.Fatalf("key login after restoring the home: %v", err)
	}
	mustRun(t, "usermod", "--lock", "--expiredate", "1", "--", u.name)
	if err := login(); err == nil {
		t.Fatalf("login after usermod -L --expiredate 1 succeeded\nsshd:\n%s", logs)
	}
	if l := logs.String(); !strings.Contains(l, "account is locked") && !strings.Contains(l, "has expired") {
		t.Errorf("sshd gave another reason for the refusal:\n%s", l)
	}
}
