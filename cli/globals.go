package cli

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/threefoldtech/hero_codescalers/cli/config"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// Globals are the flags every command accepts. The path flags carry no
// env tags on purpose: api.ResolvePaths applies the environment and the
// defaults, the same way for the CLI, the host and any other client, so
// "flags beat environment beat defaults" is decided in one place.
type Globals struct {
	Instance int    `short:"i" placeholder:"N" help:"Instance number: socket dir hero_codescalers_N, port 5000+N, its own data dir."`
	Server   string `placeholder:"SOCKET" help:"Call the host at this rpc.sock instead of the instance's."`
	JSON     bool   `name:"json" help:"Machine output: print results as JSON."`
	Config   string `placeholder:"FILE" help:"The host's config file (env HERO_CODESCALERS_CONFIG, default /etc/hero_codescalers/config.toml if it exists): flags beat environment beat the file beat defaults."`

	SocketDir string `placeholder:"DIR" group:"Paths" help:"Base directory of the socket dirs (env PATH_SOCKET, default ~/hero/var/sockets)."`
	SockName  string `placeholder:"NAME" group:"Paths" help:"Socket directory name (env HERO_CODESCALERS_SOCK_NAME, default hero_codescalers[_N])."`
	DataDir   string `placeholder:"DIR" group:"Paths" help:"State directory (env HERO_CODESCALERS_DATA_DIR, default ~/hero/var/hero_codescalers[_N]/db)."`
	Address   string `placeholder:"IP" group:"Paths" help:"Dashboard TCP address (env HERO_CODESCALERS_ADDRESS, default the mycelium address)."`
	Port      int    `placeholder:"PORT" group:"Paths" help:"Dashboard TCP port (env HERO_CODESCALERS_PORT, default 5000+N)."`

	AdminGroup  string   `placeholder:"GROUP" group:"Host (serve, start)" help:"Unix group whose members may call privileged methods."`
	SocketGroup string   `placeholder:"GROUP" group:"Host (serve, start)" help:"Make rpc.sock 0660 with this group (default 0600, owner only)."`
	HomeRoot    string   `placeholder:"DIR" group:"Host (serve, start)" help:"Where users' homes live (default /home); the volumes plugin is chosen by its filesystem."`
	PluginDir   []string `placeholder:"DIR" group:"Host (serve, start)" help:"Another directory to search for plugins (after plugins/ beside the binary and /usr/lib/hero_codescalers/plugins)."`
	Plugin      []string `placeholder:"CONCERN=NAME" group:"Host (serve, start)" help:"Pin the plugin of a concern, e.g. --plugin sessions=procfs."`
	NoPlugins   bool     `group:"Host (serve, start)" help:"Run without plugins: state only; account methods answer PluginUnavailable."`
	Adopt       bool     `group:"Host (serve, start)" help:"Import the machine's managed users (members of the marker group, as reconcile finds them) into the state at start: how a host whose data dir was lost starts again."`
	NodeName    string   `placeholder:"NAME" group:"Host (serve, start)" help:"This host's name in a fleet (default the host name, _N for instance N)."`
	NATSURL     string   `name:"nats-url" placeholder:"URL" group:"Host (serve, start)" help:"Use an external NATS cluster for the fleet instead of the embedded server: one URL, or a comma-separated list of its servers (env HERO_CODESCALERS_NATS_URL, better for a URL with a password: a command line is readable by every local user)."`

	RPCMaxConns     int    `placeholder:"N" group:"Host (serve, start)" help:"Most connections rpc.sock holds at once; near it the idlest are closed (env HERO_CODESCALERS_RPC_MAX_CONNS, default from the open-file limit)."`
	AuditMaxAge     string `placeholder:"AGE" group:"Host (serve, start)" help:"Prune audit records older than this, e.g. 90d or 36h (env HERO_CODESCALERS_AUDIT_MAX_AGE, default 90d)."`
	AuditMaxRecords int    `placeholder:"N" group:"Host (serve, start)" help:"Keep at most this many audit records, the newest (env HERO_CODESCALERS_AUDIT_MAX_RECORDS, default 100000)."`

	DashboardOpen bool   `group:"Host (serve, start)" help:"Admit every TCP peer to the dashboard (else only whitelisted addresses; an empty whitelist serves no data over TCP). Shown as a red banner."`
	TLSCert       string `placeholder:"FILE" group:"Host (serve, start)" help:"HTTPS certificate of the dashboard on an address that is neither mycelium nor loopback (default: self-signed, made at first start)."`
	TLSKey        string `placeholder:"FILE" group:"Host (serve, start)" help:"The key of --tls-cert."`

	LogLevel  string `placeholder:"LEVEL" enum:"debug,info,warn,error," default:"" group:"Host (serve, start)" help:"Log level: debug, info, warn or error (default info)."`
	LogFormat string `placeholder:"FORMAT" enum:"text,json," default:"" group:"Host (serve, start)" help:"Log format: text or json (default text; under systemd each line carries its journald priority)."`

	Start  bool `xor:"lifecycle" group:"Lifecycle" help:"Start the host in the background (same as: start)."`
	Stop   bool `xor:"lifecycle" group:"Lifecycle" help:"Stop the background host (same as: stop)."`
	Status bool `xor:"lifecycle" group:"Lifecycle" help:"Show whether the host runs (same as: status)."`
}

