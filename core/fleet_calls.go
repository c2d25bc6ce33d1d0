package core

import (
	"context"
	"slices"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// The --fleet calls on users: each writes the desired state by
// compare-and-set, then waits for the nodes it concerns (fleetWait).

// DefaultFleetWait is how long a fleet call waits for the nodes' statuses.
const DefaultFleetWait = 30 * time.Second

// casAttempts bounds the retries of an edit that lost a race with another.
const casAttempts = 5

// FleetRow is one node's line in a fleet call's result.
type FleetRow struct {
	Node    string  `json:"node"`
	Outcome string  `json:"outcome"`
	TookMS  float64 `json:"took_ms"`
	Error   string  `json:"error,omitempty"`
}

// FleetResult is what a fleet call reports: the desired revision written,
// then one row per node it concerns. Failed counts the rows that are not
// ok (failed, conflicting, or no answer in time).
type FleetResult struct {
	Object    string     `json:"object"`
	Revision  uint64     `json:"revision"`
	PublicKey string     `json:"public_key,omitempty"`
	UID       int        `json:"uid,omitempty"`
	Rows      []FleetRow `json:"rows"`
	Failed    int        `json:"failed"`
}

// FleetUserCreate creates a user on every node its placement selects: a
// uid reserved fleet-wide, one keypair generated here (its private half
// sealed in the store with the forge token), the record written, then the
// nodes' statuses awaited.
func (s *Service) FleetUserCreate(ctx context.Context, spec CreateSpec, placement string, wait time.Duration) (FleetResult, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return FleetResult{}, err
	}
	spec.Keypair, spec.Fleet = nil, false
	if err := s.validateCreateSpec(&spec); err != nil {
		return FleetResult{}, err
	}
	if err := s.fleetJoinable(ctx, f, spec.Groups); err != nil {
		return FleetResult{}, err
	}
	sel, err := ParseSelector("nodes", placement)
	if err != nil {
		return FleetResult{}, err
	}
	old, err := f.User(ctx, spec.Name)
	switch {
	case err == nil && !old.Deleted:
		return FleetResult{}, &Error{Code: AlreadyExists, Field: "name", Message: "fleet user " + spec.Name + " already exists"}
	case err != nil && !IsCode(err, NotFound):
		return FleetResult{}, err
	}
	if err := nameFreeOfGroup(ctx, f, spec.Name); err != nil {
		return FleetResult{}, err
	}
	want := 0
	if spec.UID != nil {
		want = *spec.UID
	}
	// The nodes concerned are read while the uid is reserved: over a WAN
	// each read is a round trip.
	var targets map[string]bool
	var terr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		targets, terr = s.fleetTargets(ctx, f, UserObject(spec.Name), sel.Matches, nil)
	}()
	uid, err := f.AllocID(ctx, "uid", spec.Name, want)
	<-read
	if err != nil {
		return FleetResult{}, err
	}
	pub, priv, err := f.NewKeypair(spec.Name + "@fleet")
	if err != nil {
		releaseID(ctx, f, "uid", uid, spec.Name, false)
		return FleetResult{}, err
	}
	d := FleetUser{
		Name: spec.Name, UID: uid, Groups: nonNil(spec.Groups), SSHKeys: spec.SSHKeys, QuotaBytes: spec.QuotaBytes, Limits: spec.limits(),
		Shell: spec.Shell, Placement: sel.String(), PublicKey: pub, PrivateKey: priv, ForgeToken: spec.ForgeToken,
		Updated: s.now().UTC(),
	}
	err = terr
	var w *nodeWatch
	if err == nil {
		w, err = s.watchNodes(ctx, f, UserObject(spec.Name))
	}
	wrote := false
	if err == nil {
		var rev uint64
		sent := time.Now()
		if rev, err = f.PutUser(ctx, d, old.Revision); err == nil {
			res := s.fleetWait(ctx, w, rev, sent, targets, wait)
			res.PublicKey, res.UID = pub, uid
			return res, nil
		}
		wrote = true
		w.stop()
	}
	releaseID(ctx, f, "uid", uid, spec.Name, wrote)
	return FleetResult{}, err
}

