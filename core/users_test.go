package core_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

type fakes struct {
	a  *accounts.Fake
	v  *volumes.Fake
	c  *acl.Fake
	k  *sshkeys.Fake
	ss *sessions.Fake
	// lim is the limits plugin, when the test gives one (limits is
	// optional: without it, All does not list it).
	lim *limits.Fake
	// vol, when set, is what Volumes returns instead of v; acc likewise
	// for Accounts.
	vol volumes.Volumes
	acc accounts.Accounts
}

func (f *fakes) Accounts() accounts.Accounts {
	if f.acc != nil {
		return f.acc
	}
	return f.a
}
func (f *fakes) Volumes() volumes.Volumes {
	if f.vol != nil {
		return f.vol
	}
	return f.v
}
func (f *fakes) ACL() acl.ACL { return linkedACL{f.c, f.v} }

// linkedACL answers Get for directories the volumes fake made, as the real
// plugins share one filesystem.
type linkedACL struct {
	*acl.Fake
	v *volumes.Fake
}

func (l linkedACL) Get(ctx context.Context, path string) (acl.List, error) {
	list, err := l.Fake.Get(ctx, path)
	if err == nil && !slices.ContainsFunc(list.Access, func(e acl.Entry) bool { return e.Tag == acl.TagUserObj }) {
		if o, ok := l.v.Dir(path); ok {
			list.Access = append(acl.BaseEntries(o.Mode), list.Access...)
		} else if o, ok := l.v.VolumeOwner(path); ok {
			list.Access = append(acl.BaseEntries(o.Mode), list.Access...)
		}
	}
	return list, err
}
func (f *fakes) SSHKeys() sshkeys.SSHKeys    { return f.k }
func (f *fakes) Sessions() sessions.Sessions { return f.ss }

// All is every concern's fake, in the sdk's order; the acl one as ACL
// returns it.
func (f *fakes) All() []core.PluginClient {
	all := []core.PluginClient{{Name: "accounts", Client: f.a}, {Name: "volumes", Client: f.Volumes()},
		{Name: "acl", Client: f.ACL()}, {Name: "sshkeys", Client: f.k}, {Name: "sessions", Client: f.ss}}
	if f.lim != nil {
		all = append(all, core.PluginClient{Name: "limits", Client: f.lim})
	}
	return all
}

func newUserService(t *testing.T) (*core.Service, *fakes, *memstore.Store) {
	t.Helper()
	f := &fakes{a: accounts.NewFake(), v: volumes.NewFake(), c: acl.NewFake(), k: sshkeys.NewFake(), ss: sessions.NewFake()}
	f.v.Elsewhere = f.k.Wrote
	st := memstore.New()
	return core.NewService(st, core.WithPlugins(f)), f, st
}

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"

func TestUserCreateLayout(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice", SSHKeys: []string{testKey, testKey}, ForgeToken: "tok-123", QuotaBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if u.UID == 0 || u.Home != "/home/alice" || u.PublicKey == "" || len(u.SSHKeys) != 1 {
		t.Fatalf("user %+v", u)
	}
	acct, err := f.a.GetUser(ctx, "alice")
	if err != nil || !strings.Contains(strings.Join(acct.Groups, ","), "codescalers") {
		t.Fatalf("account %+v %v", acct, err)
	}
	for path, mode := range map[string]uint32{"/home/alice/.ssh": 0o700, "/home/alice/hero/var/sockets": 0o755, "/home/alice/hero/cfg": 0o700} {
		if o, ok := f.v.Dir(path); !ok || o.Mode != mode || int(o.UID) != u.UID {
			t.Errorf("%s: %+v %v", path, o, ok)
		}
	}
	cfg, ok := f.v.File("/home/alice/hero/cfg/hero_cfg.toml")
	if !ok || cfg.Owner.Mode != 0o600 || !strings.Contains(string(cfg.Data), `token = "tok-123"`) {
		t.Fatalf("config %+v", cfg)
	}
	got, _ := s.UserGet(ctx, "alice")
	if b := fmt.Sprintf("%+v", got); strings.Contains(b, "tok-123") {
		t.Fatal("forge token in user.get output")
	}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "alice"}); !core.IsCode(err, core.AlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
}

