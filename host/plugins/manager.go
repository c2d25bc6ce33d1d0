package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

// Options configures a Manager. Only Store is required.
type Options struct {
	// Dirs are searched in order; DefaultDirs() when empty.
	Dirs []string
	// Pins maps a concern to the plugin name the operator wants for it
	// (config file or --plugin concern=name); a pin beats the ranking.
	Pins map[string]string
	// Store holds the plugin lock (plugin/lock/<concern>).
	Store  core.Store
	Logger *slog.Logger

	// OSRelease is the os-release file ("" for /etc/os-release); HomeRoot
	// is statfs'd for its filesystem type ("" for /home). Platform, when
	// set, replaces both (tests).
	OSRelease string
	HomeRoot  string
	Platform  *Platform

	// Mode chooses direct exec or sudo; ModeAuto decides by euid.
	Mode Mode
	// Sudo is the sudo binary ("" looks it up in PATH); SocketGroup the
	// group the root plugins' sockets are given on the sudo path ("" for
	// the host's primary group).
	Sudo        string
	SocketGroup string
	// Env is added to the environment every plugin gets, which is built,
	// not inherited from the host (see pluginEnv). On the sudo path only
	// the variables the sudoers rule keeps arrive.
	Env []string
	// NoMTLS turns go-plugin's AutoMTLS off (the bench measures its cost).
	NoMTLS bool

	StartTimeout  time.Duration // handshake deadline; default 5s
	ProbeInterval time.Duration // default 10s
	ProbeTimeout  time.Duration // for Probe and GetInfo; default 5s
	Backoff       Backoff       // default 100ms doubling to 30s, reset after 1m
}

func (o *Options) fill() {
	if len(o.Dirs) == 0 {
		o.Dirs = DefaultDirs()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HomeRoot == "" {
		o.HomeRoot = "/home"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.StartTimeout, 5*time.Second)
	def(&o.ProbeInterval, 10*time.Second)
	def(&o.ProbeTimeout, 5*time.Second)
	def(&o.Backoff.Min, 100*time.Millisecond)
	def(&o.Backoff.Max, 30*time.Second)
	def(&o.Backoff.StableAfter, time.Minute)
}

// Manager runs one plugin per OS concern: it discovers and chooses them,
// checks them against the lock, starts them (one process per binary),
// supervises them, and hands core stable clients that route each call to
// whichever process is live.
type Manager struct {
	opts  Options
	log   *slog.Logger
	mode  Mode // resolved: ModeDirect or ModeSudo
	sudo  string
	group string
	env   []string
	// dial is every plugin connection's options: noteTransport tells
	// transport failures from the plugin's, and the volumes.DeferSync
	// mark of a call's context travels as gRPC metadata.
	dial []grpc.DialOption

	// clients are the stable clients core uses, one per concern, made
	// once (clients.go).
	clients map[string]any

	mu       sync.RWMutex
	routes   map[string]*route
	procs    []*proc
	platform Platform
	ctx      context.Context
	cancel   context.CancelFunc
	started  bool
}

// route is where calls for one concern go.
type route struct {
	pick    Pick   // zero when nothing serves the concern
	proc    *proc  // nil when nothing runs for it
	refused string // the lock refuses this concern's plugin: why
	missing string // no plugin: why
	absent  bool   // and the concern is optional (sdk/concern): not served
	// fallbacks are the runners-up, best first, to try when proc's
	// first probe says not ready; passedOver says which better-ranked
	// plugins were not ready, and why (fallback.go).
	fallbacks  []Pick
	passedOver []string
	// approving: an Approve routed here and its fallbacks record the
	// lock rather than compare with it, until the route settles.
	approving bool
}

// New checks the options; it starts nothing.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, errors.New("plugins: a store is required for the plugin lock")
	}
	opts.fill()
	m := &Manager{opts: opts, log: opts.Logger.With("component", "plugins"), mode: opts.Mode.resolve(),
		routes: map[string]*route{}, dial: append(sdk.ClientWindow(),
			grpc.WithChainUnaryInterceptor(noteTransport, volumesgrpc.DeferSyncClientInterceptor))}
	m.clients = m.routedClients()
	m.env = pluginEnv(m.log.Enabled(context.Background(), slog.LevelDebug), opts.Env)
	if m.mode == ModeSudo {
		if err := m.sudoSetup(); err != nil {
			return nil, err
		}
	}
	for _, c := range sdk.Concerns {
		m.routes[c] = &route{missing: "the plugin manager has not started"}
	}
	return m, nil
}