// FleetUserDelete turns a fleet user into a tombstone (its secrets
// dropped) and waits for every node that carried it.
func (s *Service) FleetUserDelete(ctx context.Context, name string, keepHome bool, wait time.Duration) (FleetResult, error) {
	var uid int
	res, err := s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error {
		uid = u.UID
		*u = FleetUser{Name: u.Name, UID: u.UID, Placement: u.Placement, Deleted: true, KeepHome: keepHome,
			Groups: []string{}, SSHKeys: []string{}, Revision: u.Revision}
		return nil
	})
	if err == nil {
		if f, ferr := s.needFleet(ctx); ferr == nil {
			releaseID(ctx, f, "uid", uid, name, false)
		}
	}
	return res, err
}

// FleetUserKeyAdd adds public keys to a fleet user on every node.
func (s *Service) FleetUserKeyAdd(ctx context.Context, name string, keys []string, wait time.Duration) (FleetResult, error) {
	if len(keys) == 0 {
		return FleetResult{}, InvalidField("keys", "at least one key is required")
	}
	keys, err := normalizeKeys("keys", keys)
	if err != nil {
		return FleetResult{}, err
	}
	return s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error {
		merged, err := normalizeKeys("keys", append(slices.Clone(u.SSHKeys), keys...))
		u.SSHKeys = merged
		return err
	})
}

// FleetUserKeyRemove removes a key, whole or by fingerprint.
func (s *Service) FleetUserKeyRemove(ctx context.Context, name, key string, wait time.Duration) (FleetResult, error) {
	fp := key
	if ak, err := sshkeys.ParseAuthorizedKey(key); err == nil {
		fp = ak.Fingerprint
	} else if sshkeys.ValidateFingerprint(key) != nil {
		return FleetResult{}, InvalidField("key", "is neither a public key nor a SHA256: fingerprint")
	}
	return s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error {
		u.SSHKeys = slices.DeleteFunc(u.SSHKeys, func(k string) bool {
			ak, err := sshkeys.ParseAuthorizedKey(k)
			return err == nil && ak.Fingerprint == fp
		})
		return nil
	})
}

// FleetUserQuotaSet sets a fleet user's home quota on every node.
func (s *Service) FleetUserQuotaSet(ctx context.Context, name string, bytes int64, wait time.Duration) (FleetResult, error) {
	if bytes < 0 {
		return FleetResult{}, InvalidField("quota", "must not be negative")
	}
	return s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error { u.QuotaBytes = bytes; return nil })
}

// FleetUserLimitsSet sets a fleet user's CPU and memory limits on every
// node (a zero field lifts one).
func (s *Service) FleetUserLimitsSet(ctx context.Context, name string, l Limits, wait time.Duration) (FleetResult, error) {
	if err := l.validate(); err != nil {
		return FleetResult{}, err
	}
	return s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error {
		u.Limits = nil
		if !l.IsZero() {
			u.Limits = &l
		}
		return nil
	})
}

// FleetUserLock locks (or unlocks) a fleet user on every node.
func (s *Service) FleetUserLock(ctx context.Context, name string, locked bool, wait time.Duration) (FleetResult, error) {
	return s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error { u.Locked = locked; return nil })
}

// FleetUserPlace changes where a fleet user lives: the nodes the new
// selector picks create it, the others that carried it remove it (keeping
// its home as a snapshot).
func (s *Service) FleetUserPlace(ctx context.Context, name, placement string, wait time.Duration) (FleetResult, error) {
	sel, err := ParseSelector("nodes", placement)
	if err != nil {
		return FleetResult{}, err
	}
	return s.fleetUserEdit(ctx, name, wait, func(u *FleetUser) error { u.Placement = sel.String(); return nil })
}

