package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

const (
	fleetPub  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@fleet"
	fleetPriv = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
	otherKey  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxuvL7FyeAQrLK0m3jY4QCBqpV3uTDjwOdr+qhOKSf9 other@laptop"
)

func desired(name string, uid int, rev uint64) core.FleetUser {
	return core.FleetUser{Name: name, UID: uid, Groups: []string{}, SSHKeys: []string{testKey}, QuotaBytes: 1 << 30,
		Shell: "/bin/bash", PublicKey: fleetPub, PrivateKey: fleetPriv, ForgeToken: "tok-123", Revision: rev}
}

// TestApplyFleetUser walks a desired user through a node: created with
// the fleet's uid and keypair, edited (keys, quota, lock), placed away
// (removed, home kept), placed back, deleted.
func TestApplyFleetUser(t *testing.T) {
	svc, f, _ := newUserService(t)
	ctx := context.Background()
	eu := map[string]string{"zone": "eu"}
	d := desired("alice", 2001, 7)
	d.Placement = "zone=eu"
	if st := svc.ApplyFleetUser(ctx, eu, d); st.Outcome != core.FleetOK || st.Revision != 7 || st.Object != "user/alice" {
		t.Fatalf("create: %+v", st)
	}
	u, err := svc.UserGet(ctx, "alice")
	if err != nil || u.UID != 2001 || !u.Fleet || u.PublicKey != fleetPub {
		t.Fatalf("after create: %+v %v", u, err)
	}
	if file, ok := f.v.File("/home/alice/.ssh/id_ed25519"); !ok || string(file.Data) != fleetPriv || file.Owner.Mode != 0o600 {
		t.Errorf("the fleet's private key was not installed 0600: %+v", file)
	}
	if st := svc.ApplyFleetUser(ctx, eu, d); st.Outcome != core.FleetOK {
		t.Errorf("applying the same record again: %+v", st)
	}
	d.SSHKeys, d.QuotaBytes, d.Locked, d.Revision = []string{otherKey}, 2<<30, true, 8
	if st := svc.ApplyFleetUser(ctx, eu, d); st.Outcome != core.FleetOK {
		t.Fatalf("update: %+v", st)
	}
	u, _ = svc.UserGet(ctx, "alice")
	if len(u.SSHKeys) != 1 || u.SSHKeys[0] != otherKey || u.QuotaBytes != 2<<30 || u.State != core.UserLocked {
		t.Errorf("after update: %+v", u)
	}
	if st := svc.ApplyFleetUser(ctx, map[string]string{"zone": "us"}, d); st.Outcome != core.FleetRemoved {
		t.Fatalf("placed away: %+v", st)
	}
	if _, err := svc.UserGet(ctx, "alice"); !core.IsCode(err, core.NotFound) {
		t.Errorf("alice stayed on a node no longer placed: %v", err)
	}
	if st := svc.ApplyFleetUser(ctx, map[string]string{"zone": "us"}, d); st.Outcome != core.FleetSkipped {
		t.Errorf("a node that never carried her: %+v", st)
	}
	d.Revision = 9
	if st := svc.ApplyFleetUser(ctx, eu, d); st.Outcome != core.FleetOK {
		t.Fatalf("placed back: %+v", st)
	}
	tomb := core.FleetUser{Name: "alice", UID: 2001, Deleted: true, Revision: 10}
	if st := svc.ApplyFleetUser(ctx, eu, tomb); st.Outcome != core.FleetRemoved {
		t.Fatalf("tombstone: %+v", st)
	}
	if _, err := f.a.GetUser(ctx, "alice"); err == nil {
		t.Error("the account survived its tombstone")
	}
}

// TestApplyFleetUserNeverTouchesOthers: a name or uid another account
// holds here is reported, never overwritten; a local user of the name is
// a conflict too; and a local change of a fleet user is refused with the
// --fleet hint.
func TestApplyFleetUserNeverTouchesOthers(t *testing.T) {
	svc, f, _ := newUserService(t)
	ctx := context.Background()
	if _, err := f.a.CreateUser(ctx, accounts.UserSpec{Name: "bob", UID: 3000, Home: "/home/bob"}); err != nil {
		t.Fatal(err)
	}
	if st := svc.ApplyFleetUser(ctx, nil, desired("bob", 2002, 1)); st.Outcome != core.FleetConflict {
		t.Errorf("an unmanaged bob: %+v", st)
	}
	if u, _ := f.a.GetUser(ctx, "bob"); u.UID != 3000 {
		t.Errorf("bob was changed: %+v", u)
	}
	if st := svc.ApplyFleetUser(ctx, nil, desired("carol", 3000, 1)); st.Outcome != core.FleetClash || !strings.Contains(st.Error, "uid 3000") {
		t.Errorf("carol's uid taken by bob: %+v", st)
	}
	if _, err := svc.UserCreate(ctx, core.CreateSpec{Name: "dave"}); err != nil {
		t.Fatal(err)
	}
	if st := svc.ApplyFleetUser(ctx, nil, desired("dave", 2003, 1)); st.Outcome != core.FleetConflict {
		t.Errorf("a local dave: %+v", st)
	}
	if err := svc.UserDelete(ctx, "dave", false); err != nil {
		t.Errorf("a local user stays deletable: %v", err)
	}
	if st := svc.ApplyFleetUser(ctx, nil, desired("erin", 2004, 1)); st.Outcome != core.FleetOK {
		t.Fatalf("erin: %+v", st)
	}
	for name, call := range map[string]func() error{
		"delete":  func() error { return svc.UserDelete(ctx, "erin", false) },
		"key add": func() error { _, err := svc.UserKeyAdd(ctx, "erin", []string{otherKey}); return err },
		"quota":   func() error { _, err := svc.UserQuotaSet(ctx, "erin", 1); return err },
		"lock":    func() error { _, err := svc.UserLock(ctx, "erin"); return err },
	} {
		if err := call(); !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), "--fleet") {
			t.Errorf("local %s of a fleet user: %v, want a refusal with the --fleet hint", name, err)
		}
	}
	if err := svc.FleetForget(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.UserDelete(ctx, "erin", false); err != nil {
		t.Errorf("after the node left the fleet, erin is a local user: %v", err)
	}
}

