package etcdb

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// fenceFixture is a machine as the fence sees it: root and a system
// account; managed alice and carol (marker group hc); bob, somebody's own
// account; sysuser, in hc but with a uid below the range. devs is on the
// managed-groups record, team is named by the policy, ops and docker are
// nobody's business of ours (alice is in docker: an admin put her there).
var fenceFixture = map[string]string{
	"passwd": "root:x:0:0:root:/root:/bin/bash\n" +
		"daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n" +
		"sysuser:x:500:500::/home/sysuser:/bin/sh\n" +
		"alice:x:1001:1001::/home/alice:/bin/sh\n" +
		"bob:x:1002:1002::/home/bob:/bin/bash\n" +
		"carol:x:1003:1003::/home/carol:/bin/sh\n",
	"group": "root:x:0:\ndaemon:x:1:\nsudo:x:27:bob\ndocker:x:999:bob,alice\nsysuser:x:500:\n" +
		"hc:x:1000:alice,carol,sysuser\nalice:x:1001:\nbob:x:1002:\ncarol:x:1003:\n" +
		"devs:x:2000:alice\nteam:x:2001:\nops:x:2002:bob\n",
	"hero_codescalers/managed-groups": "# record\ndevs\n",
	"login.defs":                      "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n",
}

func fencePolicy(etc string) policy.Policy {
	p := policy.Defaults(etc)
	p.MarkerGroup, p.Groups = "hc", []string{"team"}
	return p
}

func judge(t *testing.T) (*Judge, Defs) {
	t.Helper()
	dir := writeFixture(t, fenceFixture)
	db, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFence(fencePolicy(dir))
	j, err := f.Judge(db)
	if err != nil {
		t.Fatal(err)
	}
	return j, f.Defs(dir)
}

func wantCode(t *testing.T, what string, err error, code sdkerr.Code) {
	t.Helper()
	if sdkerr.CodeOf(err) != code {
		t.Errorf("%s: %v, want %q", what, err, code)
	}
}

func TestFenceManagedUser(t *testing.T) {
	j, _ := judge(t)
	for name, code := range map[string]sdkerr.Code{
		"alice": "", "carol": "",
		"root": sdkerr.PermissionDenied, "daemon": sdkerr.PermissionDenied, "bob": sdkerr.PermissionDenied,
		"sysuser": sdkerr.PermissionDenied, "nobody": sdkerr.NotFound,
	} {
		_, err := j.ManagedUser(name)
		wantCode(t, "ManagedUser("+name+")", err, code)
	}
	for marker, code := range map[string]sdkerr.Code{"": "", "hc": "", "sudo": sdkerr.PermissionDenied, "other": sdkerr.PermissionDenied} {
		wantCode(t, "Marker("+marker+")", j.Marker(marker), code)
	}
}

func TestFenceJoinable(t *testing.T) {
	j, _ := judge(t)
	for g, code := range map[string]sdkerr.Code{
		"hc": "", "devs": "", "team": "",
		"docker": sdkerr.PermissionDenied, "sudo": sdkerr.PermissionDenied, "root": sdkerr.PermissionDenied,
		"bob": sdkerr.PermissionDenied, "alice": sdkerr.PermissionDenied, "ops": sdkerr.PermissionDenied,
		"nosuch": sdkerr.NotFound,
	} {
		wantCode(t, "Joinable("+g+")", j.Joinable("groups", []string{g}), code)
	}
}