func (m *Manager) sudoSetup() error {
	m.sudo = m.opts.Sudo
	if m.sudo == "" {
		var err error
		if m.sudo, err = exec.LookPath("sudo"); err != nil {
			return fmt.Errorf("plugins: the host is not root and sudo is missing (%w); run as root or install sudo and run hero_codescalers setup driver", err)
		}
	}
	m.group = m.opts.SocketGroup
	if m.group == "" {
		g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
		if err != nil {
			return fmt.Errorf("plugins: the host's primary group: %w", err)
		}
		m.group = g.Name
	}
	return nil
}

// Start discovers and chooses the plugins, and starts them in parallel.
// It returns once they are launched, not ready (see WaitReady). An error
// means the configuration is wrong (a pin names no plugin, the platform
// cannot be read); a plugin that fails to start is reported by List and
// retried, never an error here.
func (m *Manager) Start() error {
	plat, ranked, err := m.choose()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("plugins: already started")
	}
	m.started, m.platform = true, plat
	m.ctx, m.cancel = context.WithCancel(context.Background())
	byPath := map[string]*proc{}
	for _, concern := range sdk.Concerns {
		list, ok := ranked[concern]
		if !ok {
			d, _ := sdk.Lookup(concern)
			m.routes[concern] = &route{missing: fmt.Sprintf("no plugin for %s fits %s (searched %v)", concern, plat, m.opts.Dirs), absent: d.Optional}
			continue
		}
		pk := list[0]
		p := byPath[pk.Candidate.Path]
		if p == nil {
			p = newProc(m, pk.Candidate)
			byPath[pk.Candidate.Path] = p
			m.procs = append(m.procs, p)
		}
		p.concerns = append(p.concerns, concern)
		m.routes[concern] = &route{pick: pk, proc: p, fallbacks: list[1:]}
		m.log.Info("plugin chosen", "concern", concern, "plugin", pk.Candidate.Name(),
			"version", pk.Candidate.Manifest.Version, "why", pk.Why, "path", pk.Candidate.Path,
			"fallbacks", len(list)-1)
	}
	for _, p := range m.procs {
		warnDeprecated(m.log, p)
	}
	for _, p := range m.procs {
		go m.admitAndRun(p)
	}
	return nil
}

// choose reads the platform, discovers and ranks.
func (m *Manager) choose() (Platform, map[string][]Pick, error) {
	var plat Platform
	if m.opts.Platform != nil {
		plat = *m.opts.Platform
	} else {
		var err error
		if plat, err = DetectPlatform(m.opts.OSRelease, m.opts.HomeRoot); err != nil {
			return Platform{}, nil, fmt.Errorf("plugins: %w", err)
		}
	}
	cands, _ := Discover(m.opts.Dirs, m.log)
	ranked, err := Rank(cands, plat, m.opts.Pins)
	if err != nil {
		return Platform{}, nil, fmt.Errorf("plugins: %w", err)
	}
	for c, list := range ranked {
		if _, _, fits := rank(&list[0].Candidate, c, plat); !fits {
			m.log.Warn("pinned plugin does not declare support for this machine", "concern", c,
				"plugin", list[0].Candidate.Name(), "platform", plat.String())
		}
	}
	return plat, ranked, nil
}

// launchFor is the launch of one start of p.
func (m *Manager) launchFor(p *proc, sha string) launch {
	return launch{
		path: p.path, apis: p.apis, sha: sha, mode: m.mode, sudo: m.sudo, group: m.group,
		env: m.env, timeout: m.opts.StartTimeout, autoMTLS: !m.opts.NoMTLS,
		logger: newHCLogger(p.log), stderr: &tailBuffer{}, dial: m.dial,
	}
}

// Close stops every plugin (a graceful shutdown over gRPC, then SIGKILL)
// and waits for them. Calls fail with Unavailable from then on.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.cancel != nil {
		m.cancel()
	}
	procs := m.procs
	m.mu.Unlock()
	for _, p := range procs {
		<-p.done
	}
	return nil
}

// Name identifies the manager as a host component.
func (m *Manager) Name() string { return "plugins" }

// Run is the manager as a host component: start, wait for ctx, close.
// Plugins that fail are reported, never fatal; a configuration error is.
// It starts the manager unless Start was called already.
func (m *Manager) Run(ctx context.Context, _ *core.Service) error {
	m.mu.RLock()
	started := m.started
	m.mu.RUnlock()
	if !started {
		if err := m.Start(); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return m.Close()
}
