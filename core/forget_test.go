package core_test

import (
	"context"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// keysOutsideHome is a service whose sshkeys plugin keeps keys outside the
// homes, one file per user, as authorizedkeysd does in
// /etc/ssh/authorized_keys.d: nothing of them goes with the home.
func keysOutsideHome(t *testing.T) (*core.Service, *fakes, core.Store) {
	s, f, st := newUserService(t)
	f.k.Store = "/etc/ssh/authorized_keys.d"
	return s, f, st
}

// TestCreateWithKeysOutsideTheHome: the host syncs what the sshkeys plugin
// says it left unsynced, not a ~/.ssh/authorized_keys it assumed — which
// such a plugin never writes, so the create failed at step sync.
func TestCreateWithKeysOutsideTheHome(t *testing.T) {
	ctx := context.Background()
	s, f, _ := keysOutsideHome(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice", SSHKeys: []string{testKey}}); err != nil {
		t.Fatal(err)
	}
	if got := f.k.Keys("alice"); len(got) != 1 {
		t.Fatalf("keys %+v", got)
	}
	for _, p := range f.v.Synced() {
		if p == "/home/alice/.ssh/authorized_keys" {
			t.Errorf("synced %s, which the plugin never wrote", p)
		}
	}
}

// TestDeleteForgetsTheUser: a delete tells every concern of the user's end
// — the keys first — so a user re-created under the same name inherits no
// key, and user.get reports the keys the plugin has, not the state's.
func TestDeleteForgetsTheUser(t *testing.T) {
	ctx := context.Background()
	s, f, _ := keysOutsideHome(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice", SSHKeys: []string{testKey}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UserDelete(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if got := f.k.Keys("alice"); len(got) != 0 {
		t.Fatalf("alice's key survived her delete: %+v", got)
	}
	for what, forgotten := range map[string][]string{"acl": f.c.Forgotten(), "sessions": f.ss.Forgotten()} {
		if !slices.Equal(forgotten, []string{"alice"}) {
			t.Errorf("%s forgot %v, want [alice]", what, forgotten)
		}
	}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserInspect(ctx, "alice")
	if err != nil || u.Installed == nil || len(u.Installed.Keys) != 0 {
		t.Fatalf("re-created alice: %+v %v", u.Installed, err)
	}
}

// TestRollbackForgetsTheUser: a create that fails after its keys step is
// rolled back through every concern's Forget, at once and by recovery.
func TestRollbackForgetsTheUser(t *testing.T) {
	ctx := context.Background()
	s, f, st := keysOutsideHome(t)
	restore := core.SetFailpointHook(func(n string) error {
		if n == "create.config.before" {
			return core.Errorf(core.Internal, "injected")
		}
		return nil
	})
	_, err := s.UserCreate(ctx, core.CreateSpec{Name: "bob", SSHKeys: []string{testKey}})
	restore()
	if e := core.AsError(err); e == nil || e.Step != "config" {
		t.Fatalf("create: %v", err)
	}
	if got := f.k.Keys("bob"); len(got) != 0 {
		t.Fatalf("bob's key survived the rollback: %+v", got)
	}
	assertNoJournal(t, st)

	// A crash after the keys step: recovery rolls the create back.
	restore = core.SetFailpointHook(func(n string) error {
		if n == "create.keys.after" {
			panic("crash")
		}
		return nil
	})
	func() {
		defer func() { _ = recover() }()
		_, _ = s.UserCreate(ctx, core.CreateSpec{Name: "carol", SSHKeys: []string{testKey}})
	}()
	restore()
	if len(f.k.Keys("carol")) != 1 {
		t.Fatal("setup: carol's key should be there after the crash")
	}
	if _, err := core.NewService(st, core.WithPlugins(f)).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.k.Keys("carol"); len(got) != 0 {
		t.Fatalf("carol's key survived recovery: %+v", got)
	}
}

// TestReconcileReportsKeysTheStateLacks: a key the plugin lists that the
// state never held is drift (an earlier user's, perhaps).
func TestReconcileReportsKeysTheStateLacks(t *testing.T) {
	ctx := context.Background()
	s, f, _ := keysOutsideHome(t)
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "dave"})
	if err != nil {
		t.Fatal(err)
	}
	lu := lifecycle.User{Name: u.Name, UID: uint32(u.UID), GID: uint32(u.GID), Home: u.Home}
	if _, err := f.k.AddAuthorizedKeys(ctx, lu, []string{testKey}); err != nil {
		t.Fatal(err)
	}
	drift, err := s.Reconcile(ctx)
	if err != nil || !slices.ContainsFunc(drift, func(d core.Drift) bool { return d.User == "dave" && d.Detail != "" }) {
		t.Fatalf("drift %+v %v", drift, err)
	}
}
