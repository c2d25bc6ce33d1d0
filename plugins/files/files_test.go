package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// fixture is a small /etc as Debian lays it out: root, an unmanaged bob,
// and the marker group hc.
var fixture = map[string]string{
	"passwd":     "root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n",
	"shadow":     "root:*:20000:0:99999:7:::\nbob:*:20000:0:99999:7:::\n",
	"group":      "root:x:0:\nsudo:x:27:bob\nbob:x:1000:\nhc:x:1001:\n",
	"gshadow":    "root:*::\nsudo:*::bob\nbob:!::\nhc:!::\n",
	"subuid":     "bob:100000:65536\n",
	"subgid":     "bob:100000:65536\n",
	"login.defs": "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\nPASS_MIN_DAYS 0\nPASS_MAX_DAYS 99999\nPASS_WARN_AGE 7\n",
}

// fenceFixture adds to fixture what the fence tests judge: eve, managed,
// whose home is /etc (made before the policy); docker; and devs, a group
// hero_codescalers made.
func fenceFixture() map[string]string {
	out := maps.Clone(fixture)
	out["passwd"] += "eve:x:1004:1004::/etc:/bin/sh\n"
	out["shadow"] += "eve:*:20000:0:99999:7:::\n"
	out["group"] = "root:x:0:\nsudo:x:27:bob\ndocker:x:999:bob\nbob:x:1000:\nhc:x:1001:eve\neve:x:1004:\ndevs:x:2000:\n"
	out["gshadow"] = "root:*::\nsudo:*::bob\ndocker:!::bob\nbob:!::\nhc:!::eve\neve:!::\ndevs:!::\n"
	out[policy.ManagedGroupsFile] = "devs\n"
	return out
}

var accountFiles = []string{"passwd", "shadow", "group", "gshadow", "subuid", "subgid"}

func newTest(t *testing.T) *Files { t.Helper(); return newTestWith(t, fixture) }

func newTestWith(t *testing.T, files map[string]string) *Files {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.Contains(name, "shadow") {
			mode = 0o640
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return &Files{Fence: etcdb.NewFence(testPolicy(dir)), Etc: dir, LockTimeout: 2 * time.Second}
}

// testPolicy is the fixture's policy: marker group hc, homes beneath /home
// and roots.
func testPolicy(etc string, roots ...string) policy.Policy {
	p := policy.Defaults(etc)
	p.MarkerGroup = "hc"
	p.HomeRoots = append([]string{"/home"}, roots...)
	return p
}

func read(t *testing.T, f *Files, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.Etc, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// sameFiles checks the account files are as before.
func sameFiles(t *testing.T, f *Files, before map[string]string) {
	t.Helper()
	after := snapshot(t, f)
	for _, n := range accountFiles {
		if after[n] != before[n] {
			t.Errorf("%s differs:\n%s\nwant\n%s", n, after[n], before[n])
		}
	}
}

func snapshot(t *testing.T, f *Files) map[string]string {
	out := map[string]string{}
	for _, n := range accountFiles {
		out[n] = read(t, f, n)
	}
	return out
}

// TestEntriesAsUseraddWrites checks the lines are those useradd -U -p '*'
// -G hc writes on Debian 12, and that a delete restores every file.
func TestEntriesAsUseraddWrites(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	before := snapshot(t, f)
	spec := accounts.UserSpec{Name: "alice", Home: "/home/alice", Shell: "/bin/sh", GECOS: "Alice A", MarkerGroup: "hc"}
	u, err := f.CreateUser(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	today := strconv.FormatInt(etcdb.Today(), 10)
	for file, line := range map[string]string{
		"passwd":  "alice:x:1001:1002:Alice A:/home/alice:/bin/sh\n",
		"shadow":  "alice:*:" + today + ":0:99999:7:::\n",
		"group":   "hc:x:1001:alice\nalice:x:1002:\n",
		"gshadow": "hc:!::alice\nalice:!::\n",
	} {
		if got := read(t, f, file); !strings.HasSuffix(got, line) {
			t.Errorf("%s:\n%s\nwant it to end with\n%s", file, got, line)
		}
		if got := read(t, f, file+"-"); got != before[file] {
			t.Errorf("%s- is not the previous %s", file, file)
		}
	}
	if u.UID != 1001 || u.GID != 1002 || u.Locked || len(u.Groups) != 1 {
		t.Errorf("user %+v", u)
	}
	if again, err := f.CreateUser(ctx, spec); err != nil || again.UID != u.UID {
		t.Errorf("repeated create: %+v, %v", again, err)
	}
	spec.Shell = "/bin/bash"
	if _, err := f.CreateUser(ctx, spec); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("create of a different alice: %v", err)
	}
	if err := f.DeleteUser(ctx, "alice", accounts.DeleteOptions{MarkerGroup: "hc"}); err != nil {
		t.Fatal(err)
	}
	for n, content := range snapshot(t, f) {
		if content != before[n] {
			t.Errorf("%s after delete:\n%s\nwant\n%s", n, content, before[n])
		}
	}
	assertNoLocks(t, f)
}

func TestModesKept(t *testing.T) {
	f := newTest(t)
	if _, err := f.CreateGroup(context.Background(), "g1", 0); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"gshadow", "gshadow-", "group", "group-"} {
		fi, err := os.Stat(filepath.Join(f.Etc, n))
		want := os.FileMode(0o644)
		if strings.Contains(n, "shadow") {
			want = 0o640
		}
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", n, fi.Mode(), err, want)
		}
	}
}

