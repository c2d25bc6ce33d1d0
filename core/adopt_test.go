package core_test

import (
	"context"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// TestAdoptRebuildsTheState: a host whose state was lost adopts the
// managed accounts the machine still has — uid, groups, keys, quota,
// lock — and only those: a person's own account stays out, and a user the
// state already knows is left as it is.
func TestAdoptRebuildsTheState(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	if _, err := s.GroupCreate(ctx, core.Group{Name: "devs"}); err != nil {
		t.Fatal(err)
	}
	ann, err := s.UserCreate(ctx, core.CreateSpec{Name: "ann", SSHKeys: []string{testKey}, QuotaBytes: 1 << 30, Groups: []string{"devs"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserLock(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.CreateUser(ctx, accounts.UserSpec{Name: "debian", Home: "/home/debian"}); err != nil {
		t.Fatal(err)
	}

	fresh := core.NewService(memstore.New(), core.WithPlugins(f))
	got, err := fresh.Adopt(ctx)
	if err != nil || !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("adopted %v %v", got, err)
	}
	a, err := fresh.UserGet(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if a.UID != ann.UID || a.GID != ann.GID || a.Home != ann.Home || a.QuotaBytes != 1<<30 ||
		!slices.Equal(a.Groups, []string{"devs"}) || len(a.SSHKeys) != 1 || a.PublicKey != ann.PublicKey || a.State != core.UserActive {
		t.Errorf("ann adopted as %+v, created as %+v", a, ann)
	}
	if b, _ := fresh.UserGet(ctx, "bob"); b.State != core.UserLocked {
		t.Errorf("bob adopted as %+v, want locked", b)
	}
	if _, err := fresh.UserGet(ctx, "debian"); !core.IsCode(err, core.NotFound) {
		t.Errorf("a person's own account was adopted: %v", err)
	}
	if again, err := fresh.Adopt(ctx); err != nil || len(again) != 0 {
		t.Errorf("a second adopt: %v %v", again, err)
	}
	drift, err := fresh.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		if d.User != "" {
			t.Errorf("after adopt, reconcile still finds %+v", d)
		}
	}
}
