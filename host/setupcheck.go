package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// setupChecker is what the Overview's yellow banner shows: whether the
// machine is set up the way `hero_codescalers setup driver` leaves it —
// the driver's sudoers file, the plugins' policy file, and a sudoers rule
// pinning each running plugin at its current digest. It is the seam where
// `setup driver --check` (host/setup) takes over once it lands: the
// dashboard only sees a func returning the problems and the fix.
type setupChecker struct {
	root    string // "/" on a machine; a scratch root in tests
	plugins func() []core.PluginInfo
	fix     string

	mu     sync.Mutex
	cached []string
	at     time.Time
}

// setupCacheFor keeps a verdict for a few seconds: the Overview reads it
// on every render and live refresh.
const setupCacheFor = 10 * time.Second

func newSetupChecker(root string, plugins func() []core.PluginInfo, pluginDirs []string) *setupChecker {
	fix := "hero_codescalers setup driver"
	for _, d := range pluginDirs {
		fix += " --plugin-dir " + d
	}
	return &setupChecker{root: root, plugins: plugins, fix: fix}
}

// Check returns the problems found (cached for setupCacheFor) and the
// command that fixes them.
func (c *setupChecker) Check(ctx context.Context) (problems []string, fix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= setupCacheFor {
		c.cached, c.at = c.problems(), time.Now()
	}
	return c.cached, c.fix
}

// pinRE reads a rule of the sudoers file setup driver writes:
// `driver ALL=(root) NOPASSWD: sha256:HEX /path/to/plugin ""`.
var pinRE = regexp.MustCompile(`(?m)NOPASSWD:\s*sha256:([0-9a-f]{64})\s+(/\S+)\s+""\s*$`)

func (c *setupChecker) problems() []string {
	var out []string
	sudoers := filepath.Join(c.root, setup.SudoersFile)
	text, err := os.ReadFile(sudoers)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		out = append(out, "The driver's sudoers file "+sudoers+" is missing: the host cannot run unprivileged.")
	case err == nil:
		out = append(out, c.unpinned(string(text), sudoers)...)
	} // unreadable (a host not run as root): its rules are not ours to read
	pol := filepath.Join(c.root, strings.TrimPrefix(policy.Path, "/"))
	if _, err := os.Stat(pol); errors.Is(err, fs.ErrNotExist) {
		out = append(out, "The plugins' policy "+pol+" is missing: plugins run on built-in defaults.")
	}
	return out
}

// unpinned lists the running plugins the sudoers file does not pin at
// their current digest (an upgrade since setup driver ran).
func (c *setupChecker) unpinned(text, sudoers string) []string {
	pinned := map[string]string{}
	for _, m := range pinRE.FindAllStringSubmatch(text, -1) {
		pinned[m[2]] = m[1]
	}
	var out []string
	if c.plugins == nil {
		return nil
	}
	for _, p := range c.plugins() {
		if p.Path == "" || p.SHA256 == "" {
			continue
		}
		if got, ok := pinned[p.Path]; !ok || got != p.SHA256 {
			out = append(out, sudoers+" does not pin "+p.Path+" ("+p.Concern+") at its current digest sha256:"+p.SHA256[:12]+"…")
		}
	}
	return out
}