func TestLockUnlock(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	u, _ := f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: "/home/alice", MarkerGroup: "hc"})
	line := func() string { return strings.Split(read(t, f, "shadow"), "\n")[2] }
	created := line()
	for i := 0; i < 2; i++ {
		if err := f.LockUser(ctx, "alice", "hc"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := f.GetUser(ctx, "alice"); !got.Locked || !strings.HasPrefix(line(), "alice:!*:") || !strings.HasSuffix(line(), ":1:") {
		t.Errorf("locked: %s (%+v)", line(), got)
	}
	for i := 0; i < 2; i++ {
		if err := f.UnlockUser(ctx, "alice", "hc"); err != nil {
			t.Fatal(err)
		}
	}
	if line() != created {
		t.Errorf("unlocked %q, created %q", line(), created)
	}
	if u.Locked {
		t.Error("a new user is not locked")
	}
}

// TestFenceWritesNothing: whatever the caller says, a change the policy
// refuses is PermissionDenied and leaves every account file (and the
// managed-groups record) as it was.
func TestFenceWritesNothing(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		call func(*Files) error
	}{
		{"delete root", func(f *Files) error { return f.DeleteUser(ctx, "root", accounts.DeleteOptions{}) }},
		{"delete bob", func(f *Files) error { return f.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "hc"}) }},
		{"delete bob, no marker named", func(f *Files) error { return f.DeleteUser(ctx, "bob", accounts.DeleteOptions{}) }},
		{"delete bob, his own group as marker", func(f *Files) error {
			return f.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "bob"})
		}},
		{"delete eve, another marker", func(f *Files) error {
			return f.DeleteUser(ctx, "eve", accounts.DeleteOptions{MarkerGroup: "sudo"})
		}},
		{"remove eve's home /etc", func(f *Files) error { return f.DeleteUser(ctx, "eve", accounts.DeleteOptions{RemoveHome: true}) }},
		{"lock bob", func(f *Files) error { return f.LockUser(ctx, "bob", "") }},
		{"lock root", func(f *Files) error { return f.LockUser(ctx, "root", "hc") }},
		{"unlock bob", func(f *Files) error { return f.UnlockUser(ctx, "bob", "bob") }},
		{"groups of bob", func(f *Files) error { _, err := f.SetUserGroups(ctx, "bob", nil, ""); return err }},
		{"eve into docker", func(f *Files) error { _, err := f.SetUserGroups(ctx, "eve", []string{"docker"}, ""); return err }},
		{"eve into bob's group", func(f *Files) error { _, err := f.SetUserGroups(ctx, "eve", []string{"bob"}, ""); return err }},
		{"delete group sudo", func(f *Files) error { return f.DeleteGroup(ctx, "sudo") }},
		{"delete group docker", func(f *Files) error { return f.DeleteGroup(ctx, "docker") }},
		{"delete the marker group", func(f *Files) error { return f.DeleteGroup(ctx, "hc") }},
		{"delete bob's group", func(f *Files) error { return f.DeleteGroup(ctx, "bob") }},
		{"empty sudo", func(f *Files) error { _, err := f.SetGroupMembers(ctx, "sudo", nil); return err }},
		{"members of docker", func(f *Files) error { _, err := f.SetGroupMembers(ctx, "docker", []string{"eve"}); return err }},
		{"members of the marker group", func(f *Files) error {
			_, err := f.SetGroupMembers(ctx, "hc", []string{"bob", "eve"})
			return err
		}},
		{"bob into devs", func(f *Files) error { _, err := f.SetGroupMembers(ctx, "devs", []string{"bob"}); return err }},
		{"root into devs", func(f *Files) error { _, err := f.SetGroupMembers(ctx, "devs", []string{"root"}); return err }},
		{"create over docker", func(f *Files) error { _, err := f.CreateGroup(ctx, "docker", 0); return err }},
		{"create over bob's group", func(f *Files) error { _, err := f.CreateGroup(ctx, "bob", 1000); return err }},
		{"a system gid", func(f *Files) error { _, err := f.CreateGroup(ctx, "newg", 27); return err }},
		{"docker's gid", func(f *Files) error { _, err := f.CreateGroup(ctx, "newg", 999); return err }},
		{"bob's gid", func(f *Files) error { _, err := f.CreateGroup(ctx, "newg", 1000); return err }},
		{"a user with another marker", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.MarkerGroup = "sudo" }) }},
		{"a user with sudo as primary", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.PrimaryGroup = "sudo" }) }},
		{"a user with a system uid", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.UID = 27 }) }},
		{"a user above the uid range", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.UID = 65534 }) }},
		{"a user with home /etc", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.Home = "/etc" }) }},
		{"a user with home /home", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.Home = "/home" }) }},
		{"a user in docker", func(f *Files) error {
			return createSpec(f, func(u *accounts.UserSpec) { u.Groups = []string{"docker"} })
		}},
		{"a user in bob's group", func(f *Files) error { return createSpec(f, func(u *accounts.UserSpec) { u.Groups = []string{"bob"} }) }},
		{"a batch user in docker", func(f *Files) error {
			res, err := f.CreateUsers(ctx, []accounts.UserSpec{{Name: "dave", Groups: []string{"docker"}}})
			if err != nil {
				return err
			}
			return res[0].Err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newTestWith(t, fenceFixture())
			before := snapshot(t, f)
			record := read(t, f, policy.ManagedGroupsFile)
			if err := c.call(f); !sdkerr.Is(err, sdkerr.PermissionDenied) {
				t.Errorf("%v, want permission_denied", err)
			}
			for n, content := range snapshot(t, f) {
				if content != before[n] {
					t.Errorf("%s changed", n)
				}
			}
			if read(t, f, policy.ManagedGroupsFile) != record {
				t.Error("the managed-groups record changed")
			}
		})
	}
	f := newTestWith(t, fenceFixture())
	if _, err := f.CreateUser(ctx, accounts.UserSpec{Name: "bob", Home: "/home/bob", Shell: "/bin/bash", MarkerGroup: "hc"}); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("create over bob, who is not in hc: %v", err)
	}
}

