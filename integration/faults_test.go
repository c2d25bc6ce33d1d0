//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// quotasOn enables btrfs quotas on the sandbox's /home before a baseline is
// taken: a node running hero_codescalers has them on.
func quotasOn(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("btrfs", "quota", "enable", "/home").CombinedOutput(); err != nil {
		t.Fatalf("btrfs quota enable: %v %s", err, out)
	}
}

// userAbsent checks that nothing of name is left on the machine or in the
// state.
func userAbsent(t *testing.T, h *hostUnderTest, name string) {
	t.Helper()
	if exec.Command("id", "-u", "--", name).Run() == nil {
		t.Errorf("account %s survived", name)
	}
	if _, err := os.Lstat("/home/" + name); !os.IsNotExist(err) {
		t.Errorf("/home/%s survived: %v", name, err)
	}
	if e := h.call(api.MUserGet, api.NameParams{Name: name}, nil); e == nil || e.Code != api.CodeNotFound {
		t.Errorf("user.get %s after recovery: %+v", name, e)
	}
}

// userComplete checks an acknowledged user is all there.
func userComplete(t *testing.T, h *hostUnderTest, name string) {
	t.Helper()
	var u core.User
	if e := h.call(api.MUserGet, api.NameParams{Name: name}, &u); e != nil {
		t.Fatalf("user.get %s: %+v", name, e)
	}
	for _, p := range []string{"", "/.ssh/id_ed25519", "/hero/cfg/hero_cfg.toml", "/hero/var/sockets"} {
		if _, err := os.Lstat("/home/" + name + p); err != nil {
			t.Errorf("acknowledged user %s lacks %s: %v", name, p, err)
		}
	}
}

// TestCrashDuringCreate kills the host (SIGKILL, from a failpoint compiled
// only into this test build) before and after every step of user.create;
// after a restart the user is entirely absent and the machine as before.
func TestCrashDuringCreate(t *testing.T) {
	sandbox.Require(t)
	quotasOn(t)
	tree := buildTree(t, "hc_failpoints")
	for _, step := range []string{"account", "volume", "layout", "acl", "keys", "config", "sync"} {
		for _, when := range []string{"before", "after"} {
			point := "create." + step + "." + when
			t.Run(point, func(t *testing.T) {
				h := newHost(t, tree)
				h.start()
				before := machineState(t)
				h.stop()
				h.start("HC_FAILPOINTS=" + point + "=crash")
				go h.callQuiet(api.MUserCreate, api.UserCreateParams{Name: "crashy", ForgeToken: "tok"})
				h.waitExit(20 * time.Second)
				h.start()
				userAbsent(t, h, "crashy")
				sameMachine(t, before, machineState(t))
				if t.Failed() {
					t.Logf("host log after the restart:\n%s", h.log)
				}
				// Before the account step nothing was done, so nothing was
				// journaled and there is nothing to roll back.
				if rolled := strings.Contains(h.log.String(), "rolled back"); rolled != (point != "create.account.before") {
					t.Errorf("rollback logged: %v, want %v:\n%s", rolled, !rolled, h.log)
				}
				h.stop()
			})
		}
	}
}

// TestCrashDuringDelete kills the host before and after every step of
// user.delete; the restart completes the delete.
func TestCrashDuringDelete(t *testing.T) {
	sandbox.Require(t)
	quotasOn(t)
	tree := buildTree(t, "hc_failpoints")
	for _, step := range []string{"sessions", "volume", "account"} {
		for _, when := range []string{"before", "after"} {
			point := "delete." + step + "." + when
			t.Run(point, func(t *testing.T) {
				h := newHost(t, tree)
				h.start()
				before := machineState(t)
				if e := h.call(api.MUserCreate, api.UserCreateParams{Name: "doomed"}, nil); e != nil {
					t.Fatalf("create: %+v", e)
				}
				userComplete(t, h, "doomed")
				h.stop()
				h.start("HC_FAILPOINTS=" + point + "=crash")
				go h.callQuiet(api.MUserDelete, api.UserDeleteParams{Name: "doomed"})
				h.waitExit(20 * time.Second)
				h.start()
				userAbsent(t, h, "doomed")
				sameMachine(t, before, machineState(t))
				h.stop()
			})
		}
	}
}

