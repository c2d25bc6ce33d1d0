package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// newManager starts nothing yet; the -plugin pins apply to the built-ins
// only.
func newManager(dir string, store core.Store, noMTLS bool, log *slog.Logger) (*plugins.Manager, error) {
	var p map[string]string
	if dir != testDir {
		p = pins
	}
	return plugins.New(plugins.Options{Dirs: []string{dir}, Store: store, Logger: log, Pins: p,
		Mode: plugins.ModeDirect, NoMTLS: noMTLS, Platform: hostPlatform()})
}

// hostPlatform is this machine's platform, or a generic one when it cannot
// be read (a container without os-release).
func hostPlatform() *plugins.Platform {
	p, err := plugins.DetectPlatform("", "/home")
	if err != nil {
		return &plugins.Platform{ID: "linux", FSType: "ext4"}
	}
	return &p
}

// servesAll reports whether dir holds a plugin for every concern.
func servesAll(dir string, log *slog.Logger) bool {
	cands, _ := plugins.Discover([]string{dir}, log)
	picks, err := plugins.Select(cands, *hostPlatform(), pins)
	return err == nil && len(picks) == len(sdk.Concerns)
}

// startedManager is a running manager over dir, waited for.
func startedManager(dir string, noMTLS bool, log *slog.Logger) (*plugins.Manager, error) {
	m, err := newManager(dir, memstore.New(), noMTLS, log)
	if err != nil {
		return nil, err
	}
	if err := m.Start(); err != nil {
		return nil, err
	}
	_ = m.WaitReady(context.Background()) // only the probed plugins must answer
	return m, nil
}

// probeVia is a Probe of concern's plugin through m.
func probeVia(m *plugins.Manager, concern string) func() error {
	return func() error {
		_, err := m.Probe(context.Background(), concern)
		return err
	}
}

// pluginName is the plugin m runs for concern.
func pluginName(m *plugins.Manager, concern string) string {
	for _, i := range m.List() {
		if i.Concern == concern {
			return i.Name
		}
	}
	return concern
}

// startTimes times Start → WaitReady: the first start of a fresh lock
// (which hashes every binary to record it), then starts over that lock,
// as every later host start is. It also returns the last start's
// complaint, if some concern did not come up ready.
func startTimes(dir string, runs int, noMTLS bool, log *slog.Logger) ([]time.Duration, string, error) {
	store := memstore.New()
	var out []time.Duration
	var notReady string
	for range runs + 1 {
		m, err := newManager(dir, store, noMTLS, log)
		if err != nil {
			return nil, "", err
		}
		t0 := time.Now()
		if err := m.Start(); err != nil {
			return nil, "", err
		}
		notReady = ""
		if err := m.WaitReady(context.Background()); err != nil {
			notReady = err.Error()
		}
		out = append(out, time.Since(t0))
		m.Close()
	}
	return out, notReady, nil
}

// startTimesInTurn is startTimes (with AutoMTLS) for several dirs, each
// dir's start taken in turn with the others' so that all sample the same
// load; a lock of its own per dir.
func startTimesInTurn(dirs []string, runs int, log *slog.Logger) ([][]time.Duration, error) {
	stores := make([]*memstore.Store, len(dirs))
	for i := range stores {
		stores[i] = memstore.New()
	}
	out := make([][]time.Duration, len(dirs))
	for range runs + 1 {
		for i, dir := range dirs {
			m, err := newManager(dir, stores[i], false, log)
			if err != nil {
				return nil, err
			}
			t0 := time.Now()
			if err := m.Start(); err != nil {
				return nil, err
			}
			_ = m.WaitReady(context.Background())
			out[i] = append(out[i], time.Since(t0))
			m.Close()
		}
	}
	return out, nil
}

// testDir holds the test plugin copies.
var testDir string

// testPlugins builds the manager's test plugin and installs five
// single-concern copies of it in a temp dir.
func testPlugins() (string, func(), error) {
	tmp, err := os.MkdirTemp("", "bench-plugins-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := os.Chmod(tmp, 0o755); err != nil {
		cleanup()
		return "", nil, err
	}
	testDir = tmp
	bin := filepath.Join(tmp, "fakeplugin")
	build := exec.Command("go", "build", "-o", bin, "github.com/threefoldtech/hero_codescalers/host/plugins/internal/fakeplugin")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build the test plugin: %w", err)
	}
	for _, c := range sdk.Concerns {
		if err := installCopy(bin, filepath.Join(tmp, "bench-"+c)); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return tmp, cleanup, nil
}

// installCopy copies the test plugin to path and writes its manifest.
func installCopy(bin, path string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(path, "describe").Output()
	if err != nil {
		return fmt.Errorf("%s describe: %w", path, err)
	}
	return os.WriteFile(sdk.ManifestPath(path), out, 0o644)
}
