package fleet

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// JetStream's limits on a node: JetStream takes 75 % of the machine's
// memory and disk by default, far beyond what a store of accounts needs.
const (
	jsMaxMemory = 64 << 20
	jsMaxStore  = 1 << 30
)

// sysAccount is the NATS system account's name.
const sysAccount = "SYS"

// jsDomain is the JetStream domain of the replicas; every client names it.
const jsDomain = "hc"

// peer is a replica node as another node reaches it.
type peer struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	RoutePort int    `json:"route_port"`
	LeafPort  int    `json:"leaf_port"`
}

// hostPort joins an address and a port, bracketing IPv6.
func hostPort(addr string, port int) string { return net.JoinHostPort(addr, strconv.Itoa(port)) }

// serverConfig is what the embedded server of one node needs.
type serverConfig struct {
	Name    string // the node's name: NATS requires it unique in a cluster
	FleetID string
	Role    string // core.RoleReplica or core.RoleLeaf
	Address netip.Addr
	Ports   Ports
	// Peers are the replica nodes: routes (a replica) or leaf remotes (a
	// leaf node). A replica alone routes to itself, which NATS skips but
	// counts: JetStream's clustered mode needs a route configured.
	Peers    []peer
	StoreDir string
	Keys     *Keys
	TLS      *tls.Config
	Log      *slog.Logger
}

// options builds the nats-server options of cfg.
func (cfg serverConfig) options() (*server.Options, error) {
	k := cfg.Keys
	sys := server.NewAccount(sysAccount)
	opts := &server.Options{
		// A third account, never used, keeps NATS from adding a no-auth
		// user to the global account, which it does when the system
		// account and the global one are the only two.
		Accounts:      []*server.Account{sys, server.NewAccount("NOAUTH")},
		SystemAccount: sysAccount,
		ServerName:    cfg.Name,
		Host:          "127.0.0.1",
		Port:          cfg.Ports.Client,
		// The local client port admits the host's own nkey alone: the
		// developers on this machine must not reach the fleet's store.
		Nkeys: []*server.NkeyUser{{Nkey: publicKey(k.ClientNkey())},
			{Nkey: publicKey(k.SystemNkey()), Account: sys}},
		NoSigs:             true,
		MaxPayload:         4 << 20,
		JetStream:          cfg.Role == roleReplica,
		JetStreamMaxMemory: jsMaxMemory,
		JetStreamMaxStore:  jsMaxStore,
		// Leaf nodes reach the replicas' JetStream by its domain: NATS
		// keeps domain-less JetStream traffic off leaf connections.
		JetStreamDomain:        jsDomain,
		StoreDir:               cfg.StoreDir,
		DisableJetStreamBanner: true,
	}
	leafTLS := cfg.TLS.Clone()
	switch cfg.Role {
	case roleReplica:
		opts.Cluster = server.ClusterOpts{
			Name: "hc-" + cfg.FleetID, Host: cfg.Address.String(), Port: cfg.Ports.Route,
			Username: k.RouteUser(), Password: k.RoutePassword(),
			TLSConfig: cfg.TLS.Clone(), TLSTimeout: 5, ConnectRetries: -1,
		}
		opts.LeafNode = server.LeafNodeOpts{
			Host: cfg.Address.String(), Port: cfg.Ports.Leaf, Nkey: publicKey(k.LeafNkey()),
			TLSConfig: leafTLS, TLSTimeout: 5, TLSHandshakeFirst: true,
		}
		routes := cfg.Peers
		if len(routes) == 0 {
			routes = []peer{{Name: cfg.Name, Address: cfg.Address.String(), RoutePort: cfg.Ports.Route}}
		}
		for _, p := range routes {
			opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats-route",
				User: url.UserPassword(k.RouteUser(), k.RoutePassword()), Host: hostPort(p.Address, p.RoutePort)})
		}
	case roleLeaf:
		if len(cfg.Peers) == 0 {
			return nil, fmt.Errorf("a leaf node needs a replica node to connect to")
		}
		seed, err := k.LeafNkey().Seed()
		if err != nil {
			return nil, err
		}
		// Nkey is the seed here: the server signs the replica's nonce with it.
		remote := &server.RemoteLeafOpts{Nkey: string(seed),
			TLS: true, TLSConfig: leafTLS, TLSTimeout: 5, TLSHandshakeFirst: true}
		for _, p := range cfg.Peers {
			remote.URLs = append(remote.URLs, &url.URL{Scheme: "nats-leaf", Host: hostPort(p.Address, p.LeafPort)})
		}
		opts.LeafNode = server.LeafNodeOpts{Remotes: []*server.RemoteLeafOpts{remote}, ReconnectInterval: time.Second}
	default:
		return nil, fmt.Errorf("no embedded server for role %q", cfg.Role)
	}
	return opts, nil
}

