package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// createRun carries one create through its steps.
type createRun struct {
	spec    CreateSpec
	l       layout
	user    User
	journal *journal
	// homeOwner is the owner of the volume found at the home before the
	// create began (homeBefore), nil when there was none: the volume
	// step adopts it, and no undo removes it.
	homeOwner *volumes.Owner
	// written lists the files the steps wrote, for finishCreates' Sync.
	written []string
}

// createStep is one journaled step of user.create with its undo. Undo must
// be idempotent: after a crash it may run for a step that never started its
// effect.
type createStep struct {
	name string
	do   func(context.Context, *createRun) error
	undo func(context.Context, *journalEntry) error
}

func (s *Service) createSteps() []createStep {
	return []createStep{
		{"account", s.stepAccount, s.undoAccount},
		{"volume", s.stepVolume, s.undoVolume},
		{"layout", s.stepLayout, nil},
		{"acl", s.stepACL, nil},
		{"keys", s.stepKeys, nil},
		{"config", s.stepConfig, nil},
		{"limits", s.stepLimits, nil},
	}
}

func (s *Service) stepAccount(ctx context.Context, r *createRun) error {
	spec := accounts.UserSpec{
		Name: r.spec.Name, Groups: r.spec.Groups, Shell: r.spec.Shell,
		Home: r.l.home, MarkerGroup: s.cfg.MarkerGroup,
	}
	if r.spec.UID != nil {
		spec.UID = uint32(*r.spec.UID)
	}
	u, err := s.plugins.Accounts().CreateUser(ctx, spec)
	if err != nil {
		return FromPluginError(err)
	}
	r.user.UID, r.user.GID = int(u.UID), int(u.GID)
	return nil
}

// undoAccount ends the account a create made: every concern forgets the
// user first (its keys may live outside the home the volume's undo
// removed), while the account still exists for the plugins to judge it by.
func (s *Service) undoAccount(ctx context.Context, e *journalEntry) error {
	if err := s.forgetAll(ctx, e); err != nil {
		return err
	}
	return s.deleteAccount(ctx, e)
}

func (s *Service) deleteAccount(ctx context.Context, e *journalEntry) error {
	err := s.plugins.Accounts().DeleteUser(ctx, e.User, accounts.DeleteOptions{MarkerGroup: s.cfg.MarkerGroup})
	return FromPluginError(err)
}

func (s *Service) stepVolume(ctx context.Context, r *createRun) error {
	if err := adoptable(r.l.home, r.homeOwner, r.user.UID); err != nil {
		return err
	}
	_, err := s.plugins.Volumes().CreateVolume(ctx, volumes.VolumeSpec{
		Path:       r.l.home,
		Owner:      r.owner(0o755),
		QuotaBytes: uint64(r.spec.QuotaBytes),
	})
	return FromPluginError(err)
}

// undoVolume removes the home the volume step made; a home that was there
// before the create (adopted, or refused by the plugin) stays.
func (s *Service) undoVolume(ctx context.Context, e *journalEntry) error {
	if e.HomeFound {
		s.log.Info("home kept: it was there before the create", "user", e.User, "home", e.Home)
		return nil
	}
	return FromPluginError(s.plugins.Volumes().DeleteVolume(ctx, e.Home))
}

func (r *createRun) owner(mode uint32) volumes.Owner {
	return volumes.Owner{UID: uint32(r.user.UID), GID: uint32(r.user.GID), Mode: mode}
}

func (s *Service) stepLayout(ctx context.Context, r *createRun) error {
	for _, d := range r.l.dirs() {
		if err := s.plugins.Volumes().EnsureDir(ctx, d.path, r.owner(d.mode)); err != nil {
			return FromPluginError(err)
		}
	}
	return nil
}

