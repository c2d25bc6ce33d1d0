package btrfsvol

import (
	"strings"
	"testing"
)

const mountinfo = `22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
64 22 0:39 / /home rw,relatime shared:2 - btrfs /dev/loop0 rw,subvolid=5,subvol=/
65 22 0:39 /@home /srv/my\040homes rw,relatime - btrfs /dev/loop0 rw,subvolid=256,subvol=/@home
66 64 0:40 / /home/alice/mnt rw - tmpfs tmpfs rw
`

func TestFindMount(t *testing.T) {
	cases := []struct {
		path  string
		point string
		root  string
	}{
		{"/home/alice", "/home", "/"},
		{"/home/alice/mnt/x", "/home/alice/mnt", "/"},
		{"/srv/my homes/bob", "/srv/my homes", "/@home"},
		{"/homeless", "/", "/"},
	}
	for _, c := range cases {
		m, err := findMount(strings.NewReader(mountinfo), c.path)
		if err != nil || m.Point != c.point || m.Root != c.root {
			t.Errorf("findMount(%s) = %+v, %v", c.path, m, err)
		}
	}
}

func TestAbsPath(t *testing.T) {
	top := mount{Point: "/home", Root: "/", FSType: "btrfs"}
	sub := mount{Point: "/srv/homes", Root: "/@home", FSType: "btrfs"}
	cases := []struct {
		m     mount
		from  string
		want  string
		reach bool
	}{
		{top, ".snapshots/alice/t1", "/home/.snapshots/alice/t1", true},
		{sub, "@home/.snapshots/alice/t1", "/srv/homes/.snapshots/alice/t1", true},
		{sub, "@home", "/srv/homes", true},
		{sub, "@snapshots/alice", "", false},
		{sub, "@homes/x", "", false},
	}
	for _, c := range cases {
		got, ok := c.m.absPath(c.from)
		if got != c.want || ok != c.reach {
			t.Errorf("%+v.absPath(%s) = %q %v, want %q %v", c.m, c.from, got, ok, c.want, c.reach)
		}
	}
}
