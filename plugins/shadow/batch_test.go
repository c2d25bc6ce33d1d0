package shadow

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// playTools makes the fake runner act like newusers (built with PAM: it
// commits, then exits 1 because PAM refuses the empty passwords), chpasswd
// -e and gpasswd -M on the fixture.
func playTools(t *testing.T, s *Shadow, fr *fakeRunner) {
	fr.respond = func(argv []string, stdin []byte) error {
		switch argv[0] {
		case "newusers":
			for _, line := range strings.Split(strings.TrimSpace(string(stdin)), "\n") {
				f := strings.Split(line, ":") // name::uid:gid:...: a new gid makes the user's group
				edit(t, s, "group", func(tb *etcdb.Table) {
					if _, err := strconv.Atoi(f[3]); err == nil && !slices.ContainsFunc(tb.Names(), func(n string) bool { return tb.Field(n, 2) == f[3] }) {
						tb.Put([]string{f[0], "x", f[3], ""})
					}
				})
				edit(t, s, "passwd", func(tb *etcdb.Table) { tb.Put([]string{f[0], "x", f[2], f[3], f[4], f[5], f[6]}) })
				edit(t, s, "shadow", func(tb *etcdb.Table) { tb.Put([]string{f[0], "!", "20000", "0", "99999", "7", "", "", ""}) })
			}
			return sdkerr.CommandError(argv, 1, "No password has been supplied.\nnewusers: (line 1, user x) password not changed")
		case "chpasswd":
			for _, line := range strings.Split(strings.TrimSpace(string(stdin)), "\n") {
				name, pw, _ := strings.Cut(line, ":")
				edit(t, s, "shadow", func(tb *etcdb.Table) {
					f := tb.Get(name)
					f[1] = pw
					tb.Put(f)
				})
			}
		case "gpasswd":
			edit(t, s, "group", func(tb *etcdb.Table) {
				f := tb.Get(argv[4])
				f[3] = argv[2]
				tb.Put(f)
			})
		}
		return nil
	}
}

func TestCreateUsersPlan(t *testing.T) {
	s, fr := newTest(t)
	playTools(t, s, fr)
	root := t.TempDir() // existing homes: newusers must not be asked to make one elsewhere
	s.Fence.Policy.HomeRoots = append(s.Fence.Policy.HomeRoots, root)
	home := filepath.Join(root, "h")
	os.Mkdir(home, 0o755)
	n1 := accounts.UserSpec{Name: "new1", Home: home, Shell: "/bin/sh", GECOS: "One", MarkerGroup: "hc", Groups: []string{"devs"}}
	n2 := accounts.UserSpec{Name: "new2", Home: home, UID: 3000}
	specs := []accounts.UserSpec{
		n1,
		n2,
		n1, // repeated identically
		{Name: "new1", Home: "/home/elsewhere", MarkerGroup: "hc"},                                // repeated differently
		{Name: "alice", Home: "/home/alice", GECOS: "Alice", Shell: "/bin/sh", MarkerGroup: "hc"}, // exists, identical
		{Name: "bob", Home: "/home/bob", MarkerGroup: "hc"},                                       // exists, not ours
		{Name: "new3", UID: 1001, Home: home, MarkerGroup: "hc"},                                  // uid taken
		{Name: "new4", Groups: []string{"nosuch"}, Home: home, MarkerGroup: "hc"},
		{Name: "-rf", MarkerGroup: "hc"},
		{Name: "new5", Groups: []string{"sudo"}, Home: home}, // sudo is not joinable
		{Name: "new6", Home: "/srv/new6"},                    // beyond the home roots
		{Name: "new7", Home: home, MarkerGroup: "nope"},      // another marker
		{Name: "devs", Home: home},                           // its own group would be devs
	}
	res, err := s.CreateUsers(context.Background(), specs)
	if err != nil {
		t.Fatal(err)
	}
	want := []sdkerr.Code{"", "", "", sdkerr.AlreadyExists, "", sdkerr.AlreadyExists, sdkerr.AlreadyExists,
		sdkerr.NotFound, sdkerr.InvalidArgument, sdkerr.PermissionDenied, sdkerr.PermissionDenied, sdkerr.PermissionDenied,
		sdkerr.AlreadyExists}
	for i, r := range res {
		if sdkerr.CodeOf(r.Err) != want[i] {
			t.Errorf("item %d (%s): %v, want %q", i, specs[i].Name, r.Err, want[i])
		}
	}
	// new1 gets one above the highest uid (eve's 1004), and that as its gid.
	if u := res[0].User; u.UID != 1005 || u.GID != 1005 || res[2].User.UID != 1005 || res[1].User.UID != 3000 {
		t.Errorf("ids: %+v %+v %+v", res[0].User, res[1].User, res[2].User)
	}
	tools := fr.tools()
	wantTools := []string{
		"newusers",
		"gpasswd -M alice,eve,new1,new2 -- hc",
		"gpasswd -M new1 -- devs",
		"chpasswd -e",
	}
	if strings.Join(tools, "\n") != strings.Join(wantTools, "\n") {
		t.Fatalf("ran\n%s\nwant\n%s", strings.Join(tools, "\n"), strings.Join(wantTools, "\n"))
	}
	wantInput := "new1::1005:1005:One:" + home + ":/bin/sh\nnew2::3000:3000::" + home + ":/bin/bash\n"
	if fr.calls[0].stdin != wantInput {
		t.Errorf("newusers input\n%q\nwant\n%q", fr.calls[0].stdin, wantInput)
	}
	if fr.calls[3].stdin != "new1:*\nnew2:*\n" {
		t.Errorf("chpasswd input %q", fr.calls[3].stdin)
	}
	db, _, _ := s.load()
	if pw := db.Password("new1"); pw != "*" || db.Locked("new1") {
		t.Errorf("new1's password field %q", pw)
	}
}