// startServer starts the embedded server and waits until it accepts
// clients.
func startServer(cfg serverConfig) (*server.Server, error) {
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	s.SetLoggerV2(&natsLog{log: cfg.Log}, false, false, false)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats server: not ready within 10s (ports %d, %d, %d taken?)", cfg.Ports.Client, cfg.Ports.Route, cfg.Ports.Leaf)
	}
	if opts.JetStream {
		// With accounts configured, NATS enables JetStream on none of
		// them by itself; the fleet's data lives in the global one.
		if err := s.GlobalAccount().EnableJetStream(nil, nil); err != nil {
			s.Shutdown()
			return nil, fmt.Errorf("nats server: enable JetStream: %w", err)
		}
	}
	return s, nil
}

// natsLog carries the embedded server's log into the host's: notices at
// debug level (NATS is talkative), warnings and errors as they are, and a
// refused TLS handshake — what a node with another secret causes — said
// plainly, once a minute at most.
type natsLog struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]time.Time
}

func (l *natsLog) Noticef(format string, v ...any) { l.log.Debug("nats: " + fmt.Sprintf(format, v...)) }
func (l *natsLog) Debugf(format string, v ...any)  {}
func (l *natsLog) Tracef(format string, v ...any)  {}
func (l *natsLog) Warnf(format string, v ...any)   { l.report(slog.LevelWarn, fmt.Sprintf(format, v...)) }
func (l *natsLog) Errorf(format string, v ...any) {
	l.report(slog.LevelWarn, fmt.Sprintf(format, v...))
}
func (l *natsLog) Fatalf(format string, v ...any) {
	l.report(slog.LevelError, fmt.Sprintf(format, v...))
}

func (l *natsLog) report(level slog.Level, msg string) {
	why := ""
	switch {
	case strings.Contains(msg, "unknown authority"), strings.Contains(msg, "unknown certificate"),
		strings.Contains(msg, "bad certificate"), strings.Contains(msg, "certificate required"):
		why = "wrong secret"
	case strings.Contains(msg, "Authorization Violation"), strings.Contains(msg, "authentication error"):
		why = "refused client"
	case strings.Contains(msg, "JetStream cluster no metadata leader"), strings.Contains(msg, "no metadata leader"):
		level = slog.LevelDebug // the first node alone, waiting for a second
	case strings.Contains(msg, "Error trying to connect to route"), strings.Contains(msg, "Error trying to connect as leafnode"):
		why = "peer down" // retried every second while a node is down: said once a minute
	}
	if why != "" && !l.due(why) {
		return
	}
	switch why {
	case "wrong secret":
		l.log.Error("fleet: a TLS handshake with another node failed: its certificate is not signed by this fleet's CA, "+
			"so its SECRET_CODESCALERS differs from this node's; no route and no data pass", "nats", msg)
	case "refused client":
		l.log.Warn("fleet: a NATS client without the fleet's key was refused", "nats", msg)
	case "peer down":
		l.log.Warn("fleet: a node does not answer; retrying (said once a minute)", "nats", msg)
	default:
		l.log.Log(context.Background(), level, "nats: "+msg)
	}
}

// due reports whether a message of kind may be logged now.
func (l *natsLog) due(kind string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]time.Time{}
	}
	if time.Since(l.last[kind]) < time.Minute {
		return false
	}
	l.last[kind] = time.Now()
	return true
}
