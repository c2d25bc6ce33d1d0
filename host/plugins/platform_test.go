package plugins_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"golang.org/x/sys/unix"
)

func TestDetectPlatform(t *testing.T) {
	tests := []struct {
		name, osRelease string
		want            plugins.Platform
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n",
			plugins.Platform{ID: "debian", VersionID: "12"}},
		{"rocky, quoted list", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n",
			plugins.Platform{ID: "rocky", IDLike: []string{"rhel", "centos", "fedora"}, VersionID: "9.3"}},
		{"single quotes, comments, escapes", "# a comment\nID='opensuse-leap'\nID_LIKE='suse opensuse'\nNAME=\"a \\\"b\\\"\"\n",
			plugins.Platform{ID: "opensuse-leap", IDLike: []string{"suse", "opensuse"}}},
		{"upper case is folded", "ID=Arch\n", plugins.Platform{ID: "arch"}},
		{"no ID means linux", "NAME=Mystery\n", plugins.Platform{ID: "linux"}},
	}
	home := t.TempDir()
	fs, err := plugins.FSType(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "os-release")
			os.WriteFile(path, []byte(tt.osRelease), 0o644)
			got, err := plugins.DetectPlatform(path, home)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tt.want.ID || got.VersionID != tt.want.VersionID || !slices.Equal(got.IDLike, tt.want.IDLike) || got.FSType != fs {
				t.Errorf("got %+v, want %+v on %s", got, tt.want, fs)
			}
		})
	}
	if _, err := plugins.DetectPlatform(filepath.Join(home, "missing"), home); err == nil {
		t.Error("a missing os-release is an error")
	}
}

func TestFSTypeName(t *testing.T) {
	for magic, want := range map[int64]string{
		unix.BTRFS_SUPER_MAGIC: "btrfs", 0xEF53: "ext4", unix.XFS_SUPER_MAGIC: "xfs",
		unix.TMPFS_MAGIC: "tmpfs", unix.OVERLAYFS_SUPER_MAGIC: "overlay", 0x1234: "0x1234",
	} {
		if got := plugins.FSTypeName(magic); got != want {
			t.Errorf("FSTypeName(%#x) = %q, want %q", magic, got, want)
		}
	}
	if fs, err := plugins.FSType("/proc"); err != nil || fs != "0x9fa0" {
		t.Logf("/proc is %q (%v)", fs, err) // procfs has no entry: shown in hex
	}
}
