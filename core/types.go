package core

import "time"

// UserState says whether a managed user can log in.
type UserState string

// The states of a managed user.
const (
	UserActive UserState = "active"
	UserLocked UserState = "locked"
)

// User is a developer account managed by hero_codescalers on a node. The
// forge token is never part of it: it lives only in the user's
// ~/hero/cfg/hero_cfg.toml.
type User struct {
	Name       string   `json:"name"`
	UID        int      `json:"uid"`
	GID        int      `json:"gid"`
	Shell      string   `json:"shell"`
	Home       string   `json:"home"`
	Groups     []string `json:"groups"`
	QuotaBytes int64    `json:"quota_bytes"`
	// Limits are the CPU and memory limits asked for (nil: none).
	Limits    *Limits   `json:"limits,omitempty"`
	SSHKeys   []string  `json:"ssh_keys"`
	PublicKey string    `json:"public_key"`
	State     UserState `json:"state"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// Fleet marks a user the fleet agent made from the fleet's desired
	// state: only a --fleet call changes it, never a local one.
	Fleet bool `json:"fleet,omitempty"`
	// Installed is what the machine has of the user, as its plugins say
	// (user.get only; never stored).
	Installed *Installed `json:"installed,omitempty"`
}

// Installed is what the plugins report of a user: the keys it may log in
// with, wherever the sshkeys plugin keeps them — the truth, where SSHKeys
// is what the host asked for.
type Installed struct {
	// Keys are the fingerprints the sshkeys plugin lists.
	Keys []string `json:"keys"`
	// Error says why the plugin could not be asked; Keys is then empty.
	Error string `json:"error,omitempty"`
	// Limits are what the limits plugin says the machine enforces (nil
	// where no plugin serves limits); LimitsError why it could not say.
	Limits      *Limits `json:"limits,omitempty"`
	LimitsError string  `json:"limits_error,omitempty"`
}

// Group is a named set of users; with the lifecycle it becomes a Linux
// group, optionally with a shared volume.
type Group struct {
	Name        string   `json:"name"`
	GID         int      `json:"gid,omitempty"`
	Description string   `json:"description,omitempty"`
	Members     []string `json:"members"`
	// Shared asks for (and then records) a shared volume at
	// <home root>/groups/NAME: owned by root and the group, mode 2770,
	// with default ACLs that keep what members create group-writable.
	Shared     bool      `json:"shared,omitempty"`
	QuotaBytes int64     `json:"quota_bytes,omitempty"` // the shared volume's limit; 0: none
	Volume     string    `json:"volume,omitempty"`      // the shared volume's path, set by GroupCreate
	Created    time.Time `json:"created"`
	// Fleet marks a group the fleet agent made (see User.Fleet).
	Fleet bool `json:"fleet,omitempty"`
}

// Node is a machine of the fleet: a name, the address its host is reached
// at, and labels that select which users it carries; in a fleet, also what
// its announcements say (FleetNodes).
type Node struct {
	Name    string            `json:"name"`
	Address string            `json:"address"`
	Labels  map[string]string `json:"labels"`
	Created time.Time         `json:"created"`
	// The fleet's view of the node.
	ID       string    `json:"id,omitempty"`
	Role     string    `json:"role,omitempty"`
	Version  string    `json:"version,omitempty"`
	Plugins  []string  `json:"plugins,omitempty"`
	LastSeen time.Time `json:"last_seen,omitzero"`
	// Live is set while the node's announcements arrive.
	Live bool `json:"live,omitempty"`
	// Applied is the last revision of the desired state the node went
	// through; Behind counts the desired changes since then, Drift the
	// objects placed on it that are not as desired. Converged is all three
	// in order: live, nothing behind, no drift.
	Applied   uint64 `json:"applied,omitempty"`
	Behind    int    `json:"behind,omitempty"`
	Drift     int    `json:"drift,omitempty"`
	Converged bool   `json:"converged,omitempty"`
}

// Admin is a person allowed to drive the fleet, identified by a Linux user
// and optionally a mycelium address.
type Admin struct {
	Name    string    `json:"name"`
	Address string    `json:"address,omitempty"`
	Created time.Time `json:"created"`
}

// Outcome is how a recorded call ended.
type Outcome string

// The outcomes of an audited call.
const (
	OutcomeOK    Outcome = "ok"
	OutcomeError Outcome = "error"
)

// AuditEvent records one mutating call: who, what, on what, how it ended.
// Params are stored redacted: secrets never reach the audit log.
type AuditEvent struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	ActorUID int       `json:"actor_uid"`
	// Source is where the call came from when not rpc.sock: "admin.sock"
	// for the dashboard on its Unix socket, the peer's address for the
	// dashboard over TCP (whose ActorUID is -1: no uid crosses TCP).
	Source     string        `json:"source,omitempty"`
	Method     string        `json:"method"`
	Target     string        `json:"target,omitempty"`
	Outcome    Outcome       `json:"outcome"`
	Error      string        `json:"error,omitempty"`
	DurationMS float64       `json:"duration_ms"`
	Duration   time.Duration `json:"-"`
	// Count, when above zero, says this record stands for that many
	// refused calls of one peer to Method between Since and Time, folded
	// into one record so a flood of refusals cannot flood the log. A
	// successful or individually recorded call has no Count.
	Count int       `json:"count,omitempty"`
	Since time.Time `json:"since,omitzero"`
}

// Session is one login session of a user on this node.
type Session struct {
	ID         string    `json:"id"`
	User       string    `json:"user"`
	TTY        string    `json:"tty,omitempty"`
	RemoteHost string    `json:"remote_host,omitempty"`
	Started    time.Time `json:"started"`
	IdleSecs   int64     `json:"idle_secs"`
	PIDs       []int     `json:"pids"`
}

// PluginState is where a plugin is in its life.
type PluginState string

// The states of a plugin as the host sees it.
const (
	PluginStarting PluginState = "starting"
	PluginReady    PluginState = "ready"
	PluginNotReady PluginState = "not_ready"
	PluginCrashed  PluginState = "crashed"
	PluginRefused  PluginState = "refused"
	PluginStopped  PluginState = "stopped"
)

// PluginInfo describes a plugin the host runs for one concern.
type PluginInfo struct {
	Concern   string      `json:"concern"`
	Name      string      `json:"name"`
	Version   string      `json:"version"`
	Path      string      `json:"path"`
	PID       int         `json:"pid"`
	SHA256    string      `json:"sha256"`
	State     PluginState `json:"state"`
	Restarts  int         `json:"restarts"`
	LastError string      `json:"last_error,omitempty"`
	// Why says why this plugin was chosen ("pinned", "os id debian",
	// "generic"); PassedOver names the better-ranked plugins that were
	// not ready on this machine, and why, best first.
	Why        string   `json:"why,omitempty"`
	PassedOver []string `json:"passed_over,omitempty"`
}
