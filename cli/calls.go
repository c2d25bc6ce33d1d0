package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// healthCmd asks the host how it is, through the JSON-RPC method (GET
// /health is for probes; the method goes through the same path as every
// other call, so it proves more). A degraded host exits 3 (unavailable),
// as GET /health answers 503.
type healthCmd struct{}

func (healthCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	h, err := c.Health(rt.ctx)
	if err != nil {
		return err
	}
	if err := rt.emit(h, func(w io.Writer) {
		kv(w, "status", h.Status)
		kv(w, "version", h.Version)
		kv(w, "uptime", fmtUptime(h.UptimeSecs))
		kv(w, "socket", c.Socket())
		writePlugins(w, h.Plugins)
	}); err != nil {
		return err
	}
	if h.Status != "ok" {
		// As GET /health's 503: a probe or script sees a degraded host
		// by the code alone; the report above says which plugin.
		return &exitError{code: ExitUnreachable}
	}
	return nil
}

// writePlugins appends the plugin lines of health and stats.
func writePlugins(w io.Writer, plugins []api.PluginHealth) {
	if len(plugins) == 0 {
		kv(w, "plugins", "none yet")
		return
	}
	for _, p := range plugins {
		kv(w, "plugin "+p.Concern, p.Name+" ("+p.State+")")
	}
}

// statsCmd shows the host's counters.
type statsCmd struct{}

func (statsCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	s, err := c.Stats(rt.ctx)
	if err != nil {
		return err
	}
	return rt.emit(s, func(w io.Writer) {
		kv(w, "instance", strconv.Itoa(s.Instance))
		kv(w, "version", s.Version)
		kv(w, "uptime", fmtUptime(s.UptimeSecs))
		kv(w, "users", strconv.Itoa(s.Users))
		kv(w, "groups", strconv.Itoa(s.Groups))
		kv(w, "nodes", strconv.Itoa(s.Nodes))
		kv(w, "audit events", strconv.Itoa(s.AuditEvents))
		kv(w, "plugins ready", fmt.Sprintf("%d/%d", s.PluginsReady, s.PluginsTotal))
		writePlugins(w, s.Plugins)
		writeSteps(w, s.Steps)
	})
}

// writeSteps shows where the host's time went, step by step, since it
// started: how often each step succeeded and its mean duration.
func writeSteps(w io.Writer, steps map[string]api.StepTime) {
	if len(steps) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "STEP", "COUNT", "MEAN")
	for _, name := range slices.Sorted(maps.Keys(steps)) {
		st := steps[name]
		row(w, name, strconv.FormatInt(st.Count, 10), fmt.Sprintf("%.2f ms", st.TotalMS/float64(st.Count)))
	}
}

// pluginListCmd lists the plugins with what an operator needs when one
// misbehaves: state, pid, restarts, last error.
type pluginListCmd struct{}

func (pluginListCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	ps, err := c.PluginList(rt.ctx)
	if err != nil {
		return err
	}
	return rt.emit(api.PluginListResult{Plugins: ps}, func(w io.Writer) {
		row(w, "CONCERN", "NAME", "VERSION", "STATE", "PID", "RESTARTS", "CHOSEN", "LAST ERROR")
		for _, p := range ps {
			row(w, p.Concern, p.Name, p.Version, string(p.State), strconv.Itoa(p.PID), strconv.Itoa(p.Restarts), chosen(p.Why, p.PassedOver), p.LastError)
		}
	})
}

// chosen says why a plugin serves its concern, and which better-ranked
// plugins were passed over because they were not ready here.
func chosen(why string, passedOver []string) string {
	if len(passedOver) == 0 {
		return why
	}
	return why + "; fallback: " + strings.Join(passedOver, "; ")
}

// auditListCmd pages through the audit log; the cursor for the next page
// is printed under the table, ready to paste.
type auditListCmd struct {
	Limit  int    `help:"At most this many events (the host caps it)."`
	Before string `placeholder:"CURSOR" help:"Start after this cursor (from the previous page)."`
	Method string `help:"Only events of this method, e.g. node.add."`
	Actor  string `help:"Only events of this actor: a uid, admin.sock, or a dashboard peer's address."`
}

func (a *auditListCmd) Run(rt *runCtx) error {
	c, err := rt.client()
	if err != nil {
		return err
	}
	res, err := c.AuditList(rt.ctx, api.AuditListParams{Limit: a.Limit, Before: a.Before, Method: a.Method, Actor: a.Actor})
	if err != nil {
		return err
	}
	return rt.emit(res, func(w io.Writer) {
		row(w, "TIME", "ACTOR", "METHOD", "TARGET", "OUTCOME", "MS", "ERROR")
		for _, e := range res.Events {
			outcome := string(e.Outcome)
			if e.Count > 0 { // repeated refusals, folded into one record
				outcome += fmt.Sprintf(" ×%d in %s", e.Count, span(e.Time.Sub(e.Since)))
			}
			row(w, fmtTime(e.Time), auditActor(e), e.Method, e.Target, outcome,
				strconv.FormatFloat(e.DurationMS, 'f', 1, 64), e.Error)
		}
		if res.Next != "" {
			fmt.Fprintf(w, "\nmore: hero_codescalers audit-list --before %s\n", shellQuote(res.Next))
		}
	})
}

// span rounds a time span for a table: seconds, or milliseconds below one.
func span(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// rpcCmd calls any method by name: the escape hatch for methods the CLI
// has no command for yet, and the way to see exactly what the API returns.
type rpcCmd struct {
	Method string `arg:"" help:"Method name, e.g. rpc.discover or node.list."`
	Params string `arg:"" optional:"" name:"json-params" help:"Params as a JSON object or array; - reads them from stdin."`
}

func (r *rpcCmd) Run(rt *runCtx) error {
	params, err := r.params(rt)
	if err != nil {
		return err
	}
	c, err := rt.client()
	if err != nil {
		return err
	}
	var res json.RawMessage
	if err := c.Call(rt.ctx, r.Method, params, &res); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, res, "", "  "); err != nil {
		out.Reset()
		out.Write(res)
	}
	out.WriteByte('\n')
	_, err = rt.env.Stdout.Write(out.Bytes())
	return err
}

// params reads and checks the JSON params; bad JSON is a usage error,
// caught here rather than sent to the host as a parse error.
func (r *rpcCmd) params(rt *runCtx) (any, error) {
	text := r.Params
	if text == "-" {
		b, err := io.ReadAll(rt.env.Stdin)
		if err != nil {
			return nil, failf("read params from stdin: %v", err)
		}
		text = string(b)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	// The text is not echoed: params may hold a secret (a forge token).
	if text[0] != '{' && text[0] != '[' {
		return nil, usageErrorf("JSON-PARAMS must be a JSON object or array")
	}
	var probe any
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		where := ""
		if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
			where = fmt.Sprintf(" (a syntax error at byte %d)", se.Offset)
		}
		return nil, usageErrorf("JSON-PARAMS is not valid JSON%s", where)
	}
	return json.RawMessage(text), nil
}

// auditActor names who made a call: the uid over rpc.sock, "uid N via
// admin.sock" from the dashboard's socket, the peer's address over TCP.
func auditActor(e api.AuditEvent) string {
	switch {
	case e.Source == "":
		return strconv.Itoa(e.ActorUID)
	case e.ActorUID >= 0:
		return strconv.Itoa(e.ActorUID) + "@" + e.Source
	}
	return e.Source
}
