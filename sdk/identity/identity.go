// Package identity is the contract every plugin serves besides its
// concerns: who it is, what it serves, on which machines it fits, and
// whether it is ready. sdk.Serve answers it from the plugin's Config; the
// host reads it to check a plugin against its manifest and to health-check
// it. It holds the Go interface, its types, Static and a fake; the go-plugin
// glue and the gRPC client and server adapters are in identity/identitygrpc.
package identity

import (
	"context"
)

// Name is the plugin-map key of the identity service.
const Name = "identity"

// APIVersion is the contract version this package speaks.
const APIVersion = "identity.v1"

// Identity is served by every plugin.
type Identity interface {
	GetInfo(ctx context.Context) (Info, error)
	// Probe says whether the plugin can do its work on this machine now
	// (its tools are present, the filesystem suits it), and why not.
	Probe(ctx context.Context) (ProbeResult, error)
}

// Info describes a plugin. The same fields make its manifest.
type Info struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Concerns    []string `json:"concerns"`
	APIVersions []string `json:"api_versions"`
	Supports    Supports `json:"supports"`
	// Roots are the directories outside the homes the plugin keeps state
	// in (authorizedkeysd: /etc/ssh/authorized_keys.d): the policy must
	// grant them ([roots]), and the conformance kit grants them in its
	// sandbox.
	Roots []string `json:"roots,omitempty"`
}

// Supports says on which machines a plugin fits. The host ranks an exact
// os-release ID above an ID_LIKE match above Generic.
type Supports struct {
	OSIDs     []string `json:"os_ids,omitempty"`      // os-release ID values: "debian"
	OSIDLikes []string `json:"os_id_likes,omitempty"` // os-release ID_LIKE values: "rhel"
	FSTypes   []string `json:"fs_types,omitempty"`    // statfs type names: "btrfs"
	Generic   bool     `json:"generic,omitempty"`     // fits any Linux
	// RequirePaths must all exist for the plugin to fit ("/run/systemd/system"
	// for logind); the host checks them without starting the plugin.
	RequirePaths []string `json:"require_paths,omitempty"`
	// Config are settings the machine's configuration must have for the
	// plugin to fit; a plugin that names any ranks above one that does
	// not, as a filesystem-specific one does (authorizedkeysd: sshd's
	// AuthorizedKeysFile naming /etc/ssh/authorized_keys.d/%u).
	Config []ConfigMatch `json:"config,omitempty"`
}

// ConfigMatch is one setting of a configuration file in sshd_config's
// syntax: a keyword, then its values. The host reads the file's global
// section (up to the first Match), follows Include, and takes the first
// occurrence of Key, as sshd does; it matches when Value is one of its
// values.
type ConfigMatch struct {
	File  string `json:"file"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ProbeResult is a plugin's readiness.
type ProbeResult struct {
	Ready  bool
	Reason string
}
