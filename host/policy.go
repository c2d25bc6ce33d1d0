package host

import (
	"log/slog"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// userConfig is the per-user layout the use cases follow: the host's home
// root, and from the root-owned policy (policy.Load: the file, or its
// built-in defaults) the marker group, the driver account, the uid range
// and the groups a managed user may join by name. The host reads the
// policy only to give good errors early; the plugins read it themselves
// and are the fence, so nothing here can widen it.
func userConfig(cfg Config, log *slog.Logger) core.UserConfig {
	p, err := policy.Load()
	if err != nil {
		log.Warn("the policy is unusable: the plugins refuse to serve until it is fixed (hero_codescalers setup driver --check)",
			"policy", policy.Path, "err", err)
		p = policy.Defaults("/etc")
	}
	home := cfg.HomeRoot
	if home == "" {
		home = core.DefaultHomeRoot
	}
	if _, ok := policy.Beneath(p.HomeRoots, home); !ok {
		log.Warn("the home root is not beneath the policy's home roots: the plugins will refuse its homes",
			"home_root", home, "policy_home_roots", p.HomeRoots, "policy", p.Source)
	}
	return core.UserConfig{
		HomeRoot:      cfg.HomeRoot,
		MarkerGroup:   p.MarkerGroup,
		DriverUser:    p.Driver,
		UIDs:          core.UIDRange{Min: int(p.UIDMin), Max: int(p.UIDMax)},
		AllowedGroups: p.Groups,
		PolicySource:  p.Source,
	}
}