func TestFenceSpec(t *testing.T) {
	j, d := judge(t)
	base := accounts.UserSpec{Name: "dave", Home: "/home/dave", Groups: []string{"devs"}}
	got, err := j.Spec(base, d)
	if err != nil || got.MarkerGroup != "hc" || got.PrimaryGroup != "" {
		t.Fatalf("a fine spec: %+v %v", got, err)
	}
	for _, c := range []struct {
		name string
		edit func(*accounts.UserSpec)
		code sdkerr.Code
	}{
		{"the policy's marker", func(s *accounts.UserSpec) { s.MarkerGroup = "hc" }, ""},
		{"another marker", func(s *accounts.UserSpec) { s.MarkerGroup = "sudo" }, sdkerr.PermissionDenied},
		{"an existing primary group", func(s *accounts.UserSpec) { s.PrimaryGroup = "sudo" }, sdkerr.PermissionDenied},
		{"a managed primary group", func(s *accounts.UserSpec) { s.PrimaryGroup = "devs" }, sdkerr.PermissionDenied},
		{"its own primary group", func(s *accounts.UserSpec) { s.PrimaryGroup = "dave" }, ""},
		{"a uid in range", func(s *accounts.UserSpec) { s.UID = 1500 }, ""},
		{"a system uid", func(s *accounts.UserSpec) { s.UID = 500 }, sdkerr.PermissionDenied},
		{"a uid above the range", func(s *accounts.UserSpec) { s.UID = 70000 }, sdkerr.PermissionDenied},
		{"the default home", func(s *accounts.UserSpec) { s.Home = "" }, ""},
		{"a home in /etc", func(s *accounts.UserSpec) { s.Home = "/etc/dave" }, sdkerr.PermissionDenied},
		{"the home root itself", func(s *accounts.UserSpec) { s.Home = "/home" }, sdkerr.PermissionDenied},
		{"a home that climbs out", func(s *accounts.UserSpec) { s.Home = "/home/../etc" }, sdkerr.PermissionDenied},
		{"a home beside the root", func(s *accounts.UserSpec) { s.Home = "/homer/dave" }, sdkerr.PermissionDenied},
		{"docker", func(s *accounts.UserSpec) { s.Groups = []string{"devs", "docker"} }, sdkerr.PermissionDenied},
		{"another user's group", func(s *accounts.UserSpec) { s.Groups = []string{"bob"} }, sdkerr.PermissionDenied},
		{"a missing group", func(s *accounts.UserSpec) { s.Groups = []string{"nosuch"} }, sdkerr.NotFound},
	} {
		spec := base
		c.edit(&spec)
		_, err := j.Spec(spec, d)
		wantCode(t, c.name, err, c.code)
	}
}

func TestFenceExistingUsers(t *testing.T) {
	j, d := judge(t)
	spec := func(name string, uid uint32, shell string) accounts.UserSpec {
		return accounts.UserSpec{Name: name, UID: uid, Home: "/home/" + name, Shell: shell, MarkerGroup: "hc"}
	}
	_, err := j.Existing(spec("alice", 1001, "/bin/sh"), d)
	wantCode(t, "alice again", err, "")
	_, err = j.Existing(spec("bob", 1002, "/bin/bash"), d)
	wantCode(t, "bob, outside the marker group", err, sdkerr.AlreadyExists)
	_, err = j.Existing(spec("sysuser", 0, "/bin/sh"), d)
	wantCode(t, "sysuser, a system uid in the marker group", err, sdkerr.PermissionDenied)
	wantCode(t, "a user named like a group", j.Fresh(accounts.UserSpec{Name: "ops"}), sdkerr.AlreadyExists)
	wantCode(t, "a new name", j.Fresh(accounts.UserSpec{Name: "dave"}), "")

	alice, _ := j.DB.User("alice")
	got, err := j.UserGroups(alice, []string{"team"})
	if err != nil || !slices.Equal(got, []string{"docker", "hc", "team"}) {
		t.Errorf("alice's groups: %v %v (want docker kept, devs dropped, team and hc in)", got, err)
	}
	_, err = j.UserGroups(alice, []string{"sudo"})
	wantCode(t, "UserGroups(sudo)", err, sdkerr.PermissionDenied)
}

