package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// proc supervises one plugin binary at one digest: one process however
// many concerns it serves. It starts the process, probes it, and restarts
// it with bounded backoff when it dies (supervise.go).
type proc struct {
	m       *Manager
	name    string
	path    string
	version string
	apis    []string // the manifest's API versions
	log     *slog.Logger

	mu       sync.Mutex
	sha      string   // the digest this proc runs, set once admitted
	hashed   bool     // sha was just computed from the file: skip one re-hash
	concerns []string // the concerns routed here that the lock admits
	state    core.PluginState
	reason   string // why not ready, refused or crashed; "" when ready
	lastErr  string // the last crash or failed start, kept after recovery
	approve  bool   // the refusal is a changed binary an admin may approve
	restarts int
	inst     *instance // the live process, nil between processes

	settleOnce sync.Once
	settled    chan struct{} // closed after the first start attempt
	stopOnce   sync.Once
	stopCh     chan struct{} // closed to stop this proc alone (Approve)
	done       chan struct{} // closed when run has returned
}

func newProc(m *Manager, c Candidate) *proc {
	return &proc{
		m: m, name: c.Name(), path: c.Path, version: c.Manifest.Version, apis: c.Manifest.APIVersions,
		log:   m.log.With("plugin", c.Name()),
		state: core.PluginStarting, reason: "starting",
		settled: make(chan struct{}), stopCh: make(chan struct{}), done: make(chan struct{}),
	}
}

// instance is one running process of a proc.
type instance struct {
	client  *plugin.Client
	cmd     *exec.Cmd
	ident   identity.Identity
	pid     int
	started time.Time
	stderr  *tailBuffer
	gone    chan struct{} // closed once the process has exited
	goneMu  sync.Once

	mu    sync.Mutex
	impls map[string]any
}

// markGone records that the process has exited.
func (i *instance) markGone() { i.goneMu.Do(func() { close(i.gone) }) }

// impl returns the client adapter of concern, dispensed once per process.
func (i *instance) impl(concern string) (any, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if v, ok := i.impls[concern]; ok {
		return v, nil
	}
	rpc, err := i.client.Client()
	if err != nil {
		return nil, err
	}
	v, err := rpc.Dispense(concern)
	if err != nil {
		return nil, err
	}
	i.impls[concern] = v
	return v, nil
}

// refusal is a start failure that retrying cannot fix: a changed binary,
// or a plugin that is not what its manifest says.
type refusal struct {
	what     string
	approval bool // Approve would fix it
}

func (r *refusal) Error() string { return r.what }

// start launches one process and checks it: handshake, then its identity
// against the manifest it was chosen by. It never waits longer than
// StartTimeout for the handshake, so junk on stdout or a silent plugin
// fails the start instead of hanging it.
func (p *proc) start(ctx context.Context) (*instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	sha, concerns, hashed := p.sha, slices.Clone(p.concerns), p.hashed
	p.hashed = false
	p.mu.Unlock()
	if p.m.mode == ModeSudo && !hashed { // the direct path re-hashes in SecureConfig
		if err := p.checkDigest(sha); err != nil {
			return nil, err
		}
	}
	l := p.m.launchFor(p, sha)
	cfg, err := l.clientConfig()
	if err != nil {
		return nil, err
	}
	inst := &instance{client: plugin.NewClient(cfg), cmd: cfg.Cmd, stderr: l.stderr,
		started: time.Now(), gone: make(chan struct{}), impls: map[string]any{}}
	if err := p.handshake(ctx, inst, sha, concerns); err != nil {
		p.m.kill(inst, p.log) // also waits for go-plugin's stderr reader
		var hs *handshakeError
		if errors.As(err, &hs) {
			return nil, startError(hs.err, inst.stderr, p.m.mode == ModeSudo)
		}
		return nil, err
	}
	return inst, nil
}

// handshakeError is go-plugin's start failure, reported once the plugin's
// stderr has been read to the end.
type handshakeError struct{ err error }

func (h *handshakeError) Error() string { return h.err.Error() }

