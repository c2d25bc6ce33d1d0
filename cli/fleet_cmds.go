package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// needSecret reads SECRET_CODESCALERS for fleet-init and fleet-join: the
// fleet's keys all derive from it, so neither runs without it. It goes to
// the host over rpc.sock (a local socket only root or the admin group
// reach), never on a command line.
func (rt *runCtx) needSecret(cmd string) (string, error) {
	s := rt.env.Getenv(api.EnvSecret)
	if s == "" {
		return "", usageErrorf("%s needs SECRET_CODESCALERS: the fleet's passphrase, the same on every node "+
			"(every key of the fleet is derived from it); export it and run %s again", cmd, cmd)
	}
	return s, nil
}

// fleetInitCmd makes a new fleet with this host as its first node.
type fleetInitCmd struct {
	Replicas int `default:"3" placeholder:"N" help:"How many nodes hold the fleet's store (3-5); the nodes after them join as leaf nodes."`
}

func (f *fleetInitCmd) Run(rt *runCtx) error {
	secret, err := rt.needSecret("fleet-init")
	if err != nil {
		return err
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	info, err := c.FleetInit(rt.ctx, api.FleetInitParams{Secret: secret, Replicas: f.Replicas, NATSURL: rt.natsURL()})
	if err != nil {
		return err
	}
	return rt.emit(info, func(w io.Writer) {
		fmt.Fprintf(w, "made fleet %s; this host is its node %s (%s)\n", info.FleetID, info.Node, info.Role)
		writePorts(w, info)
		if info.Role == "replica" {
			fmt.Fprintln(w, "The fleet stores nothing until a second node has joined (its store needs a quorum).")
		}
		fmt.Fprintf(w, "\nOn every other node, with SECRET_CODESCALERS set to the same passphrase, run:\n\n  %s\n", info.JoinCommand)
	})
}

// writePorts says where the fleet listens on this host.
func writePorts(w io.Writer, info api.FleetInfo) {
	if info.RoutePort != 0 {
		fmt.Fprintf(w, "listening on %s (routes), %s (leaf nodes), 127.0.0.1:%d (this host's client only)\n",
			hostPort(info.Address, info.RoutePort), hostPort(info.Address, info.LeafPort), info.ClientPort)
	} else if info.ClientPort != 0 {
		fmt.Fprintf(w, "listening on 127.0.0.1:%d (this host's client only)\n", info.ClientPort)
	}
	if info.ClientNkey != "" && info.Role == "external" {
		fmt.Fprintf(w, "this host connects with the nkey %s: the external NATS must admit it\n", info.ClientNkey)
	}
}

func hostPort(addr string, port int) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:" + strconv.Itoa(port)
	}
	return addr + ":" + strconv.Itoa(port)
}

// fleetJoinCmd joins this host to a fleet.
type fleetJoinCmd struct {
	Address string            `arg:"" optional:"" placeholder:"HOST:PORT" help:"Any fleet node's leaf port, as fleet-init printed it: [400::1]:5300 (a bare address means port 5300)."`
	Labels  map[string]string `name:"label" short:"l" placeholder:"KEY=VALUE" help:"A label of this node (placement selects nodes by label); repeat for more."`
}

func (f *fleetJoinCmd) Run(rt *runCtx) error {
	if f.Address == "" && rt.natsURL() == "" {
		return usageErrorf("fleet-join needs the address of a fleet node (HOST:PORT, as fleet-init printed it), or --nats-url")
	}
	secret, err := rt.needSecret("fleet-join")
	if err != nil {
		return err
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	url := ""
	if f.Address == "" {
		url = rt.natsURL()
	}
	info, err := c.FleetJoin(rt.ctx, api.FleetJoinParams{Address: f.Address, Secret: secret, NATSURL: url, Labels: f.Labels})
	if err != nil {
		return err
	}
	return rt.emit(info, func(w io.Writer) {
		fmt.Fprintf(w, "joined fleet %s as node %s (%s)\n", info.FleetID, info.Node, info.Role)
		writePorts(w, info)
	})
}

// fleetStatusCmd shows the fleet, node by node.
type fleetStatusCmd struct{}

func (fleetStatusCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	st, err := c.FleetStatus(rt.ctx)
	if err != nil {
		return err
	}
	return rt.emit(st, func(w io.Writer) {
		if !st.Info.InFleet {
			fmt.Fprintf(w, "this host (%s) is in no fleet: fleet-init makes one, fleet-join joins one\n", st.Info.Node)
			return
		}
		kv(w, "fleet", st.Info.FleetID)
		kv(w, "this node", st.Info.Node+" ("+st.Info.Role+")")
		kv(w, "store", st.Info.Store)
		kv(w, "join with", st.Info.JoinCommand)
		fmt.Fprintln(w)
		row(w, "NODE", "ROLE", "REACHABLE", "APPLIED", "BEHIND", "DRIFT", "LAST SEEN")
		for _, n := range st.Nodes {
			row(w, n.Name, n.Role, yesNo(n.Live), strconv.FormatUint(n.Applied, 10), strconv.Itoa(n.Behind), strconv.Itoa(n.Drift), fmtSeen(n.LastSeen))
		}
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fmtSeen says how long ago a node last announced itself.
func fmtSeen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}

// nodeState is node-list's one-word summary of a fleet node.
func nodeState(n api.Node) string {
	switch {
	case n.ID == "":
		return "not joined"
	case !n.Live:
		return "down"
	case n.Converged:
		return "converged"
	case n.Behind > 0:
		return strconv.Itoa(n.Behind) + " behind"
	}
	return "drift " + strconv.Itoa(n.Drift)
}

// nodeLabelCmd sets or removes a fleet node's labels.
type nodeLabelCmd struct {
	Name  string   `arg:"" help:"Node name."`
	Edits []string `arg:"" placeholder:"KEY=VALUE|KEY-" help:"KEY=VALUE sets a label, KEY- removes it."`
}

func (l *nodeLabelCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	n, err := c.NodeLabel(rt.ctx, l.Name, l.Edits)
	if err != nil {
		return err
	}
	return rt.emit(n, nodeView(n))
}