func TestFenceGroups(t *testing.T) {
	j, _ := judge(t)
	for _, c := range []struct {
		name  string
		gid   uint32
		found bool
		code  sdkerr.Code
	}{
		{"hc", 0, true, ""}, {"devs", 0, true, ""}, {"devs", 2000, true, ""},
		{"devs", 2500, true, sdkerr.AlreadyExists},
		{"docker", 0, true, sdkerr.PermissionDenied}, {"ops", 2002, true, sdkerr.PermissionDenied},
		{"team", 0, true, sdkerr.PermissionDenied}, {"bob", 0, true, sdkerr.PermissionDenied},
		{"newg", 0, false, ""},
	} {
		_, found, err := j.ExistingGroup(c.name, c.gid)
		if found != c.found {
			t.Errorf("ExistingGroup(%s): found %v", c.name, found)
		}
		wantCode(t, "ExistingGroup("+c.name+")", err, c.code)
	}
	for gid, code := range map[uint32]sdkerr.Code{
		0: "", 3000: "", 999: sdkerr.PermissionDenied, 1002: sdkerr.PermissionDenied,
		2001: sdkerr.PermissionDenied, 70000: sdkerr.PermissionDenied,
	} {
		wantCode(t, "NewGroup gid", j.NewGroup("newg", gid), code)
	}
	for name, code := range map[string]sdkerr.Code{
		"devs": "", "hc": sdkerr.PermissionDenied, "docker": sdkerr.PermissionDenied, "sudo": sdkerr.PermissionDenied,
		"alice": sdkerr.PermissionDenied, "ops": sdkerr.PermissionDenied, "team": sdkerr.PermissionDenied,
		"nosuch": sdkerr.NotFound,
	} {
		_, err := j.ManagedGroup(name)
		wantCode(t, "ManagedGroup("+name+")", err, code)
	}
	devs, _ := j.DB.Group("devs")
	for _, c := range []struct {
		want []string
		code sdkerr.Code
	}{
		{[]string{"alice", "carol"}, ""}, {nil, ""},
		{[]string{"alice", "bob"}, sdkerr.PermissionDenied}, {[]string{"root"}, sdkerr.PermissionDenied},
		{[]string{"sysuser"}, sdkerr.PermissionDenied}, {[]string{"ghost"}, sdkerr.NotFound},
	} {
		wantCode(t, "Members", j.Members(devs, c.want), c.code)
	}
	if j.Recorded("hc") || !j.Recorded("newg") {
		t.Error("the marker group is never recorded; any other new group is")
	}
}

func TestFenceRecord(t *testing.T) {
	j, _ := judge(t)
	if err := j.Record("ops2", true); err != nil {
		t.Fatal(err)
	}
	if err := j.Record("devs", false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(j.DB.Dir, policy.ManagedGroupsFile))
	if got := string(data); got != "# Groups hero_codescalers made (group-create); kept by its accounts plugins.\nops2\n" {
		t.Errorf("record:\n%s", got)
	}
}

// TestFenceUnusable: a policy that could not be loaded refuses every
// judgement with its error.
func TestFenceUnusable(t *testing.T) {
	dir := writeFixture(t, fenceFixture)
	db, _ := Load(dir)
	f := Fence{Err: errors.New("policy file is writable by group or others")}
	if _, err := f.Judge(db); !sdkerr.Is(err, sdkerr.FailedPrecondition) {
		t.Fatalf("Judge: %v", err)
	}
	p := fencePolicy(dir)
	p.UIDMin, p.UIDMax, p.GIDMin, p.GIDMax = 52000, 59999, 53000, 58000
	if d := NewFence(p).Defs(dir); d.UIDMin != 52000 || d.UIDMax != 59999 || d.GIDMin != 53000 || d.GIDMax != 58000 {
		t.Errorf("Defs keep login.defs' ranges: %+v", d)
	}
}

func TestAlloc(t *testing.T) {
	used := map[uint32]bool{0: true, 1000: true, 1001: true, 1005: true, 70000: true}
	a := NewAlloc(used, 1000, 1008)
	var got []uint32
	for range 5 {
		id, err := a.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	// 1006..1008 above the highest, then the lowest free ones, as NextID.
	if !slices.Equal(got, []uint32{1006, 1007, 1008, 1002, 1003}) {
		t.Errorf("Next: %v", got)
	}
	if id, _ := a.Prefer(1004); id != 1004 {
		t.Errorf("Prefer a free id: %d", id)
	}
	if _, err := a.Prefer(1004); err == nil {
		t.Error("a full range must fail")
	}
	b := NewAlloc(map[uint32]bool{}, 1000, 2000)
	b.Take(1500)
	if id, _ := b.Prefer(1500); id != 1501 {
		t.Errorf("Prefer a taken id: %d, want the next, 1501", id)
	}
}

// BenchmarkJudge is what judging a change adds to each accounts call on a
// machine of 1,000 accounts: building the view from the tables already
// read, and reading the record.
func BenchmarkJudge(b *testing.B) {
	files := maps.Clone(fenceFixture)
	for i := range 1000 {
		name := fmt.Sprintf("u%04d", i)
		files["passwd"] += fmt.Sprintf("%s:x:%d:%d::/home/%s:/bin/sh\n", name, 3000+i, 3000+i, name)
		files["group"] += fmt.Sprintf("%s:x:%d:\n", name, 3000+i)
	}
	dir := writeFixture(b, files)
	db, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	f := NewFence(fencePolicy(dir))
	b.ResetTimer()
	for range b.N {
		if _, err := f.Judge(db); err != nil {
			b.Fatal(err)
		}
	}
}
