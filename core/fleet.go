package core

import (
	"context"
	"time"
)

// The fleet (DESIGN.md §6): the desired state of users and groups lives in
// a replicated store shared by every node (NATS JetStream KV, in
// host/fleet); each node's agent converges its machine to it through the
// use cases of this package and reports a status per object. core holds
// the domain — what a fleet user is, who is placed where, what a node does
// with a desired record, what a call waits for — and reaches the store
// through FleetBackend, so the rules stay testable without NATS and the
// dashboard drives the same use cases as the JSON-RPC API.

// FleetUser is a user's desired state in the fleet. The whole value is
// sealed before it enters the store, so the secrets it carries (the
// keypair's private half, the forge token) are unreadable without the
// fleet's passphrase; they never leave core towards a caller (FleetView).
type FleetUser struct {
	Name       string   `json:"name"`
	UID        int      `json:"uid"`
	Groups     []string `json:"groups"`
	SSHKeys    []string `json:"ssh_keys"`
	QuotaBytes int64    `json:"quota_bytes"`
	// Limits are the CPU and memory limits on every node (nil: none).
	Limits *Limits `json:"limits,omitempty"`
	Shell  string  `json:"shell"`
	Locked bool    `json:"locked,omitempty"`
	// Placement is the selector text of the nodes that carry the user;
	// empty: every node.
	Placement string `json:"placement,omitempty"`
	// PublicKey and PrivateKey are the user's one keypair, generated once
	// for the fleet, so the forge registers a single public key.
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key,omitempty"`
	ForgeToken string `json:"forge_token,omitempty"`
	// Deleted makes the record a tombstone: every node that carries the
	// user removes it (keeping the home as a snapshot with KeepHome). A
	// node removes a fleet user only on a tombstone or a placement that no
	// longer selects it, never because a record is missing.
	Deleted  bool      `json:"deleted,omitempty"`
	KeepHome bool      `json:"keep_home,omitempty"`
	Updated  time.Time `json:"updated"`
	// Revision is the store's revision of this value, set on read.
	Revision uint64 `json:"-"`
}

// FleetGroup is a group's desired state: a Linux group with the same gid
// on every node, optionally with a shared volume. Its members are created
// on a node where they are placed.
type FleetGroup struct {
	Name        string    `json:"name"`
	GID         int       `json:"gid"`
	Description string    `json:"description,omitempty"`
	Members     []string  `json:"members"`
	Shared      bool      `json:"shared,omitempty"`
	QuotaBytes  int64     `json:"quota_bytes,omitempty"`
	Deleted     bool      `json:"deleted,omitempty"`
	KeepData    bool      `json:"keep_data,omitempty"`
	Updated     time.Time `json:"updated"`
	Revision    uint64    `json:"-"`
}

// Node roles in a fleet.
const (
	// RoleReplica nodes hold the store's replicas over cluster routes.
	RoleReplica = "replica"
	// RoleLeaf nodes reach the replicas as NATS leaf nodes.
	RoleLeaf = "leaf"
	// RoleExternal nodes use an external NATS cluster (--nats-url).
	RoleExternal = "external"
)

// Member is a node's lasting record in the fleet: who it is, where it is
// reached, and its labels (which node-label edits). Its liveness is in its
// announcements (NodeAnnounce).
type Member struct {
	Name      string            `json:"name"`
	ID        string            `json:"id"`
	Address   string            `json:"address,omitempty"`
	Role      string            `json:"role"`
	RoutePort int               `json:"route_port,omitempty"`
	LeafPort  int               `json:"leaf_port,omitempty"`
	Labels    map[string]string `json:"labels"`
	Joined    time.Time         `json:"joined"`
	Revision  uint64            `json:"-"`
}