// TestUserCreateSyncsOnce: the steps write under volumes.DeferSync and the
// create ends with one Sync: the files it wrote, then the layout's
// directories from the deepest up, then the home root.
func TestUserCreateSyncsOnce(t *testing.T) {
	s, f, _ := newUserService(t)
	if _, err := s.UserCreate(context.Background(), core.CreateSpec{Name: "alice", SSHKeys: []string{testKey}, ForgeToken: "t"}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.v.DeferredWrites(), []string{"/home/alice", "/home/alice/hero/cfg/hero_cfg.toml"}; !slices.Equal(got, want) {
		t.Errorf("writes under DeferSync %q, want %q", got, want)
	}
	want := []string{
		"/home/alice/.ssh/authorized_keys", "/home/alice/.ssh/id_ed25519", "/home/alice/.ssh/id_ed25519.pub",
		"/home/alice/hero/cfg/hero_cfg.toml",
		"/home/alice/.ssh", "/home/alice/hero/cfg", "/home/alice/hero/var/sockets", "/home/alice/hero/var",
		"/home/alice/hero", "/home/alice", "/home",
	}
	// The probe is an empty Sync, which adds nothing.
	if got := f.v.Synced(); !slices.Equal(got, want) {
		t.Errorf("synced %q,\nwant %q", got, want)
	}
}

// noSync is a volumes plugin from before Sync.
type noSync struct{ *volumes.Fake }

func (noSync) Sync(context.Context, []string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "volumes.Sync is not implemented by this plugin")
}

