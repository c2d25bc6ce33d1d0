package client

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// The typed helpers of the user and session lifecycle (api/users.go), one
// per method like those in methods.go. Helpers of methods whose params are
// one or two names take them as arguments, so a call reads as a sentence;
// the others take the params struct, so a field added to the contract is
// reachable without a new signature.

// UserCreate creates one user all-or-nothing. The result carries the
// generated public key; the forge token in p is never sent back.
func (c *Client) UserCreate(ctx context.Context, p api.UserCreateParams) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserCreate, p, &r)
	return r, err
}

// UserCreateBatch creates many users in one call; a user that fails is
// reported in its result item and does not fail the call. An error here
// means the batch as a whole was not answered.
func (c *Client) UserCreateBatch(ctx context.Context, users []api.UserCreateParams) (api.UserCreateBatchResult, error) {
	if users == nil {
		users = []api.UserCreateParams{} // "users": [] rather than null
	}
	var r api.UserCreateBatchResult
	err := c.Call(ctx, api.MUserCreateBatch, api.UserCreateBatchParams{Users: users}, &r)
	return r, err
}

// UserDelete deletes a managed user; keepHome keeps a read-only copy of
// the home.
func (c *Client) UserDelete(ctx context.Context, name string, keepHome bool) error {
	return c.Call(ctx, api.MUserDelete, api.UserDeleteParams{Name: name, KeepHome: keepHome}, nil)
}

// UserGet returns one managed user.
func (c *Client) UserGet(ctx context.Context, name string) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserGet, api.NameParams{Name: name}, &r)
	return r, err
}

// UserList returns one page of users; pass the result's Next as After to
// get the following one.
func (c *Client) UserList(ctx context.Context, p api.UserListParams) (api.UserListResult, error) {
	var r api.UserListResult
	err := c.Call(ctx, api.MUserList, p, &r)
	return r, err
}

// UserReset re-applies a user's layout and returns what it repaired; an
// empty list means nothing had drifted.
func (c *Client) UserReset(ctx context.Context, name string) ([]string, error) {
	var r api.UserResetResult
	err := c.Call(ctx, api.MUserReset, api.NameParams{Name: name}, &r)
	return r.Repaired, err
}

// UserLock locks an account and ends its sessions.
func (c *Client) UserLock(ctx context.Context, name string) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserLock, api.NameParams{Name: name}, &r)
	return r, err
}

// UserUnlock unlocks an account.
func (c *Client) UserUnlock(ctx context.Context, name string) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserUnlock, api.NameParams{Name: name}, &r)
	return r, err
}

// UserKeyAdd adds public keys to a user's authorized_keys and returns the
// user with all its keys.
func (c *Client) UserKeyAdd(ctx context.Context, name string, keys []string) (core.User, error) {
	if keys == nil {
		keys = []string{}
	}
	var r core.User
	err := c.Call(ctx, api.MUserKeyAdd, api.UserKeyAddParams{Name: name, Keys: keys}, &r)
	return r, err
}

// UserKeyRemove removes one key, given whole or as its SHA256 fingerprint.
func (c *Client) UserKeyRemove(ctx context.Context, name, key string) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserKeyRemove, api.UserKeyRemoveParams{Name: name, Key: key}, &r)
	return r, err
}

// UserQuotaSet sets a user's home quota from a size such as "20G"; "0"
// removes the limit. The size is parsed by the host, the one authority on
// what a size means.
func (c *Client) UserQuotaSet(ctx context.Context, name, quota string) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserQuotaSet, api.UserQuotaParams{Name: name, Quota: quota}, &r)
	return r, err
}

// UserLimitsSet sets a user's CPU (cores, "1.5") and memory ("4G")
// limits; an empty or "0" value lifts that limit. The host parses both.
func (c *Client) UserLimitsSet(ctx context.Context, name, cpu, memory string) (core.User, error) {
	var r core.User
	err := c.Call(ctx, api.MUserLimitsSet, api.UserLimitsParams{Name: name, CPU: cpu, Memory: memory}, &r)
	return r, err
}

// UserPlan is a dry run: the step plan of the call p describes (user.create,
// user.create_batch, user.delete, user.quota.set), checked as the call
// would be, changing nothing.
func (c *Client) UserPlan(ctx context.Context, p api.PlanParams) (api.PlanResult, error) {
	var r api.PlanResult
	err := c.Call(ctx, api.MUserPlan, p, &r)
	return r, err
}

// SessionList lists the login sessions of user, or of everyone when user
// is empty.
func (c *Client) SessionList(ctx context.Context, user string) ([]core.Session, error) {
	var r api.SessionListResult
	err := c.Call(ctx, api.MSessionList, api.SessionListParams{User: user}, &r)
	return r.Sessions, err
}

// SessionKill ends one session of user (session given) or all of them
// (session empty) and returns how many ended.
func (c *Client) SessionKill(ctx context.Context, user, session string) (int, error) {
	var r api.SessionKillResult
	err := c.Call(ctx, api.MSessionKill, api.SessionKillParams{User: user, Session: session}, &r)
	return r.Killed, err
}

// Reconcile reports where the machine differs from the state. It changes
// nothing; user.reset repairs one user.
func (c *Client) Reconcile(ctx context.Context) ([]core.Drift, error) {
	var r api.ReconcileResult
	err := c.Call(ctx, api.MReconcile, api.Empty{}, &r)
	return r.Drift, err
}

// GroupMemberAdd adds user to group and returns the group as it now is.
func (c *Client) GroupMemberAdd(ctx context.Context, group, user string) (core.Group, error) {
	var r core.Group
	err := c.Call(ctx, api.MGroupMemberAdd, api.GroupMemberParams{Name: group, User: user}, &r)
	return r, err
}

// GroupMemberRemove removes user from group and returns the group as it
// now is.
func (c *Client) GroupMemberRemove(ctx context.Context, group, user string) (core.Group, error) {
	var r core.Group
	err := c.Call(ctx, api.MGroupMemberDel, api.GroupMemberParams{Name: group, User: user}, &r)
	return r, err
}
