package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

func internalError() *api.Error {
	return &api.Error{Code: api.CodeInternalError, Message: "Internal error"}
}

// unknownCaller stands for a request that did not come over a Unix socket
// (no SO_PEERCRED): it is never privileged.
var unknownCaller = core.Caller{UID: -1, GID: -1}

// withCaller completes the peer credentials that ConnContext stored with
// the policy's verdict. It runs per request, not per connection, so a
// caller removed from the admin group loses privilege on a kept-alive
// connection too once the policy's cache expires.
func (s *Server) withCaller(ctx context.Context) context.Context {
	c, ok := core.CallerFrom(ctx)
	if !ok {
		c = unknownCaller
	} else {
		c.Privileged = s.policy.Privileged(c)
	}
	return core.WithCaller(ctx, c)
}

// call runs one request: it finds the method, decodes the params, checks
// the caller's privilege, runs the handler and audits a mutating method.
func (s *Server) call(ctx context.Context, req request) ([]byte, *api.Error) {
	m := s.methods[req.method]
	if m == nil {
		return nil, methodNotFound(req.method)
	}
	start := time.Now()
	caller, ok := core.CallerFrom(ctx)
	if !ok {
		caller = unknownCaller
	}
	params, err := m.params.decode(req.params)
	if !m.Allowed(caller) {
		err = api.Forbidden(m.Name, caller, s.policy.Requirement())
	}
	var result any
	if err == nil {
		result, err = s.invoke(ctx, m, params)
	}
	if m.Mutating {
		s.audit(ctx, m, caller, params, err, time.Since(start))
	}
	if s.observe != nil {
		s.observe(m.Name, outcome(err), time.Since(start))
	}
	if err != nil {
		return nil, api.FromError(err)
	}
	b, merr := json.Marshal(result)
	if merr != nil {
		s.log.Error("rpc: cannot encode a result", "method", m.Name, "err", merr)
		return nil, internalError()
	}
	return b, nil
}

// outcome is how a call ended, for the metrics: "ok" or the error's
// class (core's code).
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return string(core.AsError(err).Code)
}

// invoke runs the handler. A panic becomes an internal error and a log
// line with the stack: one bad call must not take the host down.
func (s *Server) invoke(ctx context.Context, m *method, params any) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("rpc: handler panicked", "method", m.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			result, err = nil, core.Errorf(core.Internal, "internal error")
		}
	}()
	return m.call(ctx, params)
}

// audit records a call to a mutating method: who, what, on what, how it
// ended. The params themselves are never recorded, only the target member,
// because params can hold secrets. An unprivileged caller's repeated
// refusals are folded into counted records (refusals); a privileged
// caller's calls are all recorded one by one. A recording failure is
// logged and does not change the call's answer.
func (s *Server) audit(ctx context.Context, m *method, c core.Caller, params any, callErr error, d time.Duration) {
	if s.auditor == nil {
		return
	}
	ev := core.AuditEvent{
		ActorUID: c.UID,
		Method:   m.Name,
		Target:   target(m, params),
		Outcome:  core.OutcomeOK,
		Duration: d,
	}
	if callErr != nil {
		ev.Outcome = core.OutcomeError
		ev.Error = api.FromError(callErr).Message
	}
	if !c.Privileged && core.IsCode(callErr, core.Forbidden) && !s.refusals.admit(c, ev) {
		return
	}
	if _, err := s.auditor.AuditRecord(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Error("rpc: cannot record an audit event", "method", m.Name, "actor_uid", c.UID, "err", err)
	}
}

// target reads the params member that names what the call acts on.
func target(m *method, params any) string {
	if m.target == nil || params == nil {
		return ""
	}
	v := reflect.ValueOf(params).FieldByIndex(m.target)
	if v.Kind() == reflect.String {
		// A URL given where a name or address belongs may carry a
		// password (fleet-join nats://user:pw@host).
		return clip(api.RedactURLs(v.String()))
	}
	return clip(fmt.Sprint(v.Interface()))
}
