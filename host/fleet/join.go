package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// Replicas a fleet wants by default, and the most it may ask for.
const (
	DefaultReplicas = 3
	MaxReplicas     = 5
)

// joinWait bounds how long a joining node waits for the store.
const joinWait = 45 * time.Second

// refuseIfMember refuses fleet-init and fleet-join on a member.
func (f *Fleet) refuseIfMember() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m != nil {
		return &core.Error{Code: core.AlreadyExists, Message: "this node is already in fleet " + f.m.FleetID + " as " + f.m.Node}
	}
	return nil
}

// needSecret checks the passphrase a caller gave.
func needSecret(secret string) error {
	if secret == "" {
		return core.InvalidField("secret", "SECRET_CODESCALERS must be set: the fleet's keys are derived from it")
	}
	if len(secret) < 12 {
		return core.InvalidField("secret", "SECRET_CODESCALERS is too short for a fleet's passphrase (at least 12 characters)")
	}
	return nil
}

// Init makes this host the first node of a new fleet: its embedded server
// starts alone as the first replica (the store answers once a second
// replica joins: a JetStream cluster needs a quorum), or it joins an
// external NATS cluster and makes the buckets there.
func (f *Fleet) Init(ctx context.Context, spec core.FleetInitSpec) (core.FleetInfo, error) {
	f.joining.Lock()
	defer f.joining.Unlock()
	if err := f.refuseIfMember(); err != nil {
		return core.FleetInfo{}, err
	}
	if err := needSecret(spec.Secret); err != nil {
		return core.FleetInfo{}, err
	}
	natsURL := firstNonEmpty(spec.NATSURL, f.opts.NATSURL)
	if natsURL != "" {
		if _, err := parseURLs(natsURL); err != nil {
			return core.FleetInfo{}, err
		}
	}
	if spec.Replicas == 0 {
		// An external cluster's size is its operator's: one replica
		// unless asked, which any JetStream can hold.
		spec.Replicas = map[bool]int{true: 1, false: DefaultReplicas}[natsURL != ""]
	}
	minR := DefaultReplicas
	if natsURL != "" {
		minR = 1
	}
	if spec.Replicas < minR || spec.Replicas > MaxReplicas {
		return core.FleetInfo{}, core.InvalidField("replicas", "must be %d..%d", minR, MaxReplicas)
	}
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return core.FleetInfo{}, err
	}
	m := membership{FleetID: hex.EncodeToString(idb), Node: f.name, NodeID: f.nodeID, Replicas: spec.Replicas,
		Master: DeriveMaster(spec.Secret), NATSURL: natsURL, Joined: time.Now().UTC()}
	if natsURL != "" {
		m.Role = roleExternal
		return f.initExternal(ctx, m)
	}
	addr, err := f.address(ctx)
	if err != nil {
		return core.FleetInfo{}, err
	}
	p := f.ports()
	m.Role, m.Address = roleReplica, addr.String()
	m.Peers = []peer{{Name: m.Node, Address: m.Address, RoutePort: p.Route, LeafPort: p.Leaf}}
	rt, err := f.startRuntime(m)
	if err != nil {
		_ = removeStore(f.opts.DataDir)
		return core.FleetInfo{}, err
	}
	if err := f.adopt(m, rt); err != nil {
		rt.close()
		_ = removeStore(f.opts.DataDir)
		return core.FleetInfo{}, err
	}
	f.log.Info("fleet: made a new fleet; it stores nothing until a second replica node joins", "fleet", m.FleetID, "node", m.Node)
	return f.Info(ctx), nil
}

// initExternal makes the fleet on an external NATS cluster.
func (f *Fleet) initExternal(ctx context.Context, m membership) (core.FleetInfo, error) {
	rt, err := f.startRuntime(m)
	if err != nil {
		return core.FleetInfo{}, core.Wrap(err, core.Unavailable, "%v", err)
	}
	if err := rt.waitStore(ctx, 15*time.Second, true); err != nil {
		rt.close()
		return core.FleetInfo{}, unavailable(err)
	}
	_, err = rt.st.put(ctx, bucketDesired, fleetKey, fleetRecord{ID: m.FleetID}, newKey)
	if core.IsCode(err, core.AlreadyExists) {
		err = core.Errorf(core.AlreadyExists, "%s already holds a fleet: join it with fleet-join --nats-url", api.RedactURLs(m.NATSURL))
	}
	if err != nil {
		rt.close()
		return core.FleetInfo{}, err
	}
	if err := f.registerSelf(ctx, rt, nil); err != nil {
		rt.close()
		return core.FleetInfo{}, err
	}
	if err := f.adopt(m, rt); err != nil {
		rt.close()
		return core.FleetInfo{}, err
	}
	return f.Info(ctx), nil
}

