package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EVanishedDataDir: a data dir this host used before that is gone
// stops the next start with a clear error (exit 1) instead of a silent
// fresh state; another instance, never started before, still starts
// fresh; and --adopt is what the error offers (it needs the plugins, so
// here it is refused with why; the sandbox's integration test runs it).
func TestE2EVanishedDataDir(t *testing.T) {
	e := newE2E(t)
	_, paths := e.start()
	e.must(0, "stop")
	dataDir := paths["data_dir"].(string)
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	r := e.must(1, "--no-plugins", "--start")
	if !strings.Contains(r.stderr, "holds no state, but this host used it") || !strings.Contains(r.stderr, "--adopt") {
		t.Fatalf("start over a vanished data dir: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "badger")); !os.IsNotExist(err) {
		t.Fatal("the refused start made a fresh state")
	}
	markers, _ := filepath.Glob(filepath.Join(e.home, ".local", "state", "hero_codescalers", "data-dirs", "*"))
	if len(markers) != 1 {
		t.Fatalf("markers: %v", markers)
	}
	e.start("--instance", "2") // a new instance starts on a fresh state
	e.must(0, "--instance", "2", "stop")
	if r := e.must(1, "--no-plugins", "--adopt", "--start"); !strings.Contains(r.stderr, "cannot run with --no-plugins") {
		t.Fatalf("--adopt without plugins: %s", r.stderr)
	}
}

// TestE2EMissingKeyRegistry: a state that lost Badger's KEYREGISTRY is a
// clear error and exit 1 — Badger itself panicked on it.
func TestE2EMissingKeyRegistry(t *testing.T) {
	e := newE2E(t)
	_, paths := e.start()
	e.must(0, "node-add", "n1", "400::1") // something in the state
	e.must(0, "stop")
	if err := os.Remove(filepath.Join(paths["data_dir"].(string), "badger", "KEYREGISTRY")); err != nil {
		t.Fatal(err)
	}
	r := e.must(1, "--no-plugins", "--start")
	if !strings.Contains(r.stderr, "is damaged") || !strings.Contains(r.stderr, "KEYREGISTRY is missing") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("start without KEYREGISTRY: %s", r.stderr)
	}
}
