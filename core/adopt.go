package core

import (
	"context"
	"os"
	"path/filepath"
	"slices"

	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Adopt imports into the state the managed accounts the machine has and
// the state does not: members of the marker group (never uid 0), as
// reconcile finds them — uid, gid, shell, home, groups, authorized keys,
// the home's quota and whether the account is locked. It is how a host
// whose data dir was lost takes its users back: without it they would be
// reported as "not managed" forever and could be neither deleted nor
// created again. The user's own public key is read back from its keypair
// (kept as it is; made only where the layout lacks one). It returns the
// names it adopted, sorted.
func (s *Service) Adopt(ctx context.Context) ([]string, error) {
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	members, err := s.plugins.Accounts().ListUsers(ctx, s.cfg.MarkerGroup)
	if perr := FromPluginError(err); perr != nil && !IsCode(perr, NotFound) {
		return nil, perr
	}
	var adopted []string
	for _, m := range members {
		if m.UID == 0 || !s.inMarker(m) {
			continue
		}
		if _, err := s.UserGet(ctx, m.Name); err == nil {
			continue
		}
		u, err := s.adoptOne(ctx, m.Name)
		if err != nil {
			return adopted, stepError("adopt "+m.Name, err)
		}
		adopted = append(adopted, u.Name)
	}
	slices.Sort(adopted)
	return adopted, nil
}

// adoptOne reads one managed account from the machine and records it.
func (s *Service) adoptOne(ctx context.Context, name string) (User, error) {
	unlock := s.locks.Lock(name)
	defer unlock()
	acct, err := s.plugins.Accounts().GetUser(ctx, name)
	if err != nil {
		return User{}, FromPluginError(err)
	}
	now := s.now().UTC()
	u := User{Name: acct.Name, UID: int(acct.UID), GID: int(acct.GID), Shell: acct.Shell, Home: acct.Home,
		Groups:  nonNil(slices.DeleteFunc(slices.Clone(acct.Groups), func(g string) bool { return g == s.cfg.MarkerGroup })),
		SSHKeys: []string{}, State: UserActive, Created: now, Updated: now}
	if acct.Locked {
		u.State = UserLocked
	}
	keys, err := s.plugins.SSHKeys().ListAuthorizedKeys(ctx, u.lifecycleUser())
	if perr := FromPluginError(err); perr != nil && !IsCode(perr, NotFound) {
		return User{}, perr
	}
	for _, k := range keys {
		u.SSHKeys = append(u.SSHKeys, k.Line)
	}
	if vol, err := s.plugins.Volumes().GetUsage(ctx, u.Home); err == nil {
		u.QuotaBytes = int64(vol.QuotaBytes)
	} else if perr := FromPluginError(err); !IsCode(perr, NotFound) {
		return User{}, perr
	}
	host, _ := os.Hostname()
	kp, err := s.plugins.SSHKeys().GenerateKeypair(ctx, sshkeys.KeypairSpec{
		User: u.lifecycleUser(), Dir: filepath.Join(u.Home, ".ssh"), Comment: name + "@" + host})
	if err != nil {
		return User{}, FromPluginError(err)
	}
	u.PublicKey = kp.PublicKey
	err = s.store.Update(func(tx Tx) error {
		var existing User
		if found, err := getJSON(tx, keyUser+name, &existing); err != nil || found {
			return err // adopted meanwhile: keep what is there
		}
		return putJSON(tx, keyUser+name, u)
	})
	return u, err
}
