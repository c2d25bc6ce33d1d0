// Package setup prepares a machine for an unprivileged host: it creates the
// `driver` system account the host runs as, writes
// /etc/sudoers.d/hero_codescalers so that account may start each plugin as
// root through `sudo -n`, each rule pinned by the plugin's sha256 digest,
// and writes the root-owned policy every plugin enforces on its own
// (/etc/hero_codescalers/policy.toml; an existing one is kept). It is what
// `hero_codescalers setup driver` runs, as root, after an install or
// upgrade; running it again changes nothing unless the plugins did. Check
// (`setup driver --check`) reports whether all of it is in place, changing
// nothing.
//
// The driver account is a system account with a locked password and
// nologin for a shell: nobody logs in as it, and systemd (User=driver) or
// `runuser -u driver -- hero_codescalers serve` starts the host, neither of
// which needs a login shell. Its home (default /var/lib/hero_codescalers)
// holds the host's ~/hero tree: data dir and sockets.
package setup

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/threefoldtech/hero_codescalers/host/plugins"
)

// DefaultUser is the account an unprivileged host runs as.
const DefaultUser = "driver"

// DefaultHome is the driver account's home.
const DefaultHome = "/var/lib/hero_codescalers"

// SudoersFile is the sudoers drop-in, relative to the root.
const SudoersFile = "etc/sudoers.d/hero_codescalers"

// Options configures Driver.
type Options struct {
	// Root is prepended to the system paths written (/etc/passwd is
	// read there and useradd gets --root); "" is the machine itself.
	// Tests and image builds set it.
	Root string
	User string // DefaultUser when empty
	Home string // DefaultHome when empty
	// Dirs are the plugin dirs; plugins.DefaultDirs() when empty. Every
	// plugin found there gets a rule.
	Dirs []string
	// Out receives one line per thing done; os.Stdout when nil.
	Out    io.Writer
	Logger *slog.Logger
	// Run runs a command and returns its combined output: the exec seam
	// for useradd and visudo.
	Run func(name string, args ...string) ([]byte, error)
	// Policy is what a new policy file holds.
	Policy PolicySettings
}

func (o *Options) fill() {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Home == "" {
		o.Home = DefaultHome
	}
	if len(o.Dirs) == 0 {
		o.Dirs = plugins.DefaultDirs()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Run == nil {
		o.Run = func(name string, args ...string) ([]byte, error) {
			return exec.Command(name, args...).CombinedOutput()
		}
	}
}

// Report says what Driver found and did.
type Report struct {
	AccountCreated bool
	SudoersChanged bool
	SudoersPath    string
	Plugins        []string // the plugin paths given a rule
	PolicyWritten  bool
	PolicyPath     string
	Warnings       []string
}

// Driver makes sure the driver account exists, the sudoers drop-in holds
// one digest-pinned rule per plugin found in the plugin dirs, and the
// policy exists. The sudoers file is validated with `visudo -c` before it
// replaces the old one, so a bad rule never locks sudo. It prints what it
// did to opts.Out.
func Driver(opts Options) (Report, error) {
	opts.fill()
	var rep Report
	if err := checkHome(opts.Home); err != nil {
		return rep, err
	}
	if _, err := newPolicy(opts); err != nil {
		return rep, err // bad settings change nothing
	}
	created, err := ensureAccount(opts)
	if err != nil {
		return rep, err
	}
	rep.AccountCreated = created
	if created {
		fmt.Fprintf(opts.Out, "created system account %s (home %s, no login shell)\n", opts.User, opts.Home)
	} else {
		fmt.Fprintf(opts.Out, "account %s exists\n", opts.User)
	}
	rules, err := collectRules(opts)
	if err != nil {
		return rep, err
	}
	for _, r := range rules {
		rep.Plugins = append(rep.Plugins, r.Path)
	}
	if len(rules) == 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("no plugins found in %v", opts.Dirs))
	}
	rep.SudoersPath = filepath.Join(opts.Root, SudoersFile)
	rep.SudoersChanged, err = writeSudoers(opts, rep.SudoersPath, renderSudoers(opts.User, rules))
	if err != nil {
		return rep, err
	}
	verb := "unchanged"
	if rep.SudoersChanged {
		verb = "wrote"
	}
	fmt.Fprintf(opts.Out, "%s %s: %d plugin rule(s)\n", verb, rep.SudoersPath, len(rules))
	for _, r := range rules {
		fmt.Fprintf(opts.Out, "  %s sha256:%s\n", r.Path, r.SHA256)
	}
	rep.PolicyPath = policyPath(opts)
	if rep.PolicyWritten, err = writePolicy(opts); err != nil {
		return rep, err
	}
	rep.Warnings = append(rep.Warnings, checkSudo(opts)...)
	for _, w := range rep.Warnings {
		fmt.Fprintln(opts.Out, "warning:", w)
	}
	return rep, nil
}

// SudoersPresent reports whether the sudoers drop-in exists on this
// machine: the dashboard shows a banner while it does not and the host is
// not root.
func SudoersPresent() bool {
	_, err := os.Stat(filepath.Join("/", SudoersFile))
	return err == nil
}
