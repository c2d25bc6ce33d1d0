package plugintest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/concern"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// runCheck runs one of a concern's conformance checks against the plugin's
// client of the concern, in a fresh directory of the scratch directory.
func (k *kit) runCheck(ctx context.Context, d *concern.Descriptor, c conformance.Check) error {
	raw, err := k.rpc.Dispense(d.Name)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(k.opts.ScratchDir, c.Name+"-"+d.Name+"-")
	if err != nil {
		return err
	}
	// The check's files may be the managed owner's; its directory must
	// let the plugin, and that owner, through.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return c.Run(ctx, k.env(dir, d.Name), raw)
}

// env is what the kit gives one check.
func (k *kit) env(dir, concern string) *conformance.Env {
	return &conformance.Env{
		Dir:         dir,
		Owner:       conformance.Owner{UID: k.owner.uid, GID: k.owner.gid, Name: k.owner.name},
		Destructive: k.opts.Destructive,
		Ready:       k.ready,
		Timeout:     k.opts.Timeout,
		Outside:     func() (string, error) { return k.outsideDir(concern) },
		State:       k.state,
		Baseline:    k.baseline,
		Scratch:     k.opts.ScratchDir,
	}
}

// dispense checks that the plugin serves exactly the concerns it lists:
// one harmless call of each, which a concern it does not serve answers
// Unimplemented.
func (k *kit) dispense(ctx context.Context) error {
	var problems []string
	for _, d := range sdk.Registry {
		raw, err := k.rpc.Dispense(d.Name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("dispense %s: %v", d.Name, err))
			continue
		}
		cctx, cancel := k.call(ctx)
		err = d.Probe(cctx, raw)
		cancel()
		listed := slices.Contains(k.info.Concerns, d.Name)
		served := !sdkerr.Is(err, sdkerr.Unimplemented)
		switch {
		case listed && !served:
			problems = append(problems, fmt.Sprintf("lists %s but does not serve it: %v", d.Name, err))
		case !listed && served:
			problems = append(problems, fmt.Sprintf("serves %s but does not list it", d.Name))
		}
	}
	return conformance.Problems(problems)
}

// outsideDir is a fresh directory beneath none of the plugin's roots: in
// the sandbox's outside directory, or next to the scratch directory when
// there is no sandbox (the machine's policy does not reach /tmp).
func (k *kit) outsideDir(concern string) (string, error) {
	base := ""
	if k.sandbox != nil {
		base = k.sandbox.outside
	}
	dir, err := os.MkdirTemp(base, "ptest-outside-"+concern+"-")
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}

// stateDirs are where a plugin in the sandbox may keep state, as it sees
// them: its scratch /etc and the tmpfs that cover the machine's homes and
// temporary directories (read through /proc/PID/root, the plugin's own
// view of its mount namespace).
var stateDirs = []string{"/etc", "/home", "/root", "/tmp", "/var/tmp"}

// state snapshots every place the kit can see where the plugin may keep
// per-user state: the scratch directory, and in the sandbox the plugin's
// view of stateDirs, keyed by the paths the plugin sees.
func (k *kit) state() (conformance.Snapshot, error) {
	snap, err := conformance.SnapshotDir(k.opts.ScratchDir, k.opts.ScratchDir)
	if err != nil || k.sandbox == nil || k.runner == nil || k.runner.cmd.Process == nil {
		return snap, err
	}
	root := fmt.Sprintf("/proc/%d/root", k.runner.cmd.Process.Pid)
	for _, d := range stateDirs {
		if err := snap.Add(root+d, d); err != nil && !strings.Contains(err.Error(), "permission denied") {
			return nil, fmt.Errorf("look at the plugin's %s: %w", d, err)
		}
	}
	for p := range snap {
		if k.kept(p) {
			delete(snap, p)
		}
	}
	return snap, nil
}

// kept reports whether p lies in a directory the kit itself keeps in the
// sandbox (its socket and outside directories), which are not the
// plugin's state; the scratch directory is looked at directly.
func (k *kit) kept(p string) bool {
	for _, dir := range []string{k.sandbox.sockDir, k.sandbox.outside} {
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
