package core

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// UserReset re-applies the §3 layout of a managed user and reports each
// thing it had to repair. It cannot restore hero_cfg.toml's forge token,
// which hero_codescalers never keeps.
func (s *Service) UserReset(ctx context.Context, name string) ([]string, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	return s.converge(ctx, &u, true)
}

// Drift is one difference between the state and the machine.
type Drift struct {
	User   string `json:"user,omitempty"`
	Group  string `json:"group,omitempty"` // a group's finding (its shared volume), instead of a user's
	Detail string `json:"detail"`
}

// Reconcile compares every managed user with the machine and reports what
// differs, without changing anything: accounts or homes missing, modes or
// ACLs changed, keys gone, and accounts in the marker group that the state
// does not know.
func (s *Service) Reconcile(ctx context.Context) ([]Drift, error) {
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	users, err := listJSON[User](s.store, keyUser)
	if err != nil {
		return nil, err
	}
	drift, err := s.unfinishedDrift()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, u := range users {
		known[u.Name] = true
		found, err := s.converge(ctx, &u, false)
		if err != nil {
			drift = append(drift, Drift{User: u.Name, Detail: "cannot check: " + err.Error()})
		}
		for _, d := range found {
			drift = append(drift, Drift{User: u.Name, Detail: d})
		}
	}
	members, err := s.plugins.Accounts().ListUsers(ctx, s.cfg.MarkerGroup)
	if err != nil && !IsCode(FromPluginError(err), NotFound) {
		return drift, FromPluginError(err)
	}
	for _, m := range members {
		if !known[m.Name] {
			drift = append(drift, Drift{User: m.Name, Detail: "account is in group " + s.cfg.MarkerGroup + " but not managed (not in the state)"})
		}
	}
	groups, err := s.GroupList(ctx)
	if err != nil {
		return drift, err
	}
	for _, g := range groups {
		found, err := s.checkShared(ctx, g)
		if err != nil {
			found = append(found, "cannot check: "+err.Error())
		}
		for _, d := range found {
			drift = append(drift, Drift{Group: g.Name, Detail: d})
		}
	}
	return drift, nil
}

// checkShared compares a group that has a shared volume with what
// GroupCreate made: the Linux group, the volume and its quota, mode 2770
// (its permission bits, as the ACL shows them) and the group's ACL entries.
func (s *Service) checkShared(ctx context.Context, g Group) ([]string, error) {
	if g.Volume == "" {
		return nil, nil
	}
	var found []string
	if _, err := s.plugins.Accounts().GetGroup(ctx, g.Name); IsCode(FromPluginError(err), NotFound) {
		found = append(found, "Linux group "+g.Name+" is missing")
	} else if err != nil {
		return found, FromPluginError(err)
	}
	vol, err := s.plugins.Volumes().GetUsage(ctx, g.Volume)
	if perr := FromPluginError(err); IsCode(perr, NotFound) {
		return append(found, "shared volume "+g.Volume+" is missing"), nil
	} else if perr != nil {
		return found, perr
	}
	if vol.Kind == volumes.KindSubvolume && int64(vol.QuotaBytes) != g.QuotaBytes {
		found = append(found, fmt.Sprintf("quota of %s is %d bytes, the state says %d", g.Volume, vol.QuotaBytes, g.QuotaBytes))
	}
	for _, p := range vol.Uncovered {
		found = append(found, fmt.Sprintf("subvolume %s inside %s is outside its quota (what is written there does not count)", p, g.Volume))
	}
	list, err := s.plugins.ACL().Get(ctx, g.Volume)
	if err != nil {
		return found, FromPluginError(err)
	}
	if m := modeOf(list); m != 0o770 {
		found = append(found, fmt.Sprintf("mode of %s is %04o, want 0770 (with setgid)", g.Volume, m))
	}
	for _, e := range sharedEntries(g.Name) {
		if !hasEntry(list, e) {
			kind := "access"
			if e.Default {
				kind = "default"
			}
			found = append(found, fmt.Sprintf("%s ACL of %s lacks group:%s:rwx, so members' files may not stay group-writable", kind, g.Volume, g.Name))
		}
	}
	return found, nil
}

// converge checks (and with repair, fixes) one user, step by step.
func (s *Service) converge(ctx context.Context, u *User, repair bool) ([]string, error) {
	var found []string
	note := func(format string, args ...any) { found = append(found, fmt.Sprintf(format, args...)) }
	checks := []func(context.Context, *User, bool, func(string, ...any)) error{
		s.convergeAccount, s.convergeVolume, s.convergeModes, s.convergeACL, s.convergeKeys, s.convergeLimits,
	}
	for _, c := range checks {
		if err := c(ctx, u, repair, note); err != nil {
			return found, err
		}
	}
	return found, nil
}

