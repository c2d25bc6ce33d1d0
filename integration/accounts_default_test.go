//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// TestAccountsNativeDefault is issue 15's proof of the native accounts
// default on a real host and the real shadow-utils:
//
//   - a host left to choose runs the files plugin for accounts (plugin-list
//     says so);
//   - with files in /etc/skel, a user created through it has exactly the
//     home, account lines and subordinate ranges a host pinned to the
//     shadow plugin (the real useradd) makes of the same create;
//   - while the CLI creates 16 users, useradd and userdel run by hand create
//     16 and delete every other one, all at once: nothing is lost (every
//     account there, uids and subordinate ranges unique), pwck and grpck
//     stay clean;
//   - once everyone is deleted, passwd, shadow, group, gshadow, subuid and
//     subgid are byte for byte what they were.
func TestAccountsNativeDefault(t *testing.T) {
	sandbox.Require(t)
	ensureDriver(t)
	quotasOn(t)
	acctHighIDs(t) // before any plugin reads login.defs: the hand-made users' uids stay clear of the machine's processes
	h := newHost(t, buildTree(t, ""))
	h.start()
	before := machineState(t) // with the policy's marker group, which the host makes at start
	_, pub := clientKey(t)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		keepFile(t, f)
		if err := os.WriteFile(f, nil, 0o644); err != nil { // useradd allocates ranges where the file exists
			t.Fatal(err)
		}
	}
	keepSkel(t)
	etc := []string{"passwd", "shadow", "group", "gshadow", "subuid", "subgid"}
	base, start := acctBaseline(t), acctRead(t, etc)

	var pl struct {
		Plugins []struct{ Concern, Name, State string } `json:"plugins"`
	}
	out := h.mustCLI("--json", "plugin-list")
	if err := json.Unmarshal([]byte(out), &pl); err != nil {
		t.Fatalf("plugin-list: %v\n%s", err, out)
	}
	if i := slices.IndexFunc(pl.Plugins, func(p struct{ Concern, Name, State string }) bool { return p.Concern == "accounts" }); i < 0 || pl.Plugins[i].Name != "files" {
		t.Fatalf("the host did not choose the files plugin for accounts:\n%s", out)
	}

	// The same create by the default host and by a host pinned to shadow.
	native := madeBy(t, h, "hcnd", pub, etc)
	h.mustCLI("user-delete", "hcnd")
	h.stop()
	sh := newHost(t, buildTree(t, ""))
	sh.args = []string{"--plugin", "accounts=shadow"}
	sh.start()
	byUseradd := madeBy(t, sh, "hcnd", pub, etc)
	sh.mustCLI("user-delete", "hcnd")
	sh.stop()
	for k, want := range byUseradd {
		if native[k] != want {
			t.Errorf("%s differs:\nthe shadow plugin (useradd) made:\n%s\nthe files plugin made:\n%s", k, want, native[k])
		}
	}
	if !strings.HasPrefix(native["subuid"], "hcnd:") || !strings.HasPrefix(native["subgid"], "hcnd:") {
		t.Errorf("no subordinate ranges for hcnd (useradd makes them where /etc/subuid exists): %q, %q", native["subuid"], native["subgid"])
	}
	if strings.Contains(native["home"], "skel-marker") {
		t.Errorf("the home holds /etc/skel's files:\n%s", native["home"])
	}

	// The default host and useradd/userdel by hand, at once.
	h.start()
	const n = 16
	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, 3*n)
	var spans [2][2]time.Time // when each side began and ended
	wg.Add(2)
	go func() {
		defer wg.Done()
		spans[0][0] = time.Now()
		defer func() { spans[0][1] = time.Now() }()
		for i := range n {
			if o, e, code := h.cli("user-create", lcName("hcndc", i), "--ssh-key-file", pub, "--quota", "50M"); code != 0 {
				errs <- fmt.Errorf("user-create %s: exit %d\n%s%s", lcName("hcndc", i), code, o, e)
			}
		}
	}()
	go func() {
		defer wg.Done()
		spans[1][0] = time.Now()
		defer func() { spans[1][1] = time.Now() }()
		for i := range n {
			if err := acctRetry(&retries, "useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", "--", lcName("hcndh", i)); err != nil {
				errs <- err
			}
			if i%2 == 1 {
				if err := acctRetry(&retries, "userdel", "--", lcName("hcndh", i-1)); err != nil {
					errs <- err
				}
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("CLI creates took %s, useradd/userdel by hand %s; they retried %d times after \"cannot lock\"",
		spans[0][1].Sub(spans[0][0]).Round(time.Millisecond), spans[1][1].Sub(spans[1][0]).Round(time.Millisecond), retries.Load())
	if spans[0][1].Before(spans[1][0]) || spans[1][1].Before(spans[0][0]) {
		t.Errorf("the two sides did not overlap: %v", spans)
	}
	for i := range n {
		for _, who := range []struct {
			prefix string
			want   bool
		}{{"hcndc", true}, {"hcndh", i%2 == 1}} {
			name := lcName(who.prefix, i)
			if got := exec.Command("getent", "passwd", name).Run() == nil; got != who.want {
				t.Errorf("%s: present %v, want %v", name, got, who.want)
			}
		}
	}
	uniqueIDs(t)
	base.clean(t)
	acctNoLockFiles(t)

	for i := range n {
		h.mustCLI("user-delete", lcName("hcndc", i))
		if i%2 == 1 {
			mustRun(t, "userdel", "--", lcName("hcndh", i))
		}
	}
	base.clean(t)
	end := acctRead(t, etc)
	for _, f := range etc {
		if end[f] != start[f] {
			t.Errorf("/etc/%s is not what it was before the test:\n--- before\n%s\n--- after\n%s", f, start[f], end[f])
		}
	}
	h.stop()
	sameMachine(t, before, machineState(t))
}

// keepSkel puts a file in /etc/skel for the test (useradd -m would copy
// it; hero's homes are DESIGN's layout only) and takes it away afterwards.
func keepSkel(t *testing.T) {
	t.Helper()
	if err := os.MkdirAll("/etc/skel", 0o755); err != nil {
		t.Fatal(err)
	}
	marker := "/etc/skel/.skel-marker"
	if err := os.WriteFile(marker, []byte("from /etc/skel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(marker) })
}

// madeBy creates name through h and returns what the create made: each
// account file's lines that name the user or its group, and its home's
// tree (paths, types, modes, owners relative to the user, content digests).
func madeBy(t *testing.T, h *hostUnderTest, name, pub string, etc []string) map[string]string {
	t.Helper()
	h.mustCLI("user-create", name, "--ssh-key-file", pub, "--quota", "50M")
	got := map[string]string{}
	for f, content := range acctRead(t, etc) {
		var lines []string
		for _, l := range strings.Split(content, "\n") {
			fields := strings.Split(l, ":")
			if fields[0] == name || (f == "group" || f == "gshadow") && slices.Contains(strings.Split(fields[len(fields)-1], ","), name) {
				if f == "shadow" && len(fields) > 2 {
					fields[2] = "(day)" // the day of the last change: the same day, unless the test runs over midnight
				}
				lines = append(lines, strings.Join(fields, ":"))
			}
		}
		got[f] = strings.Join(lines, "\n")
	}
	uid, gid := idsOf(t, name)
	var tree []string
	home := "/home/" + name
	filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", path, err)
			return nil
		}
		fi, _ := os.Lstat(path)
		st := fi.Sys().(*syscall.Stat_t)
		owner := func(id, user uint32) string {
			if id == user {
				return "user"
			}
			return strconv.Itoa(int(id))
		}
		line := fmt.Sprintf("%s %s %s:%s", strings.TrimPrefix(path, home), fi.Mode(), owner(st.Uid, uid), owner(st.Gid, gid))
		if fi.Mode().IsRegular() && !strings.HasPrefix(d.Name(), "id_") { // a keypair is new each time
			b, _ := os.ReadFile(path)
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		tree = append(tree, line)
		return nil
	})
	got["home"] = strings.Join(tree, "\n")
	return got
}

func idsOf(t *testing.T, name string) (uid, gid uint32) {
	t.Helper()
	f := strings.Split(strings.TrimSpace(mustRun(t, "getent", "passwd", name)), ":")
	u, _ := strconv.Atoi(f[2])
	g, _ := strconv.Atoi(f[3])
	return uint32(u), uint32(g)
}

// uniqueIDs checks passwd's uids, group's gids and subuid's and subgid's
// ranges are each held once.
func uniqueIDs(t *testing.T) {
	t.Helper()
	for file, col := range map[string]int{"passwd": 2, "group": 2, "subuid": 1, "subgid": 1} {
		b, err := os.ReadFile("/etc/" + file)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(l, ":")
			if len(f) <= col {
				continue
			}
			if other, dup := seen[f[col]]; dup {
				t.Errorf("/etc/%s: %s and %s share %s", file, other, f[0], f[col])
			}
			seen[f[col]] = f[0]
		}
	}
}