// createSpec calls CreateUser with a fine spec changed by edit.
func createSpec(f *Files, edit func(*accounts.UserSpec)) error {
	spec := accounts.UserSpec{Name: "dave", UID: 1500}
	edit(&spec)
	_, err := f.CreateUser(context.Background(), spec)
	return err
}

func TestGroups(t *testing.T) {
	f := newTestWith(t, fenceFixture())
	ctx := context.Background()
	g, err := f.CreateGroup(ctx, "ops", 0)
	if err != nil || g.GID != 2001 {
		t.Fatalf("%+v %v", g, err)
	}
	if !strings.Contains(read(t, f, policy.ManagedGroupsFile), "\nops\n") {
		t.Errorf("ops is not on the record:\n%s", read(t, f, policy.ManagedGroupsFile))
	}
	if _, err := f.CreateGroup(ctx, "ops", 0); err != nil {
		t.Errorf("repeated create: %v", err)
	}
	if _, err := f.CreateGroup(ctx, "ops", 5000); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("other gid: %v", err)
	}
	if _, err := f.CreateGroup(ctx, "ops2", 2001); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("taken gid: %v", err)
	}
	f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: "/home/alice", MarkerGroup: "hc"})
	if g, err := f.SetGroupMembers(ctx, "ops", []string{"alice", "eve", "alice"}); err != nil || strings.Join(g.Members, ",") != "alice,eve" {
		t.Errorf("members %+v %v", g, err)
	}
	if !strings.Contains(read(t, f, "gshadow"), "ops:!::alice,eve\n") {
		t.Error("gshadow members not set")
	}
	if u, err := f.SetUserGroups(ctx, "alice", []string{"devs"}, "hc"); err != nil || strings.Join(u.Groups, ",") != "devs,hc" {
		t.Errorf("set groups: %+v %v", u, err)
	}
	if err := f.DeleteGroup(ctx, "alice"); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of alice's own group: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := f.DeleteGroup(ctx, "ops"); err != nil {
			t.Errorf("delete ops: %v", err)
		}
	}
	if strings.Contains(read(t, f, policy.ManagedGroupsFile), "ops") {
		t.Error("ops is still on the record")
	}
}

