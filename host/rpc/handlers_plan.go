package rpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// userPlan answers user.plan: the dry run of a create, a batch, a delete
// or a quota change. A single call's refusal is the method's error (so a
// client exits as the real call would); a batch reports each user's.
func (h *handlers) userPlan(ctx context.Context, p api.PlanParams) (api.PlanResult, error) {
	res := api.PlanResult{Method: p.Method, Items: []api.PlanItem{}}
	var steps []core.PlanStep
	var err error
	switch p.Method {
	case api.MUserCreate:
		if p.User == nil {
			return res, core.InvalidField("user", "user.create's plan needs the user")
		}
		var sp core.CreateSpec
		if sp, err = createSpec(*p.User); err == nil {
			steps, err = h.svc.PlanCreate(ctx, sp)
		}
		p.Name = p.User.Name
	case api.MUserDelete:
		steps, err = h.svc.PlanDelete(ctx, p.Name, p.KeepHome)
	case api.MUserQuotaSet:
		var q int64
		if q, err = core.ParseQuota("quota", p.Quota); err == nil {
			steps, err = h.svc.PlanQuota(ctx, p.Name, q)
		}
	case api.MUserCreateBatch:
		res.Items = h.planBatch(ctx, p.Users)
		return res, nil
	default:
		return res, core.InvalidField("method", "%q has no plan: want user.create, user.create_batch, user.delete or user.quota.set", p.Method)
	}
	if err != nil {
		return res, err
	}
	res.Items = append(res.Items, api.PlanItem{Name: p.Name, Steps: steps})
	return res, nil
}

// planBatch plans each user of a batch; a name twice in the batch fails
// the second time, as the batch would.
func (h *handlers) planBatch(ctx context.Context, users []api.UserCreateParams) []api.PlanItem {
	items := make([]api.PlanItem, 0, len(users))
	seen := map[string]bool{}
	for _, u := range users {
		it := api.PlanItem{Name: u.Name}
		sp, err := createSpec(u)
		if err == nil && seen[u.Name] {
			err = &core.Error{Code: core.AlreadyExists, Field: "name", Message: "user " + u.Name + " is twice in the batch"}
		}
		if err == nil {
			it.Steps, err = h.svc.PlanCreate(ctx, sp)
		}
		if err != nil {
			it.Error = api.FromError(err)
		}
		seen[u.Name] = true
		items = append(items, it)
	}
	return items
}
