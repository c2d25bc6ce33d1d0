package etcdb

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// fixture is a small /etc: root, a system group, a managed user alice in
// the marker group hc, an unmanaged user bob, and a locked carol.
var fixture = map[string]string{
	"passwd": "root:x:0:0:root:/root:/bin/bash\n" +
		"alice:x:1001:1001:Alice:/home/alice:/bin/sh\n" +
		"bob:x:1002:1002::/home/bob:/bin/bash\n" +
		"carol:x:1003:1003::/home/carol:/bin/sh\n",
	"shadow": "root:*:20000:0:99999:7:::\n" +
		"alice:*:20000:0:99999:7:::\n" +
		"bob:$y$hash:20000:0:99999:7:::\n" +
		"carol:!*:20000:0:99999:7::1:\n",
	"group":   "root:x:0:\nsudo:x:27:bob\nhc:x:1000:alice,carol\nalice:x:1001:\nbob:x:1002:\ncarol:x:1003:\n",
	"gshadow": "root:*::\nsudo:*::bob\nhc:!::alice,carol\nalice:!::\nbob:!::\ncarol:!::\n",
	"login.defs": "# comment\nUID_MIN\t\t 1000\nUID_MAX   60000\nGID_MIN 1000\nGID_MAX 60000\n" +
		"PASS_MIN_DAYS 0\nPASS_MAX_DAYS 99999\nPASS_WARN_AGE 7\nUMASK 027\n",
	"default/useradd": "# useradd defaults\nSHELL=/bin/bash\n",
}

// writeFixture writes files into a new directory and returns it.
func writeFixture(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T) (*DB, Defs) {
	t.Helper()
	dir := writeFixture(t, fixture)
	db, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return db, LoadDefs(dir)
}

func TestTableKeepsWhatItDoesNotTouch(t *testing.T) {
	for _, in := range []string{
		"",
		"a:x:1\n# comment\n\n+nis\nb:x:2\n",
		"a:x:1\nb:x:2", // no final newline
	} {
		if got := string(ParseTable([]byte(in)).Bytes()); got != in {
			t.Errorf("round trip of %q gave %q", in, got)
		}
	}
	tb := ParseTable([]byte("a:1\n+nis\n"))
	tb.Put([]string{"b", "2"})
	tb.Put([]string{"a", "9"})
	if got := string(tb.Bytes()); got != "a:9\nb:2\n+nis\n" {
		t.Errorf("put: %q (want new records before the NIS entry)", got)
	}
	tb = ParseTable([]byte("a:1"))
	tb.Put([]string{"b", "2"})
	if !tb.Delete("a") || tb.Delete("a") || string(tb.Bytes()) != "b:2\n" {
		t.Errorf("delete: %q", tb.Bytes())
	}
}

func TestNextID(t *testing.T) {
	used := func(ids ...uint32) map[uint32]bool {
		m := map[uint32]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, c := range []struct {
		name     string
		used     map[uint32]bool
		min, max uint32
		want     uint32
		fails    bool
	}{
		{"empty range starts at min", used(0, 65534), 1000, 60000, 1000, false},
		{"one above the highest", used(1000, 1005, 65534), 1000, 60000, 1006, false},
		{"highest at max wraps to the lowest free", used(1000, 1002, 1003), 1000, 1003, 1001, false},
		{"full", used(1000, 1001), 1000, 1001, 0, true},
		{"bad range", used(), 5, 4, 0, true},
	} {
		got, err := NextID(c.used, c.min, c.max)
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("%s: got %d, %v", c.name, got, err)
		}
	}
	db, d := load(t)
	if gid, _ := db.NextGID(d, 1004); gid != 1004 {
		t.Errorf("preferred free gid: %d", gid)
	}
	if gid, _ := db.NextGID(d, 1001); gid != 1004 {
		t.Errorf("preferred gid taken: %d, want 1004", gid)
	}
}

func TestViews(t *testing.T) {
	db, _ := load(t)
	alice, err := db.User("alice")
	want := accounts.User{Name: "alice", UID: 1001, GID: 1001, Home: "/home/alice", Shell: "/bin/sh",
		GECOS: "Alice", Groups: []string{"hc"}}
	if err != nil || !equalUser(alice, want) {
		t.Errorf("alice: %+v, %v", alice, err)
	}
	if _, err := db.User("nobody"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Errorf("missing user: %v", err)
	}
	if carol, _ := db.User("carol"); !carol.Locked {
		t.Error("carol is locked (!* and expired)")
	}
	members, _ := db.Users("hc")
	if got := names(members); !slices.Equal(got, []string{"alice", "carol"}) {
		t.Errorf("members of hc: %v", got)
	}
	if byPrimary, _ := db.Users("bob"); len(byPrimary) != 1 {
		t.Errorf("members of bob by primary gid: %v", names(byPrimary))
	}
	if none, err := db.Users("nosuchgroup"); err != nil || len(none) != 0 {
		t.Errorf("members of a missing group: %v, %v", none, err)
	}
	if g, _ := db.Group("hc"); g.GID != 1000 || !slices.Equal(g.Members, []string{"alice", "carol"}) {
		t.Errorf("group hc: %+v", g)
	}
}

