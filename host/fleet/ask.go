package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Questions to every node (sessions are not desired state: each node is
// asked for its own, with a deadline). A question goes to
// hcfleet.FLEET.ask, which every node subscribes to; the answers come back
// on the asker's inbox. Both are sealed, so a client of a shared external
// NATS that does not hold the secret can neither ask nor answer.

// askMsg is a sealed question, with an id its answers carry back and the
// time it was first put. A node acts on one id once: the asker puts its
// question again every second until every node answered, and a repeat
// gets the first answer (a session-kill repeated would end the sessions
// opened since). A question from outside askWindow is refused, so one
// captured off the wire cannot be played again once its id is forgotten.
type askMsg struct {
	ID  string            `json:"id"`
	At  time.Time         `json:"at"`
	Req core.FleetRequest `json:"req"`
}

// askWindow is how far a question's time may be from a node's clock, and
// how long a node remembers the ids it answered.
const askWindow = 15 * time.Minute

// answerMsg is one node's sealed answer.
type answerMsg struct {
	ID    string          `json:"id"`
	Reply core.FleetReply `json:"reply"`
}

func askSubject(fleetID string) string { return "hcfleet." + fleetID + ".ask" }

// Ask puts req to every node and gathers the answers until each of nodes
// answered or timeout passed.
func (f *Fleet) Ask(ctx context.Context, req core.FleetRequest, nodes []string, timeout time.Duration) ([]core.FleetReply, error) {
	rt, err := f.running()
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 12)
	if _, err := rand.Read(idb); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(idb)
	want := map[string]bool{}
	for _, n := range nodes {
		want[n] = true
	}
	inbox := rt.nc.NewRespInbox()
	var mu sync.Mutex
	got := map[string]core.FleetReply{}
	done := make(chan struct{})
	sub, err := rt.nc.Subscribe(inbox, func(msg *nats.Msg) {
		var a answerMsg
		if rt.seal.Open("msg", "answer", msg.Data, &a) != nil || a.ID != id {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[a.Reply.Node]; dup {
			return
		}
		got[a.Reply.Node] = a.Reply
		if len(got) >= len(want) && allIn(want, got) {
			select {
			case <-done:
			default:
				close(done)
			}
		}
	})
	if err != nil {
		return nil, unavailable(err)
	}
	defer sub.Unsubscribe()
	data, err := rt.seal.Seal("msg", "ask", askMsg{ID: id, At: time.Now().UTC(), Req: req})
	if err != nil {
		return nil, err
	}
	if err := rt.nc.PublishRequest(askSubject(rt.m.FleetID), inbox, data); err != nil {
		return nil, unavailable(err)
	}
	// A node between two connections (a leaf node whose replica just
	// died) misses a message: the question is put again every second
	// until every node answered. A node answers each time; the first
	// answer counts.
	again := time.NewTicker(time.Second)
	defer again.Stop()
	deadline := time.After(timeout)
wait:
	for {
		select {
		case <-done:
			break wait
		case <-deadline:
			break wait
		case <-ctx.Done():
			break wait
		case <-again.C:
			_ = rt.nc.PublishRequest(askSubject(rt.m.FleetID), inbox, data)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	out := make([]core.FleetReply, 0, len(got))
	for _, r := range got {
		out = append(out, r)
	}
	return out, nil
}

func allIn(want map[string]bool, got map[string]core.FleetReply) bool {
	for n := range want {
		if _, ok := got[n]; !ok {
			return false
		}
	}
	return true
}

// serveAsk answers the fleet's questions with this node's own answers,
// acting on each question once (askMsg).
func (f *Fleet) serveAsk(ctx context.Context, rt *runtime, svc *core.Service) (*nats.Subscription, error) {
	var mu sync.Mutex
	done := map[string]*answered{}
	return rt.nc.Subscribe(askSubject(rt.m.FleetID), func(msg *nats.Msg) {
		var q askMsg
		if err := rt.seal.Open("msg", "ask", msg.Data, &q); err != nil {
			f.log.Warn("fleet: refused a question not sealed with this fleet's key")
			return
		}
		now := time.Now()
		if d := now.Sub(q.At); d > askWindow || d < -askWindow {
			f.log.Warn("fleet: refused a question from another time (played again, or a clock off by more than 15 minutes)", "at", q.At)
			return
		}
		mu.Lock()
		for id, a := range done {
			if now.Sub(a.at) > askWindow {
				delete(done, id)
			}
		}
		a, seen := done[q.ID]
		if !seen {
			a = &answered{at: now}
			done[q.ID] = a
		}
		data := a.data
		mu.Unlock()
		if seen {
			if data != nil { // else the first is still being answered
				_ = msg.Respond(data)
			}
			return
		}
		go func() {
			r := svc.FleetReplyFor(ctx, q.Req)
			r.Node = rt.m.Node
			data, err := rt.seal.Seal("msg", "answer", answerMsg{ID: q.ID, Reply: r})
			if err == nil {
				mu.Lock()
				a.data = data
				mu.Unlock()
				err = msg.Respond(data)
			}
			if err != nil {
				f.log.Warn("fleet: answering a question", "err", err)
			}
		}()
	})
}

// answered is a question a node acted on, and its sealed answer once made.
type answered struct {
	at   time.Time
	data []byte
}
