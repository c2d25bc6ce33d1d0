//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestAccountsShadow proves the shadow plugin on the real useradd,
// usermod, userdel, groupadd, groupdel, gpasswd, newusers and chpasswd.
func TestAccountsShadow(t *testing.T) { acctSuite(t, "shadow") }

// TestAccountsFiles proves the files plugin, which writes the account
// files itself, against the same checks (pwck, grpck, byte-for-byte
// restoration).
func TestAccountsFiles(t *testing.T) { acctSuite(t, "files") }

func acctSuite(t *testing.T, name string) {
	sandbox.Require(t)
	acctHighIDs(t)
	acctPolicy(t)
	bin := buildPlugin(t, name)
	t.Run("conformance", func(t *testing.T) {
		plugintest.Run(t, bin, plugintest.Options{Destructive: true, ScratchDir: t.TempDir(), Timeout: 30 * time.Second})
	})
	a := dispense[accounts.Accounts](t, startPlugin(t, bin), sdk.ConcernAccounts)
	ctx := context.Background()
	if _, err := a.CreateGroup(ctx, acctMarker, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateGroup(ctx, "hcacctdev", 0); err != nil {
		t.Fatal(err)
	}
	t.Run("lifecycle", func(t *testing.T) { acctLifecycle(t, a) })
	t.Run("fence", func(t *testing.T) { acctFence(t, a) })
	t.Run("concurrent-create", func(t *testing.T) {
		acctConcurrent(t, a, dispense[accounts.Accounts](t, startPlugin(t, bin), sdk.ConcernAccounts))
	})
	t.Run("batch-100", func(t *testing.T) { acctBatch(t, a, 100) })
	if err := a.DeleteGroup(ctx, "hcacctdev"); err != nil {
		t.Errorf("delete group hcacctdev: %v", err)
	}
	// The marker group is the fence itself: no call deletes it.
	if err := a.DeleteGroup(ctx, acctMarker); !sdkerr.Is(err, sdkerr.PermissionDenied) {
		t.Errorf("delete of the marker group: %v", err)
	}
	mustRun(t, "groupdel", "--", acctMarker)
}

// acctLifecycle creates users the three ways the host does, changes them,
// and deletes them: pwck and grpck stay clean, the password field is "*",
// lock and unlock are visible in /etc/shadow, and the four account files
// end as they began.
func acctLifecycle(t *testing.T, a accounts.Accounts) {
	ctx := context.Background()
	base, before := acctBaseline(t), acctSnapshot(t)
	specs := []accounts.UserSpec{
		{Name: "hcacct1", Home: "/home/hcacct1", Shell: "/bin/sh", GECOS: "Acct One", CreateHome: true, MarkerGroup: acctMarker},
		{Name: "hcacct2", UID: 54242, Groups: []string{"hcacctdev"}, Home: "/home/hcacct2", Shell: "/bin/bash", MarkerGroup: acctMarker},
		{Name: "hcacct3", Home: "/home/hcacct3", Shell: "/bin/sh"}, // the policy's marker group
	}
	users := acctCreateEach(t, a, specs)
	if u := users["hcacct2"]; u.UID != 54242 || !slices.Contains(u.Groups, "hcacctdev") {
		t.Errorf("hcacct2: %+v", u)
	}
	acctHomes(t, users)
	base.clean(t)

	acctLockCycle(t, a, "hcacct1")
	if u, err := a.SetUserGroups(ctx, "hcacct2", nil, acctMarker); err != nil || !slices.Equal(u.Groups, []string{acctMarker}) {
		t.Errorf("set groups: %+v %v", u, err)
	}
	if g, err := a.SetGroupMembers(ctx, "hcacctdev", []string{"hcacct3", "hcacct1"}); err != nil || !slices.Equal(g.Members, []string{"hcacct1", "hcacct3"}) {
		t.Errorf("set members: %+v %v", g, err)
	}
	if _, err := a.SetGroupMembers(ctx, "hcacctdev", nil); err != nil {
		t.Error(err)
	}
	if list, err := a.ListUsers(ctx, acctMarker); err != nil || len(list) != 3 {
		t.Errorf("list %s: %d users, %v", acctMarker, len(list), err)
	}
	base.clean(t)
	for _, s := range specs {
		if err := a.DeleteUser(ctx, s.Name, accounts.DeleteOptions{RemoveHome: true, MarkerGroup: s.MarkerGroup}); err != nil {
			t.Errorf("delete %s: %v", s.Name, err)
		}
	}
	for _, h := range []string{"/home/hcacct1", "/home/hcacct2", "/home/hcacct3"} {
		if _, err := os.Lstat(h); !os.IsNotExist(err) {
			t.Errorf("%s survived RemoveHome: %v", h, err)
		}
	}
	base.clean(t)
	acctSameFiles(t, before)
}

// acctCreateEach creates each spec with CreateUser and checks what comes
// back and the password field in /etc/shadow.
func acctCreateEach(t *testing.T, a accounts.Accounts, specs []accounts.UserSpec) map[string]accounts.User {
	users := map[string]accounts.User{}
	for _, s := range specs {
		u, err := a.CreateUser(context.Background(), s)
		if err != nil {
			t.Fatalf("create %s: %v", s.Name, err)
		}
		users[s.Name] = u
		if !slices.Contains(u.Groups, acctMarker) || u.Home != s.Home || u.Shell != s.Shell || u.GECOS != s.GECOS || u.Locked {
			t.Errorf("%s: %+v", s.Name, u)
		}
		if f := strings.Split(acctShadowLine(t, s.Name), ":"); len(f) < 9 || f[1] != "*" || f[7] != "" {
			t.Errorf("%s's shadow entry %v: want password field * and no expiry", s.Name, f)
		}
	}
	return users
}

// acctHomes checks the asked-for home belongs to its user and the others
// were not made.
func acctHomes(t *testing.T, users map[string]accounts.User) {
	st, err := os.Stat("/home/hcacct1")
	if err != nil {
		t.Fatalf("hcacct1's home: %v", err)
	}
	if uid := acctOwner(st); uid != users["hcacct1"].UID {
		t.Errorf("hcacct1's home is owned by uid %d, want %d", uid, users["hcacct1"].UID)
	}
	for _, name := range []string{"hcacct2", "hcacct3"} {
		u := users[name]
		if _, err := os.Lstat(u.Home); !os.IsNotExist(err) {
			t.Errorf("a home nobody asked for exists: %v", err)
		}
		// the volumes plugin's part, so that pwck finds every home
		if err := os.Mkdir(u.Home, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(u.Home, int(u.UID), int(u.GID))
	}
}

// acctLockCycle locks twice and unlocks twice, checking /etc/shadow and
// GetUser, and ends with the entry as it was.
func acctLockCycle(t *testing.T, a accounts.Accounts, name string) {
	ctx := context.Background()
	was := acctShadowLine(t, name)
	for i := 0; i < 2; i++ {
		if err := a.LockUser(ctx, name, acctMarker); err != nil {
			t.Fatalf("lock: %v", err)
		}
	}
	f := strings.Split(acctShadowLine(t, name), ":")
	if u, _ := a.GetUser(ctx, name); !u.Locked || f[1] != "!*" || f[7] != "1" {
		t.Errorf("locked: %v (Locked=%v)", f, u.Locked)
	}
	for i := 0; i < 2; i++ {
		if err := a.UnlockUser(ctx, name, acctMarker); err != nil {
			t.Fatalf("unlock: %v", err)
		}
	}
	if now := acctShadowLine(t, name); now != was {
		t.Errorf("after unlock %q, before lock %q", now, was)
	}
}

// acctConcurrent races creates of one name from two plugin processes and
// several goroutines: identical specs all succeed with one uid; differing
// specs give exactly one winner and AlreadyExists for the rest; the home
// belongs to the winner; different names get different uids.
func acctConcurrent(t *testing.T, a1, a2 accounts.Accounts) {
	before := acctSnapshot(t)
	race := acctRacer{a1, a2}
	same := accounts.UserSpec{Name: "hcrace", Home: "/home/hcrace", CreateHome: true, Shell: "/bin/sh", MarkerGroup: acctMarker}
	users, errs := race.create(8, func(int) accounts.UserSpec { return same })
	for i := range users {
		if errs[i] != nil || users[i].UID != users[0].UID {
			t.Errorf("identical create %d: uid %d, %v", i, users[i].UID, errs[i])
		}
	}
	if st, err := os.Stat("/home/hcrace"); err != nil || acctOwner(st) != users[0].UID {
		t.Errorf("home of hcrace: %v (owner %d, want %d)", err, acctOwner(st), users[0].UID)
	}
	acctDelete(t, a1, accounts.DeleteOptions{RemoveHome: true}, "hcrace")

	_, errs = race.create(8, func(i int) accounts.UserSpec {
		s := same
		s.GECOS, s.CreateHome = fmt.Sprintf("racer %d", i), false
		return s
	})
	winners := 0
	for i, err := range errs {
		if err == nil {
			winners++
		} else if !sdkerr.Is(err, sdkerr.AlreadyExists) {
			t.Errorf("differing create %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d winners of differing creates, want 1", winners)
	}
	acctDelete(t, a1, accounts.DeleteOptions{}, "hcrace")
	acctRaceNames(t, race)
	acctSameFiles(t, before)
}

// acctRaceNames creates different names at once: every uid differs.
func acctRaceNames(t *testing.T, race acctRacer) {
	users, errs := race.create(8, func(i int) accounts.UserSpec {
		return accounts.UserSpec{Name: fmt.Sprintf("hcrace%d", i), Home: fmt.Sprintf("/home/hcrace%d", i), MarkerGroup: acctMarker}
	})
	uids := map[uint32]bool{}
	for i, u := range users {
		if errs[i] != nil || uids[u.UID] {
			t.Errorf("create hcrace%d: uid %d (seen before: %v), %v", i, u.UID, uids[u.UID], errs[i])
		}
		uids[u.UID] = true
		acctDelete(t, race[1], accounts.DeleteOptions{}, fmt.Sprintf("hcrace%d", i))
	}
}

// acctRacer spreads concurrent calls over plugin processes.
type acctRacer []accounts.Accounts

// create runs n CreateUser calls at once, call i on process i%len.
func (r acctRacer) create(n int, spec func(i int) accounts.UserSpec) ([]accounts.User, []error) {
	users, errs := make([]accounts.User, n), make([]error, n)
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			users[i], errs[i] = r[i%len(r)].CreateUser(context.Background(), spec(i))
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		<-done
	}
	return users, errs
}

func acctDelete(t *testing.T, a accounts.Accounts, opts accounts.DeleteOptions, names ...string) {
	t.Helper()
	opts.MarkerGroup = acctMarker
	for _, n := range names {
		if err := a.DeleteUser(context.Background(), n, opts); err != nil {
			t.Errorf("delete %s: %v", n, err)
		}
	}
}

// acctBatch creates n users in one CreateUsers call and deletes them.
func acctBatch(t *testing.T, a accounts.Accounts, n int) {
	ctx := context.Background()
	base, before := acctBaseline(t), acctSnapshot(t)
	specs := make([]accounts.UserSpec, n)
	for i := range specs {
		name := fmt.Sprintf("hcb%03d", i)
		specs[i] = accounts.UserSpec{Name: name, Home: "/home/" + name, Shell: "/bin/sh", MarkerGroup: acctMarker}
	}
	specs[1].Groups = []string{"hcacctdev"}
	res, err := a.CreateUsers(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	uids := map[uint32]bool{}
	for i, r := range res {
		if r.Err != nil || r.User.Name != specs[i].Name || uids[r.User.UID] || !slices.Contains(r.User.Groups, acctMarker) {
			t.Fatalf("item %d: %+v %v", i, r.User, r.Err)
		}
		uids[r.User.UID] = true
		if pw := strings.Split(acctShadowLine(t, r.User.Name), ":")[1]; pw != "*" {
			t.Fatalf("%s's password field is %q, want *", r.User.Name, pw)
		}
	}
	if !slices.Contains(res[1].User.Groups, "hcacctdev") {
		t.Errorf("hcb001's groups: %v", res[1].User.Groups)
	}
	for _, r := range res {
		if _, err := os.Lstat(r.User.Home); !os.IsNotExist(err) {
			t.Fatalf("the batch made a home nobody asked for: %s: %v", r.User.Home, err)
		}
		// the volumes plugin's part, so that pwck finds every home
		if err := os.Mkdir(r.User.Home, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(r.User.Home, int(r.User.UID), int(r.User.GID))
	}
	again, err := a.CreateUsers(ctx, specs[:3])
	if err != nil || again[0].Err != nil || again[0].User.UID != res[0].User.UID {
		t.Errorf("repeated batch: %+v %v", again, err)
	}
	base.clean(t)
	for _, s := range specs {
		acctDelete(t, a, accounts.DeleteOptions{RemoveHome: true}, s.Name)
	}
	base.clean(t)
	acctSameFiles(t, before)
}
