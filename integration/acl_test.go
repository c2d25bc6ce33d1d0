//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestPosixACLPlugin runs the posixacl plugin against btrfs and the real
// getfacl and setfacl: what it writes is what getfacl shows, byte for
// byte what setfacl writes for the same request, and nothing is followed
// through a symlink or left group-writable where sshd would mind.
func TestPosixACLPlugin(t *testing.T) {
	sandbox.Require(t)
	for _, u := range []string{"hcacl1", "hcacl2"} {
		aclUser(t, u)
	}
	// Managed accounts for the numeric entries of the crosscheck.
	managedUser(t, "hcacl40001", "--uid", "40001")
	managedUser(t, "hcacl40002", "--uid", "40002")
	aclGroup(t, "hcaclg")
	bin := buildPlugin(t, "posixacl")
	a := dispense[acl.ACL](t, startPlugin(t, bin, aclEnv...), sdk.ConcernACL)
	t.Run("getfacl", func(t *testing.T) { posixGetfacl(t, a) })
	t.Run("setfacl-crosscheck", func(t *testing.T) { posixCrosscheck(t, a) })
	t.Run("symlinks", func(t *testing.T) { aclSymlinks(t, a, true) })
	t.Run("stays-inside", func(t *testing.T) { aclStaysInside(t, a, true) })
	t.Run("guards", func(t *testing.T) { posixGuards(t, a) })
	t.Run("fork-free-cost", func(t *testing.T) { posixCost(t, a) })
	t.Run("plugintest", func(t *testing.T) {
		plugintest.Run(t, bin, plugintest.Options{ScratchDir: aclScratch(t), Destructive: true, Env: aclEnv})
	})
}

func user1(q, perms string) acl.Entry { return acl.Entry{Tag: acl.TagUser, Qualifier: q, Perms: perms} }

func aclWant(t *testing.T, path string, want ...string) {
	t.Helper()
	got := getfacl(t, path)
	for _, w := range want {
		neg := strings.HasPrefix(w, "!")
		if strings.Contains(got, strings.TrimPrefix(w, "!")+"\n") == neg {
			t.Errorf("getfacl %s: want %q in:\n%s", path, w, got)
		}
	}
}

func posixGetfacl(t *testing.T, a acl.ACL) {
	ctx, dir := context.Background(), aclScratch(t)
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o640)
	if err := a.Grant(ctx, f, []acl.Entry{user1("hcacl1", "rx")}, false); err != nil {
		t.Fatal(err)
	}
	if got, want := getfacl(t, f), "user::rw-\nuser:hcacl1:r-x\ngroup::r--\nmask::r-x\nother::---\n\n"; got != want {
		t.Fatalf("getfacl:\n%s\nwant:\n%s", got, want)
	}
	if err := a.Grant(ctx, f, []acl.Entry{{Tag: acl.TagGroup, Qualifier: "hcaclg", Perms: "wr"}}, false); err != nil {
		t.Fatal(err)
	}
	aclWant(t, f, "group:hcaclg:rw-", "mask::rwx")
	l, err := a.Get(ctx, f)
	if err != nil || !containsEntry(l.Access, acl.Entry{Tag: acl.TagGroup, Qualifier: "hcaclg", Perms: "rw-"}) {
		t.Fatalf("Get: %v %v", l, err)
	}
	if err := a.Revoke(ctx, f, []acl.Entry{user1("hcacl1", "")}); err != nil {
		t.Fatal(err)
	}
	aclWant(t, f, "!user:hcacl1:r-x", "group:hcaclg:rw-", "mask::rw-")

	d := filepath.Join(dir, "d")
	os.Mkdir(d, 0o750)
	def := user1("hcacl1", "rwx")
	def.Default = true
	if err := a.Grant(ctx, d, []acl.Entry{def, user1("hcacl1", "rx")}, false); err != nil {
		t.Fatal(err)
	}
	aclWant(t, d, "user:hcacl1:r-x", "default:user::rwx", "default:user:hcacl1:rwx", "default:group::r-x", "default:mask::rwx", "default:other::---")
	inherited := filepath.Join(d, "new")
	os.WriteFile(inherited, nil, 0o660)
	aclWant(t, inherited, "user:hcacl1:rwx\t#effective:rw-", "mask::rw-")
	if err := a.Revoke(ctx, d, []acl.Entry{def}); err != nil {
		t.Fatal(err)
	}
	aclWant(t, d, "!default:user:hcacl1:rwx", "default:mask::r-x", "user:hcacl1:r-x")

	// Where setfacl -x would widen a narrowed mask again, a revoke keeps it.
	narrow := filepath.Join(dir, "narrow")
	os.WriteFile(narrow, nil, 0o640)
	mustRun(t, "setfacl", "-m", "u:hcacl1:rw,u:hcacl2:r,m::r", "--", narrow)
	if err := a.Revoke(ctx, narrow, []acl.Entry{user1("hcacl2", "")}); err != nil {
		t.Fatal(err)
	}
	aclWant(t, narrow, "user:hcacl1:rw-\t#effective:r--", "mask::r--", "!user:hcacl2:r--")
}

