package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// sessionListCmd lists login sessions, of one user or of everyone.
type sessionListCmd struct {
	User  string        `arg:"" optional:"" help:"Only this user's sessions."`
	Fleet bool          `help:"Ask every live node of the fleet; one answer per node, exit 1 if any failed or was silent."`
	Wait  time.Duration `default:"5s" placeholder:"DURATION" help:"With --fleet: how long to wait for the nodes' answers."`
}

func (s *sessionListCmd) Run(rt *runCtx) error {
	if s.Fleet {
		return rt.fleetSessions(s.User, s.Wait)
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	list, err := c.SessionList(rt.ctx, s.User)
	if err != nil {
		return err
	}
	return rt.emit(api.SessionListResult{Sessions: list}, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "no login sessions")
			return
		}
		row(w, "ID", "USER", "TTY", "FROM", "STARTED", "IDLE", "PIDS")
		for _, x := range list {
			row(w, x.ID, x.User, x.TTY, x.RemoteHost, fmtTime(x.Started), fmtIdle(x.IdleSecs), fmtPIDs(x.PIDs))
		}
	})
}

// sessionKillCmd ends one session of a user, or all of them.
type sessionKillCmd struct {
	User    string        `arg:"" help:"User name."`
	Session string        `placeholder:"ID" help:"End only this session (an ID from session-list)."`
	Fleet   bool          `help:"End them on every live node of the fleet; one answer per node."`
	Wait    time.Duration `default:"5s" placeholder:"DURATION" help:"With --fleet: how long to wait for the nodes' answers."`
}

func (s *sessionKillCmd) Run(rt *runCtx) error {
	if s.Fleet {
		return rt.fleetSessionKill(s.User, s.Session, s.Wait)
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	n, err := c.SessionKill(rt.ctx, s.User, s.Session)
	if err != nil {
		return err
	}
	return rt.emit(api.SessionKillResult{Killed: n}, func(w io.Writer) {
		if n == 0 {
			fmt.Fprintf(w, "%s had no session to end\n", s.User)
			return
		}
		fmt.Fprintf(w, "ended %s of %s\n", plural(n, "session"), s.User)
	})
}

// reconcileCmd reports drift and exits 1 when there is some, so a cron job
// or a monitoring check can alert on the exit code alone. It repairs
// nothing: user-reset does, one user at a time, after a look.
type reconcileCmd struct{}

// Help documents the exit code, which scripts rely on.
func (reconcileCmd) Help() string {
	return "Changes nothing. Exits 0 when the machine matches the state, 1 when drift was\nfound (listed, also under --json), 3 when the host cannot be reached."
}

func (reconcileCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	drift, err := c.Reconcile(rt.ctx)
	if err != nil {
		return err
	}
	err = rt.emit(api.ReconcileResult{Drift: drift}, func(w io.Writer) {
		if len(drift) == 0 {
			fmt.Fprintln(w, "no drift: the machine matches the state")
			return
		}
		row(w, "WHO", "DRIFT")
		for _, d := range drift {
			who := d.User
			if d.Group != "" {
				who = "group " + d.Group
			}
			row(w, who, d.Detail)
		}
		fmt.Fprintf(w, "\n%s; user-reset NAME repairs a managed user\n", plural(len(drift), "finding"))
	})
	if err == nil && len(drift) > 0 {
		return &exitError{code: ExitFailed} // already explained above
	}
	return err
}

// groupMemberAddCmd adds a user to a group and shows the group.
type groupMemberAddCmd struct {
	Group string `arg:"" help:"Group name."`
	User  string `arg:"" help:"User name."`
	fleetFlags
}

func (g *groupMemberAddCmd) Run(rt *runCtx) error {
	if g.Fleet {
		return rt.fleetRun(g.fleetFlags, "added "+g.User+" to "+g.Group, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetGroupMember(rt.ctx, api.FleetGroupMemberParams{Name: g.Group, User: g.User, WaitSecs: g.waitSecs()}, false)
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	grp, err := c.GroupMemberAdd(rt.ctx, g.Group, g.User)
	if err != nil {
		return err
	}
	return rt.emit(grp, groupView(grp))
}

// groupMemberRemoveCmd removes a user from a group and shows the group.
type groupMemberRemoveCmd struct {
	Group string `arg:"" help:"Group name."`
	User  string `arg:"" help:"User name."`
	fleetFlags
}

func (g *groupMemberRemoveCmd) Run(rt *runCtx) error {
	if g.Fleet {
		return rt.fleetRun(g.fleetFlags, "removed "+g.User+" from "+g.Group, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetGroupMember(rt.ctx, api.FleetGroupMemberParams{Name: g.Group, User: g.User, WaitSecs: g.waitSecs()}, true)
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	grp, err := c.GroupMemberRemove(rt.ctx, g.Group, g.User)
	if err != nil {
		return err
	}
	return rt.emit(grp, groupView(grp))
}

// fmtIdle rounds idle time to what matters at a glance: seconds only
// under a minute, minutes under an hour.
func fmtIdle(secs int64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", secs)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
}

// fmtPIDs joins a session's pids with commas.
func fmtPIDs(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}
