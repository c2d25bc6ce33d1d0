package fleet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/ssh"

	"github.com/threefoldtech/hero_codescalers/core"
)

// The desired state's records, read and written for the core's fleet use
// cases (core.FleetBackend).

func userKey(name string) string  { return "user." + name }
func groupKey(name string) string { return "group." + name }

// statusKey is a node's status key of an object ("user/alice").
func statusKey(node, object string) string {
	return subjectToken(node) + "." + strings.Replace(object, "/", ".", 1)
}

// User reads one desired user.
func (f *Fleet) User(ctx context.Context, name string) (core.FleetUser, error) {
	rt, err := f.running()
	if err != nil {
		return core.FleetUser{}, err
	}
	var u core.FleetUser
	rev, err := rt.st.get(ctx, bucketDesired, userKey(name), &u)
	u.Revision = rev
	return u, err
}

// Users reads every desired user, tombstones included; a value that does
// not open is left out (and logged).
func (f *Fleet) Users(ctx context.Context) ([]core.FleetUser, error) {
	return listRecords[core.FleetUser](ctx, f, "user.*", func(u *core.FleetUser, rev uint64) { u.Revision = rev })
}

// Group reads one desired group.
func (f *Fleet) Group(ctx context.Context, name string) (core.FleetGroup, error) {
	rt, err := f.running()
	if err != nil {
		return core.FleetGroup{}, err
	}
	var g core.FleetGroup
	rev, err := rt.st.get(ctx, bucketDesired, groupKey(name), &g)
	g.Revision = rev
	return g, err
}

// Groups reads every desired group.
func (f *Fleet) Groups(ctx context.Context) ([]core.FleetGroup, error) {
	return listRecords[core.FleetGroup](ctx, f, "group.*", func(g *core.FleetGroup, rev uint64) { g.Revision = rev })
}

// Members reads every node's record.
func (f *Fleet) Members(ctx context.Context) ([]core.Member, error) {
	return listRecords[core.Member](ctx, f, "node.*", func(m *core.Member, rev uint64) { m.Revision = rev })
}

// listRecords opens the desired bucket's records under filter.
func listRecords[T any](ctx context.Context, f *Fleet, filter string, setRev func(*T, uint64)) ([]T, error) {
	rt, err := f.running()
	if err != nil {
		return nil, err
	}
	entries, err := rt.st.list(ctx, bucketDesired, filter)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(entries))
	for _, e := range entries {
		var v T
		if rt.st.open(bucketDesired, e.Key, e.Value, &v) != nil {
			continue
		}
		setRev(&v, e.Revision)
		out = append(out, v)
	}
	return out, nil
}

// PutUser writes a desired user by compare-and-set.
func (f *Fleet) PutUser(ctx context.Context, u core.FleetUser, prev uint64) (uint64, error) {
	return f.putDesired(ctx, userKey(u.Name), u, prev)
}

// PutGroup writes a desired group by compare-and-set.
func (f *Fleet) PutGroup(ctx context.Context, g core.FleetGroup, prev uint64) (uint64, error) {
	return f.putDesired(ctx, groupKey(g.Name), g, prev)
}

// PutMember writes a node's record by compare-and-set.
func (f *Fleet) PutMember(ctx context.Context, m core.Member, prev uint64) (uint64, error) {
	return f.putDesired(ctx, memberKey(m.Name), m, prev)
}

func (f *Fleet) putDesired(ctx context.Context, key string, v any, prev uint64) (uint64, error) {
	rt, err := f.running()
	if err != nil {
		return 0, err
	}
	return rt.st.put(ctx, bucketDesired, key, v, prev)
}

// Announcements reads the nodes' latest announcements, by node.
func (f *Fleet) Announcements(ctx context.Context) (map[string]core.NodeAnnounce, error) {
	rt, err := f.running()
	if err != nil {
		return nil, err
	}
	entries, err := rt.st.list(ctx, bucketNodes, ">")
	if err != nil {
		return nil, err
	}
	out := make(map[string]core.NodeAnnounce, len(entries))
	for _, e := range entries {
		var a core.NodeAnnounce
		if rt.st.open(bucketNodes, e.Key, e.Value, &a) == nil {
			out[a.Name] = a
		}
	}
	return out, nil
}

