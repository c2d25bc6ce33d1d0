package client

import (
	"context"
	"encoding/json"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The typed helpers below are one per entry of api.Methods, so a caller
// gets the params and result types of the contract without spelling method
// names; a test keeps the two lists in step.

// Health is the JSON-RPC form of the liveness probe.
func (c *Client) Health(ctx context.Context) (api.HealthResult, error) {
	var r api.HealthResult
	err := c.Call(ctx, api.MHealth, api.Empty{}, &r)
	return r, err
}

// Stats returns counts, uptime, version and the plugin summary.
func (c *Client) Stats(ctx context.Context) (api.StatsResult, error) {
	var r api.StatsResult
	err := c.Call(ctx, api.MStats, api.Empty{}, &r)
	return r, err
}

// Discover returns the OpenRPC document verbatim: it is a document to save
// or feed to tools, not something the client interprets.
func (c *Client) Discover(ctx context.Context) (json.RawMessage, error) {
	var r json.RawMessage
	err := c.Call(ctx, api.MDiscover, api.Empty{}, &r)
	return r, err
}

// NodeAdd adds a node to the fleet.
func (c *Client) NodeAdd(ctx context.Context, p api.NodeAddParams) (core.Node, error) {
	var r core.Node
	err := c.Call(ctx, api.MNodeAdd, p, &r)
	return r, err
}

// NodeRemove removes a node; removing a missing node is NotFound.
func (c *Client) NodeRemove(ctx context.Context, name string) error {
	return c.Call(ctx, api.MNodeRemove, api.NameParams{Name: name}, nil)
}

// NodeList lists the fleet's nodes.
func (c *Client) NodeList(ctx context.Context) ([]core.Node, error) {
	var r api.NodeListResult
	err := c.Call(ctx, api.MNodeList, api.Empty{}, &r)
	return r.Nodes, err
}

// NodeGet returns one node.
func (c *Client) NodeGet(ctx context.Context, name string) (core.Node, error) {
	var r core.Node
	err := c.Call(ctx, api.MNodeGet, api.NameParams{Name: name}, &r)
	return r, err
}

// GroupCreate creates a group.
func (c *Client) GroupCreate(ctx context.Context, p api.GroupCreateParams) (core.Group, error) {
	var r core.Group
	err := c.Call(ctx, api.MGroupCreate, p, &r)
	return r, err
}

// GroupDelete deletes a group (and its shared volume, unless p.KeepData).
func (c *Client) GroupDelete(ctx context.Context, p api.GroupDeleteParams) error {
	return c.Call(ctx, api.MGroupDelete, p, nil)
}

// GroupList lists groups.
func (c *Client) GroupList(ctx context.Context) ([]core.Group, error) {
	var r api.GroupListResult
	err := c.Call(ctx, api.MGroupList, api.Empty{}, &r)
	return r.Groups, err
}

// GroupGet returns one group.
func (c *Client) GroupGet(ctx context.Context, name string) (core.Group, error) {
	var r core.Group
	err := c.Call(ctx, api.MGroupGet, api.NameParams{Name: name}, &r)
	return r, err
}

// WhitelistGet returns the dashboard's TCP access list, with the host's
// warnings about it.
func (c *Client) WhitelistGet(ctx context.Context) (api.Whitelist, error) {
	var r api.Whitelist
	err := c.Call(ctx, api.MWhitelistGet, api.Empty{}, &r)
	return r, err
}

// WhitelistSet replaces the access list and returns it as stored
// (normalised by the host), with the host's warnings; an empty list serves
// no data over TCP.
func (c *Client) WhitelistSet(ctx context.Context, addrs []string) (api.Whitelist, error) {
	if addrs == nil {
		addrs = []string{} // "addresses": [] rather than null
	}
	var r api.Whitelist
	err := c.Call(ctx, api.MWhitelistSet, api.Whitelist{Addresses: addrs}, &r)
	return r, err
}

// AuditList returns one page of the audit log, newest first.
func (c *Client) AuditList(ctx context.Context, p api.AuditListParams) (api.AuditListResult, error) {
	var r api.AuditListResult
	err := c.Call(ctx, api.MAuditList, p, &r)
	return r, err
}

// PluginList lists the plugins the host runs.
func (c *Client) PluginList(ctx context.Context) ([]core.PluginInfo, error) {
	var r api.PluginListResult
	err := c.Call(ctx, api.MPluginList, api.Empty{}, &r)
	return r.Plugins, err
}

// PluginApprove approves the binary now chosen for a concern.
func (c *Client) PluginApprove(ctx context.Context, concern string) error {
	return c.Call(ctx, api.MPluginApprove, api.PluginApproveParams{Concern: concern}, nil)
}
