//go:build integration

package integration

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestSharedGroupVolume: `group-create devs --shared --quota 100M` on the
// real plugins makes /home/groups/devs a btrfs subvolume with that limit,
// owned by root and devs, mode 2770, with devs' rwx as access and default
// ACL. What one member makes there with umask 077 the other member can
// write; a user outside the group cannot even list it; reconcile reports
// a hand-made chmod and a removed default ACL entry. group-delete
// removes it (with --keep-data, after a read-only snapshot), and the
// machine's account files and subvolumes end as they began.
func TestSharedGroupVolume(t *testing.T) {
	h, before := startNode(t)
	for _, u := range []string{"gva", "gvb", "gvc"} {
		if e := h.call(api.MUserCreate, api.UserCreateParams{Name: u}, nil); e != nil {
			t.Fatalf("user.create %s: %+v", u, e)
		}
	}

	out := h.mustCLI("group-create", "devs", "--shared", "--quota", "100M", "-m", "gva,gvb")
	const vol = "/home/groups/devs"
	if !strings.Contains(out, "shared volume:  "+vol+" (quota 100M)") {
		t.Errorf("group-create output:\n%s", out)
	}
	if o, err := exec.Command("btrfs", "subvolume", "show", vol).CombinedOutput(); err != nil {
		t.Fatalf("%s is not a subvolume: %v %s", vol, err, o)
	}
	if o, _ := exec.Command("btrfs", "qgroup", "show", "-re", "--raw", vol).CombinedOutput(); !strings.Contains(string(o), "104857600") {
		t.Errorf("qgroup limit of 100M not visible:\n%s", o)
	}
	gid := lookupGID(t, "devs")
	fi, err := os.Stat(vol)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 0 || int(st.Gid) != gid || st.Mode&0o7777 != 0o2770 {
		t.Errorf("%s: owner %d:%d mode %04o, want 0:%d 2770", vol, st.Uid, st.Gid, st.Mode&0o7777, gid)
	}
	facl := getfacl(t, vol)
	for _, want := range []string{"group:devs:rwx", "default:group:devs:rwx", "default:mask::rwx", "other::---"} {
		if !strings.Contains(facl, want) {
			t.Errorf("getfacl %s lacks %s:\n%s", vol, want, facl)
		}
	}

	asUser(t, "gva", "umask 077 && echo one > "+vol+"/notes && mkdir "+vol+"/sub && echo two > "+vol+"/sub/f")
	asUser(t, "gvb", "echo more >> "+vol+"/notes && echo more >> "+vol+"/sub/f && touch "+vol+"/sub/g")
	if b, _ := os.ReadFile(vol + "/sub/f"); string(b) != "two\nmore\n" {
		t.Errorf("%s/sub/f: %q", vol, b)
	}
	if fi, err := os.Stat(vol + "/sub"); err != nil || int(fi.Sys().(*syscall.Stat_t).Gid) != gid || fi.Mode()&os.ModeSetgid == 0 {
		t.Errorf("%s/sub: not of group devs with setgid: %v %v", vol, fi.Mode(), err)
	}
	if o, err := exec.Command("runuser", "-u", "gvc", "--", "ls", vol).CombinedOutput(); err == nil {
		t.Errorf("gvc, not a member, listed %s: %s", vol, o)
	}

	if out, errs, code := h.cli("reconcile"); code != 0 || strings.Contains(out, "group devs") {
		t.Errorf("reconcile of a shared group as made: exit %d\n%s%s", code, out, errs)
	}
	if err := os.Chmod(vol, 0o2700); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "setfacl", "-x", "d:g:devs", vol)
	out, _, code := h.cli("reconcile")
	for _, want := range []string{"group devs  mode of " + vol + " is 0700, want 0770", "group devs  default ACL of " + vol + " lacks group:devs:rwx"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("reconcile after a hand-made chmod and setfacl -x: exit %d, lacks %q:\n%s", code, want, out)
		}
	}

	h.mustCLI("group-delete", "devs")
	if _, err := os.Lstat(vol); !os.IsNotExist(err) {
		t.Errorf("%s survived group-delete: %v", vol, err)
	}
	if exec.Command("getent", "group", "devs").Run() == nil {
		t.Error("group devs survived group-delete")
	}

	h.mustCLI("group-create", "ops", "--shared", "-m", "gva")
	asUser(t, "gva", "echo keep > /home/groups/ops/data")
	h.mustCLI("group-delete", "ops", "--keep-data")
	kept := keptSnapshot(t, "group-ops-")
	if b, err := os.ReadFile(kept + "/data"); err != nil || string(b) != "keep\n" {
		t.Errorf("kept snapshot %s: %q %v", kept, b, err)
	}
	if err := os.WriteFile(kept+"/more", nil, 0o600); err == nil {
		t.Errorf("kept snapshot %s is writable", kept)
	}
	mustRun(t, "btrfs", "property", "set", "-ts", kept, "ro", "false")
	mustRun(t, "btrfs", "subvolume", "delete", "--", kept)

	for _, u := range []string{"gva", "gvb", "gvc"} {
		if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: u}, nil); e != nil {
			t.Fatalf("user.delete %s: %+v", u, e)
		}
	}
	sameMachine(t, before, machineState(t))
}

func lookupGID(t *testing.T, group string) int {
	t.Helper()
	out, err := exec.Command("getent", "group", group).Output()
	if err != nil {
		t.Fatalf("getent group %s: %v", group, err)
	}
	gid, err := strconv.Atoi(strings.Split(string(out), ":")[2])
	if err != nil {
		t.Fatal(err)
	}
	return gid
}

// asUser runs a shell command as user (its groups as login gives them) and
// fails the test unless it succeeds.
func asUser(t *testing.T, user, script string) {
	t.Helper()
	if out, err := exec.Command("runuser", "-u", user, "--", "sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("as %s: %s: %v\n%s", user, script, err, out)
	}
}

// keptSnapshot finds the one entry of /home/.deleted starting with prefix.
func keptSnapshot(t *testing.T, prefix string) string {
	t.Helper()
	ents, _ := os.ReadDir("/home/.deleted")
	var found []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			found = append(found, "/home/.deleted/"+e.Name())
		}
	}
	if len(found) != 1 {
		t.Fatalf("/home/.deleted holds %v, want one %s* snapshot", found, prefix)
	}
	return found[0]
}