// NodeAnnounce is what a node says about itself every few seconds: it
// expires from the store when the node stops saying it.
type NodeAnnounce struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Version string    `json:"version"`
	Address string    `json:"address,omitempty"`
	Role    string    `json:"role"`
	Plugins []string  `json:"plugins"` // concern=name
	Seen    time.Time `json:"seen"`
	// Applied is the last revision of the desired state the node went
	// through; Drift counts the objects placed on it that are not as
	// desired (failed, conflicting or not yet applied).
	Applied uint64 `json:"applied"`
	Drift   int    `json:"drift"`
	// UIDMin..UIDMax is the uid range the node's policy allows.
	UIDMin int `json:"uid_min,omitempty"`
	UIDMax int `json:"uid_max,omitempty"`
}

// Outcomes of an object on a node.
const (
	FleetOK       = "ok"       // the machine is as desired
	FleetRemoved  = "removed"  // the object is gone from the node (deleted, or no longer placed there)
	FleetError    = "error"    // applying failed; the agent retries
	FleetConflict = "conflict" // an account the fleet did not make holds the name: left untouched
	FleetClash    = "clash"    // the fleet's uid or gid is taken on this node by another account
	FleetNoAnswer = "no answer"
	FleetSkipped  = "skipped" // not placed on the node: nothing to do, no status written
)

