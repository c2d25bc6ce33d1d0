package api

import (
	"fmt"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Access says who may call a method.
type Access int

// The access levels. Privileged methods change accounts or fleet state and
// need a root caller, the host's own uid, or a member of the admin group.
const (
	Public Access = iota
	Privileged
)

// Method is one entry of the method table. Params and Result are zero values
// of the Go types, from which the OpenRPC schema is generated and into which
// the server decodes.
type Method struct {
	Name    string
	Summary string
	Params  any
	Result  any
	Access  Access
	// Mutating methods are recorded in the audit log.
	Mutating bool
	// Target names the params field that identifies what the call acts on,
	// for the audit log.
	Target string
}

// Method names.
const (
	MHealth        = "health"
	MStats         = "stats"
	MDiscover      = "rpc.discover"
	MNodeAdd       = "node.add"
	MNodeRemove    = "node.remove"
	MNodeList      = "node.list"
	MNodeGet       = "node.get"
	MGroupCreate   = "group.create"
	MGroupDelete   = "group.delete"
	MGroupList     = "group.list"
	MGroupGet      = "group.get"
	MWhitelistGet  = "admin.whitelist.get"
	MWhitelistSet  = "admin.whitelist.set"
	MAuditList     = "audit.list"
	MPluginList    = "plugin.list"
	MPluginApprove = "plugin.approve"
)

// Methods is the table the server dispatches from and the OpenRPC document
// is generated from: the host's own methods, then the user lifecycle's
// (users.go), then the fleet's (fleet.go).
var Methods = append(append(hostMethods, userMethods...), fleetMethods...)

var hostMethods = []Method{
	{Name: MHealth, Summary: "Liveness and plugin health of the host.", Params: Empty{}, Result: HealthResult{}},
	{Name: MStats, Summary: "Counts, uptime, version and plugin summary.", Params: Empty{}, Result: StatsResult{}},
	{Name: MDiscover, Summary: "The OpenRPC document of this API.", Params: Empty{}, Result: map[string]any{}},
	{Name: MNodeAdd, Summary: "Add a node: to the local registry, or in a fleet registered (with its labels) before it joins.", Params: NodeAddParams{}, Result: core.Node{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MNodeRemove, Summary: "Remove a node: in a fleet it is evicted and leaves, keeping its accounts as local ones.", Params: NameParams{}, Result: OK{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MNodeList, Summary: "List the nodes: in a fleet, live from their announcements (labels, version, last seen, converged or how far behind).", Params: Empty{}, Result: NodeListResult{}},
	{Name: MNodeGet, Summary: "Get one node.", Params: NameParams{}, Result: core.Node{}},
	{Name: MGroupCreate, Summary: "Create a Linux group, optionally with a shared volume its members can all write.", Params: GroupCreateParams{}, Result: core.Group{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MGroupDelete, Summary: "Delete a group and its shared volume (or a read-only snapshot of it with keep_data).", Params: GroupDeleteParams{}, Result: OK{}, Access: Privileged, Mutating: true, Target: "name"},
	{Name: MGroupList, Summary: "List groups.", Params: Empty{}, Result: GroupListResult{}},
	{Name: MGroupGet, Summary: "Get one group.", Params: NameParams{}, Result: core.Group{}},
	{Name: MWhitelistGet, Summary: "The dashboard's TCP access list.", Params: Empty{}, Result: Whitelist{}, Access: Privileged},
	{Name: MWhitelistSet, Summary: "Replace the dashboard's TCP access list (empty: no data over TCP).", Params: Whitelist{}, Result: Whitelist{}, Access: Privileged, Mutating: true},
	{Name: MAuditList, Summary: "Audit log of mutating calls, newest first.", Params: AuditListParams{}, Result: AuditListResult{}, Access: Privileged},
	{Name: MPluginList, Summary: "The plugins this host runs, one per concern.", Params: Empty{}, Result: PluginListResult{}},
	{Name: MPluginApprove, Summary: "Approve the binary now chosen for a concern (after an upgrade changed its sha256) and start it.", Params: PluginApproveParams{}, Result: OK{}, Access: Privileged, Mutating: true, Target: "concern"},
}

// Allowed reports whether c may call m: a public method anyone, a
// privileged one only a caller its transport found privileged. rpc.sock
// and the dashboard both ask this, so the rule exists once.
func (m Method) Allowed(c core.Caller) bool {
	return m.Access == Public || c.Privileged
}

// Forbidden is the error for c calling method without the privilege it
// needs; requirement says who has it ("root or membership of group hc").
func Forbidden(method string, c core.Caller, requirement string) error {
	who := fmt.Sprintf("you are uid %d", c.UID)
	if c.UID < 0 {
		who = "the caller's uid is unknown (not a Unix socket peer)"
	}
	return core.Errorf(core.Forbidden, "%s needs %s; %s", method, requirement, who)
}

// Lookup finds a method by name.
func Lookup(name string) (Method, bool) {
	for _, m := range Methods {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// Empty is the params of a method that takes none.
type Empty struct{}

// OK is the result of a method that returns nothing else.
type OK struct {
	OK bool `json:"ok"`
}

// NameParams selects one object by name.
type NameParams struct {
	Name string `json:"name" required:"true"`
}

// PluginHealth is one plugin's line in health and stats.
type PluginHealth struct {
	Concern string `json:"concern"`
	Name    string `json:"name"`
	State   string `json:"state"`
}

// HealthResult answers health and GET /health.
type HealthResult struct {
	Status     string         `json:"status"`
	Version    string         `json:"version"`
	UptimeSecs float64        `json:"uptime_secs"`
	Plugins    []PluginHealth `json:"plugins"`
	// Dashboard says where the dashboard listens; nil on a host built or
	// run without it.
	Dashboard *DashboardInfo `json:"dashboard,omitempty"`
}

// DashboardInfo is where the dashboard listens: admin.sock always, TCP on
// the node's mycelium address (or --address) when there is one. Note says
// why there is no TCP listener when there is none.
type DashboardInfo struct {
	Listeners []Listener `json:"listeners"`
	Note      string     `json:"note,omitempty"`
	// Open is --dashboard-open: every TCP peer is admitted.
	Open bool `json:"open,omitempty"`
}

// Listener is one of the dashboard's listeners. Fingerprint is the SHA-256
// of the HTTPS certificate, to compare with what a browser shows.
type Listener struct {
	Kind        string `json:"kind"` // unix, http or https
	Address     string `json:"address"`
	URL         string `json:"url,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// StatsResult answers stats.
type StatsResult struct {
	Version      string         `json:"version"`
	UptimeSecs   float64        `json:"uptime_secs"`
	Instance     int            `json:"instance"`
	Users        int            `json:"users"`
	Groups       int            `json:"groups"`
	Nodes        int            `json:"nodes"`
	AuditEvents  int            `json:"audit_events"`
	PluginsTotal int            `json:"plugins_total"`
	PluginsReady int            `json:"plugins_ready"`
	Plugins      []PluginHealth `json:"plugins"`
	// Steps is, by "op.step" (create.account, create.volume, ...,
	// create.sync, delete.volume), how often the step succeeded since the
	// host started and how long it took in all.
	Steps map[string]StepTime `json:"steps,omitempty"`
}

// NodeAddParams adds a node.
type NodeAddParams struct {
	Name    string            `json:"name" required:"true"`
	Address string            `json:"address" required:"true"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// NodeListResult lists nodes.
type NodeListResult struct {
	Nodes []core.Node `json:"nodes"`
}

// GroupCreateParams creates a group.
type GroupCreateParams struct {
	Name        string   `json:"name" required:"true"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members,omitempty"`
	// Shared makes a shared volume at <home root>/groups/NAME that the
	// members can all write; Quota (such as 50G) limits it.
	Shared bool   `json:"shared,omitempty"`
	Quota  string `json:"quota,omitempty"`
}

// GroupDeleteParams deletes a group; KeepData keeps its shared volume as a
// read-only snapshot under <home root>/.deleted/.
type GroupDeleteParams struct {
	Name     string `json:"name" required:"true"`
	KeepData bool   `json:"keep_data,omitempty"`
}

// Group is a group as the API returns it (group.create, group.get and the
// member calls), named here for clients that do not import core.
type Group = core.Group

// StepTime is a step's count and summed duration (StatsResult.Steps).
type StepTime = core.StepTime

// GroupListResult lists groups.
type GroupListResult struct {
	Groups []core.Group `json:"groups"`
}

// Whitelist is the dashboard's TCP access list: IP addresses or CIDR
// prefixes. An empty list serves no data over TCP. Warnings (in answers
// only) say what an admin should know about the list as stored, such as a
// loopback entry.
type Whitelist struct {
	Addresses []string `json:"addresses"`
	Warnings  []string `json:"warnings,omitempty"`
}

// AuditEvent is one audit record as audit.list returns it.
type AuditEvent = core.AuditEvent

// AuditListParams pages through the audit log, newest first.
type AuditListParams struct {
	Limit  int    `json:"limit,omitempty"`
	Before string `json:"before,omitempty"`
	Method string `json:"method,omitempty"`
	// Actor keeps the events of one actor: a uid, or a source such as
	// admin.sock or a dashboard peer's address.
	Actor string `json:"actor,omitempty"`
}

// AuditListResult is one page of the audit log; Next is the cursor for the
// following page, empty at the end.
type AuditListResult struct {
	Events []core.AuditEvent `json:"events"`
	Next   string            `json:"next,omitempty"`
}

// PluginApproveParams names the concern whose plugin to approve.
type PluginApproveParams struct {
	Concern string `json:"concern" required:"true"`
}

// PluginListResult lists the plugins.
type PluginListResult struct {
	Plugins []core.PluginInfo `json:"plugins"`
}
