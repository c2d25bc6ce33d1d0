package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/threefoldtech/hero_codescalers/core"
)

// subjectJoin is where replica nodes answer joining nodes (one of them, a
// queue group). The messages are sealed like the store's values.
const subjectJoin = "hcfleet.join"

// joinRequest is what a joining node says about itself.
type joinRequest struct {
	Name      string `json:"name"`
	NodeID    string `json:"node_id"`
	Address   string `json:"address"`
	RoutePort int    `json:"route_port"`
	LeafPort  int    `json:"leaf_port"`
}

// joinReply is its place in the fleet, or why it has none.
type joinReply struct {
	FleetID  string `json:"fleet_id"`
	Replicas int    `json:"replicas"`
	Role     string `json:"role"`
	Peers    []peer `json:"peers"`
	// Responder is the answering node's own record: the second node of a
	// fleet writes it for the first, whose store had no quorum to write it
	// in until the second joined.
	Responder core.Member `json:"responder"`
	Error     string      `json:"error,omitempty"`
}

// probe opens a TLS connection to a node's leaf port (which starts with
// the handshake) to tell apart a node that is not there from one whose
// secret differs, with a message saying which.
func probe(ctx context.Context, addr string, cfg *tls.Config) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err == nil {
		// TLS 1.3 tells the client of a refused certificate only on its
		// first read.
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = nil
		}
	}
	if err == nil {
		return nil
	}
	var ua x509.UnknownAuthorityError
	msg := err.Error()
	switch {
	case errors.As(err, &ua), strings.Contains(msg, "unknown certificate authority"), strings.Contains(msg, "bad certificate"),
		strings.Contains(msg, "certificate required"):
		return core.Errorf(core.FailedPrecondition, "the node at %s is not of this fleet, or this node's SECRET_CODESCALERS "+
			"is not the fleet's: the TLS handshake failed (%v)", addr, err)
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "timeout"), strings.Contains(msg, "no route"),
		strings.Contains(msg, "unreachable"):
		return core.Errorf(core.Unavailable, "no fleet node answers at %s: %v", addr, err)
	}
	return core.Errorf(core.Unavailable, "cannot reach the fleet at %s: %v", addr, err)
}