// lifecycleFlag names the lifecycle flag given, or "".
func (g *Globals) lifecycleFlag() string {
	switch {
	case g.Start:
		return "--start"
	case g.Stop:
		return "--stop"
	case g.Status:
		return "--status"
	}
	return ""
}

// runCtx is what every command's Run receives: the parsed globals, the
// process's streams and environment, the kong context (for help and
// completion), and the server's code when this binary has it.
type runCtx struct {
	ctx  context.Context
	env  Env
	g    *Globals
	kctx *kong.Context
	srv  Server // nil in hero_codescalers
	cl   *client.Client
	// emitted is set once a JSON result is on stdout: an error reported
	// after it (a batch's failed users) then stays on stderr, so stdout
	// holds one JSON value.
	emitted bool
	// serving is set by serve: its layout comes from systemd's
	// environment, a client's from what it finds (layout.go).
	serving bool
	// cfgFile is the config file read (nil: none); sources says where
	// each setting's value came from; whitelistSeed is the file's
	// whitelist, which serve hands the host.
	cfgFile       *config.File
	sources       map[string]string
	whitelistSeed []string
	// fileFlags and filePins are what applyConfig wrote into the flags
	// from the file: start leaves them to the child, which reads the same
	// file (and re-reads it on a reload).
	fileFlags map[string]bool
	filePins  []string
}

// paths resolves where this instance lives: flags, then environment, then
// defaults. Every path comes out absolute, because the background host
// runs from "/" and must land on the same files as the command that
// started it.
func (rt *runCtx) paths() (api.Paths, error) {
	g := rt.g
	f := api.PathFlags{
		Instance: g.Instance, SocketBase: rt.expand(g.SocketDir), SockName: g.SockName,
		DataDir: rt.expand(g.DataDir), Address: g.Address, Port: g.Port,
	}
	rt.systemLayout(&f, rt.serving)
	p, err := api.ResolvePaths(f, rt.env.Getenv)
	if err != nil {
		return p, usageErrorf("%v", err)
	}
	for _, s := range []*string{&p.SocketDir, &p.RPCSocket, &p.AdminSocket, &p.DataDir, &p.VarDir, &p.PIDFile, &p.LogFile} {
		*s = rt.expand(*s)
	}
	return p, nil
}

// expand makes a user-given path absolute, reading ~ from $HOME (so a test
// or a sudo -E session gets the home it asked for).
func (rt *runCtx) expand(path string) string {
	if path == "" {
		return ""
	}
	if path == "~" || strings.HasPrefix(path, "~/") {
		if home := rt.env.Getenv("HOME"); home != "" {
			path = filepath.Join(home, path[1:])
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// socket is the rpc.sock the direct calls use: --server, or the instance's.
func (rt *runCtx) socket() (string, error) {
	if rt.g.Server != "" {
		return rt.expand(rt.g.Server), nil
	}
	p, err := rt.paths()
	return p.RPCSocket, err
}

// client is the typed client for socket(), made once per run.
func (rt *runCtx) client() (*client.Client, error) {
	if rt.cl != nil {
		return rt.cl, nil
	}
	sock, err := rt.socket()
	if err != nil {
		return nil, err
	}
	rt.cl = client.New(sock)
	return rt.cl, nil
}

// instanceArgs are the flags that select this instance, as given: what a
// hint must repeat for the user to land on the same host.
func (rt *runCtx) instanceArgs() []string {
	g := rt.g
	var args []string
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, shellQuote(v))
		}
	}
	if g.Instance != 0 {
		add("--instance", strconv.Itoa(g.Instance))
	}
	add("--socket-dir", g.SocketDir)
	add("--sock-name", g.SockName)
	add("--data-dir", g.DataDir)
	return args
}

// shellQuote quotes s for a command line a user may paste.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
