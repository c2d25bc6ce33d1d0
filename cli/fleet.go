package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// nodeAddCmd adds a node: to the local registry, or, in a fleet, as a
// node registered (with its labels) before it joins.
type nodeAddCmd struct {
	Name    string            `arg:"" help:"Node name."`
	Address string            `arg:"" help:"Address its host is reached at: an IP ([400::1]:5300, 400::1 for the default port) or host:port."`
	Labels  map[string]string `name:"label" short:"l" placeholder:"KEY=VALUE" help:"A label; repeat for more."`
}

func (n *nodeAddCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	node, err := c.NodeAdd(rt.ctx, api.NodeAddParams{Name: n.Name, Address: n.Address, Labels: n.Labels})
	if err != nil {
		return err
	}
	return rt.emit(node, nodeView(node))
}

// nodeRemoveCmd removes a node: in a fleet it is evicted (it leaves,
// keeping its accounts as local ones).
type nodeRemoveCmd struct {
	Name string `arg:"" help:"Node name."`
}

func (n *nodeRemoveCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	if err := c.NodeRemove(rt.ctx, n.Name); err != nil {
		return err
	}
	return rt.emit(api.OK{OK: true}, func(w io.Writer) { fmt.Fprintf(w, "removed node %s\n", n.Name) })
}

// nodeListCmd lists nodes as a table: in a fleet, live from their
// announcements.
type nodeListCmd struct{}

func (nodeListCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	nodes, err := c.NodeList(rt.ctx)
	if err != nil {
		return err
	}
	fleet := false
	for _, n := range nodes {
		fleet = fleet || n.Role != "" || n.ID != ""
	}
	return rt.emit(api.NodeListResult{Nodes: nodes}, func(w io.Writer) {
		if !fleet {
			row(w, "NAME", "ADDRESS", "LABELS", "CREATED")
			for _, n := range nodes {
				row(w, n.Name, n.Address, fmtLabels(n.Labels), fmtTime(n.Created))
			}
			return
		}
		row(w, "NAME", "ROLE", "LABELS", "VERSION", "LAST SEEN", "STATE")
		for _, n := range nodes {
			row(w, n.Name, n.Role, fmtLabels(n.Labels), n.Version, fmtSeen(n.LastSeen), nodeState(n))
		}
	})
}

// nodeGetCmd shows one node as a record.
type nodeGetCmd struct {
	Name string `arg:"" help:"Node name."`
}

func (n *nodeGetCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	node, err := c.NodeGet(rt.ctx, n.Name)
	if err != nil {
		return err
	}
	return rt.emit(node, nodeView(node))
}

// nodeView renders a node as a record; in a fleet with what its
// announcements say.
func nodeView(n api.Node) func(io.Writer) {
	return func(w io.Writer) {
		kv(w, "name", n.Name)
		kv(w, "address", n.Address)
		kv(w, "labels", fmtLabels(n.Labels))
		kv(w, "created", fmtTime(n.Created))
		if n.Role == "" && n.ID == "" {
			return
		}
		kv(w, "id", n.ID)
		kv(w, "role", n.Role)
		kv(w, "version", n.Version)
		kv(w, "last seen", fmtSeen(n.LastSeen))
		kv(w, "state", nodeState(n))
		kv(w, "applied", strconv.FormatUint(n.Applied, 10))
		kv(w, "plugins", strings.Join(n.Plugins, ", "))
	}
}

// groupCreateCmd creates a Linux group, optionally with a shared volume.
type groupCreateCmd struct {
	Name        string   `arg:"" help:"Group name."`
	Description string   `short:"d" help:"What the group is for."`
	Members     []string `name:"member" short:"m" placeholder:"USER" help:"A member; repeat or separate with commas."`
	Shared      bool     `help:"Also make a shared volume, <home root>/groups/NAME, that every member can write (mode 2770, default ACLs keep new files group-writable)."`
	Quota       string   `placeholder:"SIZE" help:"With --shared: the volume's quota, such as 50G."`
	fleetFlags
}

func (g *groupCreateCmd) Run(rt *runCtx) error {
	if g.Quota != "" && !g.Shared {
		return usageErrorf("--quota is the shared volume's limit: add --shared")
	}
	if g.Fleet {
		return rt.fleetRun(g.fleetFlags, "created group "+g.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetGroupCreate(rt.ctx, api.FleetGroupCreateParams{Name: g.Name, Description: g.Description,
				Members: g.Members, Shared: g.Shared, Quota: g.Quota, WaitSecs: g.waitSecs()})
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	grp, err := c.GroupCreate(rt.ctx, api.GroupCreateParams{Name: g.Name, Description: g.Description, Members: g.Members, Shared: g.Shared, Quota: g.Quota})
	if err != nil {
		return err
	}
	return rt.emit(grp, groupView(grp))
}

// groupDeleteCmd deletes a group and its shared volume.
type groupDeleteCmd struct {
	Name     string `arg:"" help:"Group name."`
	KeepData bool   `help:"Keep the shared volume as a read-only snapshot under <home root>/.deleted/."`
	fleetFlags
}

func (g *groupDeleteCmd) Run(rt *runCtx) error {
	if g.Fleet {
		return rt.fleetRun(g.fleetFlags, "deleted group "+g.Name, func(c *client.Client) (api.FleetResult, error) {
			return c.FleetGroupDelete(rt.ctx, api.FleetGroupDeleteParams{Name: g.Name, KeepData: g.KeepData, WaitSecs: g.waitSecs()})
		})
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	if err := c.GroupDelete(rt.ctx, api.GroupDeleteParams{Name: g.Name, KeepData: g.KeepData}); err != nil {
		return err
	}
	return rt.emit(api.OK{OK: true}, func(w io.Writer) { fmt.Fprintf(w, "deleted group %s\n", g.Name) })
}

// groupListCmd lists groups as a table.
type groupListCmd struct{}

func (groupListCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	groups, err := c.GroupList(rt.ctx)
	if err != nil {
		return err
	}
	return rt.emit(api.GroupListResult{Groups: groups}, func(w io.Writer) {
		row(w, "NAME", "GID", "MEMBERS", "DESCRIPTION")
		for _, g := range groups {
			row(w, g.Name, fmtGID(g.GID), strings.Join(g.Members, ","), g.Description)
		}
	})
}

// groupGetCmd shows one group as a record.
type groupGetCmd struct {
	Name string `arg:"" help:"Group name."`
}

func (g *groupGetCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	grp, err := c.GroupGet(rt.ctx, g.Name)
	if err != nil {
		return err
	}
	return rt.emit(grp, groupView(grp))
}

// groupView renders a group as a record (fields, not core.Group: see
// nodeView).
func groupView(g api.Group) func(io.Writer) {
	return func(w io.Writer) {
		kv(w, "name", g.Name)
		kv(w, "gid", fmtGID(g.GID))
		kv(w, "description", g.Description)
		kv(w, "members", strings.Join(g.Members, ","))
		if g.Volume != "" {
			quota := "none"
			if g.QuotaBytes > 0 {
				quota = fmtSize(g.QuotaBytes)
			}
			kv(w, "shared volume", g.Volume+" (quota "+quota+")")
		}
		kv(w, "created", fmtTime(g.Created))
	}
}

// fmtGID leaves a gid the host has not assigned yet empty rather than 0,
// which would read as root's group.
func fmtGID(gid int) string {
	if gid == 0 {
		return ""
	}
	return strconv.Itoa(gid)
}
