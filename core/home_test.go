package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// plantHome puts a volume at /home/name owned by owner, with a file in
// it: a home that was there before the create.
func plantHome(t *testing.T, f *fakes, name string, owner volumes.Owner) {
	t.Helper()
	ctx := context.Background()
	home := "/home/" + name
	if _, err := f.v.CreateVolume(ctx, volumes.VolumeSpec{Path: home, Owner: owner}); err != nil {
		t.Fatal(err)
	}
	if err := f.v.WriteFile(ctx, home+"/thesis.tex", []byte("years of work"), owner); err != nil {
		t.Fatal(err)
	}
}

// homeKept checks the planted home is there as it was.
func homeKept(t *testing.T, f *fakes, name string, owner volumes.Owner) {
	t.Helper()
	home := "/home/" + name
	if o, ok := f.v.VolumeOwner(home); !ok || o != owner {
		t.Fatalf("%s: volume %+v %v, want it kept with owner %+v", home, o, ok, owner)
	}
	if file, ok := f.v.File(home + "/thesis.tex"); !ok || string(file.Data) != "years of work" {
		t.Fatalf("%s: the file in the home is gone", home)
	}
}

// TestCreateRefusesForeignHome: a home that is not the new user's (root's,
// another account's, not of the uid asked for) is refused before anything
// runs, with an error naming it, and stays as it was.
func TestCreateRefusesForeignHome(t *testing.T) {
	uid := 3000
	cases := map[string]struct {
		owner volumes.Owner
		uid   *int
	}{
		"root":        {volumes.Owner{Mode: 0o755}, nil},
		"account":     {volumes.Owner{UID: 1500, GID: 1500, Mode: 0o700}, nil},
		"uid differs": {volumes.Owner{UID: 2999, GID: 2999, Mode: 0o755}, &uid},
	}
	for what, c := range cases {
		t.Run(what, func(t *testing.T) {
			ctx := context.Background()
			s, f, st := newUserService(t)
			if _, err := f.a.CreateUser(ctx, accounts.UserSpec{Name: "other", UID: 1500}); err != nil {
				t.Fatal(err)
			}
			plantHome(t, f, "gina", c.owner)
			_, err := s.UserCreate(ctx, core.CreateSpec{Name: "gina", UID: c.uid})
			if e := core.AsError(err); e == nil || e.Code != core.AlreadyExists || !strings.Contains(e.Message, "/home/gina") {
				t.Fatalf("create over %s's home: %v", what, err)
			}
			if _, err := f.a.GetUser(ctx, "gina"); err == nil {
				t.Error("an account was made although the create was refused")
			}
			homeKept(t, f, "gina", c.owner)
			assertNoJournal(t, st)
		})
	}
}

// TestCreateOrphanHomeOfAnotherUID: a home owned by a uid without an
// account is the new user's only if the account gets that uid; when it
// does not, the create fails at the volume step and only its account is
// undone.
func TestCreateOrphanHomeOfAnotherUID(t *testing.T) {
	ctx := context.Background()
	s, f, st := newUserService(t)
	owner := volumes.Owner{UID: 4242, GID: 4242, Mode: 0o755}
	plantHome(t, f, "hal", owner)
	_, err := s.UserCreate(ctx, core.CreateSpec{Name: "hal"})
	if e := core.AsError(err); e == nil || e.Step != "volume" || !strings.Contains(e.Message, "--uid 4242") {
		t.Fatalf("create: %v", err)
	}
	if _, err := f.a.GetUser(ctx, "hal"); err == nil {
		t.Error("account left behind")
	}
	homeKept(t, f, "hal", owner)
	assertNoJournal(t, st)
}

// TestCreateAdoptsOwnHome: a home of the uid the create asks for (kept by
// an earlier delete) is adopted; a failure at any later step, and the
// recovery of a crash, leave it in place with what it held.
func TestCreateAdoptsOwnHome(t *testing.T) {
	uid := 3000
	owner := volumes.Owner{UID: 3000, GID: 3000, Mode: 0o755}
	for _, point := range []string{"create.volume.after", "create.layout.after", "create.keys.after", "create.config.after", "create.sync.before"} {
		t.Run(point, func(t *testing.T) {
			ctx := context.Background()
			s, f, st := newUserService(t)
			plantHome(t, f, "ivy", owner)
			defer core.SetFailpointHook(func(n string) error {
				if n == point {
					return core.Errorf(core.Internal, "injected")
				}
				return nil
			})()
			if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "ivy", UID: &uid}); err == nil {
				t.Fatal("create succeeded through an injected failure")
			}
			if _, err := f.a.GetUser(ctx, "ivy"); err == nil {
				t.Error("account left behind")
			}
			homeKept(t, f, "ivy", owner)
			assertNoJournal(t, st)
		})
	}
	ctx := context.Background()
	s, f, _ := newUserService(t)
	plantHome(t, f, "ivy", owner)
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "ivy", UID: &uid})
	if err != nil || u.UID != 3000 {
		t.Fatalf("create over its own home: %+v %v", u, err)
	}
	homeKept(t, f, "ivy", owner)
}

// TestRecoverKeepsFoundHome: a crash after the volume step of a create
// that adopted a home rolls back the account only.
func TestRecoverKeepsFoundHome(t *testing.T) {
	ctx := context.Background()
	uid := 3000
	owner := volumes.Owner{UID: 3000, GID: 3000, Mode: 0o755}
	s, f, st := newUserService(t)
	plantHome(t, f, "jo", owner)
	restore := core.SetFailpointHook(func(n string) error {
		if n == "create.layout.after" {
			panic("crash")
		}
		return nil
	})
	func() {
		defer func() { _ = recover() }()
		_, _ = s.UserCreate(ctx, core.CreateSpec{Name: "jo", UID: &uid})
	}()
	restore()
	rec, err := core.NewService(st, core.WithPlugins(f)).Recover(ctx)
	if err != nil || len(rec) != 1 || rec[0].Error != "" {
		t.Fatalf("recover: %+v %v", rec, err)
	}
	if _, err := f.a.GetUser(ctx, "jo"); err == nil {
		t.Error("account survived the rollback")
	}
	homeKept(t, f, "jo", owner)
	assertNoJournal(t, st)
}

// TestBatchRefusesForeignHome: on the batch path too, a user whose home is
// somebody else's fails alone, before its account is made, and the home
// stays; the others are created.
func TestBatchRefusesForeignHome(t *testing.T) {
	ctx := context.Background()
	s, f, st := newUserService(t)
	root := volumes.Owner{Mode: 0o700}
	plantHome(t, f, "kim", root)
	out, err := s.UserCreateBatch(ctx, []core.CreateSpec{{Name: "kim"}, {Name: "lou"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := core.AsError(out[0].Err); e == nil || e.Code != core.AlreadyExists || !strings.Contains(e.Message, "/home/kim") {
		t.Errorf("kim: %v", out[0].Err)
	}
	if out[1].Err != nil {
		t.Errorf("lou: %v", out[1].Err)
	}
	if _, err := f.a.GetUser(ctx, "kim"); err == nil {
		t.Error("kim's account was made")
	}
	homeKept(t, f, "kim", root)
	assertNoJournal(t, st)
}
