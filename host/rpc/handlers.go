package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/sdk"
)

// The values of HealthResult.Status. GET /health answers 503 unless ok.
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
)

// Info is what the host tells the handlers about itself.
type Info struct {
	Version  string
	Started  time.Time
	Instance int
	// Plugins lists the plugins the host runs; nil while there is no
	// plugin manager, which reads as "no plugins".
	Plugins func() []core.PluginInfo
	// Approve records and starts the binary now chosen for a concern; nil
	// without a plugin manager.
	Approve func(ctx context.Context, concern string) error
	// Dashboard says where the dashboard listens, for health (and so
	// status); nil without a dashboard.
	Dashboard func() *api.DashboardInfo
}

// handlers adapts core.Service to the method table. Each handler is a thin
// translation between wire types and a use case: the logic stays in core so
// a fleet reconcile loop can call it without JSON-RPC.
type handlers struct {
	svc  *core.Service
	info Info
	doc  map[string]any
}

// Handlers returns the registry of every method in api.Methods, served by
// svc. The OpenRPC document is generated once, here.
func Handlers(svc *core.Service, info Info) (*Registry, error) {
	raw, err := json.Marshal(api.OpenRPC(api.Methods, info.Version))
	if err != nil {
		return nil, fmt.Errorf("openrpc document: %w", err)
	}
	h := &handlers{svc: svc, info: info}
	if err := json.Unmarshal(raw, &h.doc); err != nil {
		return nil, fmt.Errorf("openrpc document: %w", err)
	}
	r := NewRegistry()
	Register(r, api.MHealth, h.health)
	Register(r, api.MStats, h.stats)
	Register(r, api.MDiscover, h.discover)
	Register(r, api.MPluginList, h.pluginList)
	Register(r, api.MPluginApprove, h.pluginApprove)
	h.registerNodes(r)
	h.registerGroups(r)
	Register(r, api.MWhitelistGet, h.whitelistGet)
	Register(r, api.MWhitelistSet, h.whitelistSet)
	Register(r, api.MAuditList, h.auditList)
	h.registerUsers(r)
	h.registerFleet(r)
	return r, nil
}

func (h *handlers) plugins() []core.PluginInfo {
	if h.info.Plugins == nil {
		return []core.PluginInfo{}
	}
	return h.info.Plugins()
}

// pluginHealth summarises the plugins; ready counts those in PluginReady.
func (h *handlers) pluginHealth() (list []api.PluginHealth, ready int) {
	list = []api.PluginHealth{}
	for _, p := range h.plugins() {
		list = append(list, api.PluginHealth{Concern: p.Concern, Name: p.Name, State: string(p.State)})
		if p.State == core.PluginReady {
			ready++
		}
	}
	return list, ready
}

func (h *handlers) uptime() float64 {
	return time.Since(h.info.Started).Round(time.Millisecond).Seconds()
}

// health is ok while every plugin is ready, degraded otherwise.
func (h *handlers) health(ctx context.Context, _ api.Empty) (api.HealthResult, error) {
	plugins, ready := h.pluginHealth()
	status := StatusOK
	if ready < len(plugins) {
		status = StatusDegraded
	}
	res := api.HealthResult{Status: status, Version: h.info.Version, UptimeSecs: h.uptime(), Plugins: plugins}
	if h.info.Dashboard != nil {
		res.Dashboard = h.info.Dashboard()
	}
	return res, nil
}

func (h *handlers) stats(ctx context.Context, _ api.Empty) (api.StatsResult, error) {
	c, err := h.svc.Counts(ctx)
	if err != nil {
		return api.StatsResult{}, err
	}
	plugins, ready := h.pluginHealth()
	return api.StatsResult{
		Version: h.info.Version, UptimeSecs: h.uptime(), Instance: h.info.Instance,
		Users: c.Users, Groups: c.Groups, Nodes: c.Nodes, AuditEvents: c.AuditEvents,
		PluginsTotal: len(plugins), PluginsReady: ready, Plugins: plugins,
		Steps: h.svc.StepTimes(),
	}, nil
}

func (h *handlers) discover(ctx context.Context, _ api.Empty) (map[string]any, error) {
	return h.doc, nil
}

func (h *handlers) pluginList(ctx context.Context, _ api.Empty) (api.PluginListResult, error) {
	return api.PluginListResult{Plugins: h.plugins()}, nil
}

func (h *handlers) whitelistGet(ctx context.Context, _ api.Empty) (api.Whitelist, error) {
	list, err := h.svc.WhitelistGet(ctx)
	return api.Whitelist{Addresses: list, Warnings: core.WhitelistWarnings(list)}, err
}

func (h *handlers) whitelistSet(ctx context.Context, p api.Whitelist) (api.Whitelist, error) {
	list, err := h.svc.WhitelistSet(ctx, p.Addresses)
	return api.Whitelist{Addresses: list, Warnings: core.WhitelistWarnings(list)}, err
}

func (h *handlers) auditList(ctx context.Context, p api.AuditListParams) (api.AuditListResult, error) {
	events, next, err := h.svc.AuditList(ctx, core.AuditFilter{Limit: p.Limit, Before: p.Before, Method: p.Method, Actor: p.Actor})
	return api.AuditListResult{Events: events, Next: next}, err
}

func (h *handlers) pluginApprove(ctx context.Context, p api.PluginApproveParams) (api.OK, error) {
	if h.info.Approve == nil {
		return api.OK{}, core.Errorf(core.Unavailable, "this host runs no plugins")
	}
	if !slices.Contains(sdk.Concerns, p.Concern) {
		return api.OK{}, core.InvalidField("concern", "must be one of %s", strings.Join(sdk.Concerns, ", "))
	}
	return ok(h.info.Approve(ctx, p.Concern))
}