// TestUserCreateWithoutSync: a volumes plugin without Sync gets no
// DeferSync mark, so every plugin keeps its own fsyncs.
func TestUserCreateWithoutSync(t *testing.T) {
	s, f, _ := newUserService(t)
	f.vol = noSync{f.v}
	if _, err := s.UserCreate(context.Background(), core.CreateSpec{Name: "alice", ForgeToken: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := f.v.DeferredWrites(); len(got) != 0 {
		t.Errorf("writes under DeferSync without Sync: %q", got)
	}
}

func TestUserCreateBadInput(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	zero, low := 0, 12
	for _, sp := range []core.CreateSpec{
		{Name: ""}, {Name: "-rf"}, {Name: "../x"}, {Name: "a/b"}, {Name: "root"}, {Name: "Alice"},
		{Name: strings.Repeat("a", 33)}, {Name: "ünï"}, {Name: "bob\n"},
		{Name: "bob", UID: &zero}, {Name: "bob", UID: &low}, {Name: "bob", QuotaBytes: -1},
		{Name: "bob", SSHKeys: []string{"not a key"}}, {Name: "bob", ForgeToken: "a\"b\nc"},
		{Name: "bob", Shell: "/tmp/evil"},
	} {
		_, err := s.UserCreate(ctx, sp)
		if e := core.AsError(err); e == nil || e.Code != core.Invalid || e.Field == "" {
			t.Errorf("%+v: got %v", sp, err)
		}
	}
	if users, _ := f.a.ListUsers(ctx, ""); len(users) != 0 {
		t.Fatalf("bad input changed the machine: %v", users)
	}
}

// TestCreateRollsBackAtEveryStep fails create before and after each step
// and checks that nothing is left behind and the error names the step.
func TestCreateRollsBackAtEveryStep(t *testing.T) {
	ctx := context.Background()
	for _, step := range []string{"account", "volume", "layout", "acl", "keys", "config"} {
		for _, when := range []string{"before", "after"} {
			t.Run(step+"."+when, func(t *testing.T) {
				s, f, st := newUserService(t)
				point := "create." + step + "." + when
				defer core.SetFailpointHook(func(n string) error {
					if n == point {
						return core.Errorf(core.Internal, "injected")
					}
					return nil
				})()
				_, err := s.UserCreate(ctx, core.CreateSpec{Name: "bob", ForgeToken: "t"})
				if e := core.AsError(err); e == nil || e.Step != step {
					t.Fatalf("error %v does not name step %s", err, step)
				}
				if _, err := f.a.GetUser(ctx, "bob"); !strings.Contains(fmt.Sprint(err), "not_found") {
					t.Fatalf("account left behind: %v", err)
				}
				if _, err := f.v.GetUsage(ctx, "/home/bob"); err == nil {
					t.Fatal("volume left behind")
				}
				assertNoJournal(t, st)
			})
		}
	}
}

func assertNoJournal(t *testing.T, st core.Store) {
	t.Helper()
	_ = st.View(func(tx core.Tx) error {
		return tx.Scan("journal/", false, func(k string, _ []byte) (bool, error) {
			t.Errorf("journal entry left: %s", k)
			return true, nil
		})
	})
}

func TestRecoverRollsBackUnfinishedCreate(t *testing.T) {
	ctx := context.Background()
	s, f, st := newUserService(t)
	// A crash after the volume step: the failpoint panics out of the create
	// with no rollback, as a SIGKILL would leave it.
	restore := core.SetFailpointHook(func(n string) error {
		if n == "create.volume.after" {
			panic("crash")
		}
		return nil
	})
	func() {
		defer func() { _ = recover() }()
		_, _ = s.UserCreate(ctx, core.CreateSpec{Name: "carol"})
	}()
	restore()
	if _, err := f.v.GetUsage(ctx, "/home/carol"); err != nil {
		t.Fatalf("setup: volume should exist after the crash: %v", err)
	}
	s2 := core.NewService(st, core.WithPlugins(f))
	rec, err := s2.Recover(ctx)
	if err != nil || len(rec) != 1 || rec[0].Action != "rolled back" {
		t.Fatalf("recover: %+v %v", rec, err)
	}
	if _, err := f.v.GetUsage(ctx, "/home/carol"); err == nil {
		t.Fatal("volume survived the rollback")
	}
	if _, err := f.a.GetUser(ctx, "carol"); err == nil {
		t.Fatal("account survived the rollback")
	}
	assertNoJournal(t, st)
}

func TestUserDeleteAndRecovery(t *testing.T) {
	ctx := context.Background()
	s, f, st := newUserService(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "dave"}); err != nil {
		t.Fatal(err)
	}
	restore := core.SetFailpointHook(func(n string) error {
		if n == "delete.volume.after" {
			return core.Errorf(core.Internal, "injected")
		}
		return nil
	})
	err := s.UserDelete(ctx, "dave", false)
	restore()
	if e := core.AsError(err); e == nil || e.Step != "volume" {
		t.Fatalf("delete error: %v", err)
	}
	if _, err := core.NewService(st, core.WithPlugins(f)).Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserGet(ctx, "dave"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("user still in state: %v", err)
	}
	if _, err := f.a.GetUser(ctx, "dave"); err == nil {
		t.Fatal("account survived")
	}
	assertNoJournal(t, st)
	if err := s.UserDelete(ctx, "dave", false); !core.IsCode(err, core.NotFound) {
		t.Fatalf("delete of a deleted user: %v", err)
	}
}

func TestDeleteRefusesUnmanaged(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	if _, err := f.a.CreateUser(ctx, accounts.UserSpec{Name: "eve", Home: "/home/eve"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UserDelete(ctx, "eve", false); !core.IsCode(err, core.Forbidden) {
		t.Fatalf("delete of an unmanaged account: %v", err)
	}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "eve"}); !core.IsCode(err, core.Invalid) {
		t.Fatalf("create over an unmanaged account: %v", err)
	}
	if _, err := f.a.GetUser(ctx, "eve"); err != nil {
		t.Fatal("unmanaged account was touched")
	}
}

func TestConcurrentCreates(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newUserService(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, dup := 0, 0
	uids := map[int]string{}
	for i := range 50 {
		name := "shared"
		if i%2 == 0 {
			name = fmt.Sprintf("u%02d", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.UserCreate(ctx, core.CreateSpec{Name: name})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				if other, ok := uids[u.UID]; ok {
					t.Errorf("uid %d given to %s and %s", u.UID, other, name)
				}
				uids[u.UID] = name
				if name == "shared" {
					wins++
				}
			case name == "shared" && core.IsCode(err, core.AlreadyExists):
				dup++
			default:
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || dup != 24 || len(uids) != 26 {
		t.Fatalf("wins %d dup %d users %d", wins, dup, len(uids))
	}
}

func TestLockKeysQuotaSessions(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "fay"}); err != nil {
		t.Fatal(err)
	}
	f.ss.Add(sessions.Session{ID: "s1", User: "fay", PIDs: []int{4242}})
	if list, _ := s.SessionList(ctx, "fay"); len(list) != 1 {
		t.Fatalf("sessions: %v", list)
	}
	u, err := s.UserLock(ctx, "fay")
	if err != nil || u.State != core.UserLocked || len(f.ss.Killed()) != 1 {
		t.Fatalf("lock: %+v %v killed=%v", u, err, f.ss.Killed())
	}
	if u, _ = s.UserUnlock(ctx, "fay"); u.State != core.UserActive {
		t.Fatal("unlock")
	}
	if u, err = s.UserKeyAdd(ctx, "fay", []string{testKey}); err != nil || len(u.SSHKeys) != 1 {
		t.Fatalf("key add: %v %v", u.SSHKeys, err)
	}
	if u, err = s.UserKeyRemove(ctx, "fay", testKey); err != nil || len(u.SSHKeys) != 0 {
		t.Fatalf("key remove: %v %v", u.SSHKeys, err)
	}
	if u, err = s.UserQuotaSet(ctx, "fay", 5<<30); err != nil || u.QuotaBytes != 5<<30 {
		t.Fatalf("quota: %v", err)
	}
	if _, err := s.SessionKill(ctx, "fay", "nope"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("kill of a foreign session id: %v", err)
	}
}

func TestUserList(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newUserService(t)
	for _, n := range []string{"ann", "abe", "bob", "amy"} {
		if _, err := s.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := s.UserList(ctx, core.UserFilter{Prefix: "a", Limit: 2})
	if err != nil || len(page) != 2 || page[0].Name != "abe" || next != "amy" {
		t.Fatalf("page1 %v next %q %v", page, next, err)
	}
	page, next, _ = s.UserList(ctx, core.UserFilter{Prefix: "a", Limit: 2, After: next})
	if len(page) != 1 || page[0].Name != "ann" || next != "" {
		t.Fatalf("page2 %v next %q", page, next)
	}
}

func TestUserCreateBatch(t *testing.T) {
	ctx := context.Background()
	s, f, st := newUserService(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	specs := []core.CreateSpec{{Name: "b1"}, {Name: "-rf"}, {Name: "b2", SSHKeys: []string{testKey}}, {Name: "taken"}, {Name: "b1"}}
	var last int
	out, err := s.UserCreateBatch(ctx, specs, func(n int) { last = n })
	if err != nil {
		t.Fatal(err)
	}
	wantOK := []bool{true, false, true, false, false}
	for i, o := range out {
		if (o.Err == nil) != wantOK[i] {
			t.Errorf("%d %s: %v", i, o.Name, o.Err)
		}
	}
	if last != 2 {
		t.Errorf("progress ended at %d", last)
	}
	if _, ok := f.v.File("/home/b2/hero/cfg/hero_cfg.toml"); !ok {
		t.Error("b2 not provisioned")
	}
	assertNoJournal(t, st)
	for _, n := range []string{"b1", "b2"} {
		if _, err := s.UserGet(ctx, n); err != nil {
			t.Errorf("%s not recorded: %v", n, err)
		}
	}
}

// TestUserCreateBatchSyncsTogether: the batch's homes are made durable by
// one Sync, the home root last, and only then recorded.
func TestUserCreateBatchSyncsTogether(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	var specs []core.CreateSpec
	for i := range 3 {
		specs = append(specs, core.CreateSpec{Name: fmt.Sprintf("s%d", i), SSHKeys: []string{testKey}})
	}
	if _, err := s.UserCreateBatch(ctx, specs, nil); err != nil {
		t.Fatal(err)
	}
	synced := f.v.Synced()
	if len(synced) != 3*10+1 || synced[len(synced)-1] != "/home" || slices.Index(synced, "/home") != len(synced)-1 {
		t.Fatalf("one Sync of 3 homes and the home root, want 31 paths, got %d: %q", len(synced), synced)
	}
	for _, sp := range specs {
		home := "/home/" + sp.Name
		if !slices.Contains(synced, home+"/.ssh/id_ed25519") || !slices.Contains(synced, home) {
			t.Errorf("%s not synced", home)
		}
	}
}

// syncSpy records each non-empty Sync and runs check before it.
type syncSpy struct {
	*volumes.Fake
	calls [][]string
	check func(paths []string)
}

func (s *syncSpy) Sync(ctx context.Context, paths []string) error {
	if len(paths) > 0 {
		s.calls = append(s.calls, paths)
		s.check(paths)
	}
	return s.Fake.Sync(ctx, paths)
}

// TestUserCreateBatchSyncsInGroups: a batch too large for one Sync is
// synced in groups, each within MaxSyncPaths and ending with the home
// root, and no user of a group is recorded before its Sync.
func TestUserCreateBatchSyncsInGroups(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	spy := &syncSpy{Fake: f.v}
	spy.check = func(paths []string) {
		for _, p := range paths {
			if name, ok := strings.CutPrefix(p, "/home/"); ok && !strings.Contains(name, "/") {
				if _, err := s.UserGet(ctx, name); err == nil {
					t.Errorf("%s recorded before its home was synced", name)
				}
			}
		}
	}
	f.vol = spy
	var specs []core.CreateSpec
	for i := range 150 {
		specs = append(specs, core.CreateSpec{Name: fmt.Sprintf("g%03d", i)})
	}
	out, err := s.UserCreateBatch(ctx, specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Name, o.Err)
		}
	}
	if len(spy.calls) != 2 {
		t.Fatalf("%d Syncs for 150 homes of 10 paths each, want 2", len(spy.calls))
	}
	homes := 0
	for _, c := range spy.calls {
		if len(c) > volumes.MaxSyncPaths || c[len(c)-1] != "/home" {
			t.Errorf("a Sync of %d paths ending %q", len(c), c[len(c)-1])
		}
		homes += (len(c) - 1) / 10
	}
	if homes != 150 {
		t.Errorf("%d homes synced, want 150", homes)
	}
}

func TestUserResetRepairsMode(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "gus"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.c.SetOwnership(ctx, "/home/gus", uint32(u.UID), uint32(u.GID), 0o700); err != nil {
		t.Fatal(err)
	}
	repaired, err := s.UserReset(ctx, "gus")
	if err != nil || !strings.Contains(strings.Join(repaired, "\n"), "mode of /home/gus was 0700") {
		t.Fatalf("reset: %v %v", repaired, err)
	}
	if o, _ := f.c.Ownership("/home/gus"); o.Mode != 0o755 {
		t.Fatalf("home mode after reset: %o", o.Mode)
	}
	drift, err := s.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		if strings.Contains(d.Detail, "/home/gus was") {
			t.Errorf("drift left after reset: %v", d)
		}
	}
}

// TestGroupSharedVolume: a shared group gets its volume (root and the
// group, 2770, the quota) and the group's rwx as access and default ACL;
// delete removes it, or first snapshots it with keepData; a volume that
// cannot be made leaves no Linux group behind; a quota without shared is
// refused before anything is made.
func TestGroupSharedVolume(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	g, err := s.GroupCreate(ctx, core.Group{Name: "devs", Shared: true, QuotaBytes: 50 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if g.Volume != "/home/groups/devs" || g.GID == 0 {
		t.Fatalf("group %+v", g)
	}
	v, err := f.v.GetUsage(ctx, g.Volume)
	if err != nil || v.QuotaBytes != 50<<30 {
		t.Fatalf("volume %+v, %v", v, err)
	}
	if o, ok := f.v.Dir("/home/groups"); !ok || o != (volumes.Owner{Mode: 0o755}) {
		t.Fatalf("/home/groups: %+v %v", o, ok)
	}
	list, _ := f.c.Get(ctx, g.Volume)
	want := []acl.Entry{{Tag: acl.TagGroup, Qualifier: "devs", Perms: "rwx"}, {Tag: acl.TagGroup, Qualifier: "devs", Perms: "rwx", Default: true}}
	for _, e := range want {
		if !slices.Contains(append(list.Access, list.Default...), e) {
			t.Errorf("ACL of %s lacks %+v: %+v", g.Volume, e, list)
		}
	}
	if got, _ := s.GroupGet(ctx, "devs"); got.Volume != g.Volume || !got.Shared || got.QuotaBytes != 50<<30 {
		t.Fatalf("stored %+v", got)
	}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "ops", QuotaBytes: 1 << 30}); !core.IsCode(err, core.Invalid) {
		t.Fatalf("quota without shared: %v", err)
	}
	if _, err := f.a.GetGroup(ctx, "ops"); err == nil {
		t.Fatal("a refused group was made")
	}

	if err := s.GroupDelete(ctx, "devs", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.GetUsage(ctx, "/home/groups/devs"); !sdkerr.Is(err, sdkerr.NotFound) {
		t.Fatalf("volume after delete: %v", err)
	}
	snaps, _ := f.v.ListSnapshots(ctx, "/home/groups/devs")
	if len(snaps) != 1 || !snaps[0].ReadOnly || !strings.HasPrefix(snaps[0].Path, "/home/.deleted/group-devs-") {
		t.Fatalf("snapshots kept: %+v", snaps)
	}
	if _, err := f.a.GetGroup(ctx, "devs"); err == nil {
		t.Fatal("the Linux group survived")
	}

	f.vol = failingCreate{f.v}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "qa", Shared: true}); err == nil {
		t.Fatal("create succeeded without its volume")
	}
	if _, err := f.a.GetGroup(ctx, "qa"); err == nil {
		t.Fatal("the Linux group of a failed shared create survived")
	}
	if _, err := s.GroupGet(ctx, "qa"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("state after a failed create: %v", err)
	}
}

// failingCreate is a volumes plugin whose CreateVolume always fails.
type failingCreate struct{ *volumes.Fake }

func (failingCreate) CreateVolume(context.Context, volumes.VolumeSpec) (volumes.Volume, error) {
	return volumes.Volume{}, sdkerr.Errorf(sdkerr.Internal, "disk on fire")
}

// TestReconcileSharedGroups: a shared group as made is no drift; its
// volume's mode, ACL entry, Linux group or the volume itself gone astray
// each is one, named by the group. (The fake's volumes are directories,
// which have no quota to compare.)
func TestReconcileSharedGroups(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	if _, err := s.GroupCreate(ctx, core.Group{Name: "devs", Shared: true, QuotaBytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "plain"}); err != nil {
		t.Fatal(err)
	}
	groupDrift := func() []string {
		t.Helper()
		drift, err := s.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range drift {
			if d.Group != "" {
				out = append(out, d.Group+": "+d.Detail)
			}
		}
		return out
	}
	if d := groupDrift(); len(d) != 0 {
		t.Fatalf("drift right after create: %v", d)
	}
	const vol = "/home/groups/devs"
	f.c.Revoke(ctx, vol, []acl.Entry{{Tag: acl.TagGroup, Qualifier: "devs", Default: true}})
	f.c.SetOwnership(ctx, vol, 0, 0, 0o2700)
	want := []string{
		"devs: mode of /home/groups/devs is 0700, want 0770 (with setgid)",
		"devs: default ACL of /home/groups/devs lacks group:devs:rwx, so members' files may not stay group-writable",
	}
	if d := groupDrift(); !slices.Equal(d, want) {
		t.Fatalf("drift\n%q\nwant\n%q", d, want)
	}
	f.v.DeleteVolume(ctx, vol)
	f.a.DeleteGroup(ctx, "devs")
	want = []string{"devs: Linux group devs is missing", "devs: shared volume /home/groups/devs is missing"}
	if d := groupDrift(); !slices.Equal(d, want) {
		t.Fatalf("drift\n%q\nwant\n%q", d, want)
	}
}

// TestUserDeleteLeavesGroups: a deleted user is no longer listed as a
// member of the state's groups, as userdel takes it out of the Linux ones.
func TestUserDeleteLeavesGroups(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newUserService(t)
	for _, n := range []string{"ann", "ben"} {
		if _, err := s.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"devs", "ops"} {
		if _, err := s.GroupCreate(ctx, core.Group{Name: g, Members: []string{"ann", "ben"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UserDelete(ctx, "ann", false); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"devs", "ops"} {
		if got, _ := s.GroupGet(ctx, g); !slices.Equal(got.Members, []string{"ben"}) {
			t.Errorf("%s members after ann's delete: %v", g, got.Members)
		}
	}
}

// TestStepTimes: every step of a create (and the sync that ends it) is
// counted once per user, a failed step not at all.
func TestStepTimes(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	for _, n := range []string{"ann", "ben"} {
		if _, err := s.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	f.vol = failingCreate{f.v}
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "cat"}); err == nil {
		t.Fatal("create without its volume succeeded")
	}
	got := s.StepTimes()
	for name, want := range map[string]int64{"create.account": 3, "create.volume": 2, "create.layout": 2, "create.acl": 2,
		"create.keys": 2, "create.config": 2, "create.sync": 2} {
		if got[name].Count != want || got[name].TotalMS < 0 {
			t.Errorf("%s: %+v, want count %d", name, got[name], want)
		}
	}
}

// TestMemberAddDuringDelete: adding one user to a group while another
// member is deleted keeps both changes; adding a user while it is deleted
// either fails or is undone by the delete, never leaves it listed.
func TestMemberAddDuringDelete(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		s, _, _ := newUserService(t)
		for _, n := range []string{"ann", "ben", "cal"} {
			if _, err := s.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.GroupCreate(ctx, core.Group{Name: "devs", Members: []string{"ann"}}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { s.UserDelete(ctx, "ann", false) })
		wg.Go(func() { s.GroupMemberAdd(ctx, "devs", "ben") })
		wg.Go(func() { s.UserDelete(ctx, "cal", false) })
		wg.Go(func() { s.GroupMemberAdd(ctx, "devs", "cal") })
		wg.Wait()
		if g, _ := s.GroupGet(ctx, "devs"); !slices.Equal(g.Members, []string{"ben"}) {
			t.Fatalf("round %d: members %v, want [ben]", round, g.Members)
		}
	}
}

// TestResetCoversNestedSubvolumes: a subvolume a user made inside their
// home that the home's quota does not cover is drift; user-reset brings
// it under the quota, and reconcile is clean after.
func TestResetCoversNestedSubvolumes(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	if _, err := s.UserCreate(ctx, core.CreateSpec{Name: "nan", QuotaBytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	f.v.Escape("/home/nan", "/home/nan/stash")
	drift, err := s.Reconcile(ctx)
	if err != nil || !slices.ContainsFunc(drift, func(d core.Drift) bool {
		return d.User == "nan" && strings.Contains(d.Detail, "subvolume /home/nan/stash inside /home/nan is outside its quota")
	}) {
		t.Fatalf("reconcile: %+v %v", drift, err)
	}
	repaired, err := s.UserReset(ctx, "nan")
	if err != nil || !strings.Contains(strings.Join(repaired, "\n"), "/home/nan/stash") {
		t.Fatalf("reset: %v %v", repaired, err)
	}
	if drift, _ := s.Reconcile(ctx); slices.ContainsFunc(drift, func(d core.Drift) bool { return strings.Contains(d.Detail, "stash") }) {
		t.Errorf("drift left after reset: %+v", drift)
	}
}

// TestResetQuotaBelowUsage: a quota the home outgrew while it had none
// (an admin cleared it by hand) is not re-applied, which the plugin
// refuses: reset says so and still repairs the rest.
func TestResetQuotaBelowUsage(t *testing.T) {
	ctx := context.Background()
	s, f, _ := newUserService(t)
	f.v.Kind = volumes.KindSubvolume
	u, err := s.UserCreate(ctx, core.CreateSpec{Name: "ola", QuotaBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.SetQuota(ctx, u.Home, 0); err != nil {
		t.Fatal(err)
	}
	big := volumes.Owner{UID: uint32(u.UID), GID: uint32(u.GID), Mode: 0o644}
	if err := f.v.WriteFile(ctx, u.Home+"/big", make([]byte, 64<<10), big); err != nil {
		t.Fatal(err)
	}
	if err := f.c.SetOwnership(ctx, u.Home, uint32(u.UID), uint32(u.GID), 0o700); err != nil {
		t.Fatal(err)
	}
	repaired, err := s.UserReset(ctx, "ola")
	all := strings.Join(repaired, "\n")
	if err != nil || !strings.Contains(all, "quota of /home/ola not re-applied") || !strings.Contains(all, "mode of /home/ola was 0700") {
		t.Fatalf("reset: %v %v", repaired, err)
	}
	if o, _ := f.c.Ownership(u.Home); o.Mode != 0o755 {
		t.Errorf("the reset stopped at the quota: home mode %o", o.Mode)
	}
}

// TestGroupMembershipInUserRecord: a user's record lists the groups it
// was put in after its create — by group-create's members or by
// group.member.add — and drops them on member removal and group delete,
// so user.list --group finds it and a reset re-creates its membership.
func TestGroupMembershipInUserRecord(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newUserService(t)
	for _, n := range []string{"ann", "ben"} {
		if _, err := s.UserCreate(ctx, core.CreateSpec{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "devs", Members: []string{"ann"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GroupMemberAdd(ctx, "ops", "ben"); err != nil {
		t.Fatal(err)
	}
	listed := func(group string) []string {
		us, _, err := s.UserList(ctx, core.UserFilter{Group: group})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range us {
			names = append(names, u.Name)
		}
		return names
	}
	if got := listed("devs"); !slices.Equal(got, []string{"ann"}) {
		t.Errorf("user.list --group devs: %v", got)
	}
	if got := listed("ops"); !slices.Equal(got, []string{"ben"}) {
		t.Errorf("user.list --group ops: %v", got)
	}
	if _, err := s.GroupMemberRemove(ctx, "ops", "ben"); err != nil {
		t.Fatal(err)
	}
	if err := s.GroupDelete(ctx, "devs", false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ann", "ben"} {
		u, err := s.UserGet(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(u.Groups, "devs") || slices.Contains(u.Groups, "ops") {
			t.Errorf("%s still lists %v", n, u.Groups)
		}
	}
}
