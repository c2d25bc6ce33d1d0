package sdk

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// ManifestSchema is the manifest format version this sdk writes and reads.
const ManifestSchema = 1

// ManifestSuffix is appended to a plugin binary's path to find its
// manifest: bin/plugins/shadow → bin/plugins/shadow.manifest.json.
const ManifestSuffix = ".manifest.json"

// maxManifest bounds what ReadManifest reads.
const maxManifest = 64 << 10

var pluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Manifest is the static description beside each plugin binary: what it
// serves and where it fits, readable without running it, so the host can
// choose plugins before starting any. `<plugin> describe` prints the same.
type Manifest struct {
	Schema      int               `json:"schema"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Concerns    []string          `json:"concerns"`
	APIVersions []string          `json:"api_versions"`
	Supports    identity.Supports `json:"supports"`
	// Roots are the directories outside the homes the plugin keeps state
	// in, which the policy must grant it (identity.Info.Roots).
	Roots []string `json:"roots,omitempty"`
}

// Info returns the identity the manifest promises.
func (m Manifest) Info() identity.Info {
	return identity.Info{Name: m.Name, Version: m.Version, Concerns: m.Concerns,
		APIVersions: m.APIVersions, Supports: m.Supports, Roots: m.Roots}
}

// ManifestFromInfo builds a manifest from a plugin's identity.
func ManifestFromInfo(info identity.Info) Manifest {
	return Manifest{Schema: ManifestSchema, Name: info.Name, Version: info.Version,
		Concerns: info.Concerns, APIVersions: info.APIVersions, Supports: info.Supports, Roots: info.Roots}
}

// Serves reports whether the manifest lists concern.
func (m Manifest) Serves(concern string) bool { return slices.Contains(m.Concerns, concern) }

// Validate checks the schema, the name, and that every concern is known and
// listed once with its API version.
func (m Manifest) Validate() error {
	if m.Schema != ManifestSchema {
		return fmt.Errorf("manifest schema %d, want %d", m.Schema, ManifestSchema)
	}
	if !pluginNameRE.MatchString(m.Name) {
		return fmt.Errorf("manifest name %q must match %s", m.Name, pluginNameRE)
	}
	if len(m.Concerns) == 0 {
		return fmt.Errorf("manifest of %q lists no concerns", m.Name)
	}
	for i, c := range m.Concerns {
		d, ok := Lookup(c)
		if !ok {
			return fmt.Errorf("manifest of %q: unknown concern %q", m.Name, c)
		}
		if slices.Contains(m.Concerns[:i], c) {
			return fmt.Errorf("manifest of %q lists %q twice", m.Name, c)
		}
		if _, ok := d.Speaks(m.APIVersions); !ok {
			return fmt.Errorf("manifest of %q serves %q but none of its APIs %s", m.Name, c, strings.Join(d.APIs(), ", "))
		}
	}
	for _, r := range m.Roots {
		if !filepath.IsAbs(r) || filepath.Clean(r) != r || r == "/" {
			return fmt.Errorf("manifest of %q: root %q must be an absolute, clean path other than /", m.Name, r)
		}
	}
	for _, c := range m.Supports.Config {
		if !filepath.IsAbs(c.File) || c.Key == "" || c.Value == "" {
			return fmt.Errorf("manifest of %q: config match %+v needs an absolute file, a key and a value", m.Name, c)
		}
	}
	return nil
}

// versionRE is what the host can order (host/plugins.CompareVersions):
// semantic versions, "v" allowed, pre-release and build metadata too.
var versionRE = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// CheckVersion says whether v is a version the host can rank plugins by:
// semantic, like 1.4.2, 2.0.0-rc1 or 0.3.0+3f2a1c. A plugin stamps it at
// build (go build -ldflags "-X main.version=..."); the kit fails one the
// host could only order as text.
func CheckVersion(v string) error {
	if !versionRE.MatchString(v) {
		return fmt.Errorf("version %q is not a semantic version (like 1.4.2 or 0.3.0-rc1+3f2a1c): the host could not rank the plugin by it", v)
	}
	return nil
}

// ManifestPath is where the manifest of the binary at path lives.
func ManifestPath(binary string) string { return binary + ManifestSuffix }

// ReadManifest reads and validates the manifest beside binary.
func ReadManifest(binary string) (Manifest, error) {
	f, err := os.Open(ManifestPath(binary))
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	return DecodeManifest(io.LimitReader(f, maxManifest))
}

// DecodeManifest parses and validates a manifest, refusing unknown fields
// so a typo is not silently ignored.
func DecodeManifest(r io.Reader) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("decode manifest: %w", err)
	}
	return m, m.Validate()
}

// WriteManifest writes m beside binary atomically (temp file, fsync,
// rename), mode 0644.
func WriteManifest(binary string, m Manifest) error {
	if err := m.Validate(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := ManifestPath(binary)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".manifest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