// adopt saves m as this host's membership and hands rt (nil: start it) to
// the agent.
func (f *Fleet) adopt(m membership, rt *runtime) error {
	if err := saveMembership(f.opts.Store, &m); err != nil {
		return err
	}
	f.mu.Lock()
	f.m, f.rt = &m, rt
	f.mu.Unlock()
	f.kick()
	return nil
}

// Join makes this host a node of an existing fleet: through the address
// of any node's leaf port (after checking that both sides hold the same
// secret) it asks the fleet for its place — a replica while the fleet has
// fewer than it wants, a leaf node after — then restarts its server in
// that role, registers its record (refused when another node has its
// name) and starts the agent. On any failure nothing of the fleet stays.
func (f *Fleet) Join(ctx context.Context, spec core.FleetJoinSpec) (core.FleetInfo, error) {
	f.joining.Lock()
	defer f.joining.Unlock()
	if err := f.refuseIfMember(); err != nil {
		return core.FleetInfo{}, err
	}
	if err := needSecret(spec.Secret); err != nil {
		return core.FleetInfo{}, err
	}
	natsURL := firstNonEmpty(spec.NATSURL, f.opts.NATSURL)
	if natsURL != "" && spec.Address == "" {
		if _, err := parseURLs(natsURL); err != nil {
			return core.FleetInfo{}, err
		}
	}
	m := membership{Node: f.name, NodeID: f.nodeID, Master: DeriveMaster(spec.Secret), Joined: time.Now().UTC()}
	if natsURL != "" && spec.Address == "" {
		m.Role, m.NATSURL = roleExternal, natsURL
		return f.joinExternal(ctx, m, spec.Labels)
	}
	addr, err := f.address(ctx)
	if err != nil {
		return core.FleetInfo{}, err
	}
	m.Address = addr.String()
	rt, err := f.joinEmbedded(ctx, &m, addr, spec)
	if err != nil {
		_ = removeStore(f.opts.DataDir)
		f.log.Error("fleet: could not join; this node stays out of any fleet", "address", spec.Address, "err", err)
		return core.FleetInfo{}, err
	}
	if err := f.adopt(m, rt); err != nil {
		rt.close()
		_ = removeStore(f.opts.DataDir)
		return core.FleetInfo{}, err
	}
	f.log.Info("fleet: joined", "fleet", m.FleetID, "node", m.Node, "role", m.Role)
	return f.Info(ctx), nil
}

// joinEmbedded runs Join's steps with the embedded server and returns the
// runtime in its final role.
func (f *Fleet) joinEmbedded(ctx context.Context, m *membership, addr netip.Addr, spec core.FleetJoinSpec) (*runtime, error) {
	host, port, err := core.SplitNodeAddress("address", spec.Address)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		port = LeafBase
	}
	_, _, tlsCfg, seal, err := newCrypto(m.Master, m.Node, addr)
	if err != nil {
		return nil, err
	}
	if err := probe(ctx, hostPort(host, port), tlsCfg); err != nil {
		return nil, err
	}
	first := *m
	first.Role, first.Peers = roleLeaf, []peer{{Address: host, LeafPort: port}}
	rt, err := f.startRuntime(first)
	if err != nil {
		return nil, err
	}
	reply, err := askJoin(ctx, rt, joinRequest{Name: m.Node, NodeID: m.NodeID, Address: m.Address,
		RoutePort: f.ports().Route, LeafPort: f.ports().Leaf}, seal)
	rt.close()
	if err != nil {
		return nil, err
	}
	m.FleetID, m.Replicas, m.Role, m.Peers = reply.FleetID, reply.Replicas, reply.Role, reply.Peers
	if m.Role == roleReplica {
		m.Peers = append(m.Peers, peer{Name: m.Node, Address: m.Address, RoutePort: f.ports().Route, LeafPort: f.ports().Leaf})
	}
	rt, err = f.startRuntime(*m)
	if err != nil {
		return nil, err
	}
	if err := rt.waitStore(ctx, joinWait, m.Role == roleReplica); err != nil {
		rt.close()
		return nil, core.Wrap(err, core.Unavailable, "joined the fleet's network but its store did not answer within %s: %v", joinWait, err)
	}
	if err := f.registerSelf(ctx, rt, spec.Labels); err != nil {
		rt.close()
		return nil, err
	}
	if r := reply.Responder; r.ID != "" {
		// Written only where absent: the responder's own writes win.
		if _, err := rt.st.put(ctx, bucketDesired, memberKey(r.Name), r, newKey); err != nil && !core.IsCode(err, core.AlreadyExists) {
			f.log.Debug("fleet: could not write the answering node's record; it writes it itself", "node", r.Name, "err", err)
		}
	}
	return rt, nil
}

