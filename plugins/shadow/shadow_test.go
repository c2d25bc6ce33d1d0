package shadow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// fixture is a small /etc: root, a managed alice in the marker group hc,
// an unmanaged bob, a managed eve whose home is /etc (made before the
// policy), docker, and devs, a group hero_codescalers made.
var fixture = map[string]string{
	"passwd": "root:x:0:0:root:/root:/bin/bash\n" +
		"alice:x:1001:1001:Alice:/home/alice:/bin/sh\n" +
		"bob:x:1002:1002::/home/bob:/bin/bash\n" +
		"eve:x:1004:1004::/etc:/bin/sh\n",
	"shadow": "root:*:20000:0:99999:7:::\nalice:*:20000:0:99999:7:::\nbob:*:20000:0:99999:7:::\neve:*:20000:0:99999:7:::\n",
	"group": "root:x:0:\nsudo:x:27:bob\ndocker:x:999:bob\nhc:x:1000:alice,eve\nalice:x:1001:\nbob:x:1002:\n" +
		"eve:x:1004:\ndevs:x:2000:\n",
	"gshadow":                         "root:*::\nsudo:*::bob\ndocker:!::bob\nhc:!::alice,eve\nalice:!::\nbob:!::\neve:!::\ndevs:!::\n",
	"hero_codescalers/managed-groups": "devs\n",
	"login.defs":                      "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n",
	"default/useradd":                 "SHELL=/bin/bash\n",
}

// testPolicy is the fixture's policy: marker group hc, homes beneath /home
// and roots.
func testPolicy(etc string, roots ...string) policy.Policy {
	p := policy.Defaults(etc)
	p.MarkerGroup = "hc"
	p.HomeRoots = append([]string{"/home"}, roots...)
	return p
}

type call struct {
	argv  []string
	stdin string
}

// fakeRunner records each command and answers with respond (success when
// nil). respond may edit the fixture to play the tool's part.
type fakeRunner struct {
	mu      sync.Mutex
	calls   []call
	respond func(argv []string, stdin []byte) error
}

func (f *fakeRunner) Run(_ context.Context, argv []string, stdin []byte) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{slices.Clone(argv), string(stdin)})
	respond := f.respond
	f.mu.Unlock()
	if respond == nil {
		return nil, nil
	}
	return nil, respond(argv, stdin)
}

func (f *fakeRunner) tools() []string {
	var out []string
	for _, c := range f.calls {
		out = append(out, strings.Join(c.argv, " "))
	}
	return out
}

// newTest returns a plugin on a fixture directory with a fake runner.
func newTest(t *testing.T) (*Shadow, *fakeRunner) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fixture {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fr := &fakeRunner{}
	return &Shadow{Fence: etcdb.NewFence(testPolicy(dir)), Etc: dir, Run: fr, Attempts: 3, Backoff: time.Millisecond}, fr
}