// NodeStatus is one node's result for one object ("user/alice").
type NodeStatus struct {
	Node     string    `json:"node"`
	Object   string    `json:"object"`
	Revision uint64    `json:"revision"`
	Outcome  string    `json:"outcome"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
	TookMS   float64   `json:"took_ms"`
	// Unconfirmed marks a status WatchStatuses saw as its node published
	// it, before the store confirmed storing it.
	Unconfirmed bool `json:"-"`
}

// UserObject and GroupObject name objects in statuses.
func UserObject(name string) string  { return "user/" + name }
func GroupObject(name string) string { return "group/" + name }

// FleetInfo is this host's view of its fleet membership.
type FleetInfo struct {
	InFleet  bool   `json:"in_fleet"`
	FleetID  string `json:"fleet_id,omitempty"`
	Node     string `json:"node"`
	NodeID   string `json:"node_id"`
	Role     string `json:"role,omitempty"`
	Address  string `json:"address,omitempty"`
	Replicas int    `json:"replicas,omitempty"`
	// Ports of the embedded NATS server (0 with an external one).
	ClientPort int `json:"client_port,omitempty"`
	RoutePort  int `json:"route_port,omitempty"`
	LeafPort   int `json:"leaf_port,omitempty"`
	// Store says whether the replicated store answers, and if not why.
	Store string `json:"store,omitempty"`
	// JoinCommand is what the other nodes run to join (fleet-init's
	// answer, and fleet-status's).
	JoinCommand string `json:"join_command,omitempty"`
	// ClientNkey is the public nkey the host connects with: what an
	// external NATS cluster's authorization must list.
	ClientNkey string `json:"client_nkey,omitempty"`
}

// FleetInitSpec is fleet-init's request. Secret is SECRET_CODESCALERS: it
// never leaves the host it is given to and is never stored (the host keeps
// what is derived from it, in its encrypted state).
type FleetInitSpec struct {
	Secret   string
	Replicas int    // replica nodes wanted, 3..5 (default 3)
	NATSURL  string // an external NATS cluster instead of the embedded one
}

// FleetJoinSpec is fleet-join's request: the address of any node of the
// fleet (its leaf port: host:port), or an external NATS URL.
type FleetJoinSpec struct {
	Secret  string
	Address string
	NATSURL string
	Labels  map[string]string
}

// FleetRequest is a question put to every node at once (sessions are not
// desired state: they are asked for, with a deadline).
type FleetRequest struct {
	Op      string `json:"op"` // "sessions.list" or "sessions.kill"
	User    string `json:"user,omitempty"`
	Session string `json:"session,omitempty"`
}

// FleetReply is one node's answer to a FleetRequest.
type FleetReply struct {
	Node     string    `json:"node"`
	Sessions []Session `json:"sessions,omitempty"`
	Killed   int       `json:"killed,omitempty"`
	Error    string    `json:"error,omitempty"`
	TookMS   float64   `json:"took_ms"`
}

// FleetBackend is the fleet's replicated store and messaging as core
// needs them; host/fleet implements it on NATS JetStream. Every method but
// Info, Init and Join answers FailedPrecondition when the host is not in
// a fleet, and Unavailable when the store cannot be reached.
type FleetBackend interface {
	Info(ctx context.Context) FleetInfo
	Init(ctx context.Context, spec FleetInitSpec) (FleetInfo, error)
	Join(ctx context.Context, spec FleetJoinSpec) (FleetInfo, error)

	// User and Group read one desired record (NotFound when absent);
	// Users and Groups read them all, tombstones included.
	User(ctx context.Context, name string) (FleetUser, error)
	Users(ctx context.Context) ([]FleetUser, error)
	Group(ctx context.Context, name string) (FleetGroup, error)
	Groups(ctx context.Context) ([]FleetGroup, error)
	// PutUser and PutGroup write a record if its revision is still prev
	// (0: the key must be absent or a tombstone). A lost race is
	// AlreadyExists (create) or FailedPrecondition (update). They return
	// the new revision.
	PutUser(ctx context.Context, u FleetUser, prev uint64) (uint64, error)
	PutGroup(ctx context.Context, g FleetGroup, prev uint64) (uint64, error)
	// AllocID reserves a uid ("uid") or gid ("gid") for owner, unique in
	// the fleet, within every node's policy range, and in use on no node
	// (want > 0 asks for that id, AlreadyExists when it is taken); an id
	// owner already holds is given again.
	AllocID(ctx context.Context, kind, owner string, want int) (int, error)
	// ReleaseID frees what AllocID reserved for owner.
	ReleaseID(ctx context.Context, kind string, id int, owner string) error

	Members(ctx context.Context) ([]Member, error)
	PutMember(ctx context.Context, m Member, prev uint64) (uint64, error)
	RemoveMember(ctx context.Context, name string) error
	Announcements(ctx context.Context) (map[string]NodeAnnounce, error)
	// Statuses reads every node's status of one object ("" for all
	// objects), by node then object.
	Statuses(ctx context.Context, object string) ([]NodeStatus, error)
	// Status reads one node's status of object from the store's leader
	// (NotFound when it has none).
	Status(ctx context.Context, object, node string) (NodeStatus, error)
	// WatchStatuses follows object's statuses: it returns once they are
	// followed, so none written after it returns is missed, and sends them
	// (those already there too, maybe more than once) until ctx ends. A
	// status may come first Unconfirmed, as its node published it, and
	// again once stored.
	WatchStatuses(ctx context.Context, object string) (<-chan NodeStatus, error)
	// Ask puts req to every live node and gathers the replies until all
	// of nodes answered or timeout passed.
	Ask(ctx context.Context, req FleetRequest, nodes []string, timeout time.Duration) ([]FleetReply, error)
	// NewKeypair makes a user's ed25519 keypair: the authorized_keys line
	// and the OpenSSH private key file.
	NewKeypair(comment string) (public, private string, err error)
}

// WithFleet sets the fleet backend; without one the fleet use cases answer
// FailedPrecondition and the host is a single node, exactly as before.
func WithFleet(f FleetBackend) Option { return func(s *Service) { s.fleet = f } }

// errNoFleet is the answer of a fleet call on a host without a backend.
func errNoFleet() error {
	return Errorf(FailedPrecondition, "this host is not in a fleet: run fleet-init on the first node, fleet-join on the others")
}

// needFleet returns the backend, or errNoFleet.
func (s *Service) needFleet(ctx context.Context) (FleetBackend, error) {
	if s.fleet == nil || !s.fleet.Info(ctx).InFleet {
		return nil, errNoFleet()
	}
	return s.fleet, nil
}
