package api

import "github.com/threefoldtech/hero_codescalers/core"

// Method names of the fleet (DESIGN.md §6). The node.* methods of
// methods.go show the fleet's live view on a host in a fleet.
const (
	MFleetInit           = "fleet.init"
	MFleetJoin           = "fleet.join"
	MFleetStatus         = "fleet.status"
	MNodeLabel           = "node.label"
	MFleetUserCreate     = "fleet.user.create"
	MFleetUserDelete     = "fleet.user.delete"
	MFleetUserList       = "fleet.user.list"
	MFleetUserKeyAdd     = "fleet.user.key.add"
	MFleetUserKeyRemove  = "fleet.user.key.remove"
	MFleetUserQuotaSet   = "fleet.user.quota.set"
	MFleetUserLimitsSet  = "fleet.user.limits.set"
	MFleetUserLock       = "fleet.user.lock"
	MFleetUserUnlock     = "fleet.user.unlock"
	MFleetUserPlace      = "fleet.user.place"
	MFleetGroupCreate    = "fleet.group.create"
	MFleetGroupDelete    = "fleet.group.delete"
	MFleetGroupMemberAdd = "fleet.group.member.add"
	MFleetGroupMemberDel = "fleet.group.member.remove"
	MFleetSessionList    = "fleet.session.list"
	MFleetSessionKill    = "fleet.session.kill"
)

