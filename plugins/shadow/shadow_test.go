package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// fixture is a small /etc: root, a managed alice in the marker group hc,
// an unmanaged bob.
var fixture = map[string]string{
	"passwd": "root:x:0:0:root:/root:/bin/bash\n" +
		"alice:x:1001:1001:Alice:/home/alice:/bin/sh\n" +
		"bob:x:1002:1002::/home/bob:/bin/bash\n",
	"shadow":          "root:*:20000:0:99999:7:::\nalice:*:20000:0:99999:7:::\nbob:*:20000:0:99999:7:::\n",
	"group":           "root:x:0:\nsudo:x:27:bob\nhc:x:1000:alice\nalice:x:1001:\nbob:x:1002:\n",
	"gshadow":         "root:*::\nsudo:*::bob\nhc:!::alice\nalice:!::\nbob:!::\n",
	"login.defs":      "UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n",
	"default/useradd": "SHELL=/bin/bash\n",
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
	return &Shadow{Etc: dir, Run: fr, Attempts: 3, Backoff: time.Millisecond}, fr
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
	d := etcdb.Defs{HomeBase: "/home", Shell: "/bin/bash"}
	for _, c := range []struct {
		spec accounts.UserSpec
		want string
	}{
		{accounts.UserSpec{Name: "dave", MarkerGroup: "hc"},
			"useradd -p * -M -U -G hc -d /home/dave -s /bin/bash -- dave"},
		{accounts.UserSpec{Name: "dave", UID: 4242, PrimaryGroup: "staff", Groups: []string{"zz", "hc", "aa"},
			Shell: "/bin/sh", Home: "/srv/dave", GECOS: "Dave D", CreateHome: true, MarkerGroup: "hc"},
			"useradd -p * -m -u 4242 -g staff -G aa,hc,zz -d /srv/dave -s /bin/sh -c Dave D -- dave"},
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

func TestGuardRunsNothing(t *testing.T) {
	s, fr := newTest(t)
	ctx := context.Background()
	for name, err := range map[string]error{
		"delete root":          s.DeleteUser(ctx, "root", accounts.DeleteOptions{}),
		"delete bob (no mark)": s.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "hc"}),
		"lock bob":             s.LockUser(ctx, "bob", "hc"),
		"unlock root":          s.UnlockUser(ctx, "root", ""),
		"delete group sudo":    s.DeleteGroup(ctx, "sudo"),
	} {
		if !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%s: %v, want permission_denied", name, err)
		}
	}
	if _, err := s.SetUserGroups(ctx, "bob", nil, "hc"); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("set groups of bob: %v", err)
	}
	if err := s.DeleteUser(ctx, "nobody", accounts.DeleteOptions{MarkerGroup: "hc"}); err != nil {
		t.Errorf("delete of a missing user: %v", err)
	}
	if len(fr.calls) != 0 {
		t.Errorf("ran %v", fr.tools())
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
