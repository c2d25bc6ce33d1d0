package rpc

import (
	"context"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// wait turns a call's wait_secs into the wait of a fleet use case: 0 is
// the default, and no call waits beyond ten minutes.
func wait(secs float64) (time.Duration, error) {
	if secs < 0 || secs > 600 {
		return 0, core.InvalidField("wait_secs", "must be 0..600 (0: the default, %s)", core.DefaultFleetWait)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// fleetCall runs a fleet use case after checking its wait.
func fleetCall(secs float64, fn func(time.Duration) (core.FleetResult, error)) (core.FleetResult, error) {
	w, err := wait(secs)
	if err != nil {
		return core.FleetResult{}, err
	}
	return fn(w)
}

// registerFleet binds the fleet's methods.
func (h *handlers) registerFleet(r *Registry) {
	Register(r, api.MFleetInit, func(ctx context.Context, p api.FleetInitParams) (core.FleetInfo, error) {
		return h.svc.FleetInit(ctx, core.FleetInitSpec{Secret: p.Secret, Replicas: p.Replicas, NATSURL: p.NATSURL})
	})
	Register(r, api.MFleetJoin, func(ctx context.Context, p api.FleetJoinParams) (core.FleetInfo, error) {
		return h.svc.FleetJoin(ctx, core.FleetJoinSpec{Secret: p.Secret, Address: p.Address, NATSURL: p.NATSURL, Labels: p.Labels})
	})
	Register(r, api.MFleetStatus, func(ctx context.Context, _ api.Empty) (core.FleetStatus, error) {
		st, err := h.svc.FleetStatusGet(ctx)
		if c, ok := core.CallerFrom(ctx); !ok || !c.Privileged {
			// The public nkey is derived from the fleet's passphrase: a
			// value to test guesses against, for admins only.
			st.Info.ClientNkey = ""
		}
		return st, err
	})
	Register(r, api.MNodeLabel, func(ctx context.Context, p api.NodeLabelParams) (core.Node, error) {
		return h.svc.FleetNodeLabel(ctx, p.Name, p.Edits)
	})
	h.registerFleetUsers(r)
	h.registerFleetGroups(r)
	Register(r, api.MFleetSessionList, func(ctx context.Context, p api.FleetSessionListParams) (api.FleetSessionsResult, error) {
		w, err := wait(p.WaitSecs)
		if err != nil {
			return api.FleetSessionsResult{}, err
		}
		replies, err := h.svc.FleetSessions(ctx, p.User, w)
		return api.FleetSessionsResult{Replies: replies}, err
	})
	Register(r, api.MFleetSessionKill, func(ctx context.Context, p api.FleetSessionKillParams) (api.FleetSessionsResult, error) {
		w, err := wait(p.WaitSecs)
		if err != nil {
			return api.FleetSessionsResult{}, err
		}
		replies, err := h.svc.FleetSessionKill(ctx, p.User, p.Session, w)
		return api.FleetSessionsResult{Replies: replies}, err
	})
}

func (h *handlers) registerFleetUsers(r *Registry) {
	Register(r, api.MFleetUserCreate, func(ctx context.Context, p api.FleetUserCreateParams) (core.FleetResult, error) {
		sp, err := createSpec(api.UserCreateParams{Name: p.Name, UID: p.UID, SSHKeys: p.SSHKeys, ForgeToken: p.ForgeToken,
			Quota: p.Quota, Groups: p.Groups, Shell: p.Shell, CPU: p.CPU, Memory: p.Memory})
		if err != nil {
			return core.FleetResult{}, err
		}
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserCreate(ctx, sp, p.Nodes, w)
		})
	})
	Register(r, api.MFleetUserDelete, func(ctx context.Context, p api.FleetUserDeleteParams) (core.FleetResult, error) {
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserDelete(ctx, p.Name, p.KeepHome, w)
		})
	})
	Register(r, api.MFleetUserList, func(ctx context.Context, _ api.Empty) (api.FleetUserListResult, error) {
		users, err := h.svc.FleetUserList(ctx)
		return api.FleetUserListResult{Users: users}, err
	})
	Register(r, api.MFleetUserKeyAdd, func(ctx context.Context, p api.FleetUserKeyAddParams) (core.FleetResult, error) {
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserKeyAdd(ctx, p.Name, p.Keys, w)
		})
	})
	Register(r, api.MFleetUserKeyRemove, func(ctx context.Context, p api.FleetUserKeyRemoveParams) (core.FleetResult, error) {
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserKeyRemove(ctx, p.Name, p.Key, w)
		})
	})
	Register(r, api.MFleetUserLimitsSet, func(ctx context.Context, p api.FleetUserLimitsParams) (core.FleetResult, error) {
		l, err := core.ParseLimits(p.CPU, p.Memory)
		if err != nil {
			return core.FleetResult{}, err
		}
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserLimitsSet(ctx, p.Name, l, w)
		})
	})
	Register(r, api.MFleetUserQuotaSet, func(ctx context.Context, p api.FleetUserQuotaParams) (core.FleetResult, error) {
		q, err := core.ParseQuota("quota", p.Quota)
		if err != nil {
			return core.FleetResult{}, err
		}
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserQuotaSet(ctx, p.Name, q, w)
		})
	})
	for method, locked := range map[string]bool{api.MFleetUserLock: true, api.MFleetUserUnlock: false} {
		Register(r, method, func(ctx context.Context, p api.FleetUserParams) (core.FleetResult, error) {
			return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
				return h.svc.FleetUserLock(ctx, p.Name, locked, w)
			})
		})
	}
	Register(r, api.MFleetUserPlace, func(ctx context.Context, p api.FleetUserPlaceParams) (core.FleetResult, error) {
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetUserPlace(ctx, p.Name, p.Nodes, w)
		})
	})
}

func (h *handlers) registerFleetGroups(r *Registry) {
	Register(r, api.MFleetGroupCreate, func(ctx context.Context, p api.FleetGroupCreateParams) (core.FleetResult, error) {
		var q int64
		if p.Quota != "" {
			var err error
			if q, err = core.ParseQuota("quota", p.Quota); err != nil {
				return core.FleetResult{}, err
			}
		}
		g := core.Group{Name: p.Name, Description: p.Description, Members: p.Members, Shared: p.Shared, QuotaBytes: q}
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetGroupCreate(ctx, g, w)
		})
	})
	Register(r, api.MFleetGroupDelete, func(ctx context.Context, p api.FleetGroupDeleteParams) (core.FleetResult, error) {
		return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
			return h.svc.FleetGroupDelete(ctx, p.Name, p.KeepData, w)
		})
	})
	for method, add := range map[string]bool{api.MFleetGroupMemberAdd: true, api.MFleetGroupMemberDel: false} {
		Register(r, method, func(ctx context.Context, p api.FleetGroupMemberParams) (core.FleetResult, error) {
			return fleetCall(p.WaitSecs, func(w time.Duration) (core.FleetResult, error) {
				return h.svc.FleetGroupMember(ctx, p.Name, p.User, add, w)
			})
		})
	}
}
