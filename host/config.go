package host

import (
	"context"
	"log/slog"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/mycelium"
)

// Config is everything Run needs. The CLI fills it from flags, environment
// and defaults (flags beat environment, environment beats defaults).
type Config struct {
	Paths api.Paths
	// Secret is SECRET_CODESCALERS; when empty the host generates one into
	// a 0600 file in the data dir on first start.
	Secret string
	// AdminGroup names a Unix group whose members may call privileged
	// methods besides root and the host's own uid.
	AdminGroup string
	// SocketGroup, when set, makes rpc.sock 0660 with that group; otherwise
	// the socket is 0600 (owner only; root bypasses).
	SocketGroup string
	// HomeRoot is where users' homes live (default /home); the volumes
	// plugin is chosen by its filesystem.
	HomeRoot string
	// PluginDirs are searched for plugins, before the defaults (plugins/
	// beside the binary, /usr/lib/hero_codescalers/plugins).
	PluginDirs []string
	// PluginPins maps a concern to the plugin an operator wants for it.
	PluginPins map[string]string
	// RPCMaxConns caps rpc.sock's concurrent connections; 0 derives the
	// cap from the open-file limit (netlimit.DefaultMax).
	RPCMaxConns int
	// Audit bounds the audit log; zero fields take core's defaults.
	Audit AuditRetention
	// NoPlugins runs a state-only host: the account methods answer
	// PluginUnavailable (tests and fleet-only nodes).
	NoPlugins bool
	// MarkerDir keeps one marker per data dir this host has used
	// (datadir.go); "" turns the vanished-data-dir check off.
	MarkerDir string
	// Adopt imports the machine's managed users into the state at start:
	// what a host whose data dir vanished needs to start.
	Adopt bool
	// NodeName is this host's name in a fleet (--node-name); empty: the
	// host name, with _N for instance N > 0.
	NodeName string
	// NATSURL is an external NATS cluster for fleet-init and fleet-join
	// (--nats-url, HERO_CODESCALERS_NATS_URL) instead of the embedded one.
	NATSURL string
	Logger  *slog.Logger
	// Ready, when set, is called once the API answers.
	Ready func()
	// Components run beside the API for the host's lifetime: the seam
	// where the dashboard, the plugin manager and the fleet agent join.
	Components []Component
	// Dashboard is how the dashboard listens.
	Dashboard DashboardConfig
	// WhitelistSeed is the config file's whitelist: stored at start when
	// the state never had a list (core.WhitelistSeed).
	WhitelistSeed []string
	// Reload re-reads the configuration on SIGHUP (reload.go); nil: a
	// SIGHUP is only logged.
	Reload func() (Live, error)
}

// DashboardConfig is how the dashboard listens beyond admin.sock; the TCP
// address and port are Paths.Address and Paths.Port.
type DashboardConfig struct {
	// Open is --dashboard-open: every TCP peer is admitted (an empty
	// whitelist otherwise serves no data over TCP).
	Open bool
	// TLSCert and TLSKey are the HTTPS certificate on an address that is
	// neither the overlay nor loopback; unset, a self-signed one is made
	// in Paths.VarDir at the first start that needs it.
	TLSCert, TLSKey string
	// Detect finds the node's mycelium address; nil asks the mycelium
	// daemon, then scans the interfaces (host/mycelium).
	Detect func(ctx context.Context) (mycelium.Found, error)
}

// AuditRetention bounds the audit log: records older than MaxAge, and the
// oldest beyond MaxRecords, are pruned every minute (core.AuditPrune).
type AuditRetention struct {
	MaxAge     time.Duration
	MaxRecords int
}
