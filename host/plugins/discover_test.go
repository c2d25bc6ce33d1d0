package plugins_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// fakeBinary writes an executable stand-in (discovery never runs it) and,
// unless manifest is false, a manifest for it.
func fakeBinary(t *testing.T, dir, name string, manifest bool) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if manifest {
		m := sdk.Manifest{Schema: sdk.ManifestSchema, Name: name, Version: "1.0.0",
			Concerns: []string{"accounts"}, APIVersions: []string{"identity.v1", "accounts.v1"}}
		m.Supports.Generic = true
		data, _ := json.Marshal(m)
		if err := os.WriteFile(sdk.ManifestPath(path), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func discover(t *testing.T, dirs ...string) ([]string, map[string]string, *logBook) {
	t.Helper()
	log := newLogBook()
	cands, refused := plugins.Discover(dirs, slog.New(log))
	var found []string
	for _, c := range cands {
		found = append(found, c.Name())
	}
	why := map[string]string{}
	for _, r := range refused {
		why[filepath.Base(r.Path)] = r.Reason
	}
	return found, why, log
}

func TestDiscover(t *testing.T) {
	dir := pluginDir(t)
	fakeBinary(t, dir, "good", true)
	fakeBinary(t, dir, "nomanifest", false)
	os.Chmod(fakeBinary(t, dir, "worldw", true), 0o757)
	gw := fakeBinary(t, dir, "groupw", true)
	os.Chmod(gw, 0o775)
	os.Chown(gw, os.Geteuid(), 4) // a non-root group (adm on Debian)
	rootgw := fakeBinary(t, dir, "rootgroupw", true)
	os.Chmod(rootgw, 0o775)
	os.Chown(rootgw, os.Geteuid(), 0)
	os.Chmod(fakeBinary(t, dir, "noexec", true), 0o644)
	badManifest := fakeBinary(t, dir, "badmanifest", false)
	os.WriteFile(sdk.ManifestPath(badManifest), []byte(`{"schema":1,"name":"x","typo":1}`), 0o644)

	outside := t.TempDir()
	target := fakeBinary(t, outside, "escape", true)
	os.Symlink(target, filepath.Join(dir, "escape"))
	os.Symlink(sdk.ManifestPath(target), sdk.ManifestPath(filepath.Join(dir, "escape")))
	os.Symlink(filepath.Join(dir, "good"), filepath.Join(dir, "alias")) // inside: fine
	os.Symlink(sdk.ManifestPath(filepath.Join(dir, "good")), sdk.ManifestPath(filepath.Join(dir, "alias")))

	found, why, log := discover(t, dir)
	want := []string{"good", "rootgroupw"}
	if os.Geteuid() != 0 {
		want = []string{"good"} // chown to group 0 needs root
	}
	// "alias" resolves to good, whose name is taken: hidden, not refused.
	if !slices.Equal(found, want) {
		t.Errorf("found %v, want %v", found, want)
	}
	checks := map[string]string{
		"worldw":      "world-writable",
		"noexec":      "not executable",
		"badmanifest": "unknown field",
		"escape":      "symlink resolves outside the plugin dir",
	}
	if os.Geteuid() == 0 {
		checks["groupw"] = "writable by group 4"
	}
	for name, reason := range checks {
		if !strings.Contains(why[name], reason) {
			t.Errorf("%s: refused for %q, want %q", name, why[name], reason)
		}
	}
	if _, ok := why["nomanifest"]; ok {
		t.Error("a file without a manifest is no plugin, not a refused one")
	}
	if _, ok := log.find("not a plugin: no manifest", "nomanifest"); !ok {
		t.Error("no debug line for the file without a manifest")
	}
	if _, ok := log.find("plugin refused", "worldw", "world-writable"); !ok {
		t.Error("refusals are not logged with their reason")
	}
}

func TestDiscoverDirs(t *testing.T) {
	first, second := pluginDir(t), pluginDir(t)
	fakeBinary(t, first, "shadow", true)
	fakeBinary(t, second, "shadow", true)
	fakeBinary(t, second, "files", true)
	open := pluginDir(t)
	fakeBinary(t, open, "evil", true)
	os.Chmod(open, 0o777)
	found, why, _ := discover(t, first, filepath.Join(t.TempDir(), "missing"), second, open)
	if !slices.Equal(found, []string{"shadow", "files"}) {
		t.Errorf("found %v", found)
	}
	if !strings.Contains(why["plugins"], "plugin dir is world-writable") {
		t.Errorf("refusals %v", why)
	}
	cands, _ := plugins.Discover([]string{first, second}, nil)
	if cands[0].Path != filepath.Join(first, "shadow") {
		t.Errorf("the earlier dir must win: %s", cands[0].Path)
	}
}

func TestDefaultDirs(t *testing.T) {
	dirs := plugins.DefaultDirs("/opt/extra")
	exe, _ := os.Executable()
	if len(dirs) != 3 || dirs[0] != filepath.Join(filepath.Dir(exe), "plugins") ||
		dirs[1] != plugins.SystemDir || dirs[2] != "/opt/extra" {
		t.Errorf("%v", dirs)
	}
}

// TestDiscoverHardLinks: the built-in plugins are hard links of one
// multi-call binary; each link with a manifest is a plugin at its own path
// (what is run, by that name, and pinned), the binary's own name, without
// a manifest, none.
func TestDiscoverHardLinks(t *testing.T) {
	dir := pluginDir(t)
	multi := fakeBinary(t, dir, "hero_codescalers_plugins", false)
	for _, name := range []string{"files", "shadow"} {
		link := filepath.Join(dir, name)
		if err := os.Link(multi, link); err != nil {
			t.Fatal(err)
		}
		m := sdk.Manifest{Schema: sdk.ManifestSchema, Name: name, Version: "1.0.0",
			Concerns: []string{"accounts"}, APIVersions: []string{"identity.v1", "accounts.v1"}}
		data, _ := json.Marshal(m)
		if err := os.WriteFile(sdk.ManifestPath(link), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cands, refused := plugins.Discover([]string{dir}, slog.New(newLogBook()))
	if len(refused) != 0 || len(cands) != 2 {
		t.Fatalf("candidates %+v, refused %+v", cands, refused)
	}
	for _, c := range cands {
		if filepath.Base(c.Path) != c.Name() {
			t.Errorf("%s found at %s, want its own link", c.Name(), c.Path)
		}
	}
}