// TestApplyFleetUsersBatch: many creates go through the batch path and
// give the statuses the one-by-one path gives.
func TestApplyFleetUsersBatch(t *testing.T) {
	svc, f, _ := newUserService(t)
	ctx := context.Background()
	if _, err := f.a.CreateUser(ctx, accounts.UserSpec{Name: "bob", UID: 3000, Home: "/home/bob"}); err != nil {
		t.Fatal(err)
	}
	ds := []core.FleetUser{desired("u1", 2001, 1), desired("bob", 2002, 2), desired("u3", 3000, 3), desired("u4", 2004, 4)}
	ds[3].Locked = true
	sts := svc.ApplyFleetUsers(ctx, nil, ds)
	want := []string{core.FleetOK, core.FleetConflict, core.FleetClash, core.FleetOK}
	for i, st := range sts {
		if st.Outcome != want[i] || st.Object != "user/"+ds[i].Name || st.Revision != ds[i].Revision {
			t.Errorf("%s: %+v, want %s", ds[i].Name, st, want[i])
		}
	}
	if u, err := svc.UserGet(ctx, "u4"); err != nil || u.State != core.UserLocked || u.UID != 2004 {
		t.Errorf("u4: %+v %v", u, err)
	}
}

// batchSizes wraps an accounts plugin and records the size of each batch
// create it serves and how many ran at once at most.
type batchSizes struct {
	accounts.Accounts
	mu             sync.Mutex
	sizes          []int
	open, mostOpen int
}

func (b *batchSizes) CreateUsers(ctx context.Context, specs []accounts.UserSpec) ([]accounts.BatchResult, error) {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(specs))
	b.open++
	b.mostOpen = max(b.mostOpen, b.open)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.open--
		b.mu.Unlock()
	}()
	return b.Accounts.CreateUsers(ctx, specs)
}

// TestApplyFleetUsersChunks: a node converging onto 250 desired users
// creates them in batches of at most 100, two at most at once (as
// user-create --from sends them), and every status lands in its own
// place: a conflict in the last chunk stays that user's alone.
func TestApplyFleetUsersChunks(t *testing.T) {
	svc, f, _ := newUserService(t)
	counted := &batchSizes{Accounts: f.a}
	f.acc = counted
	ctx := context.Background()
	if _, err := f.a.CreateUser(ctx, accounts.UserSpec{Name: "u0240", UID: 900, Home: "/home/u0240"}); err != nil {
		t.Fatal(err)
	}
	var ds []core.FleetUser
	for i := range 250 {
		ds = append(ds, desired(fmt.Sprintf("u%04d", i), 20000+i, uint64(i+1)))
	}
	sts := svc.ApplyFleetUsers(ctx, nil, ds)
	for i, st := range sts {
		want := core.FleetOK
		if i == 240 {
			want = core.FleetConflict
		}
		if st.Outcome != want || st.Object != "user/"+ds[i].Name || st.Revision != ds[i].Revision {
			t.Errorf("%s: %+v, want %s", ds[i].Name, st, want)
		}
	}
	total := 0
	for _, n := range counted.sizes {
		if n > 100 {
			t.Errorf("a batch of %d users (at most 100)", n)
		}
		total += n
	}
	if total != 249 || counted.mostOpen > 2 {
		t.Errorf("batches %v (%d users), %d at once; want 249 users, at most 2 at once", counted.sizes, total, counted.mostOpen)
	}
	if u, err := svc.UserGet(ctx, "u0249"); err != nil || u.UID != 20249 {
		t.Errorf("u0249: %+v %v", u, err)
	}
}

// TestApplyLockedFleetUser: a locked desired user new to a node gets its
// keys only once locked, on the single and the batch path: when the lock
// fails it has none (no way in), and the next pass locks it and adds
// them.
func TestApplyLockedFleetUser(t *testing.T) {
	for _, batch := range []bool{false, true} {
		svc, f, _ := newUserService(t)
		ctx := context.Background()
		d := desired("lena", 2002, 3)
		d.Locked = true
		f.a.Fail("LockUser", fmt.Errorf("the lock failed"))
		apply := func() core.NodeStatus {
			if batch {
				return svc.ApplyFleetUsers(ctx, nil, []core.FleetUser{d, desired("other", 2003, 4)})[0]
			}
			return svc.ApplyFleetUser(ctx, nil, d)
		}
		if st := apply(); st.Outcome != core.FleetError {
			t.Fatalf("batch %v: a failed lock: %+v", batch, st)
		}
		if u, err := svc.UserGet(ctx, "lena"); err != nil || len(u.SSHKeys) != 0 {
			t.Errorf("batch %v: unlocked lena has keys: %+v %v", batch, u.SSHKeys, err)
		}
		f.a.Fail("LockUser", nil)
		if st := apply(); st.Outcome != core.FleetOK {
			t.Fatalf("batch %v: the next pass: %+v", batch, st)
		}
		if u, err := svc.UserGet(ctx, "lena"); err != nil || len(u.SSHKeys) != 1 || u.State != core.UserLocked {
			t.Errorf("batch %v: after the next pass: %+v %v", batch, u, err)
		}
	}
}
