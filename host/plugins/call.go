package plugins

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// goneWait is how long a call that lost its connection waits for the
// supervisor to confirm the process died, to tell "restarting" from a
// transport hiccup. It is spent only on that failure path.
const goneWait = 500 * time.Millisecond

// callNote travels in a call's context so the gRPC interceptor can say
// whether a failure came from the transport rather than the plugin: the
// sdk's client adapters turn both into an *sdkerr.Error, but only a
// plugin's own errors carry the sdk's error detail.
type callNote struct {
	transport bool
	msg       string
	// late is set when the call ran out of its own time (callLimit), not
	// the caller's.
	late time.Duration
}

// A plugin call the caller gave no sooner deadline ends after callLimit:
// a plugin that never answers (a bug, a hung tool) must not hold a
// request, and the lock of the user it is about, for ever.
var (
	// readLimit bounds the reads that answer from what the plugin has at
	// hand: lists, gets, its probe.
	readLimit = 30 * time.Second
	// workLimit bounds the rest: a home's removal, a usage walk, a batch
	// of accounts.
	workLimit = 10 * time.Minute
)

// callLimit is the time a plugin method may take.
func callLimit(method string) time.Duration {
	name := method[strings.LastIndexByte(method, '/')+1:]
	switch {
	case name == "GetUsage":
		return workLimit
	case strings.HasPrefix(name, "List"), strings.HasPrefix(name, "Get"), name == "Probe", name == "Describe":
		return readLimit
	}
	return workLimit
}

type noteKey struct{}

// noteTransport is a gRPC client interceptor on every plugin connection.
func noteTransport(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	limit := callLimit(method)
	cctx := ctx
	var w *watched
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > limit {
		// Not a deadline on the call: gRPC would send it and both sides
		// would arm a timer per call (a tenth of a plugin round trip);
		// the watchdog cancels the few calls that run too long.
		var cancel context.CancelFunc
		cctx, cancel = context.WithCancel(ctx)
		defer cancel()
		w = overdue.watch(cancel, limit)
		defer overdue.done(w)
	}
	err := invoker(cctx, method, req, reply, cc, opts...)
	if err == nil {
		return nil
	}
	if n, ok := ctx.Value(noteKey{}).(*callNote); ok && isTransport(err) {
		n.transport, n.msg = true, status.Convert(err).Message()
		if w != nil && w.late.Load() {
			n.late = limit
		}
	}
	return err
}

// overdue cancels the plugin calls that outlive their callLimit.
var overdue watchdog

// watchEvery is how often the watchdog looks: a call ends at most this
// long after its limit.
const watchEvery = time.Second

type watchdog struct {
	once  sync.Once
	mu    sync.Mutex
	calls map[*watched]struct{}
}

// watched is one call in flight under the watchdog.
type watched struct {
	cancel context.CancelFunc
	until  time.Time
	late   atomic.Bool
}

func (w *watchdog) watch(cancel context.CancelFunc, limit time.Duration) *watched {
	w.once.Do(func() {
		w.calls = map[*watched]struct{}{}
		go w.run()
	})
	c := &watched{cancel: cancel, until: time.Now().Add(limit)}
	w.mu.Lock()
	w.calls[c] = struct{}{}
	w.mu.Unlock()
	return c
}

func (w *watchdog) done(c *watched) {
	w.mu.Lock()
	delete(w.calls, c)
	w.mu.Unlock()
}

func (w *watchdog) run() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for now := range t.C {
		w.mu.Lock()
		for c := range w.calls {
			if now.After(c.until) {
				c.late.Store(true)
				c.cancel()
				delete(w.calls, c)
			}
		}
		w.mu.Unlock()
	}
}

// isTransport reports whether err is a gRPC failure without the plugin's
// error detail: the connection, a deadline, a cancel.
func isTransport(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return true
	}
	for _, d := range st.Details() {
		if _, ok := d.(*commonv1.ErrorDetail); ok {
			return false
		}
	}
	switch st.Code() {
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded:
		return true
	}
	return false
}

// invoke runs one call on inst and converts its error: the plugin's typed
// errors by core's mapping, transport failures to Unavailable naming the
// plugin and what happens next.
func (p *proc) invoke(ctx context.Context, concern string, inst *instance, fn func(context.Context) error) error {
	note := &callNote{}
	err := fn(context.WithValue(ctx, noteKey{}, note))
	if err == nil {
		return nil
	}
	if !note.transport {
		return core.FromPluginError(err)
	}
	if ctx.Err() != nil {
		return unavailable(p.name, concern, "call abandoned: "+ctx.Err().Error(), err)
	}
	if note.late > 0 {
		p.log.Warn("plugin: a call went unanswered", "concern", concern, "within", note.late.String())
		return unavailable(p.name, concern, "no answer within "+note.late.String(), err)
	}
	return unavailable(p.name, concern, p.lostReason(inst, note.msg), err)
}

// lostReason waits briefly for the supervisor to see whether the process
// behind a lost connection died, and says what happens next.
func (p *proc) lostReason(inst *instance, msg string) string {
	select {
	case <-inst.gone:
	case <-time.After(goneWait):
		return msg
	}
	_, state, reason := p.live()
	switch state {
	case core.PluginStopped:
		return "stopped"
	case core.PluginRefused:
		return "refused: " + reason
	}
	return "restarting"
}

// resolve finds the live process serving concern.
func (m *Manager) resolve(concern string) (*proc, *instance, error) {
	m.mu.RLock()
	rt, ok := m.routes[concern]
	var rtCopy route
	if ok {
		rtCopy = *rt
	}
	m.mu.RUnlock()
	switch {
	case !ok:
		return nil, nil, core.Errorf(core.Invalid, "unknown concern %q", concern)
	case rtCopy.absent:
		return nil, nil, &core.Error{Code: core.FailedPrecondition, Err: core.ErrNotServed,
			Message: fmt.Sprintf("no plugin serves %s on this host: %s", concern, rtCopy.missing)}
	case rtCopy.missing != "":
		return nil, nil, core.Errorf(core.Unavailable, "no plugin serves %s: %s", concern, rtCopy.missing)
	case rtCopy.refused != "":
		return nil, nil, core.Errorf(core.Unavailable, "plugin %s (%s) is refused: %s", rtCopy.pick.Candidate.Name(), concern, rtCopy.refused)
	}
	p := rtCopy.proc
	inst, state, reason := p.live()
	if inst != nil {
		return p, inst, nil
	}
	switch state {
	case core.PluginCrashed:
		reason = "restarting after: " + reason
	case core.PluginStarting:
		reason = "starting"
	case core.PluginRefused:
		reason = "refused: " + reason
		if p.approve {
			reason += "; " + approveHint(concern, m.mode == ModeSudo)
		}
	}
	return nil, nil, unavailable(p.name, concern, reason, nil)
}

func unavailable(name, concern, reason string, err error) *core.Error {
	return &core.Error{Code: core.Unavailable, Message: fmt.Sprintf("plugin %s (%s) is unavailable: %s", name, concern, reason), Err: err}
}

// Probe asks the plugin serving concern whether it is ready, through the
// same routing as every call: for diagnostics and the round-trip bench.
func (m *Manager) Probe(ctx context.Context, concern string) (res identity.ProbeResult, err error) {
	p, inst, err := m.resolve(concern)
	if err != nil {
		return res, err
	}
	err = p.invoke(ctx, concern, inst, func(ctx context.Context) (err error) {
		res, err = inst.ident.Probe(ctx)
		return err
	})
	return res, err
}