func (p *proc) handshake(ctx context.Context, inst *instance, sha string, concerns []string) error {
	rpc, err := inst.client.Client()
	if err != nil {
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			if ref := p.checkDigest(sha); ref != nil {
				return ref
			}
		}
		return &handshakeError{err}
	}
	if rc := inst.client.ReattachConfig(); rc != nil {
		inst.pid = rc.Pid
	}
	raw, err := rpc.Dispense(sdk.ConcernIdentity)
	if err != nil {
		return fmt.Errorf("dispense identity: %w", err)
	}
	inst.ident = raw.(identity.Identity)
	cctx, cancel := context.WithTimeout(ctx, p.m.opts.ProbeTimeout)
	defer cancel()
	info, err := inst.ident.GetInfo(cctx)
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	if err := verifyInfo(info, p.name, p.apis, concerns); err != nil {
		return err
	}
	for _, c := range concerns {
		if _, err := inst.impl(c); err != nil {
			return fmt.Errorf("dispense %s: %w", c, err)
		}
	}
	return nil
}

// checkDigest re-hashes the binary before a start and refuses it when it
// is no longer the approved one.
func (p *proc) checkDigest(sha string) error {
	now, err := hashFile(p.path)
	if err != nil {
		return &refusal{what: "cannot read the plugin binary: " + err.Error()}
	}
	if now != sha {
		return &refusal{what: fmt.Sprintf("sha256 changed from %s to %s", sha, now), approval: true}
	}
	return nil
}

// verifyInfo checks a started plugin against the manifest it was chosen by:
// its name, and for each concern the same API version (the host built
// the concern's client for that version).
func verifyInfo(info identity.Info, name string, apis, concerns []string) error {
	if info.Name != name {
		return &refusal{what: fmt.Sprintf("the plugin calls itself %q but its manifest says %q", info.Name, name)}
	}
	for _, c := range concerns {
		if !slices.Contains(info.Concerns, c) {
			return &refusal{what: fmt.Sprintf("the plugin does not serve %s, although its manifest says it does", c)}
		}
		d, _ := sdk.Lookup(c)
		want, _ := d.Speaks(apis)
		if got, ok := d.Speaks(info.APIVersions); !ok || got != want {
			return &refusal{what: fmt.Sprintf("the plugin does not speak %s as its manifest says (it speaks %s)", want, strings.Join(info.APIVersions, ", "))}
		}
	}
	return nil
}

// startError shortens go-plugin's start errors to their first line and
// adds what the plugin (or sudo) said on stderr.
func startError(err error, stderr *tailBuffer, viaSudo bool) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if strings.TrimSpace(strings.TrimPrefix(msg, "Unrecognized remote plugin message:")) == "" {
		msg = "exited before its handshake"
	}
	tail := stderr.String()
	if tail != "" {
		msg += " (stderr: " + tail + ")"
	}
	if viaSudo && strings.Contains(tail, "sudo:") {
		msg += "; sudo refused to run it: is the sudoers rule's digest current? (hero_codescalers setup driver)"
	}
	return errors.New("start failed: " + msg)
}

// set records a state change and its reason.
func (p *proc) set(state core.PluginState, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != state {
		p.log.Debug("plugin state", "from", p.state, "to", state, "reason", reason)
	}
	p.state, p.reason = state, reason
	if state == core.PluginCrashed || state == core.PluginRefused {
		p.lastErr = reason
	}
}

// settle marks the first start attempt done. A proc whose first probe
// said not ready first hands its concerns to their runners-up, so
// whoever waits on settled (WaitReady, Approve) finds the new route.
func (p *proc) settle() {
	p.settleOnce.Do(func() {
		p.m.fallBack(p)
		close(p.settled)
	})
}

// live returns the running process, or nil and why there is none.
func (p *proc) live() (*instance, core.PluginState, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inst, p.state, p.reason
}

// stop ends this proc alone (its last concern moved elsewhere).
func (p *proc) stop() { p.stopOnce.Do(func() { close(p.stopCh) }) }
