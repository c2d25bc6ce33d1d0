package plugins

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/sdk"
)

// SystemDir is the plugin dir of a packaged install.
const SystemDir = "/usr/lib/hero_codescalers/plugins"

// DefaultDirs is where the host looks for plugins, first match first:
// plugins/ beside the host's binary (hero_codescalers_server, which make
// build and make install put beside hero_codescalers), then SystemDir,
// then the --plugin-dir flags in their order.
func DefaultDirs(extra ...string) []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "plugins"))
	}
	return append(append(dirs, SystemDir), extra...)
}

// Candidate is a plugin found on disk: a safe executable with a valid
// manifest beside it.
type Candidate struct {
	// Path is the executable's absolute, symlink-free path: what is hashed,
	// executed, and named in the sudoers rule (sudo matches real paths).
	Path     string
	Dir      string // the plugin dir it was found in
	Manifest sdk.Manifest
	// order is the dir's position in the search list: earlier dirs win ties.
	order int
}

// Name is the plugin's name from its manifest.
func (c Candidate) Name() string { return c.Manifest.Name }

// Refusal is a file in a plugin dir that looks like a plugin but was
// refused, with the reason.
type Refusal struct {
	Path   string
	Reason string
}

// Discover lists the plugins in dirs. A file is a plugin when it is a
// regular executable with a `<file>.manifest.json` beside it. Files anyone
// but root (or the host's own user) could have changed are refused — world
// or group writable files, symlinks leading out of the dir, dirs writable by
// others — because the host runs them as root. A name found in an earlier
// dir hides the same name in later ones, as with $PATH. Missing dirs are
// skipped.
func Discover(dirs []string, log *slog.Logger) ([]Candidate, []Refusal) {
	if log == nil {
		log = slog.Default()
	}
	var cands []Candidate
	var refused []Refusal
	seen := map[string]string{}
	for order, dir := range dirs {
		found, ref := discoverDir(dir, order, log)
		refused = append(refused, ref...)
		for _, c := range found {
			if prev, dup := seen[c.Name()]; dup {
				log.Debug("plugin hidden by an earlier dir", "plugin", c.Name(), "path", c.Path, "used", prev)
				continue
			}
			seen[c.Name()] = c.Path
			cands = append(cands, c)
		}
	}
	for _, r := range refused {
		log.Warn("plugin refused", "path", r.Path, "reason", r.Reason)
	}
	return cands, refused
}

func discoverDir(dir string, order int, log *slog.Logger) ([]Candidate, []Refusal) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			log.Debug("plugin dir missing", "dir", dir)
			return nil, nil
		}
		return nil, []Refusal{{Path: dir, Reason: err.Error()}}
	}
	if reason := unsafeMode(abs); reason != "" {
		return nil, []Refusal{{Path: dir, Reason: "plugin dir " + reason}}
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, []Refusal{{Path: dir, Reason: err.Error()}}
	}
	var cands []Candidate
	var refused []Refusal
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, sdk.ManifestSuffix) {
			continue
		}
		c, reason := inspect(abs, name, log)
		switch {
		case reason != "":
			refused = append(refused, Refusal{Path: filepath.Join(abs, name), Reason: reason})
		case c != nil:
			c.order = order
			cands = append(cands, *c)
		}
	}
	return cands, refused
}

// inspect checks one dir entry. It returns nil and no reason for files that
// are not plugins at all (no manifest, not executable).
func inspect(dir, name string, log *slog.Logger) (*Candidate, string) {
	entry := filepath.Join(dir, name)
	if _, err := os.Lstat(sdk.ManifestPath(entry)); err != nil {
		log.Debug("not a plugin: no manifest", "path", entry)
		return nil, ""
	}
	real, err := filepath.EvalSymlinks(entry)
	if err != nil {
		return nil, err.Error()
	}
	if filepath.Dir(real) != dir {
		return nil, "symlink resolves outside the plugin dir, to " + real
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err.Error()
	}
	if !fi.Mode().IsRegular() {
		return nil, "not a regular file"
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return nil, "not executable"
	}
	if reason := unsafeMode(real); reason != "" {
		return nil, reason
	}
	if reason := unsafeMode(sdk.ManifestPath(entry)); reason != "" {
		return nil, "manifest " + reason
	}
	m, err := sdk.ReadManifest(entry)
	if err != nil {
		return nil, "manifest: " + err.Error()
	}
	return &Candidate{Path: real, Dir: dir, Manifest: m}, ""
}

// unsafeMode says why a path could have been changed by someone other
// than root or the host's own user, or "" when it could not. A sticky
// world-writable dir (like /tmp) is as unsafe as any for a plugin dir.
func unsafeMode(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "cannot read owner"
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o002 != 0:
		return fmt.Sprintf("is world-writable (mode %04o)", perm)
	case perm&0o020 != 0 && st.Gid != 0:
		return fmt.Sprintf("is writable by group %d (mode %04o)", st.Gid, perm)
	case st.Uid != 0 && int(st.Uid) != os.Geteuid():
		return fmt.Sprintf("is owned by uid %d, neither root nor this host's user", st.Uid)
	}
	return ""
}

// names lists candidate names for error messages.
func names(cands []Candidate) []string {
	out := make([]string, 0, len(cands))
	for _, c := range cands {
		out = append(out, c.Name())
	}
	slices.Sort(out)
	return out
}
