package fleet

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/mycelium"
)

const (
	roleReplica  = core.RoleReplica
	roleLeaf     = core.RoleLeaf
	roleExternal = core.RoleExternal
)

// Options configure a Fleet.
type Options struct {
	// Store is the host's state, where the membership is kept.
	Store core.Store
	// DataDir is the host's data dir: the node id, and the embedded
	// server's JetStream files under fleet/.
	DataDir  string
	Instance int
	// NodeName is --node-name (empty: the host name, _N for instance N).
	NodeName string
	// Address is --address: the address the fleet's ports listen on;
	// empty, the node's mycelium address.
	Address string
	// NATSURL is --nats-url: an external NATS cluster for fleet-init and
	// fleet-join when the call names none.
	NATSURL string
	Version string
	// Plugins lists the host's plugins, for the announcements.
	Plugins func() []core.PluginInfo
	Log     *slog.Logger
	// EtcDir holds the account files whose ids the node reports in use
	// (default /etc).
	EtcDir string

	// Test seams: fixed ports instead of the instance's, and the agent's
	// periods.
	Ports         *Ports
	ResyncEvery   time.Duration
	AnnounceEvery time.Duration
}

// Fleet is the host's fleet membership: a host Component that runs the
// agent while the host is in a fleet (and nothing otherwise), and the
// core.FleetBackend the fleet use cases drive.
type Fleet struct {
	opts   Options
	log    *slog.Logger
	nodeID string
	name   string

	mu  sync.Mutex
	m   *membership // nil outside a fleet
	rt  *runtime    // nil while not running
	svc *core.Service
	// wake starts the agent after fleet-init or fleet-join.
	wake chan struct{}
	// joining serialises fleet-init, fleet-join and eviction.
	joining sync.Mutex
	// agent is the running agent's state, for Info and the handshake.
	agent *agent
	// listDesired, when set (by a test), reads the desired bucket for the
	// agent's passes in place of the store.
	listDesired func(context.Context, *store) ([]entry, uint64, error)
}

var _ core.FleetBackend = (*Fleet)(nil)

// New prepares the fleet: it reads the node's id and name and the
// membership, and starts nothing.
func New(opts Options) (*Fleet, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.ResyncEvery == 0 {
		opts.ResyncEvery = 3 * time.Second
	}
	if opts.EtcDir == "" {
		opts.EtcDir = "/etc"
	}
	if opts.AnnounceEvery == 0 {
		opts.AnnounceEvery = 5 * time.Second
	}
	id, err := NodeID(opts.DataDir)
	if err != nil {
		return nil, err
	}
	name, err := NodeName(opts.NodeName, opts.Instance)
	if err != nil {
		return nil, err
	}
	m, err := loadMembership(opts.Store)
	if err != nil {
		return nil, err
	}
	f := &Fleet{opts: opts, log: opts.Log.With("component", "fleet"), nodeID: id, name: name, m: m, wake: make(chan struct{}, 1)}
	if m != nil && m.Node != name {
		f.log.Warn("fleet: this node joined under another name; it keeps that name in the fleet", "fleet_name", m.Node, "name", name)
		f.name = m.Node
	}
	return f, nil
}

// Name identifies the component.
func (f *Fleet) Name() string { return "fleet" }

func (f *Fleet) ports() Ports {
	if f.opts.Ports != nil {
		return *f.opts.Ports
	}
	return PortsOf(f.opts.Instance)
}

// Run starts the fleet's runtime and agent when the host is in a fleet,
// restarting them after a failure, until ctx ends; outside a fleet it
// waits for fleet-init or fleet-join.
func (f *Fleet) Run(ctx context.Context, svc *core.Service) error {
	f.mu.Lock()
	f.svc = svc
	f.mu.Unlock()
	backoff := time.Second
	for ctx.Err() == nil {
		rt, err := f.ensureRuntime()
		if err != nil {
			f.log.Error("fleet: cannot start; retrying", "err", err, "in", backoff)
		}
		if rt != nil {
			backoff = time.Second
			err = f.runAgent(ctx, rt)
			if err != nil && ctx.Err() == nil {
				f.log.Error("fleet: agent stopped; restarting", "err", err)
			}
		}
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-time.After(backoff):
			if err != nil {
				backoff = min(2*backoff, 30*time.Second)
			}
		}
	}
	f.stop()
	return nil
}

