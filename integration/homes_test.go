//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// TestCreateLeavesExistingHome: a home that is somebody else's — a btrfs
// subvolume or a plain directory, of another account or of root, on the
// btrfs and on the dir volumes plugin — makes user.create, and a batch
// naming it, fail for that user with an error naming the home, before its
// account is made; the batch's other user is created; and the home is
// left byte for byte, owners and modes included.
func TestCreateLeavesExistingHome(t *testing.T) {
	sandbox.Require(t)
	ensureDriver(t)
	quotasOn(t)
	ouid, ogid := otherAccount(t, "hcowner")
	bin := buildTree(t, "")
	owners := []struct {
		name     string
		uid, gid int
	}{{"other", ouid, ogid}, {"root", 0, 0}}
	for _, plugin := range []string{"btrfs", "dir"} {
		h := newHost(t, bin)
		if plugin == "dir" {
			h.args = []string{"--plugin", "volumes=dir"}
		}
		h.start()
		kinds := []string{"subvolume", "directory"}
		if plugin == "dir" {
			kinds = kinds[1:]
		}
		for _, kind := range kinds {
			for _, o := range owners {
				t.Run(plugin+"/"+kind+"/"+o.name, func(t *testing.T) {
					home := plantHome(t, "/home/victim", kind, o.uid, o.gid)
					defer home.remove(t)
					before, files := machineState(t), tree(t, home.path)
					// The qgroups of the subvolumes planted before settle
					// by themselves; what matters here is the rest.
					delete(before, "qgroups")
					e := h.call(api.MUserCreate, api.UserCreateParams{Name: "victim"}, nil)
					if e == nil || e.Code != api.CodeAlreadyExists || !strings.Contains(e.Message, "/home/victim") {
						t.Errorf("create over %s: %+v", home.path, e)
					}
					var res api.UserCreateBatchResult
					if e := h.call(api.MUserCreateBatch, api.UserCreateBatchParams{Users: []api.UserCreateParams{{Name: "victim"}, {Name: "bystander"}}}, &res); e != nil {
						t.Fatalf("batch: %+v", e)
					}
					if r := res.Results[0]; r.Error == nil || !strings.Contains(r.Error.Message, "/home/victim") {
						t.Errorf("batch item over %s: %+v", home.path, r)
					}
					if r := res.Results[1]; r.Error != nil {
						t.Errorf("bystander: %+v", r.Error)
					} else {
						userComplete(t, h, "bystander")
						if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: "bystander"}, nil); e != nil {
							t.Errorf("delete bystander: %+v", e)
						}
					}
					sameTree(t, home.path, files, tree(t, home.path), false)
					sameMachine(t, before, machineState(t))
				})
			}
		}
		h.stop()
	}
}

// TestCreateOverOrphanHome: a subvolume owned by a uid without an account
// is refused when the new account gets another uid (the account is
// undone, the home left byte for byte, on the single and the batch path),
// and adopted when the create asks for its uid; a failure after the
// adoption leaves it in place with what it held; the create that then
// goes through keeps it; the user's delete removes it.
func TestCreateOverOrphanHome(t *testing.T) {
	sandbox.Require(t)
	ensureDriver(t)
	quotasOn(t)
	h := newHost(t, buildTree(t, "hc_failpoints"))
	h.start()
	before := machineState(t)
	delete(before, "qgroups") // the planted subvolume's settles by itself
	home := plantHome(t, "/home/heir", "subvolume", 4321, 4321)
	defer home.remove(t)
	files := tree(t, home.path)

	e := h.call(api.MUserCreate, api.UserCreateParams{Name: "heir"}, nil)
	if e == nil || e.Data == nil || e.Data.Step != "volume" || !strings.Contains(e.Message, "--uid 4321") {
		t.Errorf("create over a home of another uid: %+v", e)
	}
	var res api.UserCreateBatchResult
	h.call(api.MUserCreateBatch, api.UserCreateBatchParams{Users: []api.UserCreateParams{{Name: "heir"}}}, &res)
	if r := res.Results[0]; r.Error == nil || !strings.Contains(r.Error.Message, "/home/heir") {
		t.Errorf("batch over a home of another uid: %+v", r)
	}
	userGone(t, h, "heir")
	sameTree(t, home.path, files, tree(t, home.path), false)

	uid := 4321
	h.stop()
	h.start("HC_FAILPOINTS=create.config.after=error")
	if e := h.call(api.MUserCreate, api.UserCreateParams{Name: "heir", UID: &uid}, nil); e == nil || e.Data == nil || e.Data.Step != "config" {
		t.Fatalf("create with a failure after the adoption: %+v", e)
	}
	userGone(t, h, "heir")
	sameTree(t, home.path, files, tree(t, home.path), true)

	h.stop()
	h.start()
	var u core.User
	if e := h.call(api.MUserCreate, api.UserCreateParams{Name: "heir", UID: &uid}, &u); e != nil || u.UID != uid {
		t.Fatalf("create over its own home: %+v %+v", u, e)
	}
	userComplete(t, h, "heir")
	sameTree(t, home.path, files, tree(t, home.path), true)
	if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: "heir"}, nil); e != nil {
		t.Fatalf("delete: %+v", e)
	}
	if _, err := os.Lstat(home.path); !os.IsNotExist(err) {
		t.Errorf("the adopted home survived its user's delete: %v", err)
	}
	sameMachine(t, before, machineState(t))
}

