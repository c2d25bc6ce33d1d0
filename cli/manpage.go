package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// manCmd prints hero_codescalers(1) in roff, made from the command tree
// like the completion scripts: every command with its arguments and
// flags, the global flags, the exit codes, the environment and the files.
// The package installs it; `man ./hero_codescalers.1` reads it in place.
type manCmd struct{}

func (manCmd) Run(rt *runCtx) error {
	writeMan(rt.env.Stdout, rt.kctx.Model)
	return nil
}

// roff escapes text for a roff line: backslashes, and a leading dot or
// quote that roff would take for a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func writeMan(w io.Writer, app *kong.Application) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p(`.TH HERO_CODESCALERS 1 "" "hero_codescalers %s" "User Commands"`, roff(api.Version))
	p(".SH NAME")
	p(`hero_codescalers \- run and drive the hero_codescalers host (multi\-user development servers)`)
	p(".SH SYNOPSIS")
	p(`.B hero_codescalers
[\fIGLOBAL FLAGS\fR] \fICOMMAND\fR [\fIARGS\fR] [\fIFLAGS\fR]`)
	p(".SH DESCRIPTION")
	p("%s", roff("hero_codescalers creates and removes developers' Linux accounts, btrfs homes with quotas, SSH keys, ACLs and sessions through a host daemon whose privileged work is done by out-of-process plugins. This program calls the host's JSON-RPC API on its Unix socket and runs, starts and stops the host."))
	p(".PP")
	p("%s", roff("Installed from the package, the host runs under systemd (hero_codescalers.service) as the driver account, with its sockets in /run/hero_codescalers, its state in /var/lib/hero_codescalers and its log in the journal; a user's own host keeps ~/hero/var. status says which layout it found, and why."))
	p(".SH COMMANDS")
	for _, n := range app.Children {
		if n.Type != kong.CommandNode || n.Hidden {
			continue
		}
		writeManCommand(w, n)
	}
	p(".SH GLOBAL FLAGS")
	writeManFlags(w, app.Flags)
	p(".SH EXIT STATUS")
	for _, c := range exitClasses {
		p(".TP\n.B %d\n%s (%s)", c.Code, roff(c.Text), roff(c.Kind))
	}
	p(".PP\nWith \\-\\-json, an error is also one JSON object on standard output: exit_code, class, message, and the host's code and data.")
	p(".SH ENVIRONMENT")
	for _, e := range [][2]string{
		{"HERO_CODESCALERS_CONFIG", "the config file, below --config"},
		{api.EnvPathSocket, "base directory of the socket dirs"},
		{api.EnvSockName, "socket directory name"},
		{api.EnvDataDir, "state directory"},
		{api.EnvAddress, "dashboard TCP address"},
		{api.EnvPort, "dashboard TCP port"},
		{api.EnvSecret, "the fleet's shared passphrase"},
		{"FORGE_TOKEN", "forge token of user-create"},
		{"RUNTIME_DIRECTORY, STATE_DIRECTORY", "set by systemd: serve takes the system layout"},
		{"NOTIFY_SOCKET, JOURNAL_STREAM", "set by systemd: readiness, and journald priorities on each log line"},
	} {
		p(".TP\n.B %s\n%s", roff(e[0]), roff(e[1]))
	}
	p(".SH FILES")
	for _, f := range [][2]string{
		{"/etc/hero_codescalers/config.toml", "host settings (config show prints the effective ones and their sources)"},
		{"/etc/hero_codescalers/policy.toml", "the policy every plugin enforces (setup driver writes it)"},
		{"/etc/sudoers.d/hero_codescalers", "the driver's digest-pinned rules to start each plugin"},
		{"/usr/lib/hero_codescalers/", "the server and the plugins"},
		{"/run/hero_codescalers/rpc.sock, admin.sock", "the system host's API and dashboard (and /metrics)"},
		{"/var/lib/hero_codescalers/", "the system host's state"},
		{"~/hero/var/", "a user's own host: sockets, state, log"},
	} {
		p(".TP\n.I %s\n%s", roff(f[0]), roff(f[1]))
	}
	p(".SH SEE ALSO")
	p(`\fBsystemctl\fR(1), \fBjournalctl\fR(1), \fBsudoers\fR(5)`)
}

// writeManCommand writes one command, its subcommands, arguments and flags.
func writeManCommand(w io.Writer, n *kong.Node) {
	var args []string
	for _, a := range n.Positional {
		s := strings.ToUpper(a.Name)
		if !a.Required {
			s = "[" + s + "]"
		}
		args = append(args, s)
	}
	fmt.Fprintf(w, ".SS %s %s\n%s\n", roff(n.Path()), roff(strings.Join(args, " ")), roff(n.Help))
	if d := n.Detail; d != "" {
		fmt.Fprintf(w, ".PP\n%s\n", roff(d))
	}
	for _, a := range n.Positional {
		fmt.Fprintf(w, ".TP\n.I %s\n%s\n", roff(strings.ToUpper(a.Name)), roff(a.Help))
	}
	writeManFlags(w, n.Flags)
	for _, c := range n.Children {
		if c.Type == kong.CommandNode && !c.Hidden {
			writeManCommand(w, c)
		}
	}
}

func writeManFlags(w io.Writer, flags []*kong.Flag) {
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		name := `\-\-` + roff(f.Name)
		if f.Short != 0 {
			name = `\-` + string(f.Short) + ", " + name
		}
		if !f.IsBool() {
			ph := f.PlaceHolder
			if ph == "" {
				ph = strings.ToUpper(f.Name)
			}
			name += " " + `\fI` + roff(ph) + `\fR`
		}
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", name, roff(f.Help))
	}
}