// edit changes one fixture file as a tool would.
func edit(t *testing.T, s *Shadow, file string, fn func(*etcdb.Table)) {
	p := filepath.Join(s.Etc, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tb := etcdb.ParseTable(data)
	fn(tb)
	if err := os.WriteFile(p, tb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUseraddArgv(t *testing.T) {
	d := etcdb.Defs{HomeBase: "/home", Shell: "/bin/bash", UIDMin: 52000, UIDMax: 59999, GIDMin: 53000, GIDMax: 58000}
	const ranges = "-K UID_MIN=52000 -K UID_MAX=59999 -K GID_MIN=53000 -K GID_MAX=58000"
	for _, c := range []struct {
		spec accounts.UserSpec
		want string
	}{
		{accounts.UserSpec{Name: "dave", MarkerGroup: "hc"},
			"useradd -p * " + ranges + " -M -U -G hc -d /home/dave -s /bin/bash -- dave"},
		{accounts.UserSpec{Name: "dave", UID: 54242, Groups: []string{"zz", "hc", "aa"},
			Shell: "/bin/sh", Home: "/srv/dave", GECOS: "Dave D", CreateHome: true, MarkerGroup: "hc"},
			"useradd -p * " + ranges + " -m -u 54242 -U -G aa,hc,zz -d /srv/dave -s /bin/sh -c Dave D -- dave"},
	} {
		if got := strings.Join(useraddArgv(c.spec, d), " "); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestUnlockArgv(t *testing.T) {
	for _, c := range []struct{ pw, expire, want string }{
		{"!*", "1", "usermod -U -e  -- u"},
		{"!", "", "usermod -p * -- u"}, // usermod -U would refuse silently
		{"!!", "1", "usermod -p * -e  -- u"},
		{"*", "1", "usermod -e  -- u"},
		{"*", "", ""},
	} {
		if got := strings.Join(unlockArgv("u", c.pw, c.expire), " "); got != c.want {
			t.Errorf("unlock %q/%q: %q, want %q", c.pw, c.expire, got, c.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		tool string
		exit int
		want sdkerr.Code
	}{
		{"useradd", 9, sdkerr.AlreadyExists},
		{"useradd", 4, sdkerr.AlreadyExists},
		{"useradd", 6, sdkerr.NotFound},
		{"useradd", 12, sdkerr.Internal},
		{"userdel", 8, sdkerr.FailedPrecondition},
		{"groupdel", 8, sdkerr.FailedPrecondition},
		{"groupadd", 9, sdkerr.AlreadyExists},
		{"gpasswd", 3, sdkerr.NotFound},
	} {
		err := mapExit(c.tool, sdkerr.CommandError([]string{c.tool}, c.exit, "boom"))
		var e *sdkerr.Error
		if !sdkerr.Is(err, c.want) || !errorsAs(err, &e) || e.ExitCode != c.exit || e.Stderr != "boom" {
			t.Errorf("%s exit %d: %v, want %s with the command's details", c.tool, c.exit, err, c.want)
		}
	}
}

func TestRetriesWhileLocked(t *testing.T) {
	s, fr := newTest(t)
	busy := sdkerr.CommandError([]string{"useradd"}, 1, "useradd: cannot lock /etc/passwd; try again later.")
	n := 0
	fr.respond = func([]string, []byte) error {
		if n++; n < 3 {
			return busy
		}
		return nil
	}
	if _, err := s.run(context.Background(), []string{"useradd"}, nil); err != nil || n != 3 {
		t.Fatalf("after two busy answers: %v (%d calls)", err, n)
	}
	fr.respond = func([]string, []byte) error { return busy }
	fr.calls = nil
	_, err := s.run(context.Background(), []string{"useradd"}, nil)
	if !sdkerr.Is(err, sdkerr.Unavailable) || len(fr.calls) != s.Attempts {
		t.Fatalf("always busy: %v after %d calls", err, len(fr.calls))
	}
}

// TestConcurrentCreateLoser plays the loser of a race: useradd exits 9
// because another process just made the user.
func TestConcurrentCreateLoser(t *testing.T) {
	spec := accounts.UserSpec{Name: "dave", Home: "/home/dave", Shell: "/bin/sh", MarkerGroup: "hc"}
	for _, c := range []struct {
		winner string // the passwd line the other process wrote
		want   sdkerr.Code
	}{
		{"dave:x:1003:1003::/home/dave:/bin/sh", ""},
		{"dave:x:1003:1003::/srv/other:/bin/sh", sdkerr.AlreadyExists},
	} {
		s, fr := newTest(t)
		fr.respond = func(argv []string, _ []byte) error {
			if argv[0] != "useradd" {
				return nil
			}
			edit(t, s, "passwd", func(tb *etcdb.Table) { tb.Put(strings.Split(c.winner, ":")) })
			edit(t, s, "group", func(tb *etcdb.Table) {
				tb.Put([]string{"dave", "x", "1003", ""})
				tb.Put([]string{"hc", "x", "1000", "alice,dave"})
			})
			return sdkerr.CommandError(argv, 9, "useradd: user 'dave' already exists")
		}
		u, err := s.CreateUser(context.Background(), spec)
		if sdkerr.CodeOf(err) != c.want || (c.want == "" && u.UID != 1003) {
			t.Errorf("winner %s: %+v, %v; want code %q", c.winner, u, err, c.want)
		}
	}
}

// TestFenceRunsNothing: whatever the caller says, a call the policy
// refuses is PermissionDenied and runs no tool.
func TestFenceRunsNothing(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		call func(*Shadow) error
	}{
		{"delete root", func(s *Shadow) error { return s.DeleteUser(ctx, "root", accounts.DeleteOptions{}) }},
		{"delete bob", func(s *Shadow) error { return s.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "hc"}) }},
		{"delete bob, no marker named", func(s *Shadow) error { return s.DeleteUser(ctx, "bob", accounts.DeleteOptions{}) }},
		{"delete bob, his own group as marker", func(s *Shadow) error {
			return s.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "bob"})
		}},
		{"delete alice, another marker", func(s *Shadow) error {
			return s.DeleteUser(ctx, "alice", accounts.DeleteOptions{MarkerGroup: "sudo"})
		}},
		{"remove eve's home /etc", func(s *Shadow) error {
			return s.DeleteUser(ctx, "eve", accounts.DeleteOptions{RemoveHome: true})
		}},
		{"lock bob", func(s *Shadow) error { return s.LockUser(ctx, "bob", "") }},
		{"lock root", func(s *Shadow) error { return s.LockUser(ctx, "root", "hc") }},
		{"unlock bob", func(s *Shadow) error { return s.UnlockUser(ctx, "bob", "bob") }},
		{"groups of bob", func(s *Shadow) error { _, err := s.SetUserGroups(ctx, "bob", nil, ""); return err }},
		{"alice into docker", func(s *Shadow) error { _, err := s.SetUserGroups(ctx, "alice", []string{"docker"}, ""); return err }},
		{"alice into bob's group", func(s *Shadow) error { _, err := s.SetUserGroups(ctx, "alice", []string{"bob"}, ""); return err }},
		{"delete group sudo", func(s *Shadow) error { return s.DeleteGroup(ctx, "sudo") }},
		{"delete group docker", func(s *Shadow) error { return s.DeleteGroup(ctx, "docker") }},
		{"delete the marker group", func(s *Shadow) error { return s.DeleteGroup(ctx, "hc") }},
		{"delete alice's group", func(s *Shadow) error { return s.DeleteGroup(ctx, "alice") }},
		{"members of docker", func(s *Shadow) error { _, err := s.SetGroupMembers(ctx, "docker", []string{"alice"}); return err }},
		{"members of the marker group", func(s *Shadow) error {
			_, err := s.SetGroupMembers(ctx, "hc", []string{"alice", "bob", "eve"})
			return err
		}},
		{"bob into devs", func(s *Shadow) error { _, err := s.SetGroupMembers(ctx, "devs", []string{"bob"}); return err }},
		{"root into devs", func(s *Shadow) error { _, err := s.SetGroupMembers(ctx, "devs", []string{"root"}); return err }},
		{"create over docker", func(s *Shadow) error { _, err := s.CreateGroup(ctx, "docker", 0); return err }},
		{"create over bob's group", func(s *Shadow) error { _, err := s.CreateGroup(ctx, "bob", 1002); return err }},
		{"a system gid", func(s *Shadow) error { _, err := s.CreateGroup(ctx, "newg", 27); return err }},
		{"docker's gid", func(s *Shadow) error { _, err := s.CreateGroup(ctx, "newg", 999); return err }},
		{"bob's gid", func(s *Shadow) error { _, err := s.CreateGroup(ctx, "newg", 1002); return err }},
		{"a user with another marker", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.MarkerGroup = "sudo" }) }},
		{"a user with sudo as primary", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.PrimaryGroup = "sudo" }) }},
		{"a user with a system uid", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.UID = 27 }) }},
		{"a user with home /etc", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.Home = "/etc" }) }},
		{"a user with home /home", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.Home = "/home" }) }},
		{"a user in docker", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.Groups = []string{"docker"} }) }},
		{"a user in bob's group", func(s *Shadow) error { return create(s, func(u *accounts.UserSpec) { u.Groups = []string{"bob"} }) }},
		{"a batch user in docker", func(s *Shadow) error {
			res, err := s.CreateUsers(ctx, []accounts.UserSpec{{Name: "dave", Groups: []string{"docker"}}})
			if err != nil {
				return err
			}
			return res[0].Err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, fr := newTest(t)
			if err := c.call(s); !sdkerr.Is(err, sdkerr.PermissionDenied) {
				t.Errorf("%v, want permission_denied", err)
			}
			if len(fr.calls) != 0 {
				t.Errorf("ran %v", fr.tools())
			}
		})
	}
}

