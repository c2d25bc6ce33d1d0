package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Backoff bounds how fast a crashing plugin is restarted: Min doubling up
// to Max, back to Min once a process ran for StableAfter.
type Backoff struct {
	Min, Max, StableAfter time.Duration
}

// exitPoll is how often a running process is checked for exit. go-plugin
// offers Exited() but no channel; 50ms keeps restarts prompt for next to
// no CPU.
const exitPoll = 50 * time.Millisecond

// deadProbes is how many probes in a row may fail in transport before a
// process that has not exited is taken for hung and restarted.
const deadProbes = 3

// run supervises the proc until ctx ends or stop is called: start, watch,
// and on a crash wait out the backoff and start again. A refusal ends it:
// only Approve can fix that, and it makes a new proc.
func (p *proc) run(ctx context.Context) {
	defer close(p.done)
	defer p.settle() // runs after the refused or stopped state is set
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	wait := p.m.opts.Backoff.Min
	for {
		err := p.once(ctx, &wait)
		var ref *refusal
		switch {
		case ctx.Err() != nil:
			p.set(core.PluginStopped, "stopped")
			return
		case errors.As(err, &ref):
			p.refuse(ref)
			return
		case !p.pause(ctx, err, wait):
			p.set(core.PluginStopped, "stopped")
			return
		}
		wait = min(wait*2, p.m.opts.Backoff.Max)
	}
}

// once runs one process from start to end and says why it ended. A
// process that ran stably resets the backoff. A failed start does not
// settle the proc here: run does, once refuse or pause has published the
// state, so WaitReady and Approve never read the "starting" of before.
func (p *proc) once(ctx context.Context, wait *time.Duration) error {
	inst, err := p.start(ctx)
	if err != nil {
		return err
	}
	p.adopt(inst)
	p.settle()
	err = p.watch(ctx, inst)
	p.drop(inst)
	if time.Since(inst.started) >= p.m.opts.Backoff.StableAfter {
		*wait = p.m.opts.Backoff.Min
	}
	return err
}

// pause records a crash and waits out the backoff; false means ctx ended.
func (p *proc) pause(ctx context.Context, err error, wait time.Duration) bool {
	p.log.Warn("plugin crashed; restarting", "error", err, "in", wait.String())
	p.set(core.PluginCrashed, err.Error())
	p.settle() // a first start that failed: WaitReady may read it now
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return false
	}
	p.mu.Lock()
	p.restarts++
	p.state = core.PluginStarting
	p.mu.Unlock()
	return true
}

func (p *proc) refuse(r *refusal) {
	p.log.Error("plugin refused", "reason", r.what)
	p.mu.Lock()
	p.approve = r.approval
	p.mu.Unlock()
	p.set(core.PluginRefused, r.what)
}

// adopt makes inst the live process and records its first probe.
func (p *proc) adopt(inst *instance) {
	p.mu.Lock()
	p.inst = inst
	p.mu.Unlock()
	p.log.Info("plugin started", "pid", inst.pid, "version", p.version, "mode", p.m.mode.String(),
		"took", time.Since(inst.started).Round(time.Microsecond).String())
	_ = p.probe(context.Background(), inst)
}

// drop stops inst and forgets it; calls routed to it from now on fail fast.
func (p *proc) drop(inst *instance) {
	p.mu.Lock()
	if p.inst == inst {
		p.inst = nil
	}
	p.mu.Unlock()
	p.m.kill(inst, p.log)
	inst.markGone()
}

// watch returns when the process exits (with why), stops answering probes,
// or ctx ends (nil).
func (p *proc) watch(ctx context.Context, inst *instance) error {
	exits := time.NewTicker(exitPoll)
	defer exits.Stop()
	probes := time.NewTicker(p.m.opts.ProbeInterval)
	defer probes.Stop()
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-exits.C:
			if inst.client.Exited() {
				inst.markGone()
				return exitError(inst)
			}
		case <-probes.C:
			if err := p.probe(ctx, inst); err == nil || ctx.Err() != nil {
				failed = 0
			} else if failed++; failed >= deadProbes {
				return fmt.Errorf("stopped answering probes: %w", err)
			}
		}
	}
}

// probe asks the plugin whether it is ready and records the answer. It
// returns an error only when the call failed in transport; a plugin that
// answers with an error is merely not ready.
func (p *proc) probe(ctx context.Context, inst *instance) error {
	ctx, cancel := context.WithTimeout(ctx, p.m.opts.ProbeTimeout)
	defer cancel()
	note := &callNote{}
	res, err := inst.ident.Probe(context.WithValue(ctx, noteKey{}, note))
	switch {
	case err != nil && note.transport:
		p.log.Warn("plugin probe failed", "error", err)
		// Shown as such, not as the state before (a plugin whose first
		// probe hangs would read "starting" until it is restarted).
		why := "probe: " + err.Error()
		if ctx.Err() != nil {
			why = "probe: no answer within " + p.m.opts.ProbeTimeout.String()
		}
		p.set(core.PluginNotReady, why+fmt.Sprintf(" (restarted after %d unanswered in a row)", deadProbes))
		return err
	case err != nil:
		p.set(core.PluginNotReady, "probe: "+err.Error())
	case !res.Ready:
		p.set(core.PluginNotReady, res.Reason)
	default:
		p.set(core.PluginReady, "")
	}
	return nil
}

// exitError says how a process ended, with its last words on stderr.
func exitError(inst *instance) error {
	how := "exited"
	if ps := inst.cmd.ProcessState; ps != nil {
		how = "exited (" + ps.String() + ")"
	}
	if tail := inst.stderr.String(); tail != "" {
		how += "; stderr: " + tail
	}
	return errors.New(how)
}

// killTimeout bounds how long stopping one process may take. On the sudo
// path a hung root plugin cannot be signalled by the unprivileged host;
// after this the host gives up on it, and the plugin's parent-death
// watchdog ends it when the host exits.
const killTimeout = 10 * time.Second

// kill stops inst: go-plugin asks the plugin to shut down over gRPC, then
// SIGKILLs it, and waits for its pipes. Safe on a process already gone.
func (m *Manager) kill(inst *instance, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		inst.client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(killTimeout):
		log.Error("plugin did not exit; giving up on it", "pid", inst.pid, "waited", killTimeout)
	}
}
