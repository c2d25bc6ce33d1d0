package authorizedkeysd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

var ctx = context.Background()

// newTest is a KeysD whose keys directory is an extra root of its policy
// (the sshkeys concern's), beside a home root; files go to root, so the
// test needs it.
func newTest(t *testing.T) (*KeysD, *fsutiltest.Env, lifecycle.User) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("authorizedkeysd writes root's files: run as root (CI does)")
	}
	base := t.TempDir()
	homes, keys := filepath.Join(base, "home"), filepath.Join(base, "authorized_keys.d")
	os.Mkdir(homes, 0o755)
	e := fsutiltest.NewWith(t, "authorizedkeysd", func(p *policy.Policy) {
		p.Roots = map[string][]string{"authorizedkeysd": {keys}}
	}, homes)
	u := lifecycle.User{Name: e.Name, UID: e.UID, GID: e.GID, Home: filepath.Join(homes, e.Name)}
	return New(e.Fence, keys), e, u
}

// TestKeysInTheirOwnRoot: a managed user's keys go to <dir>/<user>, root's
// and 0644 in a root-owned 0755 directory the plugin makes, synced by the
// plugin (nothing left for the host); read back, removed, and forgotten.
func TestKeysInTheirOwnRoot(t *testing.T) {
	k, _, u := newTest(t)
	if r := k.Probe(ctx); !r.Ready {
		t.Fatalf("probe: %+v", r)
	}
	k1, k2 := sshkeys.FakePublicKey("one"), sshkeys.FakePublicKey("two")
	a, err := k.AddAuthorizedKeys(ctx, u, []string{k1, k2, k1})
	if err != nil || a.Added != 2 || a.Unsynced != nil {
		t.Fatalf("add: %+v %v", a, err)
	}
	file := filepath.Join(k.Dir, u.Name)
	var st unix.Stat_t
	if err := unix.Lstat(file, &st); err != nil || st.Uid != 0 || st.Gid != 0 || st.Mode != unix.S_IFREG|0o644 {
		t.Fatalf("%s: %+v %v", file, st, err)
	}
	if err := unix.Lstat(k.Dir, &st); err != nil || st.Uid != 0 || st.Mode&0o777 != 0o755 {
		t.Fatalf("%s: mode %o uid %d %v", k.Dir, st.Mode, st.Uid, err)
	}
	if data, _ := os.ReadFile(file); string(data) != k1+"\n"+k2+"\n" {
		t.Fatalf("file %q", data)
	}
	p1, _ := sshkeys.ParseAuthorizedKey(k1)
	if n, err := k.RemoveAuthorizedKey(ctx, u, p1.Fingerprint); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if keys, err := k.ListAuthorizedKeys(ctx, u); err != nil || len(keys) != 1 {
		t.Fatalf("list: %+v %v", keys, err)
	}
	f, err := k.Forget(ctx, u)
	if err != nil || len(f.Removed) != 1 || f.Removed[0] != file {
		t.Fatalf("forget: %+v %v", f, err)
	}
	if _, err := os.Lstat(file); !os.IsNotExist(err) {
		t.Fatalf("the file survived Forget: %v", err)
	}
	if f, err := k.Forget(ctx, u); err != nil || len(f.Removed) != 0 {
		t.Fatalf("forget again: %+v %v", f, err)
	}
	if keys, err := k.ListAuthorizedKeys(ctx, u); err != nil || len(keys) != 0 {
		t.Fatalf("a user re-created under the name sees %+v %v", keys, err)
	}
}

// TestTrustsNothingItIsTold: only managed accounts whose uid the account
// files confirm; Forget removes a stale file of a name no account has,
// never an unmanaged account's; a link at a user's file is refused and
// its target stays.
func TestTrustsNothingItIsTold(t *testing.T) {
	k, e, u := newTest(t)
	e.AddUser(t, "mallory", 4300, false)
	key := []string{sshkeys.FakePublicKey("x")}
	for what, call := range map[string]struct {
		u    lifecycle.User
		code sdkerr.Code
	}{
		"root":             {lifecycle.User{Name: "root", Home: "/root"}, sdkerr.PermissionDenied},
		"an unmanaged one": {lifecycle.User{Name: "mallory", UID: 4300, GID: 4300, Home: u.Home}, sdkerr.PermissionDenied},
		"a wrong uid":      {lifecycle.User{Name: u.Name, UID: u.UID + 1, GID: u.GID, Home: u.Home}, sdkerr.PermissionDenied},
		"no account":       {lifecycle.User{Name: "nobody2", UID: 4400, GID: 4400, Home: u.Home}, sdkerr.NotFound},
	} {
		if _, err := k.AddAuthorizedKeys(ctx, call.u, key); !sdkerr.Is(err, call.code) {
			t.Errorf("add for %s: %v, want %s", what, err, call.code)
		}
	}
	if err := k.Fence.EnsureOwnRoot(k.Dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mallory", "gone"} {
		os.WriteFile(filepath.Join(k.Dir, name), []byte(key[0]+"\n"), 0o644)
	}
	if _, err := k.Forget(ctx, lifecycle.User{Name: "mallory", UID: 4300}); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("forget an unmanaged account: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(k.Dir, "mallory")); err != nil {
		t.Error("an unmanaged account's file was removed")
	}
	if f, err := k.Forget(ctx, lifecycle.User{Name: "gone", UID: 4500}); err != nil || len(f.Removed) != 1 {
		t.Errorf("forget a stale file: %+v %v", f, err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o600)
	os.Symlink(victim, filepath.Join(k.Dir, u.Name))
	if _, err := k.AddAuthorizedKeys(ctx, u, key); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("add through a link: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep\n" {
		t.Errorf("the link's target changed: %q", data)
	}
}

// TestProbeNamesTheMissingRoot: without the policy's root the plugin is not
// ready, and says what to add.
func TestProbeNamesTheMissingRoot(t *testing.T) {
	e := fsutiltest.New(t, "authorizedkeysd", t.TempDir())
	if r := New(e.Fence, KeysDir).Probe(ctx); r.Ready || r.Reason == "" {
		t.Errorf("probe %+v", r)
	}
}
