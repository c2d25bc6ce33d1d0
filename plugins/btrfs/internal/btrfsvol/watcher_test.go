package btrfsvol

import (
	"encoding/binary"
	"slices"
	"testing"
)

func TestWatchedMounts(t *testing.T) {
	ms := parseMounts(`21 1 0:20 / / rw - ext4 /dev/vda1 rw
30 21 0:31 /@home /home rw - btrfs /dev/vdb rw
31 30 0:32 / /home/team rw - btrfs /dev/vdc rw
32 21 0:31 /@srv /srv rw - btrfs /dev/vdb rw
33 21 0:33 / /data rw - btrfs /dev/vdd rw
34 30 0:34 / /home/tmpfs rw - tmpfs tmpfs rw
`)
	got := watchedMounts(ms, []string{"/home", "/data/homes"})
	want := []watchedMount{
		{mount{Point: "/home", Root: "/@home", FSType: "btrfs"}, "@home"},
		{mount{Point: "/home/team", Root: "/", FSType: "btrfs"}, ""},
		{mount{Point: "/data", Root: "/", FSType: "btrfs"}, "homes"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("watchedMounts = %+v\nwant %+v", got, want)
	}
	// A home root on ext4 has nothing to watch.
	if got := watchedMounts(ms, []string{"/var/homes"}); len(got) != 0 {
		t.Errorf("a root on ext4: %+v", got)
	}
}

func TestBeneath(t *testing.T) {
	fs := &watchedFS{tops: []string{"@home", "x/homes"}}
	for p, want := range map[string]bool{
		"@home/alice": true, "@home/alice/stash": true, "@home": false, "@homes/alice": false,
		"x/homes/bob": true, "x/home/bob": false, "": false, "@srv/a": false,
	} {
		if got := fs.beneath(p); got != want {
			t.Errorf("beneath(%q) = %v, want %v", p, got, want)
		}
	}
	if whole := (&watchedFS{tops: []string{""}}); !whole.beneath("alice") || whole.beneath("") {
		t.Error("a root at the top level covers every subvolume but the top level")
	}
}

func TestOutermostVolume(t *testing.T) {
	grouped := map[uint64]bool{300: true, 310: true}
	has := func(id uint64) bool { return grouped[id] }
	cases := []struct {
		chain []uint64 // innermost first
		want  uint64
		ok    bool
	}{
		{[]uint64{300, 256}, 300, true},      // a subvolume in home 300 (in @home 256)
		{[]uint64{301, 300, 256}, 300, true}, // deeper
		{[]uint64{310, 300}, 300, true},      // a stale group inside the home does not win
		{[]uint64{256}, 0, false},            // a home itself
		{nil, 0, false},
	}
	for _, c := range cases {
		if got, ok := outermostVolume(c.chain, has); got != c.want || ok != c.ok {
			t.Errorf("outermostVolume(%v) = %d %v, want %d %v", c.chain, got, ok, c.want, c.ok)
		}
	}
}

func TestParentsFromItems(t *testing.T) {
	items := []item{
		{ObjectID: 257, Type: qgroupRelationKey, Offset: volumeGroup(256)},
		{ObjectID: 257, Type: qgroupRelationKey, Offset: 2<<qgroupLevelShift | 1},
		{ObjectID: volumeGroup(257), Type: qgroupRelationKey, Offset: 300}, // a child of 1/257, another key
	}
	if got := parentsFromItems(257, items); !slices.Equal(got, []uint64{volumeGroup(256), 2<<qgroupLevelShift | 1}) {
		t.Errorf("parents of 0/257: %v", got)
	}
	if got := parentsFromItems(volumeGroup(257), items); len(got) != 0 {
		t.Errorf("a group's child read as its parent: %v", got)
	}
}

func TestLinksOfAndPlacedUpTo(t *testing.T) {
	root := func(refs uint32) []byte {
		b := make([]byte, 439)
		binary.LittleEndian.PutUint32(b[rootItemRefs:], refs)
		return b
	}
	link := func(name string) []byte { return append(append(le64(256, 1), byte(len(name)), 0), name...) }
	items := []item{
		{ObjectID: 300, Type: rootItemKey, Data: root(1)},
		{ObjectID: 300, Type: rootBackrefKey, Offset: 260, Data: link("stash")},
		{ObjectID: 301, Type: rootItemKey, Data: root(0)}, // deleted, not yet cleaned
		{ObjectID: 302, Type: rootItemKey, Data: root(1)}, // being made: no link yet
		{ObjectID: 303, Type: rootItemKey, Data: root(1)},
		{ObjectID: 303, Type: rootBackrefKey, Offset: 260, Data: link("b")},
	}
	links, made := linksOf(items)
	if len(links) != 2 || links[300] != (rootRef{parent: 260, dirID: 256, name: "stash"}) || !slices.Equal(made, []uint64{300, 302, 303}) {
		t.Fatalf("linksOf = %+v %v", links, made)
	}
	if got := placedUpTo(299, made, links); got != 300 {
		t.Errorf("placedUpTo = %d, want 300 (302 is still being made)", got)
	}
	delete(links, 300)
	if got := placedUpTo(299, []uint64{300}, links); got != 299 {
		t.Errorf("placedUpTo with the first still being made = %d, want 299", got)
	}
	if got := placedUpTo(400, nil, nil); got != 400 {
		t.Errorf("placedUpTo of nothing = %d, want 400", got)
	}
}
