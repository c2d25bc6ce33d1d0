package core

import (
	"context"
	"maps"
	"slices"
	"time"
)

// LiveWindow is how recent a node's last announcement must be for the node
// to count as live (it announces every few seconds).
const LiveWindow = 15 * time.Second

// inFleet reports whether the host is in a fleet, so the node methods
// show the fleet instead of the local registry.
func (s *Service) inFleet(ctx context.Context) bool {
	return s.fleet != nil && s.fleet.Info(ctx).InFleet
}

// FleetNodes is the live view of the fleet's nodes: each member's record
// joined with its latest announcement, and how far it is behind the
// desired state.
func (s *Service) FleetNodes(ctx context.Context) ([]Node, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return nil, err
	}
	members, err := f.Members(ctx)
	if err != nil {
		return nil, err
	}
	ann, err := f.Announcements(ctx)
	if err != nil {
		return nil, err
	}
	revs, err := desiredRevisions(ctx, f, members)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Node, 0, len(members))
	for _, m := range members {
		n := Node{Name: m.Name, Address: m.Address, Labels: m.Labels, Created: m.Joined, ID: m.ID, Role: m.Role}
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		if a, ok := ann[m.Name]; ok {
			n.Version, n.Plugins, n.LastSeen = a.Version, a.Plugins, a.Seen
			n.Live = now.Sub(a.Seen) < LiveWindow
			n.Applied, n.Drift = a.Applied, a.Drift
			for _, r := range revs {
				if r > a.Applied {
					n.Behind++
				}
			}
		}
		n.Converged = n.Live && n.Behind == 0 && n.Drift == 0
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Node) int { return compareStrings(a.Name, b.Name) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// desiredRevisions lists the revisions of every desired record: users,
// groups, and the members' own records (labels place users too).
func desiredRevisions(ctx context.Context, f FleetBackend, members []Member) ([]uint64, error) {
	users, err := f.Users(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := f.Groups(ctx)
	if err != nil {
		return nil, err
	}
	revs := make([]uint64, 0, len(users)+len(groups)+len(members))
	for _, u := range users {
		revs = append(revs, u.Revision)
	}
	for _, g := range groups {
		revs = append(revs, g.Revision)
	}
	for _, m := range members {
		revs = append(revs, m.Revision)
	}
	return revs, nil
}

// FleetNode is one node of FleetNodes.
func (s *Service) FleetNode(ctx context.Context, name string) (Node, error) {
	if err := ValidateNodeName("name", name); err != nil {
		return Node{}, err
	}
	nodes, err := s.FleetNodes(ctx)
	if err != nil {
		return Node{}, err
	}
	for _, n := range nodes {
		if n.Name == name {
			return n, nil
		}
	}
	return Node{}, &Error{Code: NotFound, Field: "name", Message: "node " + name + " is not in the fleet"}
}

// FleetNodeLabel edits a node's labels ("k=v" sets, "k-" removes). The
// users whose placement now selects it (or no longer does) follow at the
// node's next pass.
func (s *Service) FleetNodeLabel(ctx context.Context, name string, edits []string) (Node, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return Node{}, err
	}
	if err := ValidateNodeName("name", name); err != nil {
		return Node{}, err
	}
	for attempt := 0; ; attempt++ {
		m, err := findMember(ctx, f, name)
		if err != nil {
			return Node{}, err
		}
		labels, err := ApplyLabelEdits("labels", m.Labels, edits)
		if err != nil {
			return Node{}, err
		}
		if maps.Equal(labels, m.Labels) {
			break
		}
		m.Labels = labels
		_, err = f.PutMember(ctx, m, m.Revision)
		if err == nil {
			break
		}
		if !IsCode(err, FailedPrecondition) || attempt >= casAttempts {
			return Node{}, err
		}
	}
	return s.FleetNode(ctx, name)
}

func findMember(ctx context.Context, f FleetBackend, name string) (Member, error) {
	members, err := f.Members(ctx)
	if err != nil {
		return Member{}, err
	}
	for _, m := range members {
		if m.Name == name {
			return m, nil
		}
	}
	return Member{}, &Error{Code: NotFound, Field: "name", Message: "node " + name + " is not in the fleet"}
}

// FleetNodeAdd registers a node before it joins, so its labels are in
// place when it does (it then carries the right users from its first
// pass). The node that joins under that name takes the record over.
func (s *Service) FleetNodeAdd(ctx context.Context, n Node) (Node, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return Node{}, err
	}
	if err := ValidateNodeName("name", n.Name); err != nil {
		return Node{}, err
	}
	if n.Address != "" {
		if err := ValidateNodeAddress("address", n.Address); err != nil {
			return Node{}, err
		}
	}
	if err := ValidateLabels("labels", n.Labels); err != nil {
		return Node{}, err
	}
	m := Member{Name: n.Name, Address: n.Address, Labels: maps.Clone(n.Labels), Joined: s.now().UTC()}
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	if _, err := f.PutMember(ctx, m, 0); err != nil {
		if IsCode(err, FailedPrecondition) {
			err = &Error{Code: AlreadyExists, Field: "name", Message: "node " + n.Name + " is already in the fleet"}
		}
		return Node{}, err
	}
	return s.FleetNode(ctx, n.Name)
}

