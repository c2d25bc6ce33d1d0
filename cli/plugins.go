package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/host/setup"
	"github.com/threefoldtech/hero_codescalers/sdk/plugintest"
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

// pluginCheckCmd runs the conformance kit against any plugin binary.
type pluginCheckCmd struct {
	Path        string        `arg:"" type:"path" help:"The plugin binary."`
	Destructive bool          `help:"Also create and delete a throwaway account (ptest-…): only on a machine you can spare, as root."`
	Scratch     string        `type:"path" placeholder:"DIR" help:"Directory for the volumes, acl and sshkeys checks (a temporary one by default)."`
	Timeout     time.Duration `default:"10s" help:"Bound of each step."`
}

func (p *pluginCheckCmd) Run(rt *runCtx) error {
	rep, err := plugintest.Check(rt.ctx, p.Path, plugintest.Options{
		ScratchDir: p.Scratch, Destructive: p.Destructive, Timeout: p.Timeout,
	})
	if err != nil {
		return failf("plugin check: %v", err)
	}
	if err := rt.emit(rep, func(w io.Writer) {
		fmt.Fprintf(w, "%s %s (%s)\n", rep.Info.Name, rep.Info.Version, filepath.Base(rep.Binary))
		row(w, "CHECK", "RESULT", "REASON")
		for _, r := range rep.Results {
			row(w, r.Name, string(r.Status), r.Reason)
		}
	}); err != nil {
		return err
	}
	if !rep.Passed() {
		return failf("%s does not pass the conformance kit", p.Path)
	}
	return nil
}

// setupCmd groups the one-time machine set-up.
type setupCmd struct {
	Driver setupDriverCmd `cmd:"" help:"Create the driver account and the digest-pinned /etc/sudoers.d/hero_codescalers (root)."`
}

// setupDriverCmd prepares a machine for an unprivileged host.
type setupDriverCmd struct {
	User string `default:"driver" help:"The account the host runs as."`
}

func (s *setupDriverCmd) Run(rt *runCtx) error {
	if os.Geteuid() != 0 {
		return failf("setup driver writes /etc/sudoers.d and creates an account: run it as root")
	}
	dirs, err := rt.pluginDirs()
	if err != nil {
		return err
	}
	if _, err := setup.Driver(setup.Options{User: s.User, Dirs: plugins.DefaultDirs(dirs...), Out: rt.env.Stdout}); err != nil {
		return failf("setup driver: %v", err)
	}
	return nil
}
