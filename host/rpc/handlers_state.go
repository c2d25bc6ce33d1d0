package rpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// registerNodes binds node.add/remove/list/get.
func (h *handlers) registerNodes(r *Registry) {
	Register(r, api.MNodeAdd, func(ctx context.Context, p api.NodeAddParams) (core.Node, error) {
		return h.svc.NodeAdd(ctx, core.Node{Name: p.Name, Address: p.Address, Labels: p.Labels})
	})
	Register(r, api.MNodeRemove, func(ctx context.Context, p api.NameParams) (api.OK, error) {
		return ok(h.svc.NodeRemove(ctx, p.Name))
	})
	Register(r, api.MNodeList, func(ctx context.Context, _ api.Empty) (api.NodeListResult, error) {
		nodes, err := h.svc.NodeList(ctx)
		return api.NodeListResult{Nodes: nodes}, err
	})
	Register(r, api.MNodeGet, func(ctx context.Context, p api.NameParams) (core.Node, error) {
		return h.svc.NodeGet(ctx, p.Name)
	})
}

// registerGroups binds group.create/delete/list/get.
func (h *handlers) registerGroups(r *Registry) {
	Register(r, api.MGroupCreate, func(ctx context.Context, p api.GroupCreateParams) (core.Group, error) {
		var q int64
		if p.Quota != "" {
			var err error
			if q, err = core.ParseQuota("quota", p.Quota); err != nil {
				return core.Group{}, err
			}
		}
		return h.svc.GroupCreate(ctx, core.Group{Name: p.Name, Description: p.Description, Members: p.Members, Shared: p.Shared, QuotaBytes: q})
	})
	Register(r, api.MGroupDelete, func(ctx context.Context, p api.GroupDeleteParams) (api.OK, error) {
		return ok(h.svc.GroupDelete(ctx, p.Name, p.KeepData))
	})
	Register(r, api.MGroupList, func(ctx context.Context, _ api.Empty) (api.GroupListResult, error) {
		groups, err := h.svc.GroupList(ctx)
		return api.GroupListResult{Groups: groups}, err
	})
	Register(r, api.MGroupGet, func(ctx context.Context, p api.NameParams) (core.Group, error) {
		return h.svc.GroupGet(ctx, p.Name)
	})
}

func ok(err error) (api.OK, error) {
	return api.OK{OK: err == nil}, err
}
