//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestBatchCreateEndToEnd runs `user-create --from` as an admin would, on
// the real plugins: 120 users in chunks of 40, so three calls of which two
// are in flight at once (one chunk's accounts made while the one before
// makes its homes). The user whose group does not exist fails alone; every
// other one is complete, with its own uid; pwck and grpck stay clean; the
// marker group lists exactly the created users, in group and gshadow
// alike; no token is printed; and deleting the users leaves the machine as
// it was.
func TestBatchCreateEndToEnd(t *testing.T) {
	h, before := startNode(t)
	checks := acctBaseline(t)
	markerBefore := groupMembers(t, "group", "codescalers")
	_, pubFile := clientKey(t)
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	const token = "forge-batch-s3cret"
	const bad = "bt057"
	var csv strings.Builder
	csv.WriteString("name,quota,groups,ssh_keys,forge_token\n")
	var want []string
	for i := range 120 {
		name, groups := fmt.Sprintf("bt%03d", i), ""
		if name == bad {
			groups = "nosuchgroup"
		} else {
			want = append(want, name)
		}
		fmt.Fprintf(&csv, "%s,100M,%s,%s,%s-%s\n", name, groups, strings.TrimSpace(string(pub)), token, name)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errs, code := h.cli("user-create", "--from", file, "--chunk", "40")
	if code != 8 || !strings.Contains(out, "created 119, failed 1") || !strings.Contains(errs, "120/120 done, 1 failed") {
		t.Fatalf("exit %d (want 8, partial: one user failed)\nstdout:\n%s\nstderr:\n%s\nhost log:\n%s", code, out, errs, h.log)
	}
	if !lineWith(out, bad, "nosuchgroup") {
		t.Errorf("the failure of %s is not listed with its group:\n%s", bad, out)
	}
	if strings.Contains(out+errs, token) {
		t.Errorf("a forge token was printed")
	}

	uids := map[int]string{}
	for _, name := range want {
		userComplete(t, h, name)
		var u core.User
		if e := h.call(api.MUserGet, api.NameParams{Name: name}, &u); e != nil {
			t.Fatalf("user.get %s: %+v", name, e)
		}
		if other, dup := uids[u.UID]; dup {
			t.Errorf("%s and %s share uid %d", name, other, u.UID)
		}
		uids[u.UID] = name
		wantPath(t, "/home/"+name, u.UID, 0o755)
		wantPath(t, "/home/"+name+"/hero/cfg/hero_cfg.toml", u.UID, 0o600)
		if b, _ := os.ReadFile("/home/" + name + "/hero/cfg/hero_cfg.toml"); !strings.Contains(string(b), token+"-"+name) {
			t.Errorf("%s: hero_cfg.toml lacks its own token", name)
		}
	}
	userAbsent(t, h, bad)
	checks.clean(t)
	for _, file := range []string{"group", "gshadow"} {
		added := slices.DeleteFunc(groupMembers(t, file, "codescalers"), func(m string) bool { return slices.Contains(markerBefore, m) })
		slices.Sort(added)
		if !slices.Equal(added, want) {
			t.Errorf("%s: the marker group gained %d members, want the %d created users:\n%v", file, len(added), len(want), added)
		}
	}

	for _, name := range want {
		if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: name}, nil); e != nil {
			t.Fatalf("user.delete %s: %+v", name, e)
		}
	}
	sameMachine(t, before, machineState(t))
}

// groupMembers lists the members of group in /etc/group or /etc/gshadow
// (the last field of both).
func groupMembers(t *testing.T, file, group string) []string {
	t.Helper()
	out, err := exec.Command("getent", file, group).Output()
	if err != nil {
		return nil // no such group yet
	}
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	if f[len(f)-1] == "" {
		return nil
	}
	return strings.Split(f[len(f)-1], ",")
}

// lineWith reports whether one line of text holds every word.
func lineWith(text string, words ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			return true
		}
	}
	return false
}