func TestBatch(t *testing.T) {
	f := newTest(t)
	var specs []accounts.UserSpec
	for i := 0; i < 100; i++ {
		specs = append(specs, accounts.UserSpec{Name: fmt.Sprintf("u%03d", i), Home: fmt.Sprintf("/home/u%03d", i), MarkerGroup: "hc"})
	}
	specs = append(specs, specs[0], accounts.UserSpec{Name: "bob", MarkerGroup: "hc"}, accounts.UserSpec{Name: "x", Groups: []string{"nosuch"}})
	res, err := f.CreateUsers(context.Background(), specs)
	if err != nil {
		t.Fatal(err)
	}
	uids := map[uint32]bool{}
	for i, r := range res[:100] {
		if r.Err != nil || uids[r.User.UID] || r.User.Name != specs[i].Name {
			t.Fatalf("item %d: %+v %v", i, r.User, r.Err)
		}
		uids[r.User.UID] = true
	}
	if res[100].User.UID != res[0].User.UID || !sdkerr.Is(res[101].Err, sdkerr.AlreadyExists) || !sdkerr.Is(res[102].Err, sdkerr.NotFound) {
		t.Errorf("tail: %+v / %v / %v", res[100], res[101].Err, res[102].Err)
	}
	members, _ := f.ListUsers(context.Background(), "hc")
	if len(members) != 100 {
		t.Errorf("hc has %d members", len(members))
	}
}

func TestConcurrentCreatesOfOneName(t *testing.T) {
	f := newTest(t)
	spec := accounts.UserSpec{Name: "alice", Home: "/home/alice", MarkerGroup: "hc"}
	var wg sync.WaitGroup
	uids := make([]uint32, 8)
	errs := make([]error, 8)
	for i := range uids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := f.CreateUser(context.Background(), spec)
			uids[i], errs[i] = u.UID, err
		}()
	}
	wg.Wait()
	for i := range uids {
		if errs[i] != nil || uids[i] != uids[0] {
			t.Errorf("create %d: uid %d, %v", i, uids[i], errs[i])
		}
	}
	if n := strings.Count(read(t, f, "passwd"), "\nalice:"); n != 1 {
		t.Errorf("%d passwd lines for alice", n)
	}
}