func containsEntry(l []acl.Entry, e acl.Entry) bool {
	for _, o := range l {
		if o == e {
			return true
		}
	}
	return false
}

// xcase is one request made through the plugin on one copy of a fixture
// and through setfacl on another.
type xcase struct {
	name      string
	dir, tree bool
	mode      uint32
	setup     string // setfacl -m spec applied to both copies first
	grant     []acl.Entry
	revoke    []acl.Entry
	recursive bool
	setfacl   []string
}

func dflt(e acl.Entry) acl.Entry { e.Default = true; return e }

var xcases = []xcase{
	{name: "named user", mode: 0o640, grant: []acl.Entry{user1("hcacl1", "rx")}, setfacl: []string{"-m", "u:hcacl1:rx"}},
	{name: "narrower replaces and shrinks the mask", mode: 0o640, setup: "u:hcacl1:rwx",
		grant: []acl.Entry{user1("hcacl1", "r")}, setfacl: []string{"-m", "u:hcacl1:r"}},
	{name: "several with an explicit mask", mode: 0o600,
		grant:   []acl.Entry{user1("hcacl2", "rw"), {Tag: acl.TagGroup, Qualifier: "hcaclg", Perms: "r"}, {Tag: acl.TagMask, Perms: "r"}},
		setfacl: []string{"-m", "u:hcacl2:rw,g:hcaclg:r,m::r"}},
	{name: "numeric ids sort", mode: 0o644, grant: []acl.Entry{user1("40002", "r"), user1("40001", "x"), user1("hcacl1", "w")},
		setfacl: []string{"-m", "u:40002:r,u:40001:x,u:hcacl1:w"}},
	{name: "other recomputes the mask", mode: 0o644, setup: "u:hcacl1:rw,m::r",
		grant: []acl.Entry{{Tag: acl.TagOther, Perms: ""}}, setfacl: []string{"-m", "o::---"}},
	{name: "base entries stay mode bits", mode: 0o640, grant: []acl.Entry{{Tag: acl.TagGroupObj, Perms: "rwx"}, {Tag: acl.TagUserObj, Perms: "r"}},
		setfacl: []string{"-m", "g::rwx,u::r"}},
	{name: "setgid kept", mode: 0o2750, dir: true, grant: []acl.Entry{user1("hcacl1", "rx")}, setfacl: []string{"-m", "u:hcacl1:rx"}},
	{name: "first default entry", dir: true, mode: 0o750, grant: []acl.Entry{dflt(user1("hcacl1", "rx"))}, setfacl: []string{"-m", "d:u:hcacl1:rx"}},
	{name: "default and access together", dir: true, mode: 0o755, setup: "d:u:hcacl1:rwx",
		grant:   []acl.Entry{dflt(acl.Entry{Tag: acl.TagGroup, Qualifier: "hcaclg", Perms: "rx"}), user1("hcacl2", "x")},
		setfacl: []string{"-m", "d:g:hcaclg:rx,u:hcacl2:x"}},
	{name: "default mask only", dir: true, mode: 0o700, grant: []acl.Entry{dflt(acl.Entry{Tag: acl.TagMask, Perms: "rwx"})}, setfacl: []string{"-m", "d:m::rwx"}},
	{name: "revoke one of two", mode: 0o640, setup: "u:hcacl1:rwx,u:hcacl2:r",
		revoke: []acl.Entry{user1("hcacl1", "")}, setfacl: []string{"-x", "u:hcacl1"}},
	{name: "revoke to minimal", mode: 0o640, setup: "u:hcacl1:rx",
		revoke: []acl.Entry{user1("hcacl1", ""), {Tag: acl.TagMask}}, setfacl: []string{"-x", "u:hcacl1,m::"}},
	{name: "revoke a default entry", dir: true, mode: 0o750, setup: "d:u:hcacl1:rx,d:g:hcaclg:rwx",
		revoke: []acl.Entry{dflt(acl.Entry{Tag: acl.TagGroup, Qualifier: "hcaclg"})}, setfacl: []string{"-x", "d:g:hcaclg"}},
	{name: "revoke a missing entry", mode: 0o640, setup: "u:hcacl2:r",
		revoke: []acl.Entry{user1("hcacl1", "")}, setfacl: []string{"-x", "u:hcacl1"}},
	{name: "recursive, defaults on directories only", dir: true, tree: true, mode: 0o750, recursive: true,
		grant:   []acl.Entry{user1("hcacl1", "rx"), dflt(user1("hcacl1", "rx"))},
		setfacl: []string{"-R", "-P", "-m", "u:hcacl1:rx,d:u:hcacl1:rx"}},
}

