package btrfsvol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// fakeRunner records argv and answers with canned output or a command
// error carrying the given stderr and exit code.
type fakeRunner struct {
	argv   [][]string
	out    string
	stderr string
	exit   int
}

func (f *fakeRunner) Run(_ context.Context, argv []string, _ []byte) ([]byte, error) {
	f.argv = append(f.argv, argv)
	if f.exit != 0 {
		return nil, sdkerr.CommandError(argv, f.exit, f.stderr)
	}
	return []byte(f.out), nil
}

func TestToolArgv(t *testing.T) {
	dir := fdPath(7, "")
	cases := []struct {
		name string
		call func(*Tool) error
		want string
	}{
		{"create", func(b *Tool) error { return b.CreateSubvolume(context.Background(), 7, "alice") },
			"btrfs subvolume create -- " + dir + "/alice"},
		{"snapshot ro", func(b *Tool) error { return b.Snapshot(context.Background(), 8, 7, "t1", true) },
			"btrfs subvolume snapshot -r -- " + fdPath(8, "") + " " + dir + "/t1"},
		{"snapshot rw", func(b *Tool) error { return b.Snapshot(context.Background(), 8, 7, "t1", false) },
			"btrfs subvolume snapshot -- " + fdPath(8, "") + " " + dir + "/t1"},
		{"delete", func(b *Tool) error { return b.DeleteSubvolume(context.Background(), 7, "alice") },
			"btrfs subvolume delete --commit-after -- " + dir + "/alice"},
		{"enable", func(b *Tool) error { return b.EnableQuota(context.Background(), 7) },
			"btrfs quota enable -s " + dir},
		{"rescan", func(b *Tool) error { return b.WaitRescan(context.Background(), 7) },
			"btrfs quota rescan -W " + dir},
		{"start rescan", func(b *Tool) error { return b.StartRescan(context.Background(), 7) },
			"btrfs quota rescan " + dir},
		{"limit", func(b *Tool) error { return b.SetLimit(context.Background(), 7, 257, 1<<30) },
			"btrfs qgroup limit -- 1073741824 0/257 " + dir},
		{"unlimit", func(b *Tool) error { return b.SetLimit(context.Background(), 7, 257, 0) },
			"btrfs qgroup limit -- none 0/257 " + dir},
		{"destroy", func(b *Tool) error { return b.DestroyQgroup(context.Background(), 7, 257) },
			"btrfs qgroup destroy -- 0/257 " + dir},
		{"limit group", func(b *Tool) error { return b.SetLimit(context.Background(), 7, volumeGroup(257), 1<<20) },
			"btrfs qgroup limit -- 1048576 1/257 " + dir},
		{"create group", func(b *Tool) error { return b.CreateQgroup(context.Background(), 7, volumeGroup(257)) },
			"btrfs qgroup create -- 1/257 " + dir},
		{"assign", func(b *Tool) error { return b.Relate(context.Background(), 7, 258, volumeGroup(257), true) },
			"btrfs qgroup assign --no-rescan -- 0/258 1/257 " + dir},
		{"remove", func(b *Tool) error { return b.Relate(context.Background(), 7, 258, volumeGroup(257), false) },
			"btrfs qgroup remove --no-rescan -- 0/258 1/257 " + dir},
		{"parents", func(b *Tool) error { _, err := b.Parents(context.Background(), 7, 258); return err },
			"btrfs qgroup show -pcre --raw -- " + dir},
		{"list", func(b *Tool) error { _, err := b.Subvolumes(context.Background(), 7); return err },
			"btrfs subvolume list -a -q -u -- " + dir},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &fakeRunner{}
			if err := c.call(&Tool{Runner: r}); err != nil {
				t.Fatal(err)
			}
			if len(r.argv) != 1 || strings.Join(r.argv[0], " ") != c.want {
				t.Errorf("argv %q, want %q", r.argv, c.want)
			}
			if !strings.HasPrefix(r.argv[0][len(r.argv[0])-1], "/proc/") {
				t.Errorf("last argument %q is not a descriptor path", r.argv[0][len(r.argv[0])-1])
			}
		})
	}
}