func TestHome(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	base := t.TempDir()
	f.Fence.Policy.HomeRoots = append(f.Fence.Policy.HomeRoots, base)
	home := filepath.Join(base, "alice")
	u, err := f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: home, CreateHome: true, MarkerGroup: "hc"})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(home)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("home: %v %v", fi, err)
	}
	os.WriteFile(filepath.Join(home, "f"), []byte("x"), 0o600)
	os.Chown(filepath.Join(home, "f"), int(u.UID), int(u.GID))
	if err := f.DeleteUser(ctx, "alice", accounts.DeleteOptions{RemoveHome: true, MarkerGroup: "hc"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("home left: %v", err)
	}
}

// assertNoLocks checks no lock or temporary file is left; .pwd.lock stays,
// as glibc leaves it.
func assertNoLocks(t *testing.T, f *Files) {
	t.Helper()
	entries, _ := os.ReadDir(f.Etc)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lock") && e.Name() != pwdLock || strings.Contains(e.Name(), ".hc") ||
			strings.Contains(e.Name(), "."+strconv.Itoa(os.Getpid())) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestDeleteRefusesBusyUser(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	u, err := f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: "/home/alice", MarkerGroup: "hc"})
	if err != nil {
		t.Fatal(err)
	}
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "4242"), 0o755)
	os.WriteFile(filepath.Join(proc, "4242", "status"), []byte(fmt.Sprintf("Name:\tsh\nUid:\t%d\t%d\t%d\t%d\n", u.UID, u.UID, u.UID, u.UID)), 0o644)
	old := procDir
	procDir = proc
	defer func() { procDir = old }()
	if err := f.DeleteUser(ctx, "alice", accounts.DeleteOptions{MarkerGroup: "hc"}); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("delete of a busy user: %v", err)
	}
	os.RemoveAll(filepath.Join(proc, "4242"))
	if err := f.DeleteUser(ctx, "alice", accounts.DeleteOptions{MarkerGroup: "hc"}); err != nil {
		t.Fatal(err)
	}
}

func TestProbe(t *testing.T) {
	f := newTest(t)
	if r := f.Probe(context.Background()); !r.Ready {
		t.Errorf("probe: %+v", r)
	}
	os.Remove(filepath.Join(f.Etc, "passwd"))
	if r := f.Probe(context.Background()); r.Ready || !strings.Contains(r.Reason, "passwd") {
		t.Errorf("without passwd: %+v", r)
	}
}

// TestUnusablePolicy: with a policy it could not load, the plugin is not
// ready and refuses every call, naming the policy's error, writing nothing.
func TestUnusablePolicy(t *testing.T) {
	f := newTest(t)
	f.Fence = etcdb.Fence{Err: errors.New("policy file is writable by group or others")}
	ctx := context.Background()
	before := snapshot(t, f)
	if r := f.Probe(ctx); r.Ready || !strings.Contains(r.Reason, "writable by group or others") {
		t.Errorf("probe: %+v", r)
	}
	_, err1 := f.GetUser(ctx, "bob")
	_, err2 := f.CreateUser(ctx, accounts.UserSpec{Name: "dave"})
	_, err3 := f.CreateUsers(ctx, []accounts.UserSpec{{Name: "dave"}})
	_, err4 := f.CreateGroup(ctx, "ops", 0)
	for i, err := range []error{err1, err2, err3, err4, f.LockUser(ctx, "bob", "")} {
		if !sdkerr.Is(err, sdkerr.FailedPrecondition) || !strings.Contains(err.Error(), "writable") {
			t.Errorf("call %d: %v", i, err)
		}
	}
	for n, content := range snapshot(t, f) {
		if content != before[n] {
			t.Errorf("%s changed", n)
		}
	}
}

