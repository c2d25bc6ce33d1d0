package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
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

var accountFiles = []string{"passwd", "shadow", "group", "gshadow", "subuid", "subgid"}

func newTest(t *testing.T) *Files {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fixture {
		mode := os.FileMode(0o644)
		if strings.Contains(name, "shadow") {
			mode = 0o640
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return &Files{Etc: dir, LockTimeout: 2 * time.Second}
}

func read(t *testing.T, f *Files, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.Etc, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
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
	spec := accounts.UserSpec{Name: "alice", Home: "/nonexistent", Shell: "/bin/sh", GECOS: "Alice A", MarkerGroup: "hc"}
	u, err := f.CreateUser(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	today := strconv.FormatInt(etcdb.Today(), 10)
	for file, line := range map[string]string{
		"passwd":  "alice:x:1001:1002:Alice A:/nonexistent:/bin/sh\n",
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
	u, _ := f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: "/nonexistent", MarkerGroup: "hc"})
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

func TestRefusesUnmanaged(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	before := snapshot(t, f)
	for name, err := range map[string]error{
		"delete root":       f.DeleteUser(ctx, "root", accounts.DeleteOptions{}),
		"delete bob":        f.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "hc"}),
		"lock bob":          f.LockUser(ctx, "bob", "hc"),
		"delete group sudo": f.DeleteGroup(ctx, "sudo"),
	} {
		if !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.SetGroupMembers(ctx, "sudo", nil); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("emptying sudo: %v", err)
	}
	if _, err := f.CreateUser(ctx, accounts.UserSpec{Name: "bob", Home: "/home/bob", Shell: "/bin/bash", MarkerGroup: "hc"}); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("create over bob, who is not in hc: %v", err)
	}
	for n, content := range snapshot(t, f) {
		if content != before[n] {
			t.Errorf("%s changed", n)
		}
	}
}

func TestGroups(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	g, err := f.CreateGroup(ctx, "devs", 0)
	if err != nil || g.GID != 1002 {
		t.Fatalf("%+v %v", g, err)
	}
	if _, err := f.CreateGroup(ctx, "devs", 5000); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("other gid: %v", err)
	}
	if _, err := f.CreateGroup(ctx, "ops", 1002); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("taken gid: %v", err)
	}
	f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: "/nonexistent", MarkerGroup: "hc"})
	if g, err := f.SetGroupMembers(ctx, "devs", []string{"alice", "bob", "alice"}); err != nil || strings.Join(g.Members, ",") != "alice,bob" {
		t.Errorf("members %+v %v", g, err)
	}
	if !strings.Contains(read(t, f, "gshadow"), "devs:!::alice,bob\n") {
		t.Error("gshadow members not set")
	}
	if u, err := f.SetUserGroups(ctx, "alice", []string{"sudo"}, "hc"); err != nil || strings.Join(u.Groups, ",") != "hc,sudo" {
		t.Errorf("set groups: %+v %v", u, err)
	}
	if err := f.DeleteGroup(ctx, "alice"); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("delete of alice's primary group: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := f.DeleteGroup(ctx, "devs"); err != nil {
			t.Errorf("delete devs: %v", err)
		}
	}
}

func TestBatch(t *testing.T) {
	f := newTest(t)
	var specs []accounts.UserSpec
	for i := 0; i < 100; i++ {
		specs = append(specs, accounts.UserSpec{Name: fmt.Sprintf("u%03d", i), Home: "/nonexistent", MarkerGroup: "hc"})
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
	spec := accounts.UserSpec{Name: "alice", Home: "/nonexistent", MarkerGroup: "hc"}
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
	if n := strings.Count(read(t, f, "passwd"), "alice:"); n != 1 {
		t.Errorf("%d passwd lines for alice", n)
	}
}

func TestHome(t *testing.T) {
	f := newTest(t)
	ctx := context.Background()
	base := t.TempDir()
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
	u, err := f.CreateUser(ctx, accounts.UserSpec{Name: "alice", Home: "/nonexistent", MarkerGroup: "hc"})
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