func (s *Service) convergeAccount(ctx context.Context, u *User, repair bool, note func(string, ...any)) error {
	a := s.plugins.Accounts()
	acct, err := a.GetUser(ctx, u.Name)
	if perr := FromPluginError(err); IsCode(perr, NotFound) {
		note("account %s is missing", u.Name)
		if repair {
			_, err := a.CreateUser(ctx, accounts.UserSpec{Name: u.Name, UID: uint32(u.UID), Groups: u.Groups,
				Shell: u.Shell, Home: u.Home, MarkerGroup: s.cfg.MarkerGroup})
			return FromPluginError(err)
		}
		return nil
	} else if perr != nil {
		return perr
	}
	if int(acct.UID) != u.UID {
		note("account %s has uid %d, the state says %d (not changed: files would change owner)", u.Name, acct.UID, u.UID)
	}
	if !slices.Contains(acct.Groups, s.cfg.MarkerGroup) {
		note("account %s is not in group %s", u.Name, s.cfg.MarkerGroup)
	}
	return nil
}

func (s *Service) convergeVolume(ctx context.Context, u *User, repair bool, note func(string, ...any)) error {
	v := s.plugins.Volumes()
	vol, err := v.GetUsage(ctx, u.Home)
	if perr := FromPluginError(err); IsCode(perr, NotFound) {
		note("home %s is missing", u.Home)
		if repair {
			_, err := v.CreateVolume(ctx, volumes.VolumeSpec{Path: u.Home, QuotaBytes: uint64(u.QuotaBytes),
				Owner: volumes.Owner{UID: uint32(u.UID), GID: uint32(u.GID), Mode: 0o755}})
			return FromPluginError(err)
		}
		return nil
	} else if perr != nil {
		return perr
	}
	drift := vol.Kind == volumes.KindSubvolume && int64(vol.QuotaBytes) != u.QuotaBytes
	if drift {
		note("quota of %s is %d bytes, the state says %d", u.Home, vol.QuotaBytes, u.QuotaBytes)
	}
	for _, p := range vol.Uncovered {
		note("subvolume %s inside %s is outside its quota (what is written there does not count)", p, u.Home)
	}
	if !repair || !drift && len(vol.Uncovered) == 0 {
		return nil
	}
	// Re-applying the quota also brings every subvolume inside the home
	// under it. One the home outgrew while it had none is refused by the
	// plugin: reported, and the rest of the reset goes on.
	_, err = v.SetQuota(ctx, u.Home, uint64(u.QuotaBytes))
	if perr := FromPluginError(err); IsCode(perr, FailedPrecondition) {
		note("quota of %s not re-applied: %v", u.Home, perr)
		return nil
	} else if perr != nil {
		return perr
	}
	return nil
}

