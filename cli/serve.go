package cli

import (
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// serveCmd runs the host in the foreground: what `make run`, a systemd
// unit, and `start` (which runs hero_codescalers_server serve) all use.
type serveCmd struct{}

// Run takes the instance's pid-file lock first, so a second host for the
// same instance stops here, before it could touch the socket or the data
// dir; then it runs the host until SIGTERM or SIGINT, and removes the pid
// file only after the host has closed its state. Without the server's code
// (hero_codescalers) it hands over to hero_codescalers_server before taking
// the lock, which an exec would drop.
func (serveCmd) Run(rt *runCtx) error {
	if rt.g.Server != "" {
		return usageErrorf("--server names a socket to call; choose where the host listens with --instance, --socket-dir or --sock-name")
	}
	if rt.srv == nil {
		return rt.handOver()
	}
	rt.serving = true
	p, err := rt.paths()
	if err != nil {
		return err
	}
	lock, err := lockPIDFile(p.PIDFile, true) // makes the socket dir, safely
	if err != nil {
		return failf("%s: %v", api.InstanceName(p.Instance), err)
	}
	defer lock.release()
	if err := lock.writePID(os.Getpid()); err != nil {
		return failf("write %s: %v", p.PIDFile, err)
	}
	cfg, err := rt.serveConfig(p)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(rt.ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := rt.srv.Serve(ctx, cfg); err != nil {
		if _, ok := asExit(err); ok {
			return err
		}
		return failf("%v", err)
	}
	return nil
}

// serveConfig gathers what the host needs from the resolved paths, the
// flags and the environment.
func (rt *runCtx) serveConfig(p api.Paths) (ServeConfig, error) {
	dirs, err := rt.pluginDirs()
	if err != nil {
		return ServeConfig{}, err
	}
	lim, err := rt.limits()
	if err != nil {
		return ServeConfig{}, err
	}
	return ServeConfig{
		Paths:         p,
		Secret:        rt.env.Getenv(api.EnvSecret),
		AdminGroup:    rt.g.AdminGroup,
		SocketGroup:   rt.g.SocketGroup,
		HomeRoot:      rt.g.HomeRoot,
		PluginDirs:    dirs,
		PluginPins:    rt.g.Plugin,
		NoPlugins:     rt.g.NoPlugins,
		Limits:        lim,
		DashboardOpen: rt.g.DashboardOpen,
		TLSCert:       rt.expand(rt.g.TLSCert),
		TLSKey:        rt.expand(rt.g.TLSKey),
		Adopt:         rt.g.Adopt,
		MarkerDir:     rt.markerDir(),
		NodeName:      rt.g.NodeName,
		NATSURL:       rt.natsURL(),
		Log:           rt.env.Stderr,
		Ready:         func() { rt.printReady(p) },
		LogLevel:      rt.g.LogLevel,
		LogFormat:     rt.g.LogFormat,
		WhitelistSeed: rt.whitelistSeed,
		Reload:        func() (ServeConfig, []string, error) { return rt.reload(p) },
	}, nil
}

// markerDir is where the host records the data dirs it used (host's
// datadir.go): the XDG state dir of the host's user, which survives a
// reboot (a socket dir on /run or /tmp does not) and a wipe of ~/hero/var
// (where the data dir lives). "" when there is no home to put it in.
func (rt *runCtx) markerDir() string {
	base := rt.env.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) {
		home := rt.env.Getenv("HOME")
		if !filepath.IsAbs(home) {
			return ""
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "hero_codescalers", "data-dirs")
}

// printReady tells the person at the terminal (or the log) where the host
// listens and how to talk to it, the dashboard included (as health says).
func (rt *runCtx) printReady(p api.Paths) {
	fmt.Fprintf(rt.env.Stdout, `%s ready, pid %d
  rpc:   %s
  data:  %s
  try:   %s health
         curl --unix-socket %s http://localhost/health
`, api.InstanceName(p.Instance), os.Getpid(), p.RPCSocket, p.DataDir,
		rt.callPrefix(p), shellQuote(p.RPCSocket))
	h, err := rt.probeHealth(p.RPCSocket)
	if err != nil || h.Dashboard == nil {
		return
	}
	for _, line := range dashboardLines(*h.Dashboard) {
		fmt.Fprintf(rt.env.Stdout, "  dashboard: %s\n", line)
	}
	for _, l := range h.Dashboard.Listeners {
		if l.Kind == "unix" {
			fmt.Fprintf(rt.env.Stdout, "  open:  curl --unix-socket %s http://localhost/\n", shellQuote(l.Address))
			fmt.Fprintf(rt.env.Stdout, "         ssh -N -L 8080:%s %s   then http://localhost:8080/ in a browser\n", shellQuote(l.Address), sshTarget())
		}
	}
	if len(h.Dashboard.Listeners) > 1 && !h.Dashboard.Open {
		fmt.Fprintf(rt.env.Stdout, "         over TCP only whitelisted addresses get pages: %s whitelist-add ADDR\n", rt.selfCommand())
	}
}

// dashboardLines says where the dashboard listens, one line each, and why
// it is not on TCP when it is not.
func dashboardLines(d api.DashboardInfo) []string {
	var out []string
	for _, l := range d.Listeners {
		switch {
		case l.Kind == "unix":
			out = append(out, l.Address)
		case l.Fingerprint != "":
			out = append(out, l.URL+" (certificate SHA-256 "+l.Fingerprint+")")
		default:
			out = append(out, l.URL)
		}
	}
	if d.Open {
		out = append(out, "OPEN to every TCP peer (--dashboard-open)")
	}
	if d.Note != "" {
		out = append(out, d.Note)
	}
	return out
}

// sshTarget is this machine as an ssh destination for the tunnel hint.
func sshTarget() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "THIS-HOST"
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username + "@" + host
	}
	return host
}

// callPrefix is the shortest command line that reaches this host: the
// plain instance spelling when the environment alone leads there, --server
// otherwise (start hands serve every path as a flag, which a user would not
// want to retype).
func (rt *runCtx) callPrefix(p api.Paths) string {
	self := rt.selfCommand()
	plain := self
	if p.Instance != 0 {
		plain += " --instance " + strconv.Itoa(p.Instance)
	}
	def, err := api.ResolvePaths(api.PathFlags{Instance: p.Instance}, rt.env.Getenv)
	if err == nil && rt.expand(def.RPCSocket) == p.RPCSocket {
		return plain
	}
	return self + " --server " + shellQuote(p.RPCSocket)
}

// pluginDirs are the --plugin-dir flags made absolute: the host and the
// sudoers rules of setup driver must name the same files.
func (rt *runCtx) pluginDirs() ([]string, error) {
	dirs := make([]string, 0, len(rt.g.PluginDir))
	for _, d := range rt.g.PluginDir {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, usageErrorf("--plugin-dir %s: %v", d, err)
		}
		dirs = append(dirs, abs)
	}
	return dirs, nil
}

// natsURL is --nats-url, else HERO_CODESCALERS_NATS_URL.
func (rt *runCtx) natsURL() string {
	if rt.g.NATSURL != "" {
		return rt.g.NATSURL
	}
	return rt.env.Getenv(api.EnvNATSURL)
}
