package core

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// What a node does with the fleet's desired records: the agent in
// host/fleet calls these for each record it sees, and they change the
// machine only through the same use cases a local call runs.

// fleetAgentKey marks a context as the fleet agent's. Only core sets it,
// so no caller of the API can claim it.
type fleetAgentKey struct{}

func asFleetAgent(ctx context.Context) context.Context {
	return context.WithValue(ctx, fleetAgentKey{}, true)
}

func isFleetAgent(ctx context.Context) bool {
	v, _ := ctx.Value(fleetAgentKey{}).(bool)
	return v
}

// refuseFleetEdit refuses a local change of a user the fleet made: the
// agent would undo it at its next pass (or re-create a deleted user), so
// the change must go through the fleet.
func refuseFleetEdit(ctx context.Context, u User, what string) error {
	if !u.Fleet || isFleetAgent(ctx) {
		return nil
	}
	hint := map[string]string{
		"delete": "user-delete " + u.Name + " --fleet", "lock": "user-lock " + u.Name + " --fleet",
		"unlock": "user-unlock " + u.Name + " --fleet", "add its keys": "user-key-add " + u.Name + " --fleet",
		"remove its keys": "user-key-remove " + u.Name + " --fleet", "set its quota": "user-quota " + u.Name + " --fleet",
	}[what]
	return fleetOnly("user "+u.Name, hint)
}

// fleetOnly is the error of a local change to a fleet object.
func fleetOnly(what, hint string) error {
	return &Error{Code: FailedPrecondition, Field: "name", Message: fmt.Sprintf(
		"%s belongs to the fleet: use %s (a local change would be undone by the fleet agent)", what, hint)}
}

// ApplyFleetUser converges this node to one desired user, given this
// node's labels, and returns the node's status for it. FleetSkipped means
// nothing of the fleet's is here and nothing needs to be: the agent writes
// no status for it.
func (s *Service) ApplyFleetUser(ctx context.Context, labels map[string]string, d FleetUser) NodeStatus {
	began := time.Now()
	outcome, err := s.applyUser(asFleetAgent(ctx), labels, d)
	return s.fleetStatus(UserObject(d.Name), d.Revision, outcome, err, began)
}

// fleetStatus builds a status; an error's public text only (the core
// error's Message never carries a secret).
func (s *Service) fleetStatus(object string, rev uint64, outcome string, err error, began time.Time) NodeStatus {
	st := NodeStatus{Object: object, Revision: rev, Outcome: outcome, At: s.now().UTC(),
		TookMS: float64(time.Since(began).Microseconds()) / 1000}
	if err != nil {
		st.Error = AsError(err).Error()
	}
	return st
}

// Placed reports whether d is placed on a node with labels; a tombstone
// or a bad placement is placed nowhere.
func (d FleetUser) Placed(labels map[string]string) bool {
	if d.Deleted {
		return false
	}
	sel, err := ParseSelector("placement", d.Placement)
	return err == nil && sel.Matches(labels)
}

func (s *Service) applyUser(ctx context.Context, labels map[string]string, d FleetUser) (string, error) {
	if err := s.needPlugins(); err != nil {
		return FleetError, err
	}
	local, err := s.UserGet(ctx, d.Name)
	have := err == nil
	if err != nil && !IsCode(err, NotFound) {
		return FleetError, err
	}
	placed := d.Placed(labels)
	switch {
	case !placed && have && local.Fleet:
		// A user placed elsewhere keeps its home here as a snapshot; a
		// deleted one as its delete asked.
		if err := s.UserDelete(ctx, d.Name, d.KeepHome || !d.Deleted); err != nil {
			return FleetError, err
		}
		return FleetRemoved, nil
	case !placed:
		return FleetSkipped, nil
	case have && !local.Fleet:
		return FleetConflict, Errorf(AlreadyExists, "user %s exists on this node and was not made by the fleet: left untouched", d.Name)
	case !have:
		return s.applyCreate(ctx, d)
	}
	return s.applyUpdate(ctx, local, d)
}

// applyCreate makes a desired user that this node lacks. An account of
// that name here is a conflict (UserCreate's name check refuses it before
// anything runs); the account step refusing the fleet's uid (or a group
// of the user's name) is a clash. Either way nothing of it is touched.
func (s *Service) applyCreate(ctx context.Context, d FleetUser) (string, error) {
	if _, err := s.UserCreate(ctx, fleetSpec(d)); err != nil {
		e := AsError(err)
		switch {
		case e.Step == "" && e.Field == "name" && (e.Code == Invalid || e.Code == AlreadyExists):
			return FleetConflict, Errorf(AlreadyExists, "account %s exists on this node and is not the fleet's: left untouched", d.Name)
		case e.Step == "account" && e.Code == AlreadyExists:
			return FleetClash, Errorf(AlreadyExists, "uid %d of %s (or a group named %s) is taken on this node: %s", d.UID, d.Name, d.Name, e.Error())
		}
		return FleetError, err
	}
	if err := s.lockThenKeys(ctx, d); err != nil {
		return FleetError, err
	}
	return FleetOK, nil
}

// lockThenKeys finishes the create of a locked desired user: it was made
// without its SSH keys (fleetSpec), which it gets once locked, so that it
// cannot log in between its create and its lock. When the lock fails the
// user stays without keys (and without a password): the next pass locks
// it and adds them.
func (s *Service) lockThenKeys(ctx context.Context, d FleetUser) error {
	if !d.Locked {
		return nil
	}
	if _, err := s.UserLock(ctx, d.Name); err != nil {
		return err
	}
	if len(d.SSHKeys) > 0 {
		if _, err := s.UserKeyAdd(ctx, d.Name, d.SSHKeys); err != nil {
			return err
		}
	}
	return nil
}