func posixCrosscheck(t *testing.T, a acl.ACL) {
	ctx := context.Background()
	for _, c := range xcases {
		t.Run(c.name, func(t *testing.T) {
			dir := aclScratch(t)
			mine, theirs := aclFixture(t, filepath.Join(dir, "mine"), c), aclFixture(t, filepath.Join(dir, "setfacl"), c)
			var err error
			if c.revoke != nil {
				err = a.Revoke(ctx, mine, c.revoke)
			} else {
				err = a.Grant(ctx, mine, c.grant, c.recursive)
			}
			if err != nil {
				t.Fatal(err)
			}
			mustRun(t, "setfacl", append(c.setfacl, "--", theirs)...)
			got, want := aclSnapshot(t, mine), aclSnapshot(t, theirs)
			if got != want {
				t.Fatalf("plugin:\n%s\nsetfacl:\n%s\ngetfacl of the plugin's:\n%s\ngetfacl of setfacl's:\n%s",
					got, want, getfacl(t, "-R", mine), getfacl(t, "-R", theirs))
			}
		})
	}
}

// aclFixture makes the case's path (a file, a directory, or a small tree
// with a symlink in it) and applies its setup with setfacl.
func aclFixture(t *testing.T, path string, c xcase) string {
	t.Helper()
	if c.dir {
		os.Mkdir(path, 0o700)
	} else {
		os.WriteFile(path, nil, 0o600)
	}
	if err := unix.Chmod(path, c.mode); err != nil {
		t.Fatal(err)
	}
	if c.tree {
		os.MkdirAll(filepath.Join(path, "a", "b"), 0o750)
		os.WriteFile(filepath.Join(path, "a", "f"), nil, 0o640)
		os.WriteFile(filepath.Join(path, "a", "b", "g"), nil, 0o600)
		os.Symlink("/etc/passwd", filepath.Join(path, "a", "link"))
	}
	if c.setup != "" {
		mustRun(t, "setfacl", "-m", c.setup, "--", path)
	}
	return path
}

// aclSnapshot renders every path below root (relative), its mode and both
// ACL attributes as hex, so two trees compare byte for byte.
func aclSnapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		unix.Lstat(path, &st)
		rel, _ := filepath.Rel(root, path)
		b.WriteString(rel + " " + strconv.FormatUint(uint64(st.Mode), 8))
		if d.Type()&fs.ModeSymlink == 0 {
			for _, name := range []string{"system.posix_acl_access", "system.posix_acl_default"} {
				buf := make([]byte, 4096)
				n, err := unix.Lgetxattr(path, name, buf)
				if errors.Is(err, unix.ENODATA) {
					n = 0
				} else if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				b.WriteString(" " + name[len("system.posix_acl_"):] + "=" + hexOf(buf[:n]))
			}
		}
		b.WriteByte('\n')
		return nil
	})
	return b.String()
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var out bytes.Buffer
	for _, c := range b {
		out.WriteByte(digits[c>>4])
		out.WriteByte(digits[c&15])
	}
	return out.String()
}

// aclSymlinks checks that no call follows a symlink, at the path or
// inside it, and that a recursive grant does not leave the tree through
// one. named says whether the plugin takes named entries.
func aclSymlinks(t *testing.T, a acl.ACL, named bool) {
	ctx, dir := context.Background(), aclScratch(t)
	outside := filepath.Join(dir, "outside")
	os.WriteFile(outside, nil, 0o600)
	outdir := filepath.Join(dir, "outdir")
	os.Mkdir(outdir, 0o700)
	os.WriteFile(filepath.Join(outdir, "inner"), nil, 0o600)
	os.Symlink(outside, filepath.Join(dir, "flink"))
	os.Symlink(outdir, filepath.Join(dir, "dlink"))
	entry := acl.Entry{Tag: acl.TagOther, Perms: "rwx"}
	if named {
		entry = user1("hcacl1", "rwx")
	}
	for _, p := range []string{"flink", "dlink", "dlink/inner"} {
		path := filepath.Join(dir, p)
		if err := a.Grant(ctx, path, []acl.Entry{entry}, true); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("Grant(%s): %v", p, err)
		}
		if _, err := a.Get(ctx, path); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("Get(%s): %v", p, err)
		}
		if err := a.SetOwnership(ctx, path, 65534, 65534, 0o777); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("SetOwnership(%s): %v", p, err)
		}
	}
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "sub"), 0o700)
	os.Symlink(outside, filepath.Join(tree, "sub", "escape"))
	os.Symlink(outdir, filepath.Join(tree, "direscape"))
	if err := a.Grant(ctx, tree, []acl.Entry{entry}, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{outside, outdir, filepath.Join(outdir, "inner")} {
		var st unix.Stat_t
		unix.Stat(p, &st)
		if st.Mode&0o077 != 0 || st.Uid != 0 || strings.Contains(getfacl(t, p), "hcacl1") {
			t.Errorf("%s changed through a symlink: mode %o\n%s", p, st.Mode, getfacl(t, p))
		}
	}
	sub := filepath.Join(tree, "sub")
	if st, _ := os.Stat(sub); !named && st.Mode().Perm()&0o007 != 0o007 {
		t.Errorf("the tree itself was not changed: %v", st.Mode())
	}
	if named {
		aclWant(t, sub, "user:hcacl1:rwx")
	}
}