// userGone checks the account and the record of name are absent (its
// home is the test's to check).
func userGone(t *testing.T, h *hostUnderTest, name string) {
	t.Helper()
	if out, err := exec.Command("id", "-u", "--", name).Output(); err == nil {
		t.Errorf("account %s exists (uid %s)", name, strings.TrimSpace(string(out)))
	}
	if e := h.call(api.MUserGet, api.NameParams{Name: name}, nil); e == nil || e.Code != api.CodeNotFound {
		t.Errorf("user.get %s: %+v", name, e)
	}
}

// TestKeptHomeInPlaceIsClosed: on the dir volumes plugin (no snapshots)
// user-delete --keep-home leaves the home where it is, with what it held,
// but its top directory root's and closed (0700): the next account may
// be given the same uid, and must not read the forge token and the
// private key inside.
func TestKeptHomeInPlaceIsClosed(t *testing.T) {
	sandbox.Require(t)
	ensureDriver(t)
	bin := buildTree(t, "")
	h := newHost(t, bin)
	h.args = []string{"--plugin", "volumes=dir"}
	h.start()
	defer h.stop()
	var u api.User
	if e := h.call(api.MUserCreate, api.UserCreateParams{Name: "keeper", ForgeToken: "tok-kept-s3cret"}, &u); e != nil {
		t.Fatalf("create: %+v", e)
	}
	home := "/home/keeper"
	defer os.RemoveAll(home)
	if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: "keeper", KeepHome: true}, nil); e != nil {
		t.Fatalf("delete --keep-home: %+v", e)
	}
	st, err := os.Stat(home)
	if err != nil {
		t.Fatalf("the kept home: %v", err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 0 || sys.Gid != 0 || st.Mode().Perm() != 0o700 {
		t.Errorf("the kept home is %d:%d %v, want root's, 0700", sys.Uid, sys.Gid, st.Mode())
	}
	if b, err := os.ReadFile(filepath.Join(home, "hero/cfg/hero_cfg.toml")); err != nil || !strings.Contains(string(b), "tok-kept-s3cret") {
		t.Errorf("what the home held: %v", err)
	}
	// The next account, whatever its uid, is refused at the door.
	var next api.User
	if e := h.call(api.MUserCreate, api.UserCreateParams{Name: "next"}, &next); e != nil {
		t.Fatalf("create next: %+v", e)
	}
	cmd := exec.Command("cat", filepath.Join(home, "hero/cfg/hero_cfg.toml"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID)}}
	if out, err := cmd.CombinedOutput(); err == nil || strings.Contains(string(out), "s3cret") {
		t.Errorf("uid %d (keeper's, next's %d) read the kept token: %s", u.UID, next.UID, out)
	}
	if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: "next"}, nil); e != nil {
		t.Errorf("delete next: %+v", e)
	}
}
