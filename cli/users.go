package cli

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// userGetCmd shows one user as a record, keys by fingerprint: the form
// user-key-remove accepts, and short enough to compare by eye.
type userGetCmd struct {
	Name string `arg:"" help:"User name."`
}

func (g *userGetCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	u, err := c.UserGet(rt.ctx, g.Name)
	if err != nil {
		return err
	}
	return rt.emit(u, func(w io.Writer) {
		kv(w, "name", u.Name)
		kv(w, "uid", strconv.Itoa(u.UID))
		kv(w, "gid", fmtGID(u.GID))
		kv(w, "state", string(u.State))
		kv(w, "shell", u.Shell)
		kv(w, "home", u.Home)
		kv(w, "groups", strings.Join(u.Groups, ","))
		kv(w, "quota", fmtQuota(u.QuotaBytes))
		kv(w, "limits", fmtLimits(u.Limits))
		if in := u.Installed; in != nil && in.LimitsError != "" {
			kv(w, "enforced limits", "unknown: "+in.LimitsError)
		} else if in != nil && in.Limits != nil {
			kv(w, "enforced limits", fmtLimits(in.Limits)+" (as the limits plugin reads them)")
		}
		kv(w, "ssh keys", strconv.Itoa(len(u.SSHKeys)))
		for _, k := range u.SSHKeys {
			kv(w, "  key", fmtKey(k))
		}
		if in := u.Installed; in != nil && in.Error != "" {
			kv(w, "installed keys", "unknown: "+in.Error)
		} else if in != nil {
			kv(w, "installed keys", strconv.Itoa(len(in.Keys))+" (as the sshkeys plugin lists them)")
			for _, fp := range in.Keys {
				kv(w, "  installed", fp)
			}
		}
		kv(w, "public key", u.PublicKey)
		kv(w, "created", fmtTime(u.Created))
		kv(w, "updated", fmtTime(u.Updated))
	})
}

// userListCmd shows one page of users; the next page is offered as a
// command to paste, with the same filters.
type userListCmd struct {
	Prefix string `help:"Only users whose name starts with this."`
	Group  string `help:"Only members of this group."`
	State  string `placeholder:"STATE" help:"Only users in this state: active or locked."`
	Limit  int    `help:"At most this many users (the host's default is 100, its cap 1000)."`
	After  string `placeholder:"NAME" help:"Start after this name (the cursor the previous page printed)."`
}

func (l *userListCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	p := api.UserListParams{Prefix: l.Prefix, Group: l.Group, State: l.State, Limit: l.Limit, After: l.After}
	res, err := c.UserList(rt.ctx, p)
	if err != nil {
		return err
	}
	return rt.emit(res, func(w io.Writer) {
		row(w, "NAME", "UID", "STATE", "QUOTA", "GROUPS", "KEYS")
		for _, u := range res.Users {
			row(w, u.Name, strconv.Itoa(u.UID), string(u.State), fmtQuota(u.QuotaBytes),
				strings.Join(u.Groups, ","), strconv.Itoa(len(u.SSHKeys)))
		}
		if res.Next != "" {
			fmt.Fprintf(w, "\nmore: %s\n", l.nextPage(res.Next))
		}
	})
}

// nextPage is the command line of the following page: the same filters
// and limit, after the cursor.
func (l *userListCmd) nextPage(cursor string) string {
	args := []string{"hero_codescalers", "user-list"}
	for _, f := range [][2]string{{"--prefix", l.Prefix}, {"--group", l.Group}, {"--state", l.State}} {
		if f[1] != "" {
			args = append(args, f[0], shellQuote(f[1]))
		}
	}
	if l.Limit != 0 {
		args = append(args, "--limit", strconv.Itoa(l.Limit))
	}
	return strings.Join(append(args, "--after", shellQuote(cursor)), " ")
}

// userDeleteCmd deletes a user without asking: it is meant for scripts,
// and the host refuses anyone outside the marker group and root.
type userDeleteCmd struct {
	Name     string `arg:"" help:"User name."`
	KeepHome bool   `help:"Keep the home as a read-only snapshot (or directory) instead of removing it."`
	DryRun   bool   `help:"Print the step plan, checked as the delete would be, and change nothing."`
	fleetFlags
}

func (d *userDeleteCmd) Run(rt *runCtx) error {
	if d.Fleet {
		if d.DryRun {
			return usageErrorf("--dry-run is for this node's calls, not --fleet")
		}
		return rt.fleetRun(d.fleetFlags, "deleted "+d.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetUserDelete(rt.ctx, api.FleetUserDeleteParams{Name: d.Name, KeepHome: d.KeepHome, WaitSecs: d.waitSecs()})
		})
	}
	if d.DryRun {
		return rt.dryRun(api.PlanParams{Method: api.MUserDelete, Name: d.Name, KeepHome: d.KeepHome})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	if err := c.UserDelete(rt.ctx, d.Name, d.KeepHome); err != nil {
		return err
	}
	return rt.emit(api.OK{OK: true}, func(w io.Writer) {
		if d.KeepHome {
			fmt.Fprintf(w, "deleted user %s; the home was kept read-only\n", d.Name)
			return
		}
		fmt.Fprintf(w, "deleted user %s\n", d.Name)
	})
}

// fmtQuota shows a quota the way --quota takes it; 0 is no limit.
func fmtQuota(bytes int64) string {
	if bytes <= 0 {
		return "none"
	}
	return fmtSize(bytes)
}

// fmtSize renders bytes with binary multiples and the suffixes the host
// parses (K, M, G, T, P), so what the CLI shows can be typed back:
// 21474836480 is 20G, 1.5 TiB is 1.5T.
func fmtSize(bytes int64) string {
	const units = "KMGTP"
	for i := len(units) - 1; i >= 0; i-- {
		unit := int64(1) << (10 * (i + 1))
		if bytes < unit {
			continue
		}
		if bytes%unit == 0 {
			return strconv.FormatInt(bytes/unit, 10) + units[i:i+1]
		}
		n := strconv.FormatFloat(float64(bytes)/float64(unit), 'f', 1, 64)
		return strings.TrimSuffix(n, ".0") + units[i:i+1]
	}
	return strconv.FormatInt(bytes, 10) + "B"
}

// fmtKey shortens a public key to its type, SHA256 fingerprint and
// comment: the form ssh-keygen -l prints and user-key-remove accepts. A
// line that is not a key is shown as it is, cut short.
func fmtKey(key string) string {
	f := strings.Fields(key)
	if len(f) >= 2 {
		if blob, err := base64.StdEncoding.DecodeString(f[1]); err == nil {
			sum := sha256.Sum256(blob)
			fp := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
			return strings.Join(append([]string{f[0], fp}, f[2:]...), " ")
		}
	}
	if len(key) > 60 {
		return key[:60] + "…"
	}
	return key
}