// ensureRuntime returns the running runtime, starting it when the host is
// in a fleet and it is not running; nil outside a fleet.
func (f *Fleet) ensureRuntime() (*runtime, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || f.rt != nil {
		return f.rt, nil
	}
	rt, err := f.startRuntime(*f.m)
	if err != nil {
		return nil, err
	}
	f.rt = rt
	f.log.Info("fleet: running", "fleet", f.m.FleetID, "node", f.m.Node, "role", f.m.Role, "address", f.m.Address)
	return rt, nil
}

// stop closes the runtime.
func (f *Fleet) stop() {
	f.mu.Lock()
	rt := f.rt
	f.rt = nil
	f.mu.Unlock()
	if rt != nil {
		rt.close()
	}
}

// kick wakes Run.
func (f *Fleet) kick() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// running returns the runtime, or the error a fleet call gets without one.
func (f *Fleet) running() (*runtime, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.m == nil:
		return nil, core.Errorf(core.FailedPrecondition, "this host is not in a fleet: run fleet-init on the first node, fleet-join on the others")
	case f.rt == nil:
		return nil, core.Errorf(core.Unavailable, "the fleet's runtime is starting; try again")
	}
	return f.rt, nil
}

// Info is this host's membership as fleet-status shows it.
func (f *Fleet) Info(ctx context.Context) core.FleetInfo {
	f.mu.Lock()
	m, rt, ag := f.m, f.rt, f.agent
	f.mu.Unlock()
	info := core.FleetInfo{Node: f.name, NodeID: f.nodeID}
	if m == nil {
		return info
	}
	info.InFleet, info.FleetID, info.Role, info.Address, info.Replicas = true, m.FleetID, m.Role, m.Address, m.Replicas
	if m.Role != roleExternal {
		p := f.ports()
		info.ClientPort = p.Client
		if m.Role == roleReplica {
			info.RoutePort, info.LeafPort = p.Route, p.Leaf
		}
	}
	info.JoinCommand = joinCommand(m, f.ports())
	info.ClientNkey = publicKey(NewKeys(m.Master).ClientNkey())
	switch {
	case rt == nil:
		info.Store = "not running"
	case ag != nil:
		info.Store = ag.storeState()
	default:
		info.Store = "starting"
	}
	return info
}

// joinCommand is what another node runs to join: the address of a
// replica's leaf port, or the external NATS URL.
func joinCommand(m *membership, p Ports) string {
	if m.Role == roleExternal {
		return "hero_codescalers fleet-join --nats-url " + api.RedactURLs(m.NATSURL)
	}
	for _, pr := range m.Peers {
		if pr.Name == m.Node {
			return "hero_codescalers fleet-join " + hostPort(pr.Address, pr.LeafPort)
		}
	}
	if len(m.Peers) > 0 {
		return "hero_codescalers fleet-join " + hostPort(m.Peers[0].Address, m.Peers[0].LeafPort)
	}
	return "hero_codescalers fleet-join " + hostPort(m.Address, p.Leaf)
}

// address is the address the fleet's ports listen on: --address, else the
// node's mycelium address.
func (f *Fleet) address(ctx context.Context) (netip.Addr, error) {
	if f.opts.Address != "" {
		return mycelium.ParseAddress(f.opts.Address)
	}
	found, err := mycelium.Detect(ctx, mycelium.Options{})
	if errors.Is(err, mycelium.ErrNotFound) {
		return netip.Addr{}, core.Errorf(core.FailedPrecondition,
			"no mycelium address on this node (no daemon answered, no interface in 400::/7): start mycelium, or give --address, or use --nats-url")
	}
	if err != nil {
		return netip.Addr{}, core.Wrap(err, core.FailedPrecondition, "finding the mycelium address: %v", err)
	}
	return found.Addr, nil
}

// parseURLs checks --nats-url (api.ParseNATSURLs) as the nats_url field.
func parseURLs(s string) ([]*url.URL, error) {
	us, err := api.ParseNATSURLs(s)
	if err != nil {
		return nil, core.InvalidField("nats_url", "%s", err.Error())
	}
	return us, nil
}
