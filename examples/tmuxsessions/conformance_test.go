package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
)

// TestPluginPassesConformance builds the plugin and runs the conformance
// kit on the binary, as the host would start it.
func TestPluginPassesConformance(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tmuxsessions")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	plugintest.Run(t, bin, plugintest.Options{})
}