// fleetMethods joins the method table (see methods.go). The calls that
// change the desired state write it, then wait for each node concerned and
// answer one row per node.
var fleetMethods = []Method{
	{Name: MFleetInit, Summary: "Make a new fleet with this host as its first node; the answer holds the command the other nodes run to join.", Params: FleetInitParams{}, Result: core.FleetInfo{}, Access: Privileged, Mutating: true},
	{Name: MFleetJoin, Summary: "Join this host to a fleet through any node's address (its leaf port), or an external NATS cluster.", Params: FleetJoinParams{}, Result: core.FleetInfo{}, Access: Privileged, Mutating: true, Target: "address"},
	{Name: MFleetStatus, Summary: "This host's fleet membership and, per node, whether it is reachable, the revision it applied and its drift.", Params: Empty{}, Result: core.FleetStatus{}},
	{Name: MNodeLabel, Summary: "Set (KEY=VALUE) or remove (KEY-) labels of a fleet node; users placed by labels follow.", Params: NodeLabelParams{}, Result: core.Node{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserCreate, Summary: "Create a user on every fleet node its placement selects: one uid, one keypair; one row per node.", Params: FleetUserCreateParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserDelete, Summary: "Delete a fleet user on every node that carries it.", Params: FleetUserDeleteParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserList, Summary: "The fleet's users as desired (no secret).", Params: Empty{}, Result: FleetUserListResult{}},
	{Name: MFleetUserKeyAdd, Summary: "Add public keys to a fleet user on every node that carries it.", Params: FleetUserKeyAddParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserKeyRemove, Summary: "Remove a public key (whole or by fingerprint) from a fleet user.", Params: FleetUserKeyRemoveParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserLimitsSet, Summary: "Set a fleet user's CPU and memory limits on every node that carries it (0 or empty lifts one).", Params: FleetUserLimitsParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserQuotaSet, Summary: "Set a fleet user's home quota on every node that carries it.", Params: FleetUserQuotaParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserLock, Summary: "Lock a fleet user (and end its sessions) on every node that carries it.", Params: FleetUserParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserUnlock, Summary: "Unlock a fleet user on every node that carries it.", Params: FleetUserParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetUserPlace, Summary: "Change where a fleet user lives: a node selector such as zone=eu,role=gpu (empty: every node).", Params: FleetUserPlaceParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetGroupCreate, Summary: "Create a group with one gid on every fleet node, optionally with a shared volume.", Params: FleetGroupCreateParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetGroupDelete, Summary: "Delete a fleet group on every node.", Params: FleetGroupDeleteParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetGroupMemberAdd, Summary: "Add a fleet user to a fleet group.", Params: FleetGroupMemberParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetGroupMemberDel, Summary: "Remove a user from a fleet group.", Params: FleetGroupMemberParams{}, Result: core.FleetResult{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MFleetSessionList, Summary: "Ask every live node for its login sessions (of one user, or all), with a deadline.", Params: FleetSessionListParams{}, Result: FleetSessionsResult{}, Access: Privileged},
	{Name: MFleetSessionKill, Summary: "End a user's sessions (or one) on every live node, with a deadline.", Params: FleetSessionKillParams{}, Result: FleetSessionsResult{}, Access: Privileged, Mutating: true, Target: "user"},
}

// FleetInitParams makes a fleet. Secret is SECRET_CODESCALERS: every key of
// the fleet is derived from it on the host; it is never stored, logged or
// audited, and it never leaves the host (only what is derived from it).
type FleetInitParams struct {
	Secret string `json:"secret" required:"true"`
	// Replicas is how many nodes hold the store's replicas (3..5, default
	// 3); the others join as leaf nodes.
	Replicas int `json:"replicas,omitempty"`
	// NATSURL names an external NATS cluster instead of the embedded one.
	NATSURL string `json:"nats_url,omitempty"`
}

// FleetJoinParams joins a fleet through Address (any node's leaf port,
// HOST:PORT; a bare address means the default port 5300) or NATSURL.
type FleetJoinParams struct {
	Address string            `json:"address,omitempty"`
	Secret  string            `json:"secret" required:"true"`
	NATSURL string            `json:"nats_url,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// NodeLabelParams edits a node's labels: KEY=VALUE sets, KEY- removes.
type NodeLabelParams struct {
	Name  string   `json:"name" required:"true"`
	Edits []string `json:"edits" required:"true"`
}

// FleetUserCreateParams creates a fleet user: the fields of user.create,
// the placement (Nodes, a selector such as zone=eu,role=gpu; empty: every
// node), and how long to wait for the nodes (WaitSecs, default 30).
type FleetUserCreateParams struct {
	Name       string   `json:"name" required:"true"`
	UID        *int     `json:"uid,omitempty"`
	SSHKeys    []string `json:"ssh_keys,omitempty"`
	ForgeToken string   `json:"forge_token,omitempty"`
	Quota      string   `json:"quota,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	Shell      string   `json:"shell,omitempty"`
	CPU        string   `json:"cpu,omitempty"`
	Memory     string   `json:"memory,omitempty"`
	Nodes      string   `json:"nodes,omitempty"`
	WaitSecs   float64  `json:"wait_secs,omitempty"`
}

// FleetUserParams names a fleet user.
type FleetUserParams struct {
	Name     string  `json:"name" required:"true"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetUserDeleteParams deletes a fleet user.
type FleetUserDeleteParams struct {
	Name     string  `json:"name" required:"true"`
	KeepHome bool    `json:"keep_home,omitempty"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetUserKeyAddParams adds keys to a fleet user.
type FleetUserKeyAddParams struct {
	Name     string   `json:"name" required:"true"`
	Keys     []string `json:"keys" required:"true"`
	WaitSecs float64  `json:"wait_secs,omitempty"`
}

// FleetUserKeyRemoveParams removes a key from a fleet user.
type FleetUserKeyRemoveParams struct {
	Name     string  `json:"name" required:"true"`
	Key      string  `json:"key" required:"true"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetUserQuotaParams sets a fleet user's quota.
type FleetUserQuotaParams struct {
	Name     string  `json:"name" required:"true"`
	Quota    string  `json:"quota" required:"true"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetUserLimitsParams sets a fleet user's limits, as UserLimitsParams.
type FleetUserLimitsParams struct {
	Name     string  `json:"name" required:"true"`
	CPU      string  `json:"cpu,omitempty"`
	Memory   string  `json:"memory,omitempty"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetUserPlaceParams changes a fleet user's placement.
type FleetUserPlaceParams struct {
	Name     string  `json:"name" required:"true"`
	Nodes    string  `json:"nodes"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetUserListResult lists the fleet's users, without their secrets.
type FleetUserListResult struct {
	Users []core.FleetUser `json:"users"`
}

// FleetGroupCreateParams creates a fleet group.
type FleetGroupCreateParams struct {
	Name        string   `json:"name" required:"true"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members,omitempty"`
	Shared      bool     `json:"shared,omitempty"`
	Quota       string   `json:"quota,omitempty"`
	WaitSecs    float64  `json:"wait_secs,omitempty"`
}

// FleetGroupDeleteParams deletes a fleet group.
type FleetGroupDeleteParams struct {
	Name     string  `json:"name" required:"true"`
	KeepData bool    `json:"keep_data,omitempty"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetGroupMemberParams names a fleet group and a user.
type FleetGroupMemberParams struct {
	Name     string  `json:"name" required:"true"`
	User     string  `json:"user" required:"true"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetSessionListParams asks every node for its sessions.
type FleetSessionListParams struct {
	User     string  `json:"user,omitempty"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetSessionKillParams ends a user's sessions on every node.
type FleetSessionKillParams struct {
	User     string  `json:"user" required:"true"`
	Session  string  `json:"session,omitempty"`
	WaitSecs float64 `json:"wait_secs,omitempty"`
}

// FleetSessionsResult is one answer per node.
type FleetSessionsResult struct {
	Replies []core.FleetReply `json:"replies"`
}

// The fleet's result types, named here for clients that do not import
// core (the CLI).
type (
	FleetResult = core.FleetResult
	FleetRow    = core.FleetRow
	FleetInfo   = core.FleetInfo
	FleetStatus = core.FleetStatus
	FleetReply  = core.FleetReply
	Node        = core.Node
)
