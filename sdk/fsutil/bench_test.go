package fsutil_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil/fsutiltest"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// The fence's cost per call, against the plain helpers it wraps: a path
// check (string operations), an owner check (three stats of the account
// files and map lookups), and, when the account files changed, reading
// them again.

func BenchmarkWriteFile(b *testing.B) {
	root := b.TempDir()
	e := fsutiltest.New(b, "bench", root)
	path := filepath.Join(root, "f")
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if err := fsutil.WriteFileBeneath(root, path, []byte("x"), int(e.UID), int(e.GID), 0o600, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fenced", func(b *testing.B) {
		for b.Loop() {
			if err := e.Fence.WriteFile(path, []byte("x"), e.UID, e.GID, 0o600, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// machine1000 is an etc dir with 1,000 managed accounts and the fence
// of a policy over it; u0500's ids are returned.
func machine1000(b *testing.B) (f *fsutil.Fence, etc string, uid uint32) {
	etc = b.TempDir()
	var passwd, group, members strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&passwd, "u%04d:x:%d:%d::/home/u%04d:/bin/sh\n", i, 10000+i, 10000+i, i)
		fmt.Fprintf(&group, "u%04d:x:%d:\n", i, 10000+i)
		if i > 0 {
			members.WriteByte(',')
		}
		fmt.Fprintf(&members, "u%04d", i)
	}
	fmt.Fprintf(&group, "codescalers:x:999:%s\n", members.String())
	os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd.String()), 0o644)
	os.WriteFile(filepath.Join(etc, "group"), []byte(group.String()), 0o644)
	return fsutil.NewFence("bench", policy.Defaults(etc), etc), etc, 10500
}

func BenchmarkOwner(b *testing.B) {
	f, etc, uid := machine1000(b)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if err := f.Owner("/x", uid, uid, 0o600, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reread-1000-accounts", func(b *testing.B) {
		passwd := filepath.Join(etc, "passwd")
		for b.Loop() {
			b.StopTimer()
			data, _ := os.ReadFile(passwd)
			os.WriteFile(passwd+".new", data, 0o644)
			os.Rename(passwd+".new", passwd) // a new inode: the next check reads again
			b.StartTimer()
			if err := f.Owner("/x", uid, uid, 0o600, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