// stepACL lets the driver account reach the user's sockets: r-x on
// ~/hero/var/sockets, so it can find them while the directory stays 0755
// (a named rwx entry would raise the mask and show as 0775), and rwx as a
// default entry, so every socket created there inherits the write that
// connect needs. Without a driver account (a host run as root only) there
// is nothing to grant.
func (s *Service) stepACL(ctx context.Context, r *createRun) error {
	ok, err := s.hasDriver(ctx)
	if !ok || err != nil {
		return err
	}
	return FromPluginError(s.plugins.ACL().Grant(ctx, r.l.sockets, s.driverEntries(), false))
}

// driverEntries are the socket directory's ACL entries for the driver.
func (s *Service) driverEntries() []acl.Entry {
	return []acl.Entry{
		{Tag: acl.TagUser, Qualifier: s.cfg.DriverUser, Perms: "r-x"},
		{Tag: acl.TagUser, Qualifier: s.cfg.DriverUser, Perms: "rwx", Default: true},
	}
}

// hasDriver reports whether the driver account exists. Only its existence
// is remembered: a driver account made later is still found, and one
// removed later makes the grant fail loudly.
func (s *Service) hasDriver(ctx context.Context) (bool, error) {
	if s.driverKnown.Load() {
		return true, nil
	}
	_, err := s.plugins.Accounts().GetUser(ctx, s.cfg.DriverUser)
	if perr := FromPluginError(err); IsCode(perr, NotFound) {
		s.log.Debug("no driver account; socket ACL skipped", "driver", s.cfg.DriverUser)
		return false, nil
	} else if perr != nil {
		return false, perr
	}
	s.driverKnown.Store(true)
	return true, nil
}

// stepKeys installs the keys the user logs in with, wherever the sshkeys
// plugin keeps them, and makes the user's own keypair in ~/.ssh. What the
// plugin left unsynced (under DeferSync, inside the home) joins what the
// create's Sync makes durable; the host assumes no file of its own.
func (s *Service) stepKeys(ctx context.Context, r *createRun) error {
	k := s.plugins.SSHKeys()
	u := r.lifecycleUser()
	added, err := k.AddAuthorizedKeys(ctx, u, r.spec.SSHKeys)
	if err != nil {
		return FromPluginError(err)
	}
	if r.spec.Keypair != nil {
		return s.installKeypair(ctx, r, added.Unsynced)
	}
	host, _ := os.Hostname()
	kp, err := k.GenerateKeypair(ctx, sshkeys.KeypairSpec{User: u, Dir: r.l.ssh, Comment: r.spec.Name + "@" + host})
	if err != nil {
		return FromPluginError(err)
	}
	r.user.PublicKey = kp.PublicKey
	r.written = append(append(r.written, added.Unsynced...), kp.Unsynced...)
	return nil
}

// installKeypair writes the keypair a fleet user has on every node as
// ~/.ssh/id_ed25519 (0600) and .pub (0644), through the volumes plugin's
// fenced atomic write. Like the token, the private key never reaches an
// error's text.
func (s *Service) installKeypair(ctx context.Context, r *createRun, unsynced []string) error {
	priv, pub := filepath.Join(r.l.ssh, "id_ed25519"), filepath.Join(r.l.ssh, "id_ed25519.pub")
	v := s.plugins.Volumes()
	if err := v.WriteFile(ctx, priv, []byte(r.spec.Keypair.Private), r.owner(0o600)); err != nil {
		return &Error{Code: ErrorCode(FromPluginError(err)), Message: "writing ~/.ssh/id_ed25519 failed"}
	}
	if err := v.WriteFile(ctx, pub, []byte(strings.TrimSpace(r.spec.Keypair.Public)+"\n"), r.owner(0o644)); err != nil {
		return FromPluginError(err)
	}
	r.user.PublicKey = strings.TrimSpace(r.spec.Keypair.Public)
	r.written = append(append(r.written, unsynced...), priv, pub)
	return nil
}

// lifecycleUser is the user the create makes, as the plugins are told.
func (r *createRun) lifecycleUser() lifecycle.User {
	return lifecycle.User{Name: r.spec.Name, UID: uint32(r.user.UID), GID: uint32(r.user.GID), Home: r.l.home}
}

