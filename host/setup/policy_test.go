package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// safeSandbox is sandbox in a directory whose chain up to / nobody but its
// owner may write, as policy.Load demands of the policy's directories
// (t.TempDir lives under the sticky, world-writable /tmp).
func safeSandbox(t *testing.T, users string) (root, plugin string) {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory for a protected temp dir")
	}
	base, err := os.MkdirTemp(home, ".setuptest-")
	if err != nil {
		t.Skip("cannot make a protected temp dir:", err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	for d := base; d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o022 != 0 {
			t.Skipf("%s is group- or world-writable; cannot test the policy's protected read here", d)
		}
	}
	tmp, plug := sandbox(t, users)
	root = filepath.Join(base, "root")
	if err := os.Rename(tmp, root); err != nil {
		t.Skip("cannot move the sandbox into the protected dir:", err)
	}
	return root, filepath.Join(root, strings.TrimPrefix(plug, tmp))
}

const driverOnly = "root:x:0:0::/root:/bin/sh\ndriver:x:998:998::/var/lib/hero_codescalers:/usr/sbin/nologin\n"

// TestDriverWritesThePolicy: setup driver writes the policy from its
// settings and login.defs, root's 0644 in a 0755 directory; a second run
// keeps it (an admin may have edited it) unless told to rewrite it; bad
// settings change nothing at all.
func TestDriverWritesThePolicy(t *testing.T) {
	root, plugin := safeSandbox(t, driverOnly)
	os.WriteFile(filepath.Join(root, "etc/login.defs"), []byte("UID_MIN 2000\nUID_MAX 3000\nGID_MIN 2000\nGID_MAX 3000\n"), 0o644)
	var out bytes.Buffer
	opts := Options{Root: root, Dirs: []string{filepath.Dir(plugin)}, Out: &out, Run: (&runner{}).run,
		Policy: PolicySettings{HomeRoots: []string{"/srv/homes/"}, MarkerGroup: "devteam", Groups: []string{"projects"}}}
	rep, err := Driver(opts)
	if err != nil || !rep.PolicyWritten {
		t.Fatalf("%+v %v\n%s", rep, err, out.String())
	}
	path := filepath.Join(root, policy.Path)
	got, err := policy.LoadFile(path, filepath.Join(root, "etc"))
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Policy{HomeRoots: []string{"/srv/homes"}, MarkerGroup: "devteam", UIDMin: 2000, UIDMax: 3000,
		GIDMin: 2000, GIDMax: 3000, Groups: []string{"projects"}, Driver: "driver", Roots: map[string][]string{}, Source: path}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policy\n got %+v\nwant %+v", got, want)
	}
	for p, mode := range map[string]os.FileMode{path: 0o644, filepath.Dir(path): 0o755} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %v", p, fi.Mode(), err, mode)
		}
	}
	if !strings.Contains(out.String(), "wrote "+path+": home roots /srv/homes, marker group devteam, uids 2000..3000") {
		t.Errorf("output:\n%s", out.String())
	}

	edited := []byte("# edited by an admin\nhome_roots = [\"/home\"]\n")
	os.WriteFile(path, edited, 0o644)
	out.Reset()
	if rep, err := Driver(opts); err != nil || rep.PolicyWritten || !strings.Contains(out.String(), "kept "+path) {
		t.Fatalf("second run: %+v %v\n%s", rep, err, out.String())
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, edited) {
		t.Error("an existing policy was replaced")
	}
	opts.Policy.Rewrite = true
	if rep, err := Driver(opts); err != nil || !rep.PolicyWritten {
		t.Fatalf("--rewrite-policy: %+v %v", rep, err)
	}

	os.RemoveAll(filepath.Join(root, "etc/hero_codescalers"))
	os.Remove(filepath.Join(root, SudoersFile))
	for _, bad := range []PolicySettings{{HomeRoots: []string{"/"}}, {HomeRoots: []string{"home"}}, {MarkerGroup: "-rf"}, {Groups: []string{"a b"}}} {
		opts.Policy = bad
		if _, err := Driver(opts); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
	for _, p := range []string{filepath.Join(root, SudoersFile), filepath.Dir(path)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("bad settings made %s", p)
		}
	}
}

// TestCheck: --check reports each part, changing nothing, and names the
// fix of what is wrong.
func TestCheck(t *testing.T) {
	root, plugin := safeSandbox(t, driverOnly)
	opts := Options{Root: root, Dirs: []string{filepath.Dir(plugin)}, Out: &bytes.Buffer{}, Run: (&runner{}).run}
	check := func() (bool, string) {
		var out bytes.Buffer
		o := opts
		o.Out = &out
		return Failed(Check(o)), out.String()
	}
	if failed, out := check(); !failed || !strings.Contains(out, "FAIL  "+filepath.Join(root, SudoersFile)+" does not exist") ||
		!strings.Contains(out, "policy.toml does not exist: the plugins use their built-in defaults") || !strings.Contains(out, "fix: hero_codescalers setup driver") {
		t.Fatalf("before setup:\n%s", out)
	}
	if _, err := Driver(opts); err != nil {
		t.Fatal(err)
	}
	failed, out := check()
	if failed || strings.Count(out, "ok    ") != 4 || !strings.Contains(out, "pins the 1 plugins installed now") ||
		!strings.Contains(out, "no managed-groups record yet") {
		t.Fatalf("after setup:\n%s", out)
	}

	record := filepath.Join(root, "etc", policy.ManagedGroupsFile)
	os.WriteFile(record, []byte("devs\n"), 0o666)
	os.Chmod(record, 0o666)
	os.WriteFile(plugin, []byte("#!/bin/false\n# upgraded\n"), 0o755)
	path := filepath.Join(root, policy.Path)
	os.Chmod(path, 0o666)
	before, _ := os.ReadFile(path)
	failed, out = check()
	for _, want := range []string{
		"does not pin " + plugin + " at its current digest",
		"writable by group or others",
		"chmod 0644 " + path,
		"chmod 0644 " + record,
	} {
		if !failed || !strings.Contains(out, want) {
			t.Errorf("after an upgrade and two chmods, want %q:\n%s", want, out)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the check changed the policy")
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	if _, out := check(); !strings.Contains(out, "FAIL  account driver does not exist") {
		t.Errorf("without the account:\n%s", out)
	}
}
