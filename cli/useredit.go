package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// The commands that change one existing user. Each prints what changed in
// a line or two; --json prints the user (or the repair list) the host
// returned, so a script sees the state after the change.

// userResetCmd re-applies a user's layout: the repair for a home
// chmod-ed by hand or a key file removed.
type userResetCmd struct {
	Name string `arg:"" help:"User name."`
}

func (r *userResetCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	repaired, err := c.UserReset(rt.ctx, r.Name)
	if err != nil {
		return err
	}
	if repaired == nil {
		repaired = []string{}
	}
	return rt.emit(api.UserResetResult{Repaired: repaired}, func(w io.Writer) {
		if len(repaired) == 0 {
			fmt.Fprintf(w, "nothing to repair: %s matches the layout\n", r.Name)
			return
		}
		for _, what := range repaired {
			fmt.Fprintf(w, "repaired: %s\n", what)
		}
	})
}

// userLockCmd locks an account; the host also ends its sessions, which the
// line says so nobody goes looking for them.
type userLockCmd struct {
	Name string `arg:"" help:"User name."`
	fleetFlags
}

func (l *userLockCmd) Run(rt *runCtx) error {
	if l.Fleet {
		return rt.fleetRun(l.fleetFlags, "locked "+l.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserLock(rt.ctx, api.FleetUserParams{Name: l.Name, WaitSecs: l.waitSecs()}, false)
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	u, err := c.UserLock(rt.ctx, l.Name)
	if err != nil {
		return err
	}
	return rt.emit(u, func(w io.Writer) {
		fmt.Fprintf(w, "locked user %s; its sessions were ended (state: %s)\n", u.Name, u.State)
	})
}

// userUnlockCmd unlocks an account.
type userUnlockCmd struct {
	Name string `arg:"" help:"User name."`
	fleetFlags
}

func (l *userUnlockCmd) Run(rt *runCtx) error {
	if l.Fleet {
		return rt.fleetRun(l.fleetFlags, "unlocked "+l.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserLock(rt.ctx, api.FleetUserParams{Name: l.Name, WaitSecs: l.waitSecs()}, true)
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	u, err := c.UserUnlock(rt.ctx, l.Name)
	if err != nil {
		return err
	}
	return rt.emit(u, func(w io.Writer) { fmt.Fprintf(w, "unlocked user %s (state: %s)\n", u.Name, u.State) })
}

// userKeyAddCmd adds keys given as arguments or read from files in
// authorized_keys format (an admin usually has the user's id_*.pub).
type userKeyAddCmd struct {
	Name  string   `arg:"" help:"User name."`
	Keys  []string `arg:"" optional:"" sep:"none" name:"key" help:"A public key, quoted whole: 'ssh-ed25519 AAAA... comment'."`
	Files []string `name:"file" sep:"none" placeholder:"FILE" help:"Read keys from FILE, one a line (- for stdin); repeat for more."`
	fleetFlags
}

func (k *userKeyAddCmd) Run(rt *runCtx) error {
	keys, err := gatherKeys(rt, k.Keys, k.Files, "--file")
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return usageErrorf("user-key-add needs a KEY or --file FILE")
	}
	if k.Fleet {
		return rt.fleetRun(k.fleetFlags, "added keys to "+k.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserKeyAdd(rt.ctx, api.FleetUserKeyAddParams{Name: k.Name, Keys: keys, WaitSecs: k.waitSecs()})
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	u, err := c.UserKeyAdd(rt.ctx, k.Name, keys)
	if err != nil {
		return err
	}
	return rt.emit(u, keysView(u.Name, u.SSHKeys))
}

// userKeyRemoveCmd removes one key, whole or by fingerprint.
type userKeyRemoveCmd struct {
	Name string `arg:"" help:"User name."`
	Key  string `arg:"" name:"key-or-fingerprint" help:"The key, quoted whole, or its fingerprint SHA256:... (as user-get shows it)."`
	fleetFlags
}

func (k *userKeyRemoveCmd) Run(rt *runCtx) error {
	if k.Fleet {
		return rt.fleetRun(k.fleetFlags, "removed a key of "+k.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserKeyRemove(rt.ctx, api.FleetUserKeyRemoveParams{Name: k.Name, Key: k.Key, WaitSecs: k.waitSecs()})
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	u, err := c.UserKeyRemove(rt.ctx, k.Name, k.Key)
	if err != nil {
		return err
	}
	return rt.emit(u, keysView(u.Name, u.SSHKeys))
}

// keysView lists a user's keys after a change, by fingerprint.
func keysView(name string, keys []string) func(io.Writer) {
	return func(w io.Writer) {
		fmt.Fprintf(w, "%s has %s:\n", name, plural(len(keys), "ssh key"))
		for _, key := range keys {
			fmt.Fprintf(w, "  %s\n", fmtKey(key))
		}
	}
}

// userQuotaCmd sets a home quota. The size is parsed by the host, so the
// CLI never disagrees with it about what "1.5T" means.
type userQuotaCmd struct {
	Name   string `arg:"" help:"User name."`
	Size   string `arg:"" help:"New quota, e.g. 500M, 20G or 1.5T; 0 removes the limit."`
	DryRun bool   `help:"Print the step plan, checked as the change would be, and change nothing."`
	fleetFlags
}

func (q *userQuotaCmd) Run(rt *runCtx) error {
	if q.Fleet {
		if q.DryRun {
			return usageErrorf("--dry-run is for this node's calls, not --fleet")
		}
		return rt.fleetRun(q.fleetFlags, "quota of "+q.Name+" set to "+q.Size, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserQuotaSet(rt.ctx, api.FleetUserQuotaParams{Name: q.Name, Quota: q.Size, WaitSecs: q.waitSecs()})
		})
	}
	if q.DryRun {
		return rt.dryRun(api.PlanParams{Method: api.MUserQuotaSet, Name: q.Name, Quota: q.Size})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	u, err := c.UserQuotaSet(rt.ctx, q.Name, q.Size)
	if err != nil {
		return err
	}
	return rt.emit(u, func(w io.Writer) {
		if u.QuotaBytes <= 0 {
			fmt.Fprintf(w, "quota of %s: none (no limit)\n", u.Name)
			return
		}
		fmt.Fprintf(w, "quota of %s: %s (%s bytes)\n", u.Name, fmtQuota(u.QuotaBytes), strconv.FormatInt(u.QuotaBytes, 10))
	})
}
