package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// Lifecycle is what the host asks of one concern through a user's life,
// for the host-level check RunLifecycle.
type Lifecycle struct {
	// Create does what user.create asks of the concern for u, in round
	// 1, 2 or 3, as the host does it (under volumes.DeferSync), and
	// returns the files it left for the host to Sync: they must lie in
	// u's home, where the host's volumes plugin can sync them.
	Create func(ctx context.Context, u lifecycle.User, round int) ([]string, error)
	// ReadBack checks through the plugin what Create made in round, and
	// that nothing of an earlier round is seen (nil: nothing to read).
	ReadBack func(ctx context.Context, u lifecycle.User, round int) error
	// Forget is the concern's Forget.
	Forget func(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error)
}

// RunLifecycle drives the plugin as the host drives it through a user's
// life, in a home beneath the check's directory: create (and the files
// left to sync), read back, delete (Forget, then the home removed as the
// volume's delete removes it), a create rolled back (create, Forget,
// home removed), and a re-create under the same name, which must see
// nothing of before. After each end it looks at every place the kit can
// see (Env.State) for what the user left behind — an entry named after
// the user or owned by its uid — and fails naming it and where.
func (e *Env) RunLifecycle(ctx context.Context, lc Lifecycle) error {
	u := e.User(e.Dir)
	s := e.Steps(ctx)
	s.Do("Forget before the user's life (nothing kept)", func(ctx context.Context) error { _, err := lc.Forget(ctx, u); return err })
	var base Snapshot
	s.Do("snapshot", func(context.Context) (err error) { base, err = e.State(); return err })
	life := func(what string, round int, readBack bool) {
		s.Do(what+": home made", func(context.Context) error { return e.makeHome(u) })
		s.Do(what+": create", func(ctx context.Context) error {
			unsynced, err := lc.Create(ctx, u, round)
			if err != nil {
				return err
			}
			return syncable(u, unsynced)
		})
		if readBack && lc.ReadBack != nil {
			s.Do(what+": read back through the plugin", func(ctx context.Context) error { return lc.ReadBack(ctx, u, round) })
		}
		s.Do(what+": Forget", func(ctx context.Context) error { _, err := lc.Forget(ctx, u); return err })
		s.Do(what+": home removed", func(context.Context) error { return os.RemoveAll(u.Home) })
		s.Do(what+": nothing of the user left", func(context.Context) error { return e.leftovers(base, u) })
	}
	life("delete", 1, true)
	life("rolled-back create", 2, false)
	life("re-create", 3, true)
	if s.Err() != nil && errors.Is(s.Err(), errLeftover) {
		return s.Err() // never skipped: the state is there whatever the plugin's readiness
	}
	return s.Verdict()
}

// errLeftover marks the failure that names what a user left behind.
var errLeftover = errors.New("per-user state left behind")

// makeHome makes u's home as the volume's create does: owned by the user,
// 0755 (without privilege, owned by the kit's user).
func (e *Env) makeHome(u lifecycle.User) error {
	if err := os.Mkdir(u.Home, 0o755); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		return os.Chown(u.Home, int(u.UID), int(u.GID))
	}
	return nil
}

// syncable checks the files a create left for the host's Sync: each in
// the user's home (the host's volumes plugin syncs nowhere else) and there.
func syncable(u lifecycle.User, paths []string) error {
	for _, p := range paths {
		if _, ok := policy.Beneath([]string{u.Home}, p); !ok || p == u.Home {
			return fmt.Errorf("left %s for the host to sync, outside the user's home %s: the host's volumes plugin syncs only inside homes, so its create would fail at step sync; sync it yourself", p, u.Home)
		}
		if _, err := os.Lstat(p); err != nil {
			return fmt.Errorf("left %s for the host to sync, but it is not there (%v): the host's create would fail at step sync", p, err)
		}
	}
	return nil
}

// leftovers fails naming every entry that appeared or changed since base
// and belongs to u: named after it, or owned by its uid.
func (e *Env) leftovers(base Snapshot, u lifecycle.User) error {
	now, err := e.State()
	if err != nil {
		return err
	}
	changes := Diff(base, now)
	if e.Baseline != nil {
		seen := map[string]bool{}
		for _, c := range changes {
			seen[c.Path] = true
		}
		for _, c := range Diff(e.Baseline, now) {
			if _, inScratch := policy.Beneath([]string{e.Scratch}, c.Path); !inScratch && !seen[c.Path] {
				changes = append(changes, c)
			}
		}
	}
	var left []string
	for _, c := range changes {
		if c.What == "vanished" || !belongs(c, u) {
			continue
		}
		left = append(left, fmt.Sprintf("%s (%s, %s)", c.Path, c.What, c.Entry.describe()))
	}
	slices.Sort(left)
	if len(left) == 0 {
		return nil
	}
	return fmt.Errorf("%w: user %s (uid %d) left %s", errLeftover, u.Name, u.UID, strings.Join(left, "; "))
}

func belongs(c Change, u lifecycle.User) bool {
	if u.UID != 0 && c.Entry.UID == u.UID {
		return true
	}
	for _, elem := range strings.Split(filepath.ToSlash(c.Path), "/") {
		if elem == u.Name || strings.Contains(elem, u.Name) {
			return true
		}
	}
	return false
}
