package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// nodeAddCmd adds a node; labels select which users it carries once the
// fleet lands.
type nodeAddCmd struct {
	Name    string            `arg:"" help:"Node name."`
	Address string            `arg:"" help:"Address its host is reached at (mycelium IPv6 or host:port)."`
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
	return rt.emit(node, nodeView(node.Name, node.Address, node.Labels, node.Created))
}

// nodeRemoveCmd removes a node from the fleet.
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

// nodeListCmd lists nodes as a table.
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
	return rt.emit(api.NodeListResult{Nodes: nodes}, func(w io.Writer) {
		row(w, "NAME", "ADDRESS", "LABELS", "CREATED")
		for _, n := range nodes {
			row(w, n.Name, n.Address, fmtLabels(n.Labels), fmtTime(n.Created))
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
	return rt.emit(node, nodeView(node.Name, node.Address, node.Labels, node.Created))
}

// nodeView renders a node as a record. It takes fields rather than a
// core.Node because the CLI depends on the API contract and its client,
// not on the core (DESIGN.md §7); the client hands the values over.
func nodeView(name, address string, labels map[string]string, created time.Time) func(io.Writer) {
	return func(w io.Writer) {
		kv(w, "name", name)
		kv(w, "address", address)
		kv(w, "labels", fmtLabels(labels))
		kv(w, "created", fmtTime(created))
	}
}

// groupCreateCmd creates a Linux group, optionally with a shared volume.
type groupCreateCmd struct {
	Name        string   `arg:"" help:"Group name."`
	Description string   `short:"d" help:"What the group is for."`
	Members     []string `name:"member" short:"m" placeholder:"USER" help:"A member; repeat or separate with commas."`
	Shared      bool     `help:"Also make a shared volume, <home root>/groups/NAME, that every member can write (mode 2770, default ACLs keep new files group-writable)."`
	Quota       string   `placeholder:"SIZE" help:"With --shared: the volume's quota, such as 50G."`
}

func (g *groupCreateCmd) Run(rt *runCtx) error {
	if g.Quota != "" && !g.Shared {
		return usageErrorf("--quota is the shared volume's limit: add --shared")
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
}

func (g *groupDeleteCmd) Run(rt *runCtx) error {
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
