// Command cgroupfs is the built-in limits plugin for machines where
// systemd does not run: it writes the cgroup filesystem itself — cpu.max
// and memory.max under <cgroup2>/hero_codescalers/user-UID on a unified
// (v2) machine, cpu.cfs_quota_us and memory.limit_in_bytes under each v1
// controller's hero_codescalers/user-UID on a legacy or hybrid one, which
// it tells apart from /proc/self/mountinfo — and puts each limited user's
// processes there (place.go). It acts only on the accounts its policy
// manages, and writes nowhere but beneath its own parent cgroups (and the
// cgroup.procs of a hierarchy's root, where a straggler goes back at
// Forget). Where systemd runs, its Probe says not ready and the host
// falls back to the systemd plugin.
package main

import (
	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// version is stamped at build: go build -ldflags "-X main.version=1.2.3"
// (make plugins stamps the release in VERSION). The host ranks plugins of
// a concern by it; a build without the stamp is a pre-release of 0.0.0.
var version = "0.0.0-dev"

func main() {
	var w *policy.Watch
	p, perr := policy.Load()
	if perr == nil {
		w = policy.NewWatch(p, "/etc")
	}
	c := New(Options{Mountinfo: "/proc/self/mountinfo", Proc: "/proc", Systemd: "/run/systemd/system"}, w, perr)
	sdk.Serve(sdk.Config{
		Name:     "cgroupfs",
		Version:  version,
		Supports: identity.Supports{Generic: true},
		Probe:    c.Probe,
		Limits:   c,
		OnStart: func(log hclog.Logger) {
			l := c.Layout()
			log.Info("cgroup layout", "version", l.Version(), "memory", l.Memory, "cpu", l.CPU, "v2", l.V2)
			c.Track(log, make(chan struct{}))
		},
	})
}
