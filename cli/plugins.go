package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// pluginApproveCmd approves a changed plugin binary: after an upgrade the
// host refuses the new binary until an admin says it is the one.
type pluginApproveCmd struct {
	Concern []string `arg:"" help:"The concerns to approve: accounts, volumes, acl, sshkeys, sessions."`
}

func (a *pluginApproveCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	for _, concern := range a.Concern {
		if err := c.PluginApprove(rt.ctx, concern); err != nil {
			return err
		}
		fmt.Fprintf(rt.env.Stdout, "approved %s\n", concern)
	}
	return nil
}

// pluginCheckCmd runs the conformance kit against any plugin binary; the
// kit is server code, so hero_codescalers hands over to
// hero_codescalers_server.
type pluginCheckCmd struct {
	Path        string        `arg:"" type:"path" help:"The plugin binary."`
	Destructive bool          `help:"Also create and delete a throwaway account (ptest-…): only on a machine you can spare, as root."`
	Scratch     string        `type:"path" placeholder:"DIR" help:"Directory for the volumes, acl and sshkeys checks (a temporary one by default)."`
	Keep        []string      `type:"path" placeholder:"PATH" help:"A path the plugin must still see in its sandbox (run as root, /home, /root and /tmp are empty there): a socket directory its environment points it at. Repeatable."`
	Timeout     time.Duration `default:"10s" help:"Bound of each step."`
}

func (p *pluginCheckCmd) Run(rt *runCtx) error {
	if rt.srv == nil {
		return rt.handOver()
	}
	rep, err := rt.srv.CheckPlugin(rt.ctx, PluginCheck{
		Path: p.Path, Destructive: p.Destructive, Scratch: p.Scratch, Keep: p.Keep, Timeout: p.Timeout,
	})
	if err != nil {
		return failf("plugin check: %v", err)
	}
	if err := rt.emit(rep.Report, func(w io.Writer) {
		fmt.Fprintf(w, "%s %s (%s)\n", rep.Name, rep.Version, filepath.Base(rep.Binary))
		row(w, "CHECK", "RESULT", "REASON")
		for _, r := range rep.Results {
			row(w, r.Name, r.Status, r.Reason)
		}
	}); err != nil {
		return err
	}
	if !rep.Passed {
		return failf("%s does not pass the conformance kit", p.Path)
	}
	return nil
}

// setupCmd groups the one-time machine set-up.
type setupCmd struct {
	Driver setupDriverCmd `cmd:"" help:"Create the driver account, the digest-pinned /etc/sudoers.d/hero_codescalers and the policy /etc/hero_codescalers/policy.toml (root); --check reports whether they are in place."`
}

// setupDriverCmd prepares a machine for an unprivileged host; like plugin
// check, hero_codescalers hands it over to hero_codescalers_server. The
// global --home-root is the policy's home root.
type setupDriverCmd struct {
	User          string   `default:"driver" help:"The account the host runs as."`
	Home          string   `placeholder:"DIR" help:"The account's home when setup creates it: an absolute path (default /var/lib/hero_codescalers, the system host's state dir). An existing account keeps its own."`
	MarkerGroup   string   `placeholder:"GROUP" help:"The policy's marker group: the group every managed account is in (default codescalers)."`
	AllowGroup    []string `placeholder:"GROUP" help:"An existing group managed users may join, besides those group-create makes (repeatable; written into a new policy)."`
	RewritePolicy bool     `help:"Replace an existing policy (by default it is kept: an admin may have edited it)."`
	Check         bool     `help:"Change nothing: report whether the account, the sudoers rules (pinning the plugins installed now), the policy and the managed-groups record are in place; exit 1 when not, with the fix of each finding."`
}

func (s *setupDriverCmd) Run(rt *runCtx) error {
	if os.Geteuid() != 0 && !s.Check {
		return failf("setup driver writes /etc/sudoers.d and /etc/hero_codescalers and creates an account: run it as root")
	}
	dirs, err := rt.pluginDirs()
	if err != nil {
		return err
	}
	if rt.srv == nil {
		return rt.handOver()
	}
	req := DriverSetup{User: s.User, Home: s.Home, PluginDirs: dirs, Out: rt.env.Stdout, MarkerGroup: s.MarkerGroup,
		AllowGroups: s.AllowGroup, RewritePolicy: s.RewritePolicy, Check: s.Check}
	if rt.g.HomeRoot != "" {
		req.HomeRoots = []string{rt.g.HomeRoot}
	}
	if err := rt.srv.SetupDriver(rt.ctx, req); err != nil {
		return failf("setup driver: %v", err)
	}
	return nil
}
