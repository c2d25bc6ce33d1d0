package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// joinService is a service whose policy names ops as a group a managed
// user may join, with devs made by group-create, bob a managed user, and
// docker, video, plugdev and ops present on the machine (the accounts
// fake). The marker group and sudo are reserved names, refused anyway.
func joinService(t *testing.T) (*core.Service, *fakes) {
	t.Helper()
	f := &fakes{a: accounts.NewFake(), v: volumes.NewFake(), c: acl.NewFake(), k: sshkeys.NewFake(), ss: sessions.NewFake()}
	f.v.Elsewhere = f.k.Wrote
	s := core.NewService(memstore.New(), core.WithPlugins(f),
		core.WithUserConfig(core.UserConfig{AllowedGroups: []string{"ops"}, PolicySource: "/etc/hero_codescalers/policy.toml"}))
	ctx := context.Background()
	for _, g := range []string{"docker", "video", "plugdev", "ops"} {
		if _, err := f.a.CreateGroup(ctx, g, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "devs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	return s, f
}

// TestCreateJoinsOnlyManagedGroups: user.create --groups takes the groups
// group-create made and those the policy names; any other (docker, video,
// plugdev, another user's own group, a missing one) is bad input naming
// the group, refused before any plugin runs.
func TestCreateJoinsOnlyManagedGroups(t *testing.T) {
	s, f := joinService(t)
	ctx := context.Background()
	for _, c := range []struct {
		groups []string
		bad    string // the group named in the error; "" when allowed
	}{
		{[]string{"devs"}, ""},
		{[]string{"ops", "devs"}, ""},
		{[]string{"docker"}, "docker"},
		{[]string{"devs", "video"}, "video"},
		{[]string{"plugdev"}, "plugdev"},
		{[]string{"bob"}, "bob"},
		{[]string{"nosuchgroup"}, "nosuchgroup"},
	} {
		name := "u" + strings.Join(c.groups, "")
		_, err := s.UserCreate(ctx, core.CreateSpec{Name: name, Groups: c.groups})
		if c.bad == "" {
			if err != nil {
				t.Errorf("groups %v: %v", c.groups, err)
			}
			continue
		}
		var e *core.Error
		if !core.IsCode(err, core.Invalid) || !asError(err, &e) || e.Field != "groups" || !strings.HasPrefix(e.Message, c.bad+" ") {
			t.Errorf("groups %v: %v, want invalid groups naming %s", c.groups, err, c.bad)
		}
		if _, err := f.a.GetUser(ctx, name); err == nil {
			t.Errorf("groups %v: the account was made", c.groups)
		}
	}
}

// TestBatchJoinsOnlyManagedGroups: in a batch the refused user fails
// alone, the others are made.
func TestBatchJoinsOnlyManagedGroups(t *testing.T) {
	s, f := joinService(t)
	ctx := context.Background()
	out, err := s.UserCreateBatch(ctx, []core.CreateSpec{
		{Name: "b1", Groups: []string{"devs"}}, {Name: "b2", Groups: []string{"docker"}}, {Name: "b3", Groups: []string{"ops"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil || out[2].Err != nil || !core.IsCode(out[1].Err, core.Invalid) || !strings.Contains(out[1].Err.Error(), "docker") {
		t.Fatalf("outcomes: %v / %v / %v", out[0].Err, out[1].Err, out[2].Err)
	}
	if _, err := f.a.GetUser(ctx, "b2"); err == nil {
		t.Error("b2's account was made")
	}
}

func asError(err error, target **core.Error) bool {
	e, ok := err.(*core.Error)
	if ok {
		*target = e
	}
	return ok
}