// askJoin asks the fleet for this node's place, retrying while the leaf
// connection comes up.
func askJoin(ctx context.Context, rt *runtime, req joinRequest, seal *Sealer) (joinReply, error) {
	data, err := seal.Seal("msg", subjectJoin, req)
	if err != nil {
		return joinReply{}, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		msg, err := rt.nc.RequestWithContext(rctx, subjectJoin, data)
		cancel()
		if err == nil {
			var r joinReply
			if err := seal.Open("msg", subjectJoin+".reply", msg.Data, &r); err != nil {
				return joinReply{}, core.Errorf(core.FailedPrecondition, "the fleet's answer did not open with this node's secret")
			}
			if r.Error != "" {
				return joinReply{}, &core.Error{Code: core.AlreadyExists, Field: "node_name", Message: r.Error}
			}
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return joinReply{}, core.Errorf(core.Unavailable, "no replica node of the fleet answered the join: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// joins tracks the replica places this node handed out while the store
// did not answer (a fleet starting), so two nodes joining at once through
// it do not both take the last.
type joins struct {
	mu      sync.Mutex
	pending map[string]time.Time
}

// placeClaim is how long a replica place handed out stays claimed for a
// node that has not yet written its record as a replica node.
const placeClaim = time.Minute

// claim gives name a replica place if fewer than max are held or
// claimed.
func (j *joins) claim(name string, held map[string]bool, max int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return takePlace(j.pending, name, held, max, time.Now())
}

// takePlace is the decision of a claim: pending (name → when claimed) is
// updated in place; claims that expired or were taken up are dropped.
func takePlace(pending map[string]time.Time, name string, held map[string]bool, max int, now time.Time) bool {
	places := len(held)
	for n, t := range pending {
		switch {
		case now.Sub(t) > placeClaim || held[n]:
			delete(pending, n)
		case n != name:
			places++
		}
	}
	if _, again := pending[name]; !again && places >= max {
		return false
	}
	pending[name] = now
	return true
}

// placesKey is the ids bucket's record of the replica places handed out
// and not yet taken up. Each replica node answers joins, so the claim is
// a compare-and-set there: two nodes joining at once through two replica
// nodes cannot both be given the last place.
const placesKey = "places"

// placesRecord is the claimed places, by node name.
type placesRecord struct {
	Pending map[string]time.Time `json:"pending"`
}

// claimPlace claims a replica place for name in the store; false means
// none is left. An error is a store that did not answer.
func claimPlace(ctx context.Context, st *store, name string, held map[string]bool, max int) (bool, error) {
	for range 16 {
		var rec placesRecord
		rev, err := st.get(ctx, bucketIDs, placesKey, &rec)
		switch {
		case core.IsCode(err, core.NotFound):
			rev = newKey
		case err != nil:
			return false, err
		}
		if rec.Pending == nil {
			rec.Pending = map[string]time.Time{}
		}
		if !takePlace(rec.Pending, name, held, max, time.Now()) {
			return false, nil
		}
		_, err = st.put(ctx, bucketIDs, placesKey, rec, rev)
		switch {
		case err == nil:
			return true, nil
		case core.IsCode(err, core.AlreadyExists), core.IsCode(err, core.FailedPrecondition):
			continue // another claim came first: read again
		default:
			return false, err
		}
	}
	return false, errors.New("lost every try to claim a replica place to other joins")
}

// answerJoin is a replica node's answer to a joining node.
func (f *Fleet) answerJoin(ctx context.Context, rt *runtime, req joinRequest, j *joins) joinReply {
	mctx, cancel := context.WithTimeout(ctx, time.Second)
	members, err := f.Members(mctx)
	cancel()
	if err != nil {
		members = nil // the store has no quorum yet: this node alone decides
	}
	for _, m := range members {
		if m.Name == req.Name && m.ID != "" && m.ID != req.NodeID {
			return joinReply{Error: "a node named " + req.Name + " is already in the fleet: start the joining host with another --node-name"}
		}
	}
	if req.Name == rt.m.Node && req.NodeID != rt.m.NodeID {
		return joinReply{Error: "a node named " + req.Name + " is already in the fleet: start the joining host with another --node-name"}
	}
	peers := f.replicaPeers(members, rt)
	held := map[string]bool{}
	for _, p := range peers {
		held[p.Name] = true
	}
	role := roleLeaf
	switch {
	case held[req.Name]:
		role = roleReplica // a replica rejoining keeps its place
	case err == nil:
		// The store answers: the place is claimed there, whichever
		// replica node answers the other joins.
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		got, cerr := claimPlace(cctx, rt.st, req.Name, held, rt.m.Replicas)
		cancel()
		if cerr == nil {
			if got {
				role = roleReplica
			}
			break
		}
		f.log.Warn("fleet: could not claim a replica place in the store; deciding alone", "node", req.Name, "err", cerr)
		fallthrough
	default:
		if j.claim(req.Name, held, rt.m.Replicas) {
			role = roleReplica
		}
	}
	out := make([]peer, 0, len(peers))
	for _, p := range peers {
		if p.Name != req.Name {
			out = append(out, p)
		}
	}
	return joinReply{FleetID: rt.m.FleetID, Replicas: rt.m.Replicas, Role: role, Peers: out,
		Responder: selfMember(rt, core.Member{}, nil)}
}

// replicaPeers lists the fleet's replica nodes: from the members' records,
// and from this node's own list while the store has no quorum.
func (f *Fleet) replicaPeers(members []core.Member, rt *runtime) []peer {
	seen := map[string]bool{}
	var out []peer
	for _, m := range members {
		if m.Role == roleReplica && m.ID != "" {
			seen[m.Name] = true
			out = append(out, peer{Name: m.Name, Address: m.Address, RoutePort: m.RoutePort, LeafPort: m.LeafPort})
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m != nil {
		for _, p := range f.m.Peers {
			if !seen[p.Name] {
				seen[p.Name] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// serveJoins answers joining nodes until the subscription ends.
func (f *Fleet) serveJoins(ctx context.Context, rt *runtime) (*nats.Subscription, error) {
	j := &joins{pending: map[string]time.Time{}}
	return rt.nc.QueueSubscribe(subjectJoin, "join", func(msg *nats.Msg) {
		var req joinRequest
		if err := rt.seal.Open("msg", subjectJoin, msg.Data, &req); err != nil {
			f.log.Warn("fleet: refused a join request not sealed with this fleet's key")
			return
		}
		r := f.answerJoin(ctx, rt, req, j)
		data, err := rt.seal.Seal("msg", subjectJoin+".reply", r)
		if err == nil {
			err = msg.Respond(data)
		}
		if err != nil {
			f.log.Warn("fleet: answering a join", "err", err)
		}
		f.log.Info("fleet: a node asked to join", "node", req.Name, "role", r.Role, "refused", r.Error)
	})
}
