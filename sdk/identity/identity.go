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
}

// ProbeResult is a plugin's readiness.
type ProbeResult struct {
	Ready  bool
	Reason string
}