// TestMembershipsFollowEdits: the memberships a DB keeps between reads
// are rebuilt after the group table is edited, or replaced, and a
// caller changing a user's groups does not change what the next read sees.
func TestMembershipsFollowEdits(t *testing.T) {
	db, _ := load(t)
	bob, _ := db.User("bob")
	bob.Groups[0] = "changed"
	if again, _ := db.User("bob"); !slices.Equal(again.Groups, []string{"sudo"}) {
		t.Fatalf("bob after a caller changed its copy: %v", again.Groups)
	}
	db.Tables[Group].Put([]string{"devs", "x", "1500", "bob"})
	if bob, _ := db.User("bob"); !slices.Equal(bob.Groups, []string{"devs", "sudo"}) {
		t.Fatalf("bob after a Put: %v", bob.Groups)
	}
	db.Tables[Group].Delete("sudo")
	if bob, _ := db.User("bob"); !slices.Equal(bob.Groups, []string{"devs"}) {
		t.Fatalf("bob after a Delete: %v", bob.Groups)
	}
	db.Tables[Group] = ParseTable([]byte("hc:x:1000:bob\n"))
	if bob, _ := db.User("bob"); !slices.Equal(bob.Groups, []string{"hc"}) {
		t.Fatalf("bob after the table was replaced: %v", bob.Groups)
	}
}

func TestMismatch(t *testing.T) {
	db, d := load(t)
	same := accounts.UserSpec{Name: "alice", UID: 1001, GECOS: "Alice", Home: "/home/alice", Shell: "/bin/sh", MarkerGroup: "hc"}
	if diff := db.Mismatch(same, d); diff != "" {
		t.Errorf("identical spec: %s", diff)
	}
	for _, change := range []func(*accounts.UserSpec){
		func(s *accounts.UserSpec) { s.UID = 4242 },
		func(s *accounts.UserSpec) { s.Home = "/srv/alice" },
		func(s *accounts.UserSpec) { s.Shell = "/bin/bash" },
		func(s *accounts.UserSpec) { s.GECOS = "" },
		func(s *accounts.UserSpec) { s.PrimaryGroup = "bob" },
	} {
		spec := same
		change(&spec)
		if db.Mismatch(spec, d) == "" {
			t.Errorf("%+v matched alice", spec)
		}
	}
	if _, err := db.Existing(accounts.UserSpec{Name: "bob", Home: "/home/bob", MarkerGroup: "hc"}, d); !sdkerr.Is(err, sdkerr.AlreadyExists) {
		t.Errorf("bob is not in the marker group, so not ours: %v", err)
	}
	if got := db.MissingGroups(accounts.UserSpec{Name: "alice", Groups: []string{"hc", "sudo"}}); !slices.Equal(got, []string{"sudo"}) {
		t.Errorf("missing groups: %v", got)
	}
}

func TestDefs(t *testing.T) {
	_, d := load(t)
	if d.UIDMin != 1000 || d.UIDMax != 60000 || d.PassMaxDays != "99999" || d.HomeMode != 0o750 ||
		d.Shell != "/bin/bash" || d.HomeBase != "/home" {
		t.Errorf("defs: %+v", d)
	}
	empty := LoadDefs(t.TempDir())
	if empty.UIDMin != 1000 || empty.Shell != "/bin/sh" || empty.HomeMode != 0o755 || empty.PassMinDays != "" {
		t.Errorf("defaults: %+v", empty)
	}
	if err := ValidateSpec(accounts.UserSpec{Name: "x", Home: "/home/a:b"}); !sdkerr.Is(err, sdkerr.InvalidArgument) {
		t.Errorf("home with ':': %v", err)
	}
}

func TestChanged(t *testing.T) {
	db, _ := load(t)
	if len(db.Changed()) != 0 {
		t.Fatalf("nothing changed yet: %v", db.Changed())
	}
	db.Tables[Group].Put([]string{"new", "x", "2000", ""})
	if got := db.Changed(); !slices.Equal(got, []string{Group}) {
		t.Errorf("changed: %v", got)
	}
	if !strings.Contains(string(db.Original(Group)), "hc:x:1000") {
		t.Error("original content lost")
	}
}

func names(users []accounts.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Name)
	}
	return out
}

func equalUser(a, b accounts.User) bool {
	return a.Name == b.Name && a.UID == b.UID && a.GID == b.GID && a.Home == b.Home && a.Shell == b.Shell &&
		a.GECOS == b.GECOS && a.Locked == b.Locked && slices.Equal(a.Groups, b.Groups)
}
