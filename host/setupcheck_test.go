package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestSetupCheck: the yellow banner's check names a missing sudoers file,
// a missing policy, and a running plugin the sudoers file does not pin at
// its current digest; a machine set up as setup driver leaves it has none.
func TestSetupCheck(t *testing.T) {
	root := t.TempDir()
	sum := strings.Repeat("a1", 32)
	plugins := []core.PluginInfo{{Concern: "accounts", Path: "/usr/lib/hero_codescalers/plugins/shadow", SHA256: sum}}
	chk := newSetupChecker(root, func() []core.PluginInfo { return plugins }, []string{"/opt/p"})
	problems, fix := chk.Check(context.Background())
	if len(problems) != 2 || !strings.Contains(problems[0], "sudoers") || !strings.Contains(problems[1], "policy.toml") {
		t.Fatalf("bare machine: %q", problems)
	}
	if fix != "hero_codescalers setup driver --plugin-dir /opt/p" {
		t.Errorf("fix %q", fix)
	}
	os.MkdirAll(filepath.Join(root, "etc/sudoers.d"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc/hero_codescalers"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/hero_codescalers/policy.toml"), nil, 0o644)
	rule := "driver ALL=(root) NOPASSWD: sha256:" + strings.Repeat("b2", 32) + " /usr/lib/hero_codescalers/plugins/shadow \"\"\n"
	os.WriteFile(filepath.Join(root, "etc/sudoers.d/hero_codescalers"), []byte(rule), 0o440)
	chk = newSetupChecker(root, func() []core.PluginInfo { return plugins }, nil)
	if problems, _ := chk.Check(context.Background()); len(problems) != 1 || !strings.Contains(problems[0], "does not pin /usr/lib/hero_codescalers/plugins/shadow") {
		t.Fatalf("stale digest: %q", problems)
	}
	os.WriteFile(filepath.Join(root, "etc/sudoers.d/hero_codescalers"), []byte(strings.ReplaceAll(rule, strings.Repeat("b2", 32), sum)), 0o440)
	chk = newSetupChecker(root, func() []core.PluginInfo { return plugins }, nil)
	if problems, _ := chk.Check(context.Background()); len(problems) != 0 {
		t.Fatalf("set-up machine: %q", problems)
	}
}
