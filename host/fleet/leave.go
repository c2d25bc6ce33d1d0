package fleet

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/threefoldtech/hero_codescalers/core"
)

// notePeers keeps the replica set a restart routes to (or, for a leaf
// node, connects to) in step with the members' records.
func (f *Fleet) notePeers(peers []peer) {
	if len(peers) == 0 {
		return
	}
	slices.SortFunc(peers, func(a, b peer) int { return strings.Compare(a.Name, b.Name) })
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		return
	}
	old := slices.Clone(f.m.Peers)
	slices.SortFunc(old, func(a, b peer) int { return strings.Compare(a.Name, b.Name) })
	if slices.Equal(old, peers) {
		return
	}
	m := *f.m
	m.Peers = peers
	if err := saveMembership(f.opts.Store, &m); err != nil {
		f.log.Warn("fleet: could not save the replica set", "err", err)
		return
	}
	f.m = &m
}

// RemoveMember evicts a node: a replica is first taken out of JetStream's
// replica set, then its record is deleted (the delete marker is what the
// node itself sees, now or when it comes back, to leave), with its
// statuses, announcement and id report.
func (f *Fleet) RemoveMember(ctx context.Context, name string) error {
	rt, err := f.running()
	if err != nil {
		return err
	}
	var m core.Member
	if _, err := rt.st.get(ctx, bucketDesired, memberKey(name), &m); err != nil {
		return err
	}
	if m.Role == roleReplica && m.ID != "" && rt.m.Role == roleLeaf {
		// Taking a server out of the store's replica set is a request to
		// JetStream's system account, which a leaf node's server does not
		// reach: removed from here, the dead replica would stay in the
		// streams' peers for good.
		var others []string
		for _, p := range rt.m.Peers {
			if p.Name != name {
				others = append(others, p.Name)
			}
		}
		return core.Errorf(core.FailedPrecondition, "%s is a replica node: run node-remove on a replica node (%s)", name, strings.Join(others, ", "))
	}
	if m.Role == roleReplica && m.ID != "" {
		if err := f.removePeer(ctx, rt, name); err != nil {
			f.log.Warn("fleet: the replica was not taken out of the store's replica set", "node", name, "err", err)
		}
	}
	if err := rt.st.del(ctx, bucketDesired, memberKey(name)); err != nil {
		return err
	}
	tok := subjectToken(name)
	if entries, err := rt.st.list(ctx, bucketStatus, tok+".>"); err == nil {
		for _, e := range entries {
			_ = rt.st.del(ctx, bucketStatus, e.Key)
		}
	}
	_ = rt.st.del(ctx, bucketNodes, tok)
	_ = rt.st.del(ctx, bucketIDs, "inuse."+tok)
	f.log.Info("fleet: removed a node", "node", name)
	return nil
}

// removePeer asks JetStream's metadata leader to drop a replica server,
// through the system account (the only one allowed to).
func (f *Fleet) removePeer(ctx context.Context, rt *runtime, name string) error {
	if rt.m.Role == roleExternal || rt.srv == nil {
		return nil
	}
	kp := rt.keys.SystemNkey()
	nc, err := nats.Connect("nats://"+hostPort("127.0.0.1", rt.ports.Client), nats.Nkey(publicKey(kp), kp.Sign), nats.Timeout(3*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	req, _ := json.Marshal(map[string]string{"peer": name})
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, "$JS.API.SERVER.REMOVE", req)
	if err != nil {
		return err
	}
	var resp struct {
		Error *struct {
			Description string `json:"description"`
		} `json:"error"`
	}
	if json.Unmarshal(msg.Data, &resp) == nil && resp.Error != nil {
		return core.Errorf(core.FailedPrecondition, "%s", resp.Error.Description)
	}
	return nil
}

// leave is what an evicted node does: stop, drop the store's files, make
// its fleet users and groups local ones, and forget the membership.
func (f *Fleet) leave(rt *runtime) error {
	f.joining.Lock()
	defer f.joining.Unlock()
	f.log.Warn("fleet: this node was removed from the fleet (node-remove); leaving it, its accounts stay as local ones",
		"fleet", rt.m.FleetID, "node", rt.m.Node)
	f.stop()
	f.mu.Lock()
	svc := f.svc
	f.mu.Unlock()
	if svc != nil {
		if err := svc.FleetForget(context.Background()); err != nil {
			return err
		}
	}
	if err := clearMembership(f.opts.Store); err != nil {
		return err
	}
	f.mu.Lock()
	f.m = nil
	f.mu.Unlock()
	return removeStore(f.opts.DataDir)
}
