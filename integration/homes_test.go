//go:build integration

package integration

import (
	"os"
	"os/exec"
	"strings"
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