// TestCreateUsersPending: the new accounts are on the pending record from
// before newusers until they are in the marker group. When the membership
// never comes (gpasswd fails here; a host crash there is the same), they
// stay on it, and a delete of exactly that name and uid goes through
// although the account is outside the marker group; an account not on
// the record, or on it with another uid, is still refused.
func TestCreateUsersPending(t *testing.T) {
	ctx := context.Background()
	s, fr := newTest(t)
	playTools(t, s, fr)
	play := fr.respond
	var pendingAtNewusers map[string]etcdb.Pending
	fr.respond = func(argv []string, stdin []byte) error {
		switch argv[0] {
		case "newusers":
			pendingAtNewusers, _ = etcdb.ReadPending(s.Etc)
		case "gpasswd":
			return sdkerr.CommandError(argv, 3, "gpasswd: injected")
		case "userdel":
			edit(t, s, "passwd", func(tb *etcdb.Table) { tb.Delete(argv[len(argv)-1]) })
			return nil
		}
		return play(argv, stdin)
	}
	home := testHome(t, s)
	specs := []accounts.UserSpec{{Name: "p1", Home: home, MarkerGroup: "hc"}, {Name: "p2", Home: home, MarkerGroup: "hc"}}
	res, err := s.CreateUsers(ctx, specs)
	if err != nil || res[0].Err == nil || res[1].Err == nil {
		t.Fatalf("batch without membership: %+v %v", res, err)
	}
	if p := pendingAtNewusers["p1"]; p.UID != 1005 || pendingAtNewusers["p2"].UID != 1006 {
		t.Fatalf("pending record when newusers ran: %+v", pendingAtNewusers)
	}
	pend, _ := etcdb.ReadPending(s.Etc)
	if len(pend) != 2 {
		t.Fatalf("pending after the failed membership: %+v", pend)
	}
	if err := s.DeleteUser(ctx, "bob", accounts.DeleteOptions{MarkerGroup: "hc"}); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of unmanaged bob: %v", err)
	}
	edit(t, s, "passwd", func(tb *etcdb.Table) { // p2's uid changed behind our back
		f := tb.Get("p2")
		f[2] = "4444"
		tb.Put(f)
	})
	if err := s.DeleteUser(ctx, "p2", accounts.DeleteOptions{MarkerGroup: "hc"}); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of p2 with another uid than recorded: %v", err)
	}
	if err := s.DeleteUser(ctx, "p1", accounts.DeleteOptions{MarkerGroup: "hc"}); err != nil {
		t.Fatalf("delete of pending p1: %v", err)
	}
	if db, _, _ := s.load(); db.HasUser("p1") {
		t.Error("p1 survived its delete")
	}
	if pend, _ := etcdb.ReadPending(s.Etc); len(pend) != 1 || pend["p2"].UID != 1006 {
		t.Errorf("pending after p1's delete: %+v", pend)
	}
}

// TestCreateUsersSettlesPending: a batch that goes through leaves nothing
// on the record.
func TestCreateUsersSettlesPending(t *testing.T) {
	s, fr := newTest(t)
	playTools(t, s, fr)
	res, err := s.CreateUsers(context.Background(), []accounts.UserSpec{{Name: "q1", Home: testHome(t, s), MarkerGroup: "hc"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("%+v %v", res, err)
	}
	if pend, err := etcdb.ReadPending(s.Etc); err != nil || len(pend) != 0 {
		t.Errorf("pending after a good batch: %+v %v", pend, err)
	}
	if _, err := os.Lstat(filepath.Join(s.Etc, etcdb.PendingFile)); !os.IsNotExist(err) {
		t.Errorf("empty record left as a file: %v", err)
	}
}

// testHome is an existing home beneath a home root the plugin's policy
// gains for the test (newusers is not to make one).
func testHome(t *testing.T, s *Shadow) string {
	root := t.TempDir()
	s.Fence.Policy.HomeRoots = append(s.Fence.Policy.HomeRoots, root)
	home := filepath.Join(root, "h")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return home
}