// TestConcurrentCreates sends 50 creates at once: 25 distinct names and 25
// of one name. The uids are unique, exactly one create of the shared name
// wins, and pwck/grpck stay as clean as before.
func TestConcurrentCreates(t *testing.T) {
	sandbox.Require(t)
	quotasOn(t)
	h := newHost(t, buildTree(t, ""))
	h.start()
	base := acctBaseline(t)
	type res struct {
		name string
		u    core.User
		e    *api.Error
	}
	results := make([]res, 50)
	var wg sync.WaitGroup
	for i := range results {
		name := "same"
		if i%2 == 0 {
			name = fmt.Sprintf("conc%02d", i)
		}
		wg.Go(func() {
			results[i].name = name
			results[i].e = h.call(api.MUserCreate, api.UserCreateParams{Name: name}, &results[i].u)
		})
	}
	wg.Wait()
	uids := map[int]string{}
	winners := 0
	for _, r := range results {
		switch {
		case r.e == nil:
			if other, dup := uids[r.u.UID]; dup {
				t.Errorf("uid %d given to %s and %s", r.u.UID, other, r.name)
			}
			uids[r.u.UID] = r.name
			if r.name == "same" {
				winners++
			}
		case r.name == "same" && r.e.Code == api.CodeAlreadyExists:
		default:
			t.Errorf("%s: %+v", r.name, r.e)
		}
	}
	if winners != 1 || len(uids) != 26 {
		t.Fatalf("winners of the shared name %d, users %d (want 1, 26)", winners, len(uids))
	}
	base.clean(t)
	for _, name := range uids {
		if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: name}, nil); e != nil {
			t.Errorf("delete %s: %+v", name, e)
		}
	}
	base.clean(t)
}

// TestBadInputChangesNothing sends each bad input of issue 5: each is
// answered with -32602 naming the field, and the machine is unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	sandbox.Require(t)
	h := newHost(t, buildTree(t, ""))
	h.start()
	before := machineState(t)
	zero := 0
	cases := []api.UserCreateParams{
		{Name: ""}, {Name: "-rf"}, {Name: "../x"}, {Name: "a/b"}, {Name: "root"}, {Name: "Alice"},
		{Name: strings.Repeat("a", 33)}, {Name: "ünï"}, {Name: "bob\nroot"}, {Name: "bob\n"},
		{Name: "bob", UID: &zero}, {Name: "bob", Quota: "-1G"}, {Name: "bob", SSHKeys: []string{"ssh-rsa not-a-key"}},
	}
	for _, p := range cases {
		e := h.call(api.MUserCreate, p, nil)
		if e == nil || e.Code != api.CodeInvalidParams || e.Data == nil || e.Data.Field == "" {
			t.Errorf("%q: got %+v, want -32602 naming the field", p.Name, e)
		}
	}
	for _, name := range []string{"root", "-rf", "../x", "ROOT"} {
		if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: name}, nil); e == nil || e.Code != api.CodeInvalidParams {
			t.Errorf("delete %q: %+v", name, e)
		}
	}
	sameMachine(t, before, machineState(t))
}

// TestPluginKilledMidCreate kills the volumes plugin with SIGKILL, again
// and again, while a create is paused between its volume and layout steps
// and until the create answers. Whatever the create answered holds after
// the dust settles: acknowledged means complete, failed means absent (its
// rollback retried in the background until the plugin is back), and the
// manager has restarted the plugin.
func TestPluginKilledMidCreate(t *testing.T) {
	sandbox.Require(t)
	quotasOn(t)
	h := newHost(t, buildTree(t, "hc_failpoints"))
	h.start("HC_FAILPOINTS=create.layout.before=pause")
	before := machineState(t)
	got := make(chan *api.Error, 1)
	go func() { got <- h.callQuiet(api.MUserCreate, api.UserCreateParams{Name: "orphan"}) }()
	waitFor(t, "the create to pause", 20*time.Second, func() bool {
		return strings.Contains(h.log.String(), "failpoint create.layout.before: paused")
	})
	var answer *api.Error
	kills := 0
	waitFor(t, "the create to answer", 60*time.Second, func() bool {
		select {
		case answer = <-got:
			return true
		default:
		}
		if pid := pluginPID(t, h, "volumes"); pid > 0 && syscall.Kill(pid, syscall.SIGKILL) == nil {
			kills++
		}
		return false
	})
	t.Logf("volumes plugin killed %d times; create answered %+v", kills, answer)
	if answer == nil {
		userComplete(t, h, "orphan")
		// The tests after this one share the sandbox's accounts.
		if e := h.call(api.MUserDelete, api.UserDeleteParams{Name: "orphan"}, nil); e != nil {
			t.Errorf("delete orphan: %+v", e)
		}
		return
	}
	if answer.Data == nil || answer.Data.Step == "" {
		t.Errorf("the failed create does not name its step: %+v", answer)
	}
	waitFor(t, "orphan rolled back", 90*time.Second, func() bool {
		_, err := os.Lstat("/home/orphan")
		return exec.Command("id", "-u", "--", "orphan").Run() != nil && os.IsNotExist(err)
	})
	userAbsent(t, h, "orphan")
	sameMachine(t, before, machineState(t))
	var after api.PluginListResult
	h.call(api.MPluginList, api.Empty{}, &after)
	for _, p := range after.Plugins {
		if p.Concern == "volumes" && p.Restarts < 1 {
			t.Errorf("volumes plugin not restarted: %+v", p)
		}
	}
}

// pluginPID is the pid of the plugin serving concern, 0 while it restarts.
func pluginPID(t *testing.T, h *hostUnderTest, concern string) int {
	var pl api.PluginListResult
	if e := h.call(api.MPluginList, api.Empty{}, &pl); e != nil {
		t.Fatal(e)
	}
	for _, p := range pl.Plugins {
		if p.Concern == concern && p.State == "ready" {
			return p.PID
		}
	}
	return 0
}
