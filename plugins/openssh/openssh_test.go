package openssh

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/sshfiles"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

var ctx = context.Background()

func self() (uint32, uint32) { return fsutiltest.Owner() }

// usr is the managed user (the test's own ids) with home.
func usr(home string, uid, gid uint32) lifecycle.User {
	return lifecycle.User{Name: "alice", UID: uid, GID: gid, Home: home}
}

// newTest returns an OpenSSH within a fence whose root is a temporary
// directory, and a home beneath it.
func newTest(t *testing.T) (*OpenSSH, string) {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "alice")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return New(fsutiltest.New(t, "openssh", root).Fence), home
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func TestGenerateKeypair(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	spec := sshkeys.KeypairSpec{User: usr(home, uid, gid), Dir: filepath.Join(home, ".ssh"), Comment: "alice@node"}
	kp, err := o.GenerateKeypair(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if mode(t, spec.Dir) != os.ModeDir|0o700 || mode(t, kp.PrivatePath) != 0o600 || mode(t, kp.PublicPath) != 0o644 {
		t.Fatalf("modes %v %v %v", mode(t, spec.Dir), mode(t, kp.PrivatePath), mode(t, kp.PublicPath))
	}
	priv, _ := os.ReadFile(kp.PrivatePath)
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil || ssh.FingerprintSHA256(signer.PublicKey()) != kp.Fingerprint || signer.PublicKey().Type() != "ssh-ed25519" {
		t.Fatalf("private key: %v", err)
	}
	if pub, _ := os.ReadFile(kp.PublicPath); string(pub) != kp.PublicKey+"\n" || !strings.HasSuffix(kp.PublicKey, " alice@node") {
		t.Fatalf("public file %q, returned %q", pub, kp.PublicKey)
	}
	again, err := o.GenerateKeypair(ctx, spec)
	if err != nil || !reflect.DeepEqual(again, kp) {
		t.Fatalf("second call: %v %+v", err, again)
	}
	os.Remove(kp.PublicPath)
	os.Chmod(kp.PrivatePath, 0o644)
	if again, err = o.GenerateKeypair(ctx, spec); err != nil || again.Fingerprint != kp.Fingerprint {
		t.Fatalf("public key not rederived: %v", err)
	}
	if mode(t, kp.PrivatePath) != 0o600 || mode(t, kp.PublicPath) != 0o644 {
		t.Fatal("modes not repaired")
	}
	spec.Overwrite = true
	if again, err = o.GenerateKeypair(ctx, spec); err != nil || again.Fingerprint == kp.Fingerprint {
		t.Fatalf("overwrite kept the key: %v", err)
	}
}

func TestGenerateKeypairRefusals(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	victim := filepath.Join(home, "victim")
	os.WriteFile(victim, []byte("secret"), 0o600)
	os.Mkdir(filepath.Join(home, "elsewhere"), 0o700)
	os.Symlink(filepath.Join(home, "elsewhere"), filepath.Join(home, ".ssh"))
	_, err := o.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: usr(home, uid, gid), Dir: filepath.Join(home, ".ssh")})
	if !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("symlinked .ssh: %v", err)
	}
	dir := filepath.Join(home, "keys")
	os.Mkdir(dir, 0o700)
	spec := sshkeys.KeypairSpec{User: usr(home, uid, gid), Dir: dir}
	os.Symlink(victim, filepath.Join(dir, sshfiles.PrivateName))
	if _, err := o.GenerateKeypair(ctx, spec); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("symlinked private key: %v", err)
	}
	os.Remove(filepath.Join(dir, sshfiles.PrivateName))
	os.Link(victim, filepath.Join(dir, sshfiles.PrivateName))
	if _, err := o.GenerateKeypair(ctx, spec); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("hard-linked private key: %v", err)
	}
	os.Remove(filepath.Join(dir, sshfiles.PrivateName))
	os.WriteFile(filepath.Join(dir, sshfiles.PrivateName), []byte("garbage"), 0o600)
	if _, err := o.GenerateKeypair(ctx, spec); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("garbage private key: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret" || mode(t, victim) != 0o600 {
		t.Fatal("the victim changed")
	}
}

func TestAuthorizedKeys(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	k1 := `no-pty,from="10.0.0.0/8" ` + sshkeys.FakePublicKey("one@laptop")
	k2 := sshkeys.FakePublicKey("two")
	p1, _ := sshkeys.ParseAuthorizedKey(k1)
	if a, err := o.AddAuthorizedKeys(ctx, usr(home, uid, gid), []string{k1, k2, k1}); err != nil || a.Added != 2 {
		t.Fatalf("add: %+v %v", a, err)
	}
	same := strings.Replace(k1, "one@laptop", "renamed", 1)
	if a, err := o.AddAuthorizedKeys(ctx, usr(home, uid, gid), []string{same, k2}); err != nil || a.Added != 0 {
		t.Fatalf("add again: %+v %v", a, err)
	}
	path := filepath.Join(home, ".ssh", authorizedName)
	if mode(t, path) != 0o600 || mode(t, filepath.Dir(path)) != os.ModeDir|0o700 {
		t.Fatalf("modes %v %v", mode(t, path), mode(t, filepath.Dir(path)))
	}
	keys, err := o.ListAuthorizedKeys(ctx, usr(home, uid, gid))
	if err != nil || len(keys) != 2 {
		t.Fatalf("list: %v %v", keys, err)
	}
	if k := keys[0]; k.Fingerprint != p1.Fingerprint || k.Options != `no-pty,from="10.0.0.0/8"` || k.Comment != "one@laptop" || k.Type != "ssh-ed25519" || k.Line != k1 {
		t.Fatalf("first key %+v", k)
	}
	if n, err := o.RemoveAuthorizedKey(ctx, usr(home, uid, gid), p1.Fingerprint); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if n, err := o.RemoveAuthorizedKey(ctx, usr(home, uid, gid), p1.Fingerprint); err != nil || n != 0 {
		t.Fatalf("remove again: %d %v", n, err)
	}
	if data, _ := os.ReadFile(path); string(data) != k2+"\n" {
		t.Fatalf("file %q", data)
	}
	if n, err := o.RemoveAuthorizedKey(ctx, usr(filepath.Join(home, "nohome"), uid, gid), p1.Fingerprint); err != nil || n != 0 {
		t.Fatalf("remove from a missing home: %d %v", n, err)
	}
}