// TestCrashMidCommitLeavesDeletable: a crash between the commit's passwd
// and group writes leaves the new users outside the marker group; they
// are on the pending record, so the host's rollback can delete them,
// while an account that is not (bob) is still refused. The files end as
// they began.
func TestCrashMidCommitLeavesDeletable(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	before := snapshot(t, f)
	restore := failpoint.SetHook(func(name string) {
		if name == "accounts.files.commit.shadow.after" {
			panic("crash")
		}
	})
	specs := []accounts.UserSpec{{Name: "c1", Home: "/home/c1", MarkerGroup: "hc"}, {Name: "c2", Home: "/home/c2", MarkerGroup: "hc"}}
	func() {
		defer func() { _ = recover() }()
		_, _ = f.CreateUsers(ctx, specs)
	}()
	restore()
	if !strings.Contains(read(t, f, "passwd"), "\nc1:") || strings.Contains(read(t, f, "group"), "c1") {
		t.Fatalf("setup: want c1 in passwd and not in group:\n%s\n%s", read(t, f, "passwd"), read(t, f, "group"))
	}
	if err := f.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "hc"}); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of unmanaged bob: %v", err)
	}
	for _, s := range specs {
		if err := f.DeleteUser(ctx, s.Name, accounts.DeleteOptions{MarkerGroup: "hc"}); err != nil {
			t.Fatalf("rollback of %s: %v", s.Name, err)
		}
	}
	sameFiles(t, f, before)
	if pend, err := etcdb.ReadPending(f.Etc); err != nil || len(pend) != 0 {
		t.Errorf("pending after the rollback: %+v %v", pend, err)
	}
}

// TestBackupInPlace: <file>- gets the content it replaces, written in
// place with the file's mode, a looser backup tightened before the
// content goes in; a backup hard-linked elsewhere is replaced, never
// written through.
func TestBackupInPlace(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	loose := filepath.Join(f.Etc, "gshadow-")
	if err := os.WriteFile(loose, []byte("old\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o666)
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("keep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(f.Etc, "group-"))
	if err := os.Link(other, filepath.Join(f.Etc, "group-")); err != nil {
		t.Skip("no hard link across these dirs:", err)
	}
	before := read(t, f, "group")
	if _, err := f.CreateGroup(ctx, "g1", 0); err != nil {
		t.Fatal(err)
	}
	if got := read(t, f, "group-"); got != before {
		t.Errorf("group- = %q, want the group file it replaced %q", got, before)
	}
	if b, _ := os.ReadFile(other); string(b) != "keep\n" {
		t.Errorf("a backup hard-linked elsewhere was written through: %q", b)
	}
	if fi, err := os.Stat(loose); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("gshadow-: %v %v, want 0640", fi.Mode(), err)
	}
}

// A create zeroes the new uid's lastlog and faillog records, as useradd
// does, in the var/log beside the account files' etc (/var/log for /etc):
// never the machine's while the files are a copy elsewhere.
func TestResetsLogsBesideEtc(t *testing.T) {
	size := lastlogSize()
	if size == 0 {
		t.Skipf("lastlog's record size on %s is not known", runtime.GOARCH)
	}
	root := t.TempDir()
	etc := filepath.Join(root, "etc")
	f := newTestWith(t, fixture)
	if err := os.Rename(f.Etc, etc); err != nil {
		t.Fatal(err)
	}
	f.Etc, f.Fence = etc, etcdb.NewFence(testPolicy(etc))
	logs := filepath.Join(root, "var", "log")
	os.MkdirAll(logs, 0o755)
	full := func(name string, n int64) {
		if err := os.WriteFile(filepath.Join(logs, name), bytes.Repeat([]byte{0xff}, int(n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	full("lastlog", 1100*size)
	full("faillog", 1100*faillogSize)
	u, err := f.CreateUser(context.Background(), accounts.UserSpec{Name: "alice", Home: "/home/alice", MarkerGroup: "hc"})
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]int64{"lastlog": size, "faillog": faillogSize} {
		b, _ := os.ReadFile(filepath.Join(logs, name))
		off := int64(u.UID) * rec
		if !bytes.Equal(b[off:off+rec], make([]byte, rec)) {
			t.Errorf("%s: uid %d's record not zeroed", name, u.UID)
		}
		if bytes.Count(b, []byte{0}) != int(rec) {
			t.Errorf("%s: %d bytes zeroed, want only the record's %d", name, bytes.Count(b, []byte{0}), rec)
		}
	}
}