// create calls CreateUser with a fine spec changed by edit.
func create(s *Shadow, edit func(*accounts.UserSpec)) error {
	spec := accounts.UserSpec{Name: "dave", UID: 1500}
	edit(&spec)
	_, err := s.CreateUser(context.Background(), spec)
	return err
}

// TestFenceAllows: what the policy allows still runs, with the policy's
// ranges, and groups go on and off the managed-groups record.
func TestFenceAllows(t *testing.T) {
	s, fr := newTest(t)
	ctx := context.Background()
	fr.respond = func(argv []string, _ []byte) error {
		playGroupTools(t, s, argv)
		return nil
	}
	if g, err := s.CreateGroup(ctx, "ops", 0); err != nil || g.GID != 2001 {
		t.Fatalf("create ops: %+v %v, want gid 2001 (one above devs', as groupadd gives)", g, err)
	}
	if _, err := s.CreateGroup(ctx, "ops", 0); err != nil {
		t.Fatalf("repeated create of a group we made: %v", err)
	}
	if _, err := s.SetGroupMembers(ctx, "ops", []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	record := func() string { b, _ := os.ReadFile(filepath.Join(s.Etc, policy.ManagedGroupsFile)); return string(b) }
	if r := record(); !strings.Contains(r, "\ndevs\nops\n") {
		t.Errorf("record after create:\n%s", r)
	}
	if err := s.DeleteGroup(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if r := record(); strings.Contains(r, "ops") {
		t.Errorf("record after delete:\n%s", r)
	}
	if _, err := s.SetUserGroups(ctx, "alice", []string{"devs"}, "hc"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "eve", accounts.DeleteOptions{}); err != nil {
		t.Fatalf("delete eve, keeping her home: %v", err)
	}
	want := []string{
		"groupadd -g 2001 -- ops",
		"gpasswd -M alice -- ops",
		"groupdel -- ops",
		"usermod -G devs,hc -- alice",
		"userdel -- eve",
	}
	if !slices.Equal(fr.tools(), want) {
		t.Errorf("ran %q\nwant %q", fr.tools(), want)
	}
	if pend, err := etcdb.ReadPendingGroups(s.Etc); err != nil || len(pend) != 0 {
		t.Errorf("pending groups after a create and a delete: %v %v, want none", pend, err)
	}
}

// playGroupTools plays groupadd (with the -g it is given) and groupdel on
// the fixture.
func playGroupTools(t *testing.T, s *Shadow, argv []string) {
	name := argv[len(argv)-1]
	switch argv[0] {
	case "groupadd":
		gid := "3000"
		if i := slices.Index(argv, "-g"); i >= 0 {
			gid = argv[i+1]
		}
		edit(t, s, "group", func(tb *etcdb.Table) { tb.Put([]string{name, "x", gid, ""}) })
	case "groupdel":
		edit(t, s, "group", func(tb *etcdb.Table) { tb.Delete(name) })
	}
}

func TestLockUnlockAndDelete(t *testing.T) {
	s, fr := newTest(t)
	ctx := context.Background()
	if err := s.LockUser(ctx, "alice", "hc"); err != nil {
		t.Fatal(err)
	}
	edit(t, s, "shadow", func(tb *etcdb.Table) { tb.Put(strings.Split("alice:!*:20000:0:99999:7::1:", ":")) })
	if err := s.UnlockUser(ctx, "alice", "hc"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "alice", accounts.DeleteOptions{RemoveHome: true, MarkerGroup: "hc"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"usermod -L -e 1 -- alice", "usermod -U -e  -- alice", "userdel -r -- alice"}
	if !slices.Equal(fr.tools(), want) {
		t.Errorf("ran %q\nwant %q", fr.tools(), want)
	}
}

func errorsAs(err error, target **sdkerr.Error) bool {
	e, ok := err.(*sdkerr.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestProbe(t *testing.T) {
	s, _ := newTest(t)
	old := toolDirs
	defer func() { toolDirs = old }()
	toolDirs = []string{t.TempDir()}
	if r := s.Probe(context.Background()); r.Ready || !strings.Contains(r.Reason, "useradd is not installed") {
		t.Errorf("without shadow-utils: %+v", r)
	}
	dir := t.TempDir()
	toolDirs = []string{dir}
	for _, tool := range tools {
		os.WriteFile(filepath.Join(dir, tool), []byte("#!/bin/sh\n"), 0o755)
	}
	if r := s.Probe(context.Background()); !r.Ready {
		t.Errorf("with every tool: %+v", r)
	}
	os.Remove(filepath.Join(dir, "newusers"))
	if r := s.Probe(context.Background()); r.Ready || !strings.Contains(r.Reason, "newusers") {
		t.Errorf("without newusers: %+v", r)
	}
}

// TestUnusablePolicy: with a policy it could not load, the plugin is not
// ready and refuses every call, naming the policy's error.
func TestUnusablePolicy(t *testing.T) {
	s, fr := newTest(t)
	s.Fence = etcdb.Fence{Err: errors.New("policy file is writable by group or others")}
	ctx := context.Background()
	if r := s.Probe(ctx); r.Ready || !strings.Contains(r.Reason, "writable by group or others") {
		t.Errorf("probe: %+v", r)
	}
	_, err1 := s.GetUser(ctx, "alice")
	_, err2 := s.CreateUser(ctx, accounts.UserSpec{Name: "dave"})
	_, err3 := s.CreateUsers(ctx, []accounts.UserSpec{{Name: "dave"}})
	for i, err := range []error{err1, err2, err3, s.LockUser(ctx, "alice", ""), s.DeleteGroup(ctx, "devs")} {
		if !sdkerr.Is(err, sdkerr.FailedPrecondition) || !strings.Contains(err.Error(), "writable") {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if len(fr.calls) != 0 {
		t.Errorf("ran %v", fr.tools())
	}
}
