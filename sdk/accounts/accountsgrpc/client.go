package accountsgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	accountsv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/accounts/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// Client is the host side: it implements accounts.Accounts over a gRPC
// connection and returns the plugin's errors as *sdkerr.Error. It does not
// check input itself, so the conformance kit can see what the plugin does
// with bad input.
type Client struct {
	rpc accountsv1.AccountsClient
}

var _ accounts.Accounts = (*Client)(nil)

// NewClient wraps a connection to an accounts plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: accountsv1.NewAccountsClient(conn)}
}

func (c *Client) CreateUser(ctx context.Context, spec accounts.UserSpec) (accounts.User, error) {
	r, err := c.rpc.CreateUser(ctx, &accountsv1.CreateUserRequest{Spec: specToProto(spec)})
	if err != nil {
		return accounts.User{}, sdkerrgrpc.FromStatus(err)
	}
	return userFromProto(r.GetUser()), nil
}

func (c *Client) CreateUsers(ctx context.Context, specs []accounts.UserSpec) ([]accounts.BatchResult, error) {
	req := &accountsv1.CreateUsersRequest{Specs: make([]*accountsv1.UserSpec, len(specs))}
	for i, s := range specs {
		req.Specs[i] = specToProto(s)
	}
	r, err := c.rpc.CreateUsers(ctx, req)
	if err != nil {
		return nil, sdkerrgrpc.FromStatus(err)
	}
	out := make([]accounts.BatchResult, len(r.GetResults()))
	for i, res := range r.GetResults() {
		if d := res.GetError(); d != nil {
			out[i].Err = sdkerrgrpc.FromDetail(d)
			continue
		}
		out[i].User = userFromProto(res.GetUser())
	}
	return out, nil
}

func (c *Client) DeleteUser(ctx context.Context, name string, opts accounts.DeleteOptions) error {
	_, err := c.rpc.DeleteUser(ctx, &accountsv1.DeleteUserRequest{
		Name: name, RemoveHome: opts.RemoveHome, MarkerGroup: opts.MarkerGroup})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) GetUser(ctx context.Context, name string) (accounts.User, error) {
	r, err := c.rpc.GetUser(ctx, &accountsv1.GetUserRequest{Name: name})
	if err != nil {
		return accounts.User{}, sdkerrgrpc.FromStatus(err)
	}
	return userFromProto(r.GetUser()), nil
}

func (c *Client) ListUsers(ctx context.Context, group string) ([]accounts.User, error) {
	r, err := c.rpc.ListUsers(ctx, &accountsv1.ListUsersRequest{Group: group})
	if err != nil {
		return nil, sdkerrgrpc.FromStatus(err)
	}
	out := make([]accounts.User, len(r.GetUsers()))
	for i, u := range r.GetUsers() {
		out[i] = userFromProto(u)
	}
	return out, nil
}

func (c *Client) LockUser(ctx context.Context, name, markerGroup string) error {
	_, err := c.rpc.LockUser(ctx, &accountsv1.LockUserRequest{Name: name, MarkerGroup: markerGroup})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) UnlockUser(ctx context.Context, name, markerGroup string) error {
	_, err := c.rpc.UnlockUser(ctx, &accountsv1.UnlockUserRequest{Name: name, MarkerGroup: markerGroup})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) SetUserGroups(ctx context.Context, name string, groups []string, markerGroup string) (accounts.User, error) {
	r, err := c.rpc.SetUserGroups(ctx, &accountsv1.SetUserGroupsRequest{
		Name: name, Groups: groups, MarkerGroup: markerGroup})
	if err != nil {
		return accounts.User{}, sdkerrgrpc.FromStatus(err)
	}
	return userFromProto(r.GetUser()), nil
}

func (c *Client) CreateGroup(ctx context.Context, name string, gid uint32) (accounts.Group, error) {
	r, err := c.rpc.CreateGroup(ctx, &accountsv1.CreateGroupRequest{Name: name, Gid: gid})
	if err != nil {
		return accounts.Group{}, sdkerrgrpc.FromStatus(err)
	}
	return groupFromProto(r.GetGroup()), nil
}

func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	_, err := c.rpc.DeleteGroup(ctx, &accountsv1.DeleteGroupRequest{Name: name})
	return sdkerrgrpc.FromStatus(err)
}

func (c *Client) GetGroup(ctx context.Context, name string) (accounts.Group, error) {
	r, err := c.rpc.GetGroup(ctx, &accountsv1.GetGroupRequest{Name: name})
	if err != nil {
		return accounts.Group{}, sdkerrgrpc.FromStatus(err)
	}
	return groupFromProto(r.GetGroup()), nil
}

func (c *Client) SetGroupMembers(ctx context.Context, name string, members []string) (accounts.Group, error) {
	r, err := c.rpc.SetGroupMembers(ctx, &accountsv1.SetGroupMembersRequest{Name: name, Members: members})
	if err != nil {
		return accounts.Group{}, sdkerrgrpc.FromStatus(err)
	}
	return groupFromProto(r.GetGroup()), nil
}