// joinExternal joins through an external NATS cluster.
func (f *Fleet) joinExternal(ctx context.Context, m membership, labels map[string]string) (core.FleetInfo, error) {
	rt, err := f.startRuntime(m)
	if err != nil {
		return core.FleetInfo{}, core.Wrap(err, core.Unavailable, "%v", err)
	}
	if err := rt.waitStore(ctx, 15*time.Second, false); err != nil {
		rt.close()
		return core.FleetInfo{}, core.Wrap(err, core.FailedPrecondition, "no fleet on %s (run fleet-init --nats-url there first): %v", api.RedactURLs(m.NATSURL), err)
	}
	// The fleet's id names the subject its nodes ask each other on. An
	// embedded fleet's replicas write it once their store answers.
	var fr fleetRecord
	deadline := time.Now().Add(15 * time.Second)
	_, err = rt.st.get(ctx, bucketDesired, fleetKey, &fr)
	for core.IsCode(err, core.NotFound) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		_, err = rt.st.get(ctx, bucketDesired, fleetKey, &fr)
	}
	if err != nil {
		rt.close()
		switch {
		case core.IsCode(err, core.NotFound):
			return core.FleetInfo{}, core.Errorf(core.FailedPrecondition, "no fleet on %s (run fleet-init --nats-url there first)", api.RedactURLs(m.NATSURL))
		case core.IsCode(err, core.FailedPrecondition):
			return core.FleetInfo{}, core.Errorf(core.FailedPrecondition, "the fleet on %s was made with another SECRET_CODESCALERS", api.RedactURLs(m.NATSURL))
		}
		return core.FleetInfo{}, err
	}
	m.FleetID, rt.m.FleetID = fr.ID, fr.ID
	if err := f.registerSelf(ctx, rt, labels); err != nil {
		rt.close()
		return core.FleetInfo{}, err
	}
	if err := f.adopt(m, rt); err != nil {
		rt.close()
		return core.FleetInfo{}, err
	}
	return f.Info(ctx), nil
}

// fleetKey is the desired bucket's record of the fleet: its id, which
// names the subject of its questions. fleet-init on an external NATS
// writes it (a second init there is then refused), an embedded fleet's
// replicas once their store answers; a node joining through --nats-url
// reads it (one joining through a leaf port learns the id in the join
// handshake).
const fleetKey = "fleet"

type fleetRecord struct {
	ID string `json:"id"`
}

// registerSelf writes this node's member record: a new one, or the one
// node-add registered for its name (its labels kept, the given ones
// added), or its own from an earlier join. Another node's record of that
// name refuses the join.
func (f *Fleet) registerSelf(ctx context.Context, rt *runtime, labels map[string]string) error {
	key := memberKey(rt.m.Node)
	// The get and the put each wait, within ctx, while the store is
	// between leaders (store.retry); the attempts are for lost
	// compare-and-sets.
	for attempt := 0; attempt < 5; attempt++ {
		var cur core.Member
		rev, err := rt.st.get(ctx, bucketDesired, key, &cur)
		if err != nil && !core.IsCode(err, core.NotFound) {
			return err
		}
		if err == nil && cur.ID != "" && cur.ID != rt.m.NodeID {
			return &core.Error{Code: core.AlreadyExists, Field: "node_name", Message: "a node named " + rt.m.Node +
				" is already in the fleet: start this host with another --node-name"}
		}
		m := selfMember(rt, cur, labels)
		prev := rev
		if err != nil {
			prev = newKey
		}
		if _, err = rt.st.put(ctx, bucketDesired, key, m, prev); err == nil {
			return nil
		}
		if !core.IsCode(err, core.AlreadyExists) && !core.IsCode(err, core.FailedPrecondition) {
			return err
		}
	}
	return core.Errorf(core.Unavailable, "could not register node %s: its record kept changing", rt.m.Node)
}

// selfMember is this node's record, from what is already there.
func selfMember(rt *runtime, cur core.Member, labels map[string]string) core.Member {
	m := core.Member{Name: rt.m.Node, ID: rt.m.NodeID, Address: rt.m.Address, Role: rt.m.Role, Labels: map[string]string{},
		Joined: rt.m.Joined}
	if rt.m.Role == roleReplica {
		m.RoutePort, m.LeafPort = rt.ports.Route, rt.ports.Leaf
	}
	for k, v := range cur.Labels {
		m.Labels[k] = v
	}
	for k, v := range labels {
		m.Labels[k] = v
	}
	if !cur.Joined.IsZero() && cur.ID == rt.m.NodeID {
		m.Joined = cur.Joined
	}
	return m
}

// memberKey is the desired bucket's key of a node's record.
func memberKey(node string) string { return "node." + subjectToken(node) }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