func (s *Service) stepConfig(ctx context.Context, r *createRun) error {
	data := heroConfig(r.spec.Name, r.spec.ForgeToken)
	err := s.plugins.Volumes().WriteFile(ctx, r.l.cfgFile, data, r.owner(0o600))
	if err != nil {
		// The plugin's error may quote what it wrote; keep only the code
		// and a fixed message so the token cannot leak.
		return &Error{Code: ErrorCode(FromPluginError(err)), Message: "writing hero_cfg.toml failed"}
	}
	r.written = append(r.written, r.l.cfgFile)
	return nil
}

// finishCreates ends creates whose steps all ran, in groups as large as
// one Sync takes: a group's homes are made durable (when the steps ran
// under volumes.DeferSync and skipped their fsyncs: the files they wrote,
// then every directory of each layout from the deepest up, then the home
// root, whose entries for the homes are new), then its users are recorded
// and their journals ended in one transaction, from which on they are
// acknowledged. One Sync for many homes costs little more than for one:
// on btrfs the first fsync in a new subvolume commits the whole
// transaction. A group that fails is rolled back, each user's error naming
// the sync step. done gets each run's outcome, by its index in runs.
func (s *Service) finishCreates(ctx context.Context, runs []*createRun, done func(int, User, error)) {
	for first := 0; len(runs) > 0; {
		var paths []string
		n := 0
		for ; n < len(runs); n++ {
			p := runs[n].homePaths()
			if n > 0 && len(paths)+len(p)+1 > volumes.MaxSyncPaths { // +1: the home root
				break
			}
			paths = append(paths, p...)
		}
		group := runs[:n]
		users, err := s.syncRecord(ctx, group, append(paths, s.cfg.HomeRoot))
		for k, r := range group {
			if err != nil {
				s.abortCreate(ctx, r.journal)
				done(first+k, User{}, stepError("sync", err))
				continue
			}
			done(first+k, users[k], nil)
		}
		runs, first = runs[n:], first+n
	}
}

// syncRecord makes paths durable (under DeferSync) between the sync
// failpoints, then records the group in one transaction.
func (s *Service) syncRecord(ctx context.Context, group []*createRun, paths []string) ([]User, error) {
	if err := failpoint("create.sync.before"); err != nil {
		return nil, err
	}
	if volumes.SyncDeferred(ctx) {
		began := time.Now()
		err := s.plugins.Volumes().Sync(ctx, paths)
		if err == nil {
			s.steps.add("create.sync", time.Since(began))
		}
		if sdkerr.Is(err, sdkerr.Unimplemented) {
			// The volumes plugin was replaced by one without Sync since it
			// was probed: what the steps wrote may not be durable, so these
			// creates fail (and are undone) and the next one probes again.
			s.canSync.Store(syncUnknown)
		}
		if err != nil {
			return nil, FromPluginError(err)
		}
	}
	if err := failpoint("create.sync.after"); err != nil {
		return nil, err
	}
	users := make([]User, len(group))
	err := s.store.Update(func(tx Tx) error {
		for k, r := range group {
			users[k] = s.userRecord(r)
			if err := putJSON(tx, keyUser+users[k].Name, users[k]); err != nil {
				return err
			}
			if err := tx.Delete(keyJournal + users[k].Name); err != nil {
				return err
			}
		}
		return nil
	})
	return users, err
}

// homePaths are what Sync makes durable of a create: the files the steps
// wrote, then every directory of the layout from the deepest up to the
// home (its parent, the home root, follows).
func (r *createRun) homePaths() []string {
	return append(slices.Clone(r.written), r.l.ssh, r.l.cfgDir, r.l.sockets, r.l.varDir, r.l.hero, r.l.home)
}

// syncCtx marks ctx with volumes.DeferSync when the volumes plugin has
// Sync (asked once with an empty Sync, and again after a plugin answers
// Unimplemented), so the create's steps may skip their fsyncs.
func (s *Service) syncCtx(ctx context.Context) context.Context {
	switch s.canSync.Load() {
	case syncYes:
		return volumes.DeferSync(ctx)
	case syncNo:
		return ctx
	}
	err := s.plugins.Volumes().Sync(ctx, nil)
	switch {
	case err == nil:
		s.canSync.Store(syncYes)
		return volumes.DeferSync(ctx)
	case sdkerr.Is(err, sdkerr.Unimplemented):
		s.canSync.Store(syncNo)
	}
	return ctx // unknown (the plugin is restarting): sync as we go
}

