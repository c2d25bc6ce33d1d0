package api

import "github.com/threefoldtech/hero_codescalers/core"

// Method names of the user and session lifecycle.
const (
	MUserCreate      = "user.create"
	MUserCreateBatch = "user.create_batch"
	MUserDelete      = "user.delete"
	MUserGet         = "user.get"
	MUserList        = "user.list"
	MUserReset       = "user.reset"
	MUserLock        = "user.lock"
	MUserUnlock      = "user.unlock"
	MUserKeyAdd      = "user.key.add"
	MUserKeyRemove   = "user.key.remove"
	MUserQuotaSet    = "user.quota.set"
	MUserLimitsSet   = "user.limits.set"
	MSessionList     = "session.list"
	MSessionKill     = "session.kill"
	MReconcile       = "reconcile"
	MGroupMemberAdd  = "group.member.add"
	MGroupMemberDel  = "group.member.remove"
	MUserPlan        = "user.plan"
)

// userMethods joins the method table (see methods.go).
var userMethods = []Method{
	{Name: MUserCreate, Summary: "Create a developer account all-or-nothing: account, home volume with quota, layout, socket ACL, keys, hero_cfg.toml.", Params: UserCreateParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserCreateBatch, Summary: "Create many users through the accounts plugin's batch path; one result per user.", Params: UserCreateBatchParams{}, Result: UserCreateBatchResult{}, Access: Privileged, Mutating: true},
	{Name: MUserDelete, Summary: "Delete a managed user: its sessions and every other process, home (or a read-only snapshot with keep_home), account.", Params: UserDeleteParams{}, Result: OK{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserGet, Summary: "Get one managed user, with the keys its sshkeys plugin says it may log in with (installed).", Params: NameParams{}, Result: core.User{}},
	{Name: MUserList, Summary: "List managed users, paged, by name prefix, group and state.", Params: UserListParams{}, Result: UserListResult{}},
	{Name: MUserReset, Summary: "Re-apply a user's layout and report what was repaired.", Params: NameParams{}, Result: UserResetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserLock, Summary: "Lock an account and end its sessions and every other process of it.", Params: NameParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserUnlock, Summary: "Unlock an account.", Params: NameParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserKeyAdd, Summary: "Add public keys to a user's authorized_keys.", Params: UserKeyAddParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserKeyRemove, Summary: "Remove a public key (whole or by SHA256 fingerprint).", Params: UserKeyRemoveParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserQuotaSet, Summary: "Set a user's home quota (0 removes the limit).", Params: UserQuotaParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserLimitsSet, Summary: "Set a user's CPU and memory limits, enforced through cgroups by the limits plugin (0 or empty lifts one).", Params: UserLimitsParams{}, Result: core.User{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MSessionList, Summary: "List login sessions, of one user or all.", Params: SessionListParams{}, Result: SessionListResult{}, Access: Privileged},
	{Name: MSessionKill, Summary: "End one session of a user, or all of them.", Params: SessionKillParams{}, Result: SessionKillResult{}, Access: Privileged, Mutating: true, Target: "user"},
	{Name: MReconcile, Summary: "Compare the state with the machine and report drift; changes nothing.", Params: Empty{}, Result: ReconcileResult{}, Access: Privileged},
	{Name: MGroupMemberAdd, Summary: "Add a user to a group.", Params: GroupMemberParams{}, Result: core.Group{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MGroupMemberDel, Summary: "Remove a user from a group.", Params: GroupMemberParams{}, Result: core.Group{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MUserPlan, Summary: "Dry run: the step plan of user.create, user.create_batch, user.delete or user.quota.set, checked as the call would be, changing nothing.", Params: PlanParams{}, Result: PlanResult{}, Access: Privileged},
}

// PlanParams asks for the plan of Method with its params: User for
// user.create, Users for user.create_batch, Name (and KeepHome or Quota)
// for user.delete and user.quota.set.
type PlanParams struct {
	Method   string             `json:"method" required:"true"`
	User     *UserCreateParams  `json:"user,omitempty"`
	Users    []UserCreateParams `json:"users,omitempty"`
	Name     string             `json:"name,omitempty"`
	KeepHome bool               `json:"keep_home,omitempty"`
	Quota    string             `json:"quota,omitempty"`
}

// PlanResult is the plan: one item per user, each with its steps in
// order, or, in a batch, the error that user would fail with.
type PlanResult struct {
	Method string     `json:"method"`
	Items  []PlanItem `json:"items"`
}

// PlanItem is one user's part of a plan.
type PlanItem struct {
	Name  string          `json:"name"`
	Steps []core.PlanStep `json:"steps,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// User is a managed user as the API returns it, named here for clients
// that do not import core.
type User = core.User

// Limits are a user's CPU and memory limits, as User carries them.
type Limits = core.Limits

// ParseSize reads a size as the host does ("20G", "500M", "0": no limit),
// so a client compares sizes the way the host will take them.
func ParseSize(field, s string) (int64, error) { return core.ParseQuota(field, s) }

// UserCreateParams creates a user. ForgeToken is written into the user's
// hero_cfg.toml only; it never appears in logs, audit entries or errors.
// Quota is a size like "20G"; UID is given to keep uids equal across a fleet.
type UserCreateParams struct {
	Name       string   `json:"name" required:"true"`
	UID        *int     `json:"uid,omitempty"`
	SSHKeys    []string `json:"ssh_keys,omitempty"`
	ForgeToken string   `json:"forge_token,omitempty"`
	Quota      string   `json:"quota,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	Shell      string   `json:"shell,omitempty"`
	// CPU (cores, "1.5") and Memory (a size, "4G") limit the user's
	// processes from the start (see user.limits.set).
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// UserCreateBatchParams creates many users.
type UserCreateBatchParams struct {
	Users []UserCreateParams `json:"users" required:"true"`
}

// BatchItem is one user's outcome in a batch.
type BatchItem struct {
	Name  string     `json:"name"`
	User  *core.User `json:"user,omitempty"`
	Error *Error     `json:"error,omitempty"`
}

// UserCreateBatchResult lists each user's outcome, in request order.
type UserCreateBatchResult struct {
	Created int         `json:"created"`
	Failed  int         `json:"failed"`
	Results []BatchItem `json:"results"`
}

// UserDeleteParams deletes a user.
type UserDeleteParams struct {
	Name     string `json:"name" required:"true"`
	KeepHome bool   `json:"keep_home,omitempty"`
}

// UserListParams filters and pages user.list.
type UserListParams struct {
	Prefix string `json:"prefix,omitempty"`
	Group  string `json:"group,omitempty"`
	State  string `json:"state,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	After  string `json:"after,omitempty"`
}

// UserListResult is one page of users; Next is the cursor of the next.
type UserListResult struct {
	Users []core.User `json:"users"`
	Next  string      `json:"next,omitempty"`
}

// UserResetResult lists what user.reset repaired.
type UserResetResult struct {
	Repaired []string `json:"repaired"`
}

// UserKeyAddParams adds keys.
type UserKeyAddParams struct {
	Name string   `json:"name" required:"true"`
	Keys []string `json:"keys" required:"true"`
}

// UserKeyRemoveParams removes a key.
type UserKeyRemoveParams struct {
	Name string `json:"name" required:"true"`
	Key  string `json:"key" required:"true"`
}

// UserQuotaParams sets a quota.
type UserQuotaParams struct {
	Name  string `json:"name" required:"true"`
	Quota string `json:"quota" required:"true"`
}

// UserLimitsParams sets a user's limits: CPU in cores ("2", "1.5") and
// memory as a size ("4G"); empty or "0" lifts that limit.
type UserLimitsParams struct {
	Name   string `json:"name" required:"true"`
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// SessionListParams lists sessions; an empty user lists everyone's.
type SessionListParams struct {
	User string `json:"user,omitempty"`
}

// SessionListResult lists sessions.
type SessionListResult struct {
	Sessions []core.Session `json:"sessions"`
}

// SessionKillParams ends one session (Session given) or all of User's.
type SessionKillParams struct {
	User    string `json:"user" required:"true"`
	Session string `json:"session,omitempty"`
}

// SessionKillResult says how many sessions ended.
type SessionKillResult struct {
	Killed int `json:"killed"`
}

// ReconcileResult lists the drift found.
type ReconcileResult struct {
	Drift []core.Drift `json:"drift"`
}

// GroupMemberParams names a group and a user.
type GroupMemberParams struct {
	Name string `json:"name" required:"true"`
	User string `json:"user" required:"true"`
}
