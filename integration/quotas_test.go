//go:build integration

package integration

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// homeGroup is the group of user's home as btrfs shows it: "1/<id>".
func homeGroup(t *testing.T, user string) string {
	t.Helper()
	id, ok := btrfsSubvols(t, "/home")[user]
	if !ok {
		t.Fatalf("/home/%s is not a subvolume", user)
	}
	return groupOf(id)
}

// runAs runs a command as user (runuser, no login) and returns its output.
func runAs(user string, args ...string) (string, error) {
	out, err := exec.Command("runuser", append([]string{"-u", user, "--"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestQuotaBelowUsage: `user-quota carol 1K` on a home holding 10 MB is
// refused with an error that says so, and changes no limit. A home over
// its limit anyway (a limit an admin set by hand) still takes a higher
// limit, a lower one at its usage, none, and user-reset — before the
// fix, every one of them failed with EDQUOT.
func TestQuotaBelowUsage(t *testing.T) {
	h, before := startNode(t)
	h.mustCLI("user-create", "carol", "--quota", "200M")
	if out, err := runAs("carol", "dd", "if=/dev/zero", "of=/home/carol/data", "bs=1M", "count=10", "conv=fsync"); err != nil {
		t.Fatalf("carol writes 10 MB: %v %s", err, out)
	}
	group := homeGroup(t, "carol")
	out, errs, code := h.cli("user-quota", "carol", "1K")
	if code == 0 || !strings.Contains(out+errs, "below the") || !strings.Contains(out+errs, "bytes the volume already holds") {
		t.Errorf("user-quota carol 1K on 10 MB: exit %d, %s%s; want a refusal that names the usage", code, out, errs)
	}
	if q := btrfsQgroups(t, "/home")[group]; q.MaxRef != "209715200" {
		t.Errorf("after the refusal %s has limit %s, want 200M unchanged", group, q.MaxRef)
	}

	// Over the limit by hand: every change still goes through.
	mustRun(t, "btrfs", "qgroup", "limit", "1K", group, "/home")
	for _, c := range []struct{ size, want string }{{"100M", "104857600"}, {"20M", "20971520"}, {"0", "none"}} {
		h.mustCLI("user-quota", "carol", c.size)
		if q := btrfsQgroups(t, "/home")[group]; q.MaxRef != c.want {
			t.Errorf("after user-quota carol %s, %s has limit %s, want %s", c.size, group, q.MaxRef, c.want)
		}
	}
	h.mustCLI("user-quota", "carol", "20M")
	mustRun(t, "btrfs", "qgroup", "limit", "1K", group, "/home")
	if o := h.mustCLI("user-reset", "carol"); !strings.Contains(o, "quota of /home/carol is 1024 bytes, the state says 20971520") {
		t.Errorf("user-reset over the limit: %s", o)
	}
	if q := btrfsQgroups(t, "/home")[group]; q.MaxRef != "20971520" {
		t.Errorf("after user-reset %s has limit %s, want the state's 20M", group, q.MaxRef)
	}
	h.mustCLI("user-reset", "carol")
	h.mustCLI("user-delete", "carol")
	sameMachine(t, before, machineState(t))
}

// TestQuotaNestedSubvolume, end to end through the host: carol's own
// subvolume inside her home is brought under her quota by the plugin, so
// her write there stops at EDQUOT; one taken out of the home's group by
// hand is drift for reconcile, and user-reset puts it back.
func TestQuotaNestedSubvolume(t *testing.T) {
	h, before := startNode(t)
	h.mustCLI("user-create", "dora", "--quota", "20M")
	if out, err := runAs("dora", "btrfs", "subvolume", "create", "/home/dora/stash"); err != nil {
		t.Fatalf("dora's btrfs subvolume create: %v %s", err, out)
	}
	group, stash := homeGroup(t, "dora"), qgroupOf(btrfsSubvols(t, "/home")["dora/stash"])
	waitFor(t, "dora's subvolume in her home's group", 5*time.Second, func() bool { return inGroup(t, stash, group) })
	out, err := runAs("dora", "dd", "if=/dev/zero", "of=/home/dora/stash/fill", "bs=1M", "count=100", "conv=fsync")
	if err == nil || !strings.Contains(out, "Disk quota exceeded") {
		t.Errorf("dora writes 100 MB into her subvolume under a 20M quota: %v %s", err, out)
	}
	mustRun(t, "rm", "/home/dora/stash/fill")

	// The watcher looks at every subvolume every 10 s: reconcile right
	// after the relation is removed, again if that look came in between.
	found := false
	for try := 0; try < 3 && !found; try++ {
		mustRun(t, "btrfs", "qgroup", "remove", "--no-rescan", stash, group, "/home")
		out, _, code := h.cli("reconcile")
		found = code == 1 && strings.Contains(out, "subvolume /home/dora/stash inside /home/dora is outside its quota")
	}
	if !found {
		t.Fatal("reconcile never reported dora's subvolume outside her quota")
	}
	h.mustCLI("user-reset", "dora")
	if !inGroup(t, stash, group) {
		t.Errorf("after user-reset %s is not in %s", stash, group)
	}
	if out, _, code := h.cli("reconcile"); code != 0 {
		t.Errorf("reconcile after user-reset: exit %d\n%s", code, out)
	}
	h.mustCLI("user-delete", "dora")
	sameMachine(t, before, machineState(t))
}

// inGroup reports whether qgroup q is a member of group on /home.
func inGroup(t *testing.T, q, group string) bool { return qgroupParents(t, "/home", q, group) }
