package dashboard

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
)

// fakeFleet is a fleet of two nodes as core sees it through its backend:
// n1 (this host, zone=eu) answers every change, n2 never does. Only what
// the Fleet tab and a fleet call use is implemented.
type fakeFleet struct {
	core.FleetBackend // nil: any other method panics

	mu    sync.Mutex
	ann   map[string]core.NodeAnnounce
	users map[string]core.FleetUser
	rev   uint64
}

func newFakeFleet() *fakeFleet {
	now := time.Now()
	return &fakeFleet{
		ann: map[string]core.NodeAnnounce{
			"n1": {Name: "n1", Version: "v1.2.3", Seen: now},
			"n2": {Name: "n2", Version: "v1.2.3", Seen: now.Add(-time.Hour)},
		},
		users: map[string]core.FleetUser{"alice": {Name: "alice", UID: 61000, Revision: 3}},
		rev:   3,
	}
}

func (f *fakeFleet) Info(context.Context) core.FleetInfo {
	return core.FleetInfo{InFleet: true, Node: "n1", Role: "replica", Store: "ok", Address: "400::1",
		JoinCommand: "hero_codescalers fleet-join [400::1]:5300"}
}

func (f *fakeFleet) Members(context.Context) ([]core.Member, error) {
	return []core.Member{
		{Name: "n1", ID: "id1", Role: "replica", Labels: map[string]string{"zone": "eu", "gpu": "yes"}, Revision: 1},
		{Name: "n2", ID: "id2", Role: "leaf", Labels: map[string]string{}, Revision: 2},
	}, nil
}

func (f *fakeFleet) Announcements(context.Context) (map[string]core.NodeAnnounce, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]core.NodeAnnounce{}
	for k, a := range f.ann {
		a.Applied = f.rev
		out[k] = a
	}
	return out, nil
}

func (f *fakeFleet) Users(context.Context) ([]core.FleetUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []core.FleetUser
	for _, u := range f.users {
		out = append(out, u)
	}
	return out, nil
}

func (f *fakeFleet) Groups(context.Context) ([]core.FleetGroup, error) { return nil, nil }

func (f *fakeFleet) User(_ context.Context, name string) (core.FleetUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[name]
	if !ok {
		return core.FleetUser{}, core.Errorf(core.NotFound, "no fleet user %s", name)
	}
	return u, nil
}

func (f *fakeFleet) PutUser(_ context.Context, u core.FleetUser, _ uint64) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	u.Revision = f.rev
	f.users[u.Name] = u
	return f.rev, nil
}

func (f *fakeFleet) Statuses(context.Context, string) ([]core.NodeStatus, error) { return nil, nil }

func (f *fakeFleet) Status(context.Context, string, string) (core.NodeStatus, error) {
	return core.NodeStatus{}, &core.Error{Code: core.NotFound, Message: "no status"}
}

// WatchStatuses: n1 answers at once (to the write that follows); n2 is
// down and stays silent.
func (f *fakeFleet) WatchStatuses(ctx context.Context, object string) (<-chan core.NodeStatus, error) {
	f.mu.Lock()
	rev := f.rev + 1
	f.mu.Unlock()
	out := make(chan core.NodeStatus, 1)
	out <- core.NodeStatus{Node: "n1", Object: object, Revision: rev, Outcome: core.FleetOK}
	return out, nil
}

func (f *fakeFleet) setSeen(node string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.ann[node]
	a.Seen = at
	f.ann[node] = a
}

// TestFleetTab: the nodes with their labels, version, last seen and state,
// and the last fleet call with one row per node, the silent one named.
func TestFleetTab(t *testing.T) {
	ff := newFakeFleet()
	fx := newFleetFixture(t, ff)
	body := fx.get("/fleet")
	wantIn(t, body, `aria-current="page">Fleet<`, "n1", "gpu=yes, zone=eu", "v1.2.3", "replica", "leaf",
		`class="badge ok">converged`, `class="badge error">down`, "hero_codescalers fleet-join [400::1]:5300",
		"No fleet call through this host")
	res, err := fx.svc.FleetUserQuotaSet(context.Background(), "alice", 1<<30, 100*time.Millisecond)
	if err != nil || res.Failed != 1 {
		t.Fatalf("quota on the fleet: %+v %v", res, err)
	}
	body = fx.get("/fleet")
	wantIn(t, body, "user/alice", `rowspan="2"`, "1 failed", `<td>n1</td><td><span class="badge ok">ok</span></td><td>`,
		`<td>n2</td><td><span class="badge error">no answer</span>`, "no answer within 100ms")
}

// TestFleetTabOutsideAFleet: a host in no fleet says so and how to make one.
func TestFleetTabOutsideAFleet(t *testing.T) {
	fx := newFixture(t)
	wantIn(t, fx.get("/fleet"), "This node is in no fleet", "fleet-init")
}

// TestFleetTabLive: a node going down is a "fleet" event on the stream,
// so the open tab refreshes its nodes by itself.
func TestFleetTabLive(t *testing.T) {
	ff := newFakeFleet()
	fx := newFleetFixture(t, ff)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(core.WithCaller(r.Context(), core.Caller{UID: 0}))
		fx.d.Handler(Unix).ServeHTTP(w, r)
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events?topics=fleet")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	waitFor(t, "the poller's baseline", func() bool {
		fx.d.hub.mu.Lock()
		defer fx.d.hub.mu.Unlock()
		_, ok := fx.d.hub.last["fleet"]
		return ok
	})
	ff.setSeen("n1", time.Now().Add(-time.Hour))
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				got <- data
				return
			}
		}
	}()
	select {
	case topic := <-got:
		if topic != "fleet" {
			t.Errorf("topic %q, want fleet", topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no fleet event within 5s of a node going down")
	}
	if b := fx.get("/fleet"); strings.Contains(b, `class="badge ok">converged`) {
		t.Errorf("n1 still shown converged:\n%s", b)
	}
}

// newFleetFixture is newFixture with the service on the fake fleet.
func newFleetFixture(t *testing.T, ff *fakeFleet) *fixture {
	fx := newFixture(t, func(c *Config) { c.Service = core.NewService(memstore.New(), core.WithFleet(ff)) })
	fx.svc = fx.d.svc
	return fx
}