// canSync values.
const (
	syncUnknown = iota
	syncYes
	syncNo
)

// runCreate runs the steps, journaling each before it starts; on failure
// it undoes what began, in reverse, and names the failed step.
func (s *Service) runCreate(ctx context.Context, r *createRun) error {
	r.journal = s.newCreateJournal(r)
	return s.continueCreate(ctx, r, r.journal, s.createSteps())
}

// newCreateJournal starts r's journal, saying whether its home was found.
func (s *Service) newCreateJournal(r *createRun) *journal {
	j := s.newJournal("create", r.spec.Name, r.l.home)
	j.entry.HomeFound = r.homeOwner != nil
	return j
}

// continueCreate runs steps on an open journal; the batch path enters here
// after its one accounts call.
func (s *Service) continueCreate(ctx context.Context, r *createRun, j *journal, steps []createStep) error {
	for _, st := range steps {
		err := s.runStep(ctx, j, "create", st.name, st.undo != nil, func() error { return st.do(ctx, r) })
		if err == nil && st.name == "account" {
			j.setIDs(r.user.UID, r.user.GID)
		}
		if err != nil && st.name == "account" && IsCode(err, AlreadyExists) {
			// The account existed before us: its step had no effect, and
			// undoing it would delete somebody else's account.
			j.entry.Steps = j.entry.Steps[:len(j.entry.Steps)-1]
		}
		if err != nil {
			s.abortCreate(ctx, j)
			return stepError(st.name, err)
		}
	}
	return nil
}

// abortCreate rolls back what a failed create began, on a context that
// outlives the caller's cancellation (undoCtx).
func (s *Service) abortCreate(ctx context.Context, j *journal) {
	uctx, cancel := undoCtx(ctx)
	defer cancel()
	if err := s.rollbackCreate(uctx, j); err != nil {
		s.log.Error("rollback incomplete; recovery will retry it", "user", j.entry.User, "err", err)
		s.KickRecovery()
	}
}

// runStep journals a step (on disk first when durable), then runs it
// between its failpoints.
func (s *Service) runStep(ctx context.Context, j *journal, op, name string, durable bool, fn func() error) error {
	if err := failpoint(op + "." + name + ".before"); err != nil {
		return err
	}
	if err := j.begin(name, durable); err != nil {
		return err
	}
	began := time.Now()
	if err := fn(); err != nil {
		return err
	}
	s.steps.add(op+"."+name, time.Since(began))
	return failpoint(op + "." + name + ".after")
}

// rollbackCreate undoes every begun step in reverse, then drops the journal.
func (s *Service) rollbackCreate(ctx context.Context, j *journal) error {
	undos := map[string]func(context.Context, *journalEntry) error{}
	for _, st := range s.createSteps() {
		undos[st.name] = st.undo
	}
	return undoSteps(ctx, j, undos)
}

// undoSteps runs the undo of every step j began, in reverse, and drops the
// journal once all succeeded: the rollback of a user's and of a group's
// create alike. A step without an undo is passed over.
func undoSteps(ctx context.Context, j *journal, undos map[string]func(context.Context, *journalEntry) error) error {
	var errs []error
	for i := len(j.entry.Steps) - 1; i >= 0; i-- {
		name := j.entry.Steps[i]
		if undo := undos[name]; undo != nil {
			if err := undo(ctx, &j.entry); err != nil {
				errs = append(errs, stepError("undo "+name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return j.finish(nil)
}

// stepError names the failed step in a core error.
func stepError(step string, err error) error {
	ce := AsError(err)
	out := *ce
	out.Step = step
	if out.Err == nil {
		out.Err = err
	}
	return &out
}