// FleetNodeRemove evicts a node: its record and statuses go, and the node
// itself (if it runs) leaves the fleet, keeping its accounts as local
// ones. A replica node is also taken out of the store's replica set.
func (s *Service) FleetNodeRemove(ctx context.Context, name string) error {
	f, err := s.needFleet(ctx)
	if err != nil {
		return err
	}
	if err := ValidateNodeName("name", name); err != nil {
		return err
	}
	if _, err := findMember(ctx, f, name); err != nil {
		return err
	}
	return f.RemoveMember(ctx, name)
}

// FleetStatus is fleet-status: this host's membership and every node's
// view.
type FleetStatus struct {
	Info  FleetInfo `json:"info"`
	Nodes []Node    `json:"nodes"`
}

// FleetStatusGet gathers FleetStatus; outside a fleet it says so in Info
// with no nodes, and with the store unreachable it says why in Info.Store.
func (s *Service) FleetStatusGet(ctx context.Context) (FleetStatus, error) {
	if s.fleet == nil {
		return FleetStatus{Info: FleetInfo{}, Nodes: []Node{}}, nil
	}
	st := FleetStatus{Info: s.fleet.Info(ctx), Nodes: []Node{}}
	if !st.Info.InFleet {
		return st, nil
	}
	nodes, err := s.FleetNodes(ctx)
	if err != nil {
		st.Info.Store = AsError(err).Error()
		return st, nil
	}
	st.Nodes = nodes
	return st, nil
}

// FleetInit makes this host the first node of a new fleet.
func (s *Service) FleetInit(ctx context.Context, spec FleetInitSpec) (FleetInfo, error) {
	if s.fleet == nil {
		return FleetInfo{}, Errorf(FailedPrecondition, "this host was started without the fleet")
	}
	return s.fleet.Init(ctx, spec)
}

// FleetJoin makes this host a node of an existing fleet.
func (s *Service) FleetJoin(ctx context.Context, spec FleetJoinSpec) (FleetInfo, error) {
	if s.fleet == nil {
		return FleetInfo{}, Errorf(FailedPrecondition, "this host was started without the fleet")
	}
	if spec.NATSURL == "" {
		if err := ValidateNodeAddress("address", spec.Address); err != nil {
			return FleetInfo{}, err
		}
	}
	if err := ValidateLabels("labels", spec.Labels); err != nil {
		return FleetInfo{}, err
	}
	return s.fleet.Join(ctx, spec)
}

// FleetSessions asks every live node for its sessions (of user, or all).
func (s *Service) FleetSessions(ctx context.Context, user string, wait time.Duration) ([]FleetReply, error) {
	if user != "" {
		if err := ValidateUsername("user", user); err != nil {
			return nil, err
		}
	}
	return s.fleetAsk(ctx, FleetRequest{Op: "sessions.list", User: user}, wait)
}

// FleetSessionKill ends a user's sessions (or one) on every node.
func (s *Service) FleetSessionKill(ctx context.Context, user, session string, wait time.Duration) ([]FleetReply, error) {
	if err := ValidateUsername("user", user); err != nil {
		return nil, err
	}
	return s.fleetAsk(ctx, FleetRequest{Op: "sessions.kill", User: user, Session: session}, wait)
}

// fleetAsk puts req to the live nodes and returns one reply per node, a
// silent one's saying so.
func (s *Service) fleetAsk(ctx context.Context, req FleetRequest, wait time.Duration) ([]FleetReply, error) {
	f, err := s.needFleet(ctx)
	if err != nil {
		return nil, err
	}
	if wait <= 0 {
		wait = 5 * time.Second
	}
	nodes, err := s.FleetNodes(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range nodes {
		if n.ID != "" {
			names = append(names, n.Name)
		}
	}
	replies, err := f.Ask(ctx, req, names, wait)
	if err != nil {
		return nil, err
	}
	got := map[string]bool{}
	for _, r := range replies {
		got[r.Node] = true
	}
	for _, n := range names {
		if !got[n] {
			replies = append(replies, FleetReply{Node: n, Error: "no answer within " + wait.String()})
		}
	}
	slices.SortFunc(replies, func(a, b FleetReply) int { return compareStrings(a.Node, b.Node) })
	return replies, nil
}

// FleetReplyFor answers a FleetRequest on this node: what the agent runs
// when a question arrives.
func (s *Service) FleetReplyFor(ctx context.Context, req FleetRequest) FleetReply {
	began := time.Now()
	var r FleetReply
	var err error
	switch req.Op {
	case "sessions.list":
		r.Sessions, err = s.SessionList(ctx, req.User)
		if IsCode(err, NotFound) {
			r.Sessions, err = []Session{}, nil
		}
	case "sessions.kill":
		r.Killed, err = s.SessionKill(ctx, req.User, req.Session)
		if IsCode(err, NotFound) && req.Session == "" {
			err = nil // the user does not live here: nothing to end
		}
	default:
		err = InvalidField("op", "unknown request %q", req.Op)
	}
	if err != nil {
		r.Error = AsError(err).Error()
	}
	r.TookMS = float64(time.Since(began).Microseconds()) / 1000
	return r
}
