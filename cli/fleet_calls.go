package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// fleetFlags are the flags of a command that can act on the whole fleet
// instead of this host alone.
type fleetFlags struct {
	Fleet bool          `help:"Act on the fleet: every node that carries the user (or group); one row per node, exit 8 (partial) if any node failed or did not answer."`
	Wait  time.Duration `default:"30s" placeholder:"DURATION" help:"With --fleet: how long to wait for the nodes' answers."`
}

// waitSecs is --wait as the API takes it.
func (f fleetFlags) waitSecs() float64 { return f.Wait.Seconds() }

// check refuses --wait out of range before anything is sent.
func (f fleetFlags) check() error {
	if f.Wait <= 0 || f.Wait > 10*time.Minute {
		return usageErrorf("--wait %s: must be more than 0 and at most 10m", f.Wait)
	}
	return nil
}

// fleetRun runs a fleet call and prints its rows: one per node, with the
// outcome, how long the node took to answer and its error. The exit code
// is 8 (partial) when any node failed or did not answer, naming which and why.
func (rt *runCtx) fleetRun(f fleetFlags, what string, call func(*client.Client) (api.FleetResult, error)) error {
	if err := f.check(); err != nil {
		return err
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	res, err := call(c)
	if err != nil {
		return err
	}
	if err := rt.emit(res, func(w io.Writer) { writeFleetResult(w, what, res) }); err != nil {
		return err
	}
	return fleetFailure(res)
}

// writeFleetResult prints a fleet call's rows.
func writeFleetResult(w io.Writer, what string, res api.FleetResult) {
	fmt.Fprintf(w, "%s: revision %d, %s\n", what, res.Revision, plural(len(res.Rows), "node"))
	if len(res.Rows) == 0 {
		fmt.Fprintln(w, "no node carries it (check the placement and the nodes' labels: node-list)")
		return
	}
	row(w, "NODE", "OUTCOME", "TOOK", "ERROR")
	for _, r := range res.Rows {
		row(w, r.Node, r.Outcome, fmtMS(r.TookMS), r.Error)
	}
}

// fleetFailure is the exit error of a fleet call some nodes failed.
func fleetFailure(res api.FleetResult) error {
	if res.Failed == 0 {
		return nil
	}
	var bad []string
	for _, r := range res.Rows {
		if r.Outcome != "ok" && r.Outcome != "removed" {
			bad = append(bad, r.Node+" ("+firstNonEmpty(r.Error, r.Outcome)+")")
		}
	}
	return partialf("%d of %d nodes failed or did not answer: %s", res.Failed, len(res.Rows), strings.Join(bad, "; "))
}

// fmtMS shows a duration in milliseconds as a person reads it.
func fmtMS(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// userPlaceCmd changes where a fleet user lives.
type userPlaceCmd struct {
	Name  string `arg:"" help:"User name."`
	Nodes string `arg:"" optional:"" placeholder:"SELECTOR" help:"The nodes to carry the user, by label: zone=eu,role=gpu (k!=v, k, !k also); none: every node."`
	// What an admin used to user-create --fleet --nodes types here too.
	NodesFlag  *string `name:"nodes" placeholder:"SELECTOR" help:"The SELECTOR argument as user-create takes it (--nodes zone=eu)."`
	fleetFlags         // --fleet is implied: user-place is always a fleet call
}

func (p *userPlaceCmd) Run(rt *runCtx) error {
	nodes := p.Nodes
	if p.NodesFlag != nil {
		if p.Nodes != "" && p.Nodes != *p.NodesFlag {
			return usageErrorf("user-place: the selector is given twice (%q and --nodes %q): give one", p.Nodes, *p.NodesFlag)
		}
		nodes = *p.NodesFlag
	}
	p.Fleet = true
	return rt.fleetRun(p.fleetFlags, "placed "+p.Name, func(c *client.Client) (api.FleetResult, error) {
		return c.FleetUserPlace(rt.ctx, api.FleetUserPlaceParams{Name: p.Name, Nodes: nodes, WaitSecs: p.waitSecs()})
	})
}

// fleetSessions prints every node's sessions (session-list --fleet).
func (rt *runCtx) fleetSessions(user string, wait time.Duration) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	replies, err := c.FleetSessionList(rt.ctx, api.FleetSessionListParams{User: user, WaitSecs: wait.Seconds()})
	if err != nil {
		return err
	}
	err = rt.emit(api.FleetSessionsResult{Replies: replies}, func(w io.Writer) {
		row(w, "NODE", "ID", "USER", "TTY", "FROM", "STARTED", "IDLE", "ERROR")
		for _, r := range replies {
			if r.Error != "" || len(r.Sessions) == 0 {
				row(w, r.Node, "", "", "", "", "", "", firstNonEmpty(r.Error, "no sessions"))
			}
			for _, x := range r.Sessions {
				row(w, r.Node, x.ID, x.User, x.TTY, x.RemoteHost, fmtTime(x.Started), fmtIdle(x.IdleSecs), "")
			}
		}
	})
	if err != nil {
		return err
	}
	return repliesFailure(replies)
}

// fleetSessionKill ends a user's sessions on every node.
func (rt *runCtx) fleetSessionKill(user, session string, wait time.Duration) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	replies, err := c.FleetSessionKill(rt.ctx, api.FleetSessionKillParams{User: user, Session: session, WaitSecs: wait.Seconds()})
	if err != nil {
		return err
	}
	err = rt.emit(api.FleetSessionsResult{Replies: replies}, func(w io.Writer) {
		row(w, "NODE", "ENDED", "TOOK", "ERROR")
		for _, r := range replies {
			row(w, r.Node, fmt.Sprint(r.Killed), fmtMS(r.TookMS), r.Error)
		}
	})
	if err != nil {
		return err
	}
	return repliesFailure(replies)
}

// repliesFailure is the exit error when some node failed or was silent.
func repliesFailure(replies []api.FleetReply) error {
	var bad []string
	for _, r := range replies {
		if r.Error != "" {
			bad = append(bad, r.Node+" ("+r.Error+")")
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return partialf("%d of %d nodes failed or did not answer: %s", len(bad), len(replies), strings.Join(bad, "; "))
}