func TestAuthorizedKeysKeepsOtherLines(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	path := filepath.Join(home, ".ssh", authorizedName)
	old := "# my keys\n\n" + sshkeys.FakePublicKey("mine") + "\nnot a key at all"
	os.WriteFile(path, []byte(old), 0o600)
	k := sshkeys.FakePublicKey("new")
	if a, err := o.AddAuthorizedKeys(ctx, usr(home, uid, gid), []string{k}); err != nil || a.Added != 1 {
		t.Fatalf("add: %+v %v", a, err)
	}
	if data, _ := os.ReadFile(path); string(data) != old+"\n"+k+"\n" {
		t.Fatalf("file %q", data)
	}
}

func TestAuthorizedKeysRefusals(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	_, err := o.AddAuthorizedKeys(ctx, usr(home, uid, gid), []string{sshkeys.FakePublicKey("ok"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== short"})
	if !sdkerr.Is(err, sdkerr.InvalidArgument) || !strings.Contains(err.Error(), "key 2") {
		t.Fatalf("invalid key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".ssh")); err == nil {
		t.Fatal("an invalid request touched the home")
	}
	victim := filepath.Join(home, "shadow")
	os.WriteFile(victim, []byte("root:$6$hash:19000::::::\n"), 0o600)
	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	link := filepath.Join(home, ".ssh", authorizedName)
	os.Symlink(victim, link)
	k := sshkeys.FakePublicKey("x")
	p, _ := sshkeys.ParseAuthorizedKey(k)
	calls := map[string]func() error{
		"add":    func() error { _, err := o.AddAuthorizedKeys(ctx, usr(home, uid, gid), []string{k}); return err },
		"remove": func() error { _, err := o.RemoveAuthorizedKey(ctx, usr(home, uid, gid), p.Fingerprint); return err },
		"list":   func() error { _, err := o.ListAuthorizedKeys(ctx, usr(home, uid, gid)); return err },
	}
	for _, setup := range []func(){
		func() {},
		func() { os.Remove(link); os.Link(victim, link) },
	} {
		setup()
		for name, call := range calls {
			if err := call(); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
				t.Errorf("%s through a link: %v", name, err)
			}
		}
	}
	if b, _ := os.ReadFile(victim); !strings.HasPrefix(string(b), "root:") {
		t.Fatal("the victim changed")
	}
}

func TestConcurrentAddsLoseNothing(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := o.AddAuthorizedKeys(ctx, usr(home, uid, gid), []string{sshkeys.FakePublicKey("k" + string(rune('a'+i)))})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := o.ListAuthorizedKeys(ctx, usr(home, uid, gid)); err != nil || len(keys) != n {
		t.Fatalf("listed %d keys, want %d (%v)", len(keys), n, err)
	}
}

// TestDeferredSyncWritesTheSameFiles: under volumes.DeferSync the keypair
// and authorized_keys come out as without it (only the fsyncs are left to
// the host's Sync).
func TestDeferredSyncWritesTheSameFiles(t *testing.T) {
	o, home := newTest(t)
	uid, gid := self()
	dctx := volumes.DeferSync(ctx)
	kp, err := o.GenerateKeypair(dctx, sshkeys.KeypairSpec{User: usr(home, uid, gid), Dir: filepath.Join(home, ".ssh")})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := o.AddAuthorizedKeys(dctx, usr(home, uid, gid), []string{kp.PublicKey}); err != nil || a.Added != 1 {
		t.Fatalf("add: %+v %v", a, err)
	}
	if len(kp.Unsynced) != 2 || kp.Unsynced[0] != kp.PrivatePath || kp.Unsynced[1] != kp.PublicPath {
		t.Errorf("keypair's unsynced files %v, want both halves", kp.Unsynced)
	}
	if mode(t, kp.PrivatePath) != 0o600 || mode(t, kp.PublicPath) != 0o644 || mode(t, authorizedPath(home)) != 0o600 {
		t.Fatalf("modes %v %v %v", mode(t, kp.PrivatePath), mode(t, kp.PublicPath), mode(t, authorizedPath(home)))
	}
	if keys, err := o.ListAuthorizedKeys(ctx, usr(home, uid, gid)); err != nil || len(keys) != 1 || keys[0].Fingerprint != kp.Fingerprint {
		t.Fatalf("listed %+v %v", keys, err)
	}
	if n, err := o.RemoveAuthorizedKey(dctx, usr(home, uid, gid), kp.Fingerprint); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(home, ".ssh")); len(entries) != 3 {
		t.Errorf("temporary files left: %v", entries)
	}
}