func TestToolErrors(t *testing.T) {
	cases := []struct {
		stderr string
		call   func(*Tool) error
		want   error // nil: success expected
	}{
		{"ERROR: target path already exists: /proc/1/fd/7/alice", func(b *Tool) error {
			return b.CreateSubvolume(context.Background(), 7, "alice")
		}, unix.EEXIST},
		{"ERROR: unable to limit requested quota group: quota not enabled", func(b *Tool) error {
			return b.SetLimit(context.Background(), 7, 257, 1)
		}, ErrQuotaDisabled},
		{"ERROR: unable to destroy quota group: No such file or directory", func(b *Tool) error {
			return b.DestroyQgroup(context.Background(), 7, 257)
		}, nil},
		{"ERROR: unable to destroy quota group: Device or resource busy", func(b *Tool) error {
			return b.DestroyQgroup(context.Background(), 7, 257)
		}, ErrQgroupBusy},
		{"ERROR: unable to destroy quota group: quota not enabled", func(b *Tool) error {
			return b.DestroyQgroup(context.Background(), 7, 257)
		}, nil},
		{"ERROR: cannot delete '/proc/1/fd/7/a': Directory not empty", func(b *Tool) error {
			return b.DeleteSubvolume(context.Background(), 7, "a")
		}, unix.ENOTEMPTY},
		{"ERROR: can't list qgroups: quotas not enabled", func(b *Tool) error {
			_, err := b.Qgroup(context.Background(), 7, 257)
			return err
		}, ErrQuotaDisabled},
		{"ERROR: unable to limit requested quota group: No such file or directory", func(b *Tool) error {
			return b.SetLimit(context.Background(), 7, volumeGroup(257), 0)
		}, ErrNoQgroup},
		{"ERROR: unable to create quota group: File exists", func(b *Tool) error {
			return b.CreateQgroup(context.Background(), 7, volumeGroup(257))
		}, nil},
		{"ERROR: unable to assign quota group: File exists", func(b *Tool) error {
			return b.Relate(context.Background(), 7, 257, volumeGroup(257), true)
		}, nil},
		{"ERROR: unable to assign quota group: No such file or directory", func(b *Tool) error {
			return b.Relate(context.Background(), 7, 257, volumeGroup(257), false)
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.stderr, func(t *testing.T) {
			err := c.call(&Tool{Runner: &fakeRunner{exit: 1, stderr: c.stderr}})
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// fail keeps the command, exit code and stderr and maps the errno.
	err := fail((&Tool{Runner: &fakeRunner{exit: 1, stderr: "ERROR: target path already exists: x"}}).
		CreateSubvolume(context.Background(), 7, "alice"), "create %s", "/home/alice")
	var e *sdkerr.Error
	if !errors.As(err, &e) || e.Code != sdkerr.AlreadyExists || e.ExitCode != 1 || len(e.Command) == 0 ||
		!strings.Contains(e.Error(), "/home/alice") {
		t.Errorf("fail: %#v", err)
	}
}

func TestParseShow(t *testing.T) {
	out := "@home/alice.s1\n\tName: \t\t\talice.s1\n\tUUID: \t\t\t986557d2-add3-274f-8b23-6c39ff3acbe8\n" +
		"\tParent UUID: \t\t4fbbb2c8-fcbc-1149-a010-b645f5f0c177\n\tReceived UUID: \t\t-\n" +
		"\tCreation time: \t\t2026-11-26 05:57:19 +0000\n\tSubvolume ID: \t\t258\n\tFlags: \t\t\treadonly\n" +
		"\tSnapshot(s):\n"
	got, err := parseShow(out)
	want := SubvolInfo{ID: 258, UUID: "986557d2-add3-274f-8b23-6c39ff3acbe8",
		ParentUUID: "4fbbb2c8-fcbc-1149-a010-b645f5f0c177", ReadOnly: true,
		Created: time.Date(2026, 11, 26, 5, 57, 19, 0, time.UTC)}
	if err != nil || got.ID != want.ID || got.UUID != want.UUID || got.ParentUUID != want.ParentUUID ||
		got.ReadOnly != want.ReadOnly || !got.Created.Equal(want.Created) {
		t.Errorf("parseShow = %+v, %v", got, err)
	}
	plain, err := parseShow(strings.ReplaceAll(strings.ReplaceAll(out, "readonly", "-"), "4fbbb2c8-fcbc-1149-a010-b645f5f0c177", "-"))
	if err != nil || plain.ReadOnly || plain.ParentUUID != "" {
		t.Errorf("parseShow of a plain subvolume = %+v, %v", plain, err)
	}
	if _, err := parseShow("garbage"); err == nil {
		t.Error("parseShow accepted output without an id")
	}
}

func TestParseQgroupShow(t *testing.T) {
	out := "Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive Parent   Child         Path \n" +
		"--------    ----------    ---------  --------------  ------------- ------   -----         ---- \n" +
		"0/5              16384        16384            none           none -        -             <toplevel>\n" +
		"0/256          5259264      5259264        10485760           none 1/256    -             a\n" +
		"0/257                0            0            none           none 1/256,2/1 -            a/n b\n" +
		"1/256          5259264      5259264        20971520           none -        0/256,0/257   <0 member qgroups>\n"
	rows, err := parseQgroupShow(out)
	if err != nil || len(rows) != 4 {
		t.Fatalf("parseQgroupShow = %+v, %v", rows, err)
	}
	byID := map[uint64]qgroupRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	if r := byID[256]; r.Qgroup != (Qgroup{ID: 256, Referenced: 5259264, Exclusive: 5259264, MaxRef: 10485760}) ||
		!slices.Equal(r.parents, []uint64{volumeGroup(256)}) {
		t.Errorf("0/256: %+v", r)
	}
	if r := byID[257]; !slices.Equal(r.parents, []uint64{volumeGroup(256), 2<<qgroupLevelShift | 1}) || r.MaxRef != 0 {
		t.Errorf("0/257: %+v", r)
	}
	if r := byID[volumeGroup(256)]; r.MaxRef != 20971520 || len(r.parents) != 0 {
		t.Errorf("1/256: %+v", r)
	}
	if _, err := parseQgroupShow("0/1 x 0 none none - - p\n"); err == nil {
		t.Error("parseQgroupShow accepted a non-number")
	}
}

func TestQgroupNames(t *testing.T) {
	for _, c := range []struct {
		q    uint64
		name string
	}{{257, "0/257"}, {volumeGroup(257), "1/257"}, {2<<qgroupLevelShift | 5, "2/5"}} {
		if got := qgroupName(c.q); got != c.name {
			t.Errorf("qgroupName(%#x) = %q, want %q", c.q, got, c.name)
		}
		if got, err := parseQgroupName(c.name); err != nil || got != c.q {
			t.Errorf("parseQgroupName(%q) = %#x, %v", c.name, got, err)
		}
	}
	if _, err := parseQgroupName("257"); err == nil {
		t.Error("parseQgroupName accepted a name without a level")
	}
}

func TestNestedIn(t *testing.T) {
	all := []SubvolEntry{{ID: 256, Path: "@home"}, {ID: 257, Path: "@home/alice"}, {ID: 258, Path: "@home/alice/x/stash"},
		{ID: 259, Path: "@home/alice/x/stash/deep"}, {ID: 260, Path: "@home/alicex"}}
	got := nestedIn(all, 257)
	want := []SubvolEntry{{ID: 258, Path: "x/stash"}, {ID: 259, Path: "x/stash/deep"}}
	if !slices.Equal(got, want) {
		t.Errorf("nestedIn = %+v, want %+v", got, want)
	}
	if got := nestedIn(all, 999); len(got) != 0 {
		t.Errorf("nestedIn of an unknown id = %+v", got)
	}
}

func TestParseList(t *testing.T) {
	out := "ID 256 gen 7 top level 5 parent_uuid -                                    uuid 2e7668d8-951e-5441-85fb-26694f1e127e path <FS_TREE>/@home\n" +
		"ID 258 gen 7 top level 256 parent_uuid 4fbbb2c8-fcbc-1149-a010-b645f5f0c177 uuid 986557d2-add3-274f-8b23-6c39ff3acbe8 path @home/a b\n"
	got, err := parseList(out)
	want := []SubvolEntry{
		{ID: 256, Path: "@home", UUID: "2e7668d8-951e-5441-85fb-26694f1e127e"},
		{ID: 258, Path: "@home/a b", UUID: "986557d2-add3-274f-8b23-6c39ff3acbe8", ParentUUID: "4fbbb2c8-fcbc-1149-a010-b645f5f0c177"},
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("parseList = %+v, %v", got, err)
	}
	if _, err := parseList("nonsense\n"); err == nil {
		t.Error("parseList accepted nonsense")
	}
}

func TestFdPath(t *testing.T) {
	if got, want := fdPath(9, "x"), fmt.Sprintf("/proc/%d/fd/9/x", unix.Getpid()); got != want {
		t.Errorf("fdPath = %q, want %q", got, want)
	}
}
