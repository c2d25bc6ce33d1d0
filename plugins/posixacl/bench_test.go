package posixacl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/acl"
)

// The fork-free cost: one grant that changes the ACL, done in process
// through the xattr syscalls, against the same grant by a setfacl process.
// Each iteration flips the perms so every call writes.

func BenchmarkGrantXattr(b *testing.B) {
	dir := aclDir(b)
	f := filepath.Join(dir, "f")
	os.WriteFile(f, nil, 0o640)
	p, ctx := newTestPlugin(b, "/nonexistent", dir), context.Background()
	perms := []string{"rx", "rwx"}
	i := 0
	for b.Loop() {
		if err := p.Grant(ctx, f, []acl.Entry{{Tag: acl.TagUser, Qualifier: self(), Perms: perms[i%2]}}, false); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGrantSetfacl(b *testing.B) {
	setfacl, err := exec.LookPath("setfacl")
	if err != nil {
		b.Skip("setfacl is not installed")
	}
	f := filepath.Join(aclDir(b), "f")
	os.WriteFile(f, nil, 0o640)
	perms := []string{"rx", "rwx"}
	i := 0
	for b.Loop() {
		if out, err := exec.Command(setfacl, "-m", "u:"+self()+":"+perms[i%2], "--", f).CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
		i++
	}
}