// fleetSpec is the create spec of a desired user.
func fleetSpec(d FleetUser) CreateSpec {
	uid := d.UID
	keys := d.SSHKeys
	if d.Locked {
		keys = nil // given once locked (lockThenKeys)
	}
	return CreateSpec{
		Name: d.Name, UID: &uid, SSHKeys: keys, ForgeToken: d.ForgeToken, QuotaBytes: d.QuotaBytes,
		Groups: d.Groups, Shell: d.Shell, Keypair: &Keypair{Public: d.PublicKey, Private: d.PrivateKey}, Fleet: true,
		Limits: d.limits(),
	}
}

// fleetCollision reports an account of the machine that holds d's name
// (a conflict: never overwritten) or d's uid (a clash).
func fleetCollision(d FleetUser, byName map[string]int, byUID map[int]string) (string, error) {
	if _, ok := byName[d.Name]; ok {
		return FleetConflict, Errorf(AlreadyExists, "account %s exists on this node and is not the fleet's: left untouched", d.Name)
	}
	if other, ok := byUID[d.UID]; ok {
		return FleetClash, Errorf(AlreadyExists, "uid %d of %s is taken on this node by %s", d.UID, d.Name, other)
	}
	return "", nil
}

// machineIDs lists the machine's accounts by name (their uid) and by uid
// (their name), from one read of the account files.
func (s *Service) machineIDs(ctx context.Context) (map[string]int, map[int]string, error) {
	list, err := s.plugins.Accounts().ListUsers(ctx, "")
	if err != nil {
		return nil, nil, FromPluginError(err)
	}
	byName, byUID := make(map[string]int, len(list)), make(map[int]string, len(list))
	for _, u := range list {
		byName[u.Name], byUID[int(u.UID)] = int(u.UID), u.Name
	}
	return byName, byUID, nil
}

// applyUpdate brings a fleet user this node has to the desired record:
// keys, quota and lock state. A uid that differs cannot be changed in
// place: it is reported as a clash.
func (s *Service) applyUpdate(ctx context.Context, local User, d FleetUser) (string, error) {
	if local.UID != d.UID {
		return FleetClash, Errorf(FailedPrecondition, "%s has uid %d on this node, the fleet's is %d", d.Name, local.UID, d.UID)
	}
	add, remove := keyDiff(local.SSHKeys, d.SSHKeys)
	if len(add) > 0 {
		if _, err := s.UserKeyAdd(ctx, d.Name, add); err != nil {
			return FleetError, err
		}
	}
	for _, fp := range remove {
		if _, err := s.UserKeyRemove(ctx, d.Name, fp); err != nil {
			return FleetError, err
		}
	}
	if local.QuotaBytes != d.QuotaBytes {
		if _, err := s.UserQuotaSet(ctx, d.Name, d.QuotaBytes); err != nil {
			return FleetError, err
		}
	}
	if local.limits() != d.limits() {
		if _, err := s.UserLimitsSet(ctx, d.Name, d.limits()); err != nil {
			return FleetError, err
		}
	}
	if locked := local.State == UserLocked; locked != d.Locked {
		if _, err := s.setLocked(ctx, d.Name, d.Locked); err != nil {
			return FleetError, err
		}
	}
	return FleetOK, nil
}

// keyDiff compares keys by fingerprint: the desired keys the node lacks,
// and the fingerprints of the keys it has beyond them.
func keyDiff(have, want []string) (add, remove []string) {
	fps := func(keys []string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			if ak, err := sshkeys.ParseAuthorizedKey(k); err == nil {
				m[ak.Fingerprint] = k
			}
		}
		return m
	}
	h, w := fps(have), fps(want)
	for fp, k := range w {
		if _, ok := h[fp]; !ok {
			add = append(add, k)
		}
	}
	for fp := range h {
		if _, ok := w[fp]; !ok {
			remove = append(remove, fp)
		}
	}
	slices.Sort(add)
	slices.Sort(remove)
	return add, remove
}

// FleetLocalUsers lists the users of this node the fleet made: what the
// agent compares with the desired state to find orphans.
func (s *Service) FleetLocalUsers(ctx context.Context) ([]User, error) {
	var out []User
	after := ""
	for {
		page, next, err := s.UserList(ctx, UserFilter{Limit: 1000, After: after})
		if err != nil {
			return nil, err
		}
		for _, u := range page {
			if u.Fleet {
				out = append(out, u)
			}
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}

// FleetForget makes the fleet's users and groups on this node local ones:
// what a node evicted from the fleet does, so its accounts stay and can be
// managed by hand again.
func (s *Service) FleetForget(ctx context.Context) error {
	return s.store.Update(func(tx Tx) error {
		var users []User
		var groups []Group
		err := tx.Scan(keyUser, false, func(_ string, v []byte) (bool, error) {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return false, err
			}
			if u.Fleet {
				u.Fleet = false
				users = append(users, u)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		err = tx.Scan(keyGroup, false, func(_ string, v []byte) (bool, error) {
			var g Group
			if err := json.Unmarshal(v, &g); err != nil {
				return false, err
			}
			if g.Fleet {
				g.Fleet = false
				groups = append(groups, g)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := putJSON(tx, keyUser+u.Name, u); err != nil {
				return err
			}
		}
		for _, g := range groups {
			if err := putJSON(tx, keyGroup+g.Name, g); err != nil {
				return err
			}
		}
		return nil
	})
}
