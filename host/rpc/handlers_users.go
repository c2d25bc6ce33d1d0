package rpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// registerUsers binds the user and session lifecycle.
func (h *handlers) registerUsers(r *Registry) {
	Register(r, api.MUserCreate, h.userCreate)
	Register(r, api.MUserCreateBatch, h.userCreateBatch)
	Register(r, api.MUserDelete, func(ctx context.Context, p api.UserDeleteParams) (api.OK, error) {
		return ok(h.svc.UserDelete(ctx, p.Name, p.KeepHome))
	})
	Register(r, api.MUserGet, func(ctx context.Context, p api.NameParams) (core.User, error) {
		return h.svc.UserInspect(ctx, p.Name)
	})
	Register(r, api.MUserList, func(ctx context.Context, p api.UserListParams) (api.UserListResult, error) {
		users, next, err := h.svc.UserList(ctx, core.UserFilter{Prefix: p.Prefix, Group: p.Group,
			State: core.UserState(p.State), Limit: p.Limit, After: p.After})
		return api.UserListResult{Users: users, Next: next}, err
	})
	Register(r, api.MUserReset, func(ctx context.Context, p api.NameParams) (api.UserResetResult, error) {
		repaired, err := h.svc.UserReset(ctx, p.Name)
		if repaired == nil {
			repaired = []string{}
		}
		return api.UserResetResult{Repaired: repaired}, err
	})
	Register(r, api.MUserLock, func(ctx context.Context, p api.NameParams) (core.User, error) {
		return h.svc.UserLock(ctx, p.Name)
	})
	Register(r, api.MUserUnlock, func(ctx context.Context, p api.NameParams) (core.User, error) {
		return h.svc.UserUnlock(ctx, p.Name)
	})
	Register(r, api.MUserKeyAdd, func(ctx context.Context, p api.UserKeyAddParams) (core.User, error) {
		return h.svc.UserKeyAdd(ctx, p.Name, p.Keys)
	})
	Register(r, api.MUserKeyRemove, func(ctx context.Context, p api.UserKeyRemoveParams) (core.User, error) {
		return h.svc.UserKeyRemove(ctx, p.Name, p.Key)
	})
	Register(r, api.MUserQuotaSet, func(ctx context.Context, p api.UserQuotaParams) (core.User, error) {
		q, err := core.ParseQuota("quota", p.Quota)
		if err != nil {
			return core.User{}, err
		}
		return h.svc.UserQuotaSet(ctx, p.Name, q)
	})
	Register(r, api.MUserLimitsSet, func(ctx context.Context, p api.UserLimitsParams) (core.User, error) {
		l, err := core.ParseLimits(p.CPU, p.Memory)
		if err != nil {
			return core.User{}, err
		}
		return h.svc.UserLimitsSet(ctx, p.Name, l)
	})
	Register(r, api.MUserPlan, h.userPlan)
	h.registerSessions(r)
}

func (h *handlers) registerSessions(r *Registry) {
	Register(r, api.MSessionList, func(ctx context.Context, p api.SessionListParams) (api.SessionListResult, error) {
		list, err := h.svc.SessionList(ctx, p.User)
		return api.SessionListResult{Sessions: list}, err
	})
	Register(r, api.MSessionKill, func(ctx context.Context, p api.SessionKillParams) (api.SessionKillResult, error) {
		n, err := h.svc.SessionKill(ctx, p.User, p.Session)
		return api.SessionKillResult{Killed: n}, err
	})
	Register(r, api.MReconcile, func(ctx context.Context, _ api.Empty) (api.ReconcileResult, error) {
		drift, err := h.svc.Reconcile(ctx)
		return api.ReconcileResult{Drift: drift}, err
	})
	Register(r, api.MGroupMemberAdd, func(ctx context.Context, p api.GroupMemberParams) (core.Group, error) {
		return h.svc.GroupMemberAdd(ctx, p.Name, p.User)
	})
	Register(r, api.MGroupMemberDel, func(ctx context.Context, p api.GroupMemberParams) (core.Group, error) {
		return h.svc.GroupMemberRemove(ctx, p.Name, p.User)
	})
}

// createSpec turns wire params into a core spec; the quota is parsed here
// so a bad size is reported against its field.
func createSpec(p api.UserCreateParams) (core.CreateSpec, error) {
	sp := core.CreateSpec{Name: p.Name, UID: p.UID, SSHKeys: p.SSHKeys, ForgeToken: p.ForgeToken, Groups: p.Groups, Shell: p.Shell}
	if p.Quota != "" {
		q, err := core.ParseQuota("quota", p.Quota)
		if err != nil {
			return sp, err
		}
		sp.QuotaBytes = q
	}
	l, err := core.ParseLimits(p.CPU, p.Memory)
	sp.Limits = l
	return sp, err
}

func (h *handlers) userCreate(ctx context.Context, p api.UserCreateParams) (core.User, error) {
	sp, err := createSpec(p)
	if err != nil {
		return core.User{}, err
	}
	return h.svc.UserCreate(ctx, sp)
}

func (h *handlers) userCreateBatch(ctx context.Context, p api.UserCreateBatchParams) (api.UserCreateBatchResult, error) {
	res := api.UserCreateBatchResult{Results: make([]api.BatchItem, len(p.Users))}
	specs := make([]core.CreateSpec, 0, len(p.Users))
	index := make([]int, 0, len(p.Users))
	for i, u := range p.Users {
		res.Results[i].Name = u.Name
		sp, err := createSpec(u)
		if err != nil {
			res.Results[i].Error = api.FromError(err)
			continue
		}
		specs = append(specs, sp)
		index = append(index, i)
	}
	if len(specs) > 0 {
		out, err := h.svc.UserCreateBatch(ctx, specs, nil)
		if err != nil {
			return api.UserCreateBatchResult{}, err
		}
		for k, o := range out {
			item := &res.Results[index[k]]
			if o.Err != nil {
				item.Error = api.FromError(o.Err)
			} else {
				u := o.User
				item.User = &u
			}
		}
	}
	for _, it := range res.Results {
		if it.Error != nil {
			res.Failed++
		} else {
			res.Created++
		}
	}
	return res, nil
}