// fleetUserEdit applies edit to the desired user by compare-and-set,
// retrying a lost race, and waits for the nodes concerned.
func (s *Service) fleetUserEdit(ctx context.Context, name string, wait time.Duration, edit func(*FleetUser) error) (FleetResult, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return FleetResult{}, err
	}
	if err := ValidateUsername("name", name); err != nil {
		return FleetResult{}, err
	}
	w, err := s.watchNodes(ctx, f, UserObject(name))
	if err != nil {
		return FleetResult{}, err
	}
	defer w.stop()
	var rev uint64
	var targets map[string]bool
	var sent time.Time
	for attempt := 0; ; attempt++ {
		u, err := f.User(ctx, name)
		if err == nil && u.Deleted {
			err = &Error{Code: NotFound, Field: "name", Message: "fleet user " + name + " not found"}
		}
		if err != nil {
			return FleetResult{}, err
		}
		before := u
		if err := edit(&u); err != nil {
			return FleetResult{}, err
		}
		u.Updated = s.now().UTC()
		if targets, err = s.fleetTargets(ctx, f, UserObject(name), u.Placed, before.Placed); err != nil {
			return FleetResult{}, err
		}
		sent = time.Now()
		rev, err = f.PutUser(ctx, u, u.Revision)
		if err == nil {
			break
		}
		if !IsCode(err, FailedPrecondition) || attempt >= casAttempts {
			return FleetResult{}, err
		}
	}
	return s.fleetWait(ctx, w, rev, sent, targets, wait), nil
}

// FleetUserList lists the fleet's users as the API shows them: no secret,
// no tombstone.
func (s *Service) FleetUserList(ctx context.Context) ([]FleetUser, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return nil, err
	}
	all, err := f.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := []FleetUser{}
	for _, u := range all {
		if !u.Deleted {
			out = append(out, u.Public())
		}
	}
	return out, nil
}

// Public is the user without its secrets.
func (d FleetUser) Public() FleetUser {
	d.PrivateKey, d.ForgeToken = "", ""
	return d
}

// releaseID gives back the id a call reserved for owner (its own: a
// reservation is never shared between calls), unless owner's live record
// holds it: a call whose write of the record failed may still have
// written it (an answer lost, then a retry refused as a duplicate of
// itself). When the record cannot be read the id stays reserved: one id
// kept costs less than one given twice, and a later call of the name
// takes it over.
//
// A call that tried to write the record (wrote) waits up to recordShows
// for the record while there is none, or only a tombstone: a write that
// lost a race to another call's write in flight sees the winner's record
// a moment later, and its own write, should that be the one in flight,
// likewise.
func releaseID(ctx context.Context, f FleetBackend, kind string, id int, owner string, wrote bool) {
	ctx = context.WithoutCancel(ctx)
	deadline := time.Now().Add(recordShows)
	for {
		held, live, err := RecordID(ctx, f, kind, owner)
		switch {
		case err != nil && !IsCode(err, NotFound), live && held == id:
			return
		case live || !wrote || time.Now().After(deadline):
			_ = f.ReleaseID(ctx, kind, id, owner)
			return
		}
		time.Sleep(recordPoll)
	}
}

// RecordID reads the id owner's record holds (a user's uid for kind
// "uid", a group's gid for "gid"), and whether the record is live (not a
// tombstone).
func RecordID(ctx context.Context, f FleetBackend, kind, owner string) (id int, live bool, err error) {
	if kind == "uid" {
		u, err := f.User(ctx, owner)
		return u.UID, err == nil && !u.Deleted, err
	}
	g, err := f.Group(ctx, owner)
	return g.GID, err == nil && !g.Deleted, err
}

// How long, and how often, a call whose write failed looks for the
// record that beat it (see releaseID).
const (
	recordShows = 3 * time.Second
	recordPoll  = 20 * time.Millisecond
)
