// Package cgroupfs is the built-in limits plugin for machines where
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
package cgroupfs

import (
	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
)

// Main serves the plugin and never returns: the multi-call binary
// (plugins/hero_codescalers_plugins) calls it when run by this plugin's
// name, with the version stamped into it at build.
func Main(version string) {
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