// convergeModes compares each path's mode (read from its ACL's owner,
// group-or-mask and other entries) with §3 and re-applies owner and mode.
func (s *Service) convergeModes(ctx context.Context, u *User, repair bool, note func(string, ...any)) error {
	l := s.layoutOf(u.Name)
	paths := append([]struct {
		path string
		mode uint32
	}{{l.home, 0o755}}, l.dirs()...)
	for _, p := range paths {
		list, err := s.plugins.ACL().Get(ctx, p.path)
		switch perr := FromPluginError(err); {
		case IsCode(perr, NotFound):
			note("%s is missing", p.path)
		case perr != nil:
			return perr
		case modeOf(list) != p.mode:
			note("mode of %s was %04o, want %04o", p.path, modeOf(list), p.mode)
		}
		if repair {
			if err := s.applyMode(ctx, u, p.path, p.path == l.home, p.mode); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyMode re-applies owner and mode: the home through the acl plugin
// (it is the volume's root), the directories below it through EnsureDir,
// which also recreates a missing one.
func (s *Service) applyMode(ctx context.Context, u *User, path string, isHome bool, mode uint32) error {
	own := volumes.Owner{UID: uint32(u.UID), GID: uint32(u.GID), Mode: mode}
	if isHome {
		return FromPluginError(s.plugins.ACL().SetOwnership(ctx, path, own.UID, own.GID, own.Mode))
	}
	return FromPluginError(s.plugins.Volumes().EnsureDir(ctx, path, own))
}

// modeOf derives the permission bits ls shows from an access ACL: with
// named entries the group bits are the mask's.
func modeOf(l acl.List) uint32 {
	var owner, group, mask, other uint32
	hasMask := false
	for _, e := range l.Access {
		bits := permBits(e.Perms)
		switch e.Tag {
		case acl.TagUserObj:
			owner = bits
		case acl.TagGroupObj:
			group = bits
		case acl.TagMask:
			mask, hasMask = bits, true
		case acl.TagOther:
			other = bits
		}
	}
	if hasMask {
		group = mask
	}
	return owner<<6 | group<<3 | other
}

func permBits(p string) uint32 {
	var b uint32
	for _, c := range p {
		switch c {
		case 'r':
			b |= 4
		case 'w':
			b |= 2
		case 'x':
			b |= 1
		}
	}
	return b
}

func (s *Service) convergeACL(ctx context.Context, u *User, repair bool, note func(string, ...any)) error {
	if ok, err := s.hasDriver(ctx); !ok || err != nil {
		return err // no driver account: nothing to grant (see stepACL)
	}
	l := s.layoutOf(u.Name)
	list, err := s.plugins.ACL().Get(ctx, l.sockets)
	if err != nil {
		return nil // a missing directory was reported and repaired by convergeModes
	}
	if !slices.ContainsFunc(s.driverEntries(), func(want acl.Entry) bool { return !hasEntry(list, want) }) {
		return nil
	}
	note("ACL of %s no longer lets %s reach the sockets", l.sockets, s.cfg.DriverUser)
	if repair {
		return s.stepACL(ctx, &createRun{l: l})
	}
	return nil
}

// hasEntry reports whether list holds want (access or default, by its
// Default flag) with the same permissions.
func hasEntry(list acl.List, want acl.Entry) bool {
	entries := list.Access
	if want.Default {
		entries = list.Default
	}
	for _, e := range entries {
		if e.Tag == want.Tag && e.Qualifier == want.Qualifier && permBits(e.Perms) == permBits(want.Perms) {
			return true
		}
	}
	return false
}

// convergeKeys asks the sshkeys plugin which keys the user may log in with
// — wherever it keeps them — and compares them with the state: keys the
// state holds and the plugin lacks are missing (reset adds them back);
// keys the plugin has that the state never held are reported, never
// removed (a user may add its own to ~/.ssh/authorized_keys), since one
// could also be a key left of an earlier user of the same name.
func (s *Service) convergeKeys(ctx context.Context, u *User, repair bool, note func(string, ...any)) error {
	k := s.plugins.SSHKeys()
	lu := u.lifecycleUser()
	have, err := k.ListAuthorizedKeys(ctx, lu)
	if perr := FromPluginError(err); perr != nil && !IsCode(perr, NotFound) {
		return perr
	}
	missing, extra := keyDrift(u.SSHKeys, have)
	if len(missing) > 0 {
		note("%d authorized key(s) missing for %s", len(missing), u.Name)
	}
	if len(extra) > 0 {
		note("%d authorized key(s) installed for %s that the state does not hold: %s", len(extra), u.Name, strings.Join(extra, ", "))
	}
	if !repair {
		return nil
	}
	if _, err := k.AddAuthorizedKeys(ctx, lu, missing); err != nil {
		return FromPluginError(err)
	}
	kp, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: lu, Dir: s.layoutOf(u.Name).ssh, Comment: u.Name})
	if err != nil {
		return FromPluginError(err)
	}
	if kp.PublicKey != u.PublicKey {
		note("keypair of %s was missing and has been generated anew", u.Name)
		_, err := s.saveUser(u.Name, func(x *User) { x.PublicKey = kp.PublicKey })
		return err
	}
	return nil
}

// keyDrift compares the state's keys with those a plugin lists: the
// state's keys the plugin lacks, and the fingerprints of the plugin's
// that the state lacks.
func keyDrift(want []string, have []sshkeys.AuthorizedKey) (missing, extra []string) {
	wanted := map[string]bool{}
	for _, key := range want {
		ak, err := sshkeys.ParseAuthorizedKey(key)
		if err != nil {
			continue
		}
		wanted[ak.Fingerprint] = true
		if !slices.ContainsFunc(have, func(h sshkeys.AuthorizedKey) bool { return h.Fingerprint == ak.Fingerprint }) {
			missing = append(missing, key)
		}
	}
	for _, h := range have {
		if !wanted[h.Fingerprint] {
			extra = append(extra, h.Fingerprint)
		}
	}
	return missing, extra
}