// Statuses reads the nodes' statuses of object ("" for every object).
func (f *Fleet) Statuses(ctx context.Context, object string) ([]core.NodeStatus, error) {
	rt, err := f.running()
	if err != nil {
		return nil, err
	}
	filter := ">"
	if object != "" {
		filter = "*." + strings.Replace(object, "/", ".", 1)
	}
	entries, err := rt.st.list(ctx, bucketStatus, filter)
	if err != nil {
		return nil, err
	}
	out := make([]core.NodeStatus, 0, len(entries))
	for _, e := range entries {
		var st core.NodeStatus
		if rt.st.open(bucketStatus, e.Key, e.Value, &st) == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// Status reads node's status of object from the status stream's leader.
func (f *Fleet) Status(ctx context.Context, object, node string) (core.NodeStatus, error) {
	rt, err := f.running()
	if err != nil {
		return core.NodeStatus{}, err
	}
	var st core.NodeStatus
	_, err = rt.st.get(ctx, bucketStatus, statusKey(node, object), &st)
	return st, err
}

// WatchStatuses follows the statuses of object by two plain subscriptions,
// made before it returns (a call subscribes, then writes, so even the
// fastest node's status comes this way): to the status bucket's subjects,
// where a node's status comes as it publishes it (Unconfirmed), and to the
// bucket's feed (statusFeed), where it comes again once stored. The first
// keeps a call's answers coming while the status stream elects a leader
// (seconds); the second tells the call its rows are there for the next
// call to read. No consumer is made, since making one is a request to
// JetStream's metadata leader, which a dead node may have taken with it,
// and on a busy fleet the slowest step of a call. What the subscriptions
// miss (a status from a node whose server had not heard of them yet) comes
// by reads, from shortly after the call and then every second; any replica
// answers.
func (f *Fleet) WatchStatuses(ctx context.Context, object string) (<-chan core.NodeStatus, error) {
	rt, err := f.running()
	if err != nil {
		return nil, err
	}
	filter := "*." + desiredKey(object)
	published, stored := "$KV."+bucketStatus+".", statusFeed+"."
	msgs := make(chan *nats.Msg, 256)
	var subs []*nats.Subscription
	unsubscribe := func() {
		for _, sub := range subs {
			_ = sub.Unsubscribe()
		}
	}
	for _, prefix := range []string{published, stored} {
		sub, err := rt.nc.ChanSubscribe(prefix+filter, msgs)
		if err != nil {
			unsubscribe()
			return nil, unavailable(err)
		}
		subs = append(subs, sub)
	}
	out := make(chan core.NodeStatus)
	go func() {
		defer unsubscribe()
		// A status comes twice, as published and as stored, with the
		// same sealed bytes: the second is opened only if they differ.
		type sealed struct {
			data []byte
			st   core.NodeStatus
		}
		opened := map[string]sealed{}
		send := func(key string, data []byte, unconfirmed bool) bool {
			prev, seen := opened[key]
			st := prev.st
			if !seen || !bytes.Equal(prev.data, data) {
				st = core.NodeStatus{}
				if rt.st.open(bucketStatus, key, data, &st) != nil {
					return true
				}
				opened[key] = sealed{data, st}
			}
			st.Unconfirmed = unconfirmed
			select {
			case out <- st:
				return true
			case <-ctx.Done():
				return false
			}
		}
		every := 100 * time.Millisecond
		poll := time.NewTimer(every)
		defer poll.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-msgs:
				if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
					continue
				}
				key, fromFeed := strings.CutPrefix(m.Subject, stored)
				if !fromFeed {
					key = strings.TrimPrefix(m.Subject, published)
				}
				if !send(key, m.Data, !fromFeed) {
					return
				}
			case <-poll.C:
				// One try per tick: a read retried for seconds while a
				// leader is elected would eat the caller's whole wait.
				pctx, cancel := context.WithTimeout(ctx, time.Second)
				entries, err := rt.st.listOnce(pctx, bucketStatus, filter)
				cancel()
				for _, e := range entries {
					if err == nil && !send(e.Key, e.Value, false) {
						return
					}
				}
				every = min(2*every, time.Second)
				poll.Reset(every)
			}
		}
	}()
	return out, nil
}

// NewKeypair makes a user's ed25519 keypair: the authorized_keys line and
// the OpenSSH private key file, as ssh-keygen writes them.
func (f *Fleet) NewKeypair(comment string) (string, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", "", err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment
	return line, string(pem.EncodeToMemory(block)), nil
}