func posixGuards(t *testing.T, a acl.ACL) {
	ctx := context.Background()
	aclUser(t, "hcaclhome")
	u, _ := user.Lookup("hcaclhome")
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	home := "/home/hcaclhome"
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	t.Cleanup(func() { os.RemoveAll(home) })
	keys := filepath.Join(home, ".ssh", "authorized_keys")
	os.WriteFile(keys, nil, 0o600)
	for _, p := range []string{home, filepath.Join(home, ".ssh"), keys} {
		os.Lchown(p, uid, gid)
		for _, e := range []acl.Entry{user1("hcacl1", "rwx"), {Tag: acl.TagGroupObj, Perms: "rwx"}, {Tag: acl.TagOther, Perms: "w"}} {
			if err := a.Grant(ctx, p, []acl.Entry{e}, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
				t.Errorf("Grant(%s, %v): %v", p, e, err)
			}
		}
		if err := a.SetOwnership(ctx, p, uint32(uid), uint32(gid), 0o775); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
			t.Errorf("SetOwnership(%s, 0775): %v", p, err)
		}
	}
	if err := a.Grant(ctx, home, []acl.Entry{dflt(user1("hcacl1", "rwx"))}, false); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Errorf("default write on a home: %v", err)
	}
	if err := a.SetOwnership(ctx, home, uint32(uid), uint32(gid), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.Grant(ctx, home, []acl.Entry{user1("hcacl1", "x")}, false); err != nil {
		t.Fatalf("traverse on a home: %v", err)
	}
	aclWant(t, home, "user:hcacl1:--x", "mask::r-x")
	var st unix.Stat_t
	unix.Stat(home, &st)
	if st.Mode&0o7777 != 0o755 || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Fatalf("home: mode %o owner %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
	}
	// A recursive read grant on the home skips .ssh entirely.
	if err := a.Grant(ctx, home, []acl.Entry{user1("hcacl1", "rx")}, true); err != nil {
		t.Fatal(err)
	}
	aclWant(t, filepath.Join(home, ".ssh"), "!user:hcacl1:r-x", "other::---")
	aclWant(t, keys, "!user:hcacl1:r-x")
}

// posixCost measures what going fork-free buys: N grants through the
// plugin (xattr syscalls, over go-plugin's gRPC) against N setfacl
// processes doing the same, and checks both leave the same ACL.
func posixCost(t *testing.T, a acl.ACL) {
	const n = 100
	ctx, dir := context.Background(), aclScratch(t)
	mine, theirs := filepath.Join(dir, "mine"), filepath.Join(dir, "setfacl")
	os.WriteFile(mine, nil, 0o640)
	os.WriteFile(theirs, nil, 0o640)
	// Each grant changes the entry of a managed account (the only kind
	// the plugin names): its perms flip, so every call writes.
	perms := []string{"rx", "rwx"}
	start := time.Now()
	for i := range n {
		if err := a.Grant(ctx, mine, []acl.Entry{user1("hcacl1", perms[i%2])}, false); err != nil {
			t.Fatal(err)
		}
	}
	plug := time.Since(start) / n
	start = time.Now()
	for i := range n {
		if out, err := exec.Command("setfacl", "-m", "u:hcacl1:"+perms[i%2], "--", theirs).CombinedOutput(); err != nil {
			t.Fatalf("setfacl: %v %s", err, out)
		}
	}
	tool := time.Since(start) / n
	if got, want := aclSnapshot(t, mine), aclSnapshot(t, theirs); got != want {
		t.Fatalf("after %d grants the ACLs differ:\n%s\n%s", n, got, want)
	}
	t.Logf("N=%d grants changing a named entry: posixacl plugin (xattr, over gRPC) %v/call; setfacl process %v/call; %.1fx",
		n, plug, tool, float64(tool)/float64(plug))
}
