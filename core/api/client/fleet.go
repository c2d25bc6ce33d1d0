package client

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The typed helpers of the fleet (api/fleet.go). A fleet call that changes
// the desired state answers one row per node; an error here means the call
// itself failed (not in a fleet, bad input, the store unreachable), while
// nodes that failed or did not answer are counted in the result's Failed.

// FleetInit makes a new fleet with this host as its first node.
func (c *Client) FleetInit(ctx context.Context, p api.FleetInitParams) (core.FleetInfo, error) {
	var r core.FleetInfo
	err := c.Call(ctx, api.MFleetInit, p, &r)
	return r, err
}

// FleetJoin joins this host to a fleet.
func (c *Client) FleetJoin(ctx context.Context, p api.FleetJoinParams) (core.FleetInfo, error) {
	var r core.FleetInfo
	err := c.Call(ctx, api.MFleetJoin, p, &r)
	return r, err
}

// FleetStatus returns this host's membership and every node's state.
func (c *Client) FleetStatus(ctx context.Context) (core.FleetStatus, error) {
	var r core.FleetStatus
	err := c.Call(ctx, api.MFleetStatus, api.Empty{}, &r)
	return r, err
}

// NodeLabel edits a fleet node's labels.
func (c *Client) NodeLabel(ctx context.Context, name string, edits []string) (core.Node, error) {
	if edits == nil {
		edits = []string{}
	}
	var r core.Node
	err := c.Call(ctx, api.MNodeLabel, api.NodeLabelParams{Name: name, Edits: edits}, &r)
	return r, err
}

// FleetUserCreate creates a fleet user.
func (c *Client) FleetUserCreate(ctx context.Context, p api.FleetUserCreateParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetUserCreate, p)
}

// FleetUserDelete deletes a fleet user.
func (c *Client) FleetUserDelete(ctx context.Context, p api.FleetUserDeleteParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetUserDelete, p)
}

// FleetUserList lists the fleet's users.
func (c *Client) FleetUserList(ctx context.Context) ([]core.FleetUser, error) {
	var r api.FleetUserListResult
	err := c.Call(ctx, api.MFleetUserList, api.Empty{}, &r)
	return r.Users, err
}

// FleetUserKeyAdd adds keys to a fleet user.
func (c *Client) FleetUserKeyAdd(ctx context.Context, p api.FleetUserKeyAddParams) (core.FleetResult, error) {
	if p.Keys == nil {
		p.Keys = []string{}
	}
	return c.fleetCall(ctx, api.MFleetUserKeyAdd, p)
}

// FleetUserKeyRemove removes a key from a fleet user.
func (c *Client) FleetUserKeyRemove(ctx context.Context, p api.FleetUserKeyRemoveParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetUserKeyRemove, p)
}

// FleetUserQuotaSet sets a fleet user's quota.
func (c *Client) FleetUserQuotaSet(ctx context.Context, p api.FleetUserQuotaParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetUserQuotaSet, p)
}

// FleetUserLimitsSet sets a fleet user's CPU and memory limits.
func (c *Client) FleetUserLimitsSet(ctx context.Context, p api.FleetUserLimitsParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetUserLimitsSet, p)
}

// FleetUserLock locks (or with unlock, unlocks) a fleet user.
func (c *Client) FleetUserLock(ctx context.Context, p api.FleetUserParams, unlock bool) (core.FleetResult, error) {
	if unlock {
		return c.fleetCall(ctx, api.MFleetUserUnlock, p)
	}
	return c.fleetCall(ctx, api.MFleetUserLock, p)
}

// FleetUserPlace changes a fleet user's placement.
func (c *Client) FleetUserPlace(ctx context.Context, p api.FleetUserPlaceParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetUserPlace, p)
}

// FleetGroupCreate creates a fleet group.
func (c *Client) FleetGroupCreate(ctx context.Context, p api.FleetGroupCreateParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetGroupCreate, p)
}

// FleetGroupDelete deletes a fleet group.
func (c *Client) FleetGroupDelete(ctx context.Context, p api.FleetGroupDeleteParams) (core.FleetResult, error) {
	return c.fleetCall(ctx, api.MFleetGroupDelete, p)
}

// FleetGroupMember adds a user to (or with remove, removes it from) a
// fleet group.
func (c *Client) FleetGroupMember(ctx context.Context, p api.FleetGroupMemberParams, remove bool) (core.FleetResult, error) {
	if remove {
		return c.fleetCall(ctx, api.MFleetGroupMemberDel, p)
	}
	return c.fleetCall(ctx, api.MFleetGroupMemberAdd, p)
}

// FleetSessionList asks every node for its sessions.
func (c *Client) FleetSessionList(ctx context.Context, p api.FleetSessionListParams) ([]core.FleetReply, error) {
	var r api.FleetSessionsResult
	err := c.Call(ctx, api.MFleetSessionList, p, &r)
	return r.Replies, err
}

// FleetSessionKill ends a user's sessions on every node.
func (c *Client) FleetSessionKill(ctx context.Context, p api.FleetSessionKillParams) ([]core.FleetReply, error) {
	var r api.FleetSessionsResult
	err := c.Call(ctx, api.MFleetSessionKill, p, &r)
	return r.Replies, err
}

func (c *Client) fleetCall(ctx context.Context, method string, p any) (core.FleetResult, error) {
	var r core.FleetResult
	err := c.Call(ctx, method, p, &r)
	return r, err
}
