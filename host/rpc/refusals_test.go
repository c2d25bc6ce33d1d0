package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
)

// refusalServer is the production table over an in-memory state, folding
// refusals over window.
func refusalServer(t *testing.T, window time.Duration) (*Server, *core.Service) {
	t.Helper()
	svc := core.NewService(memstore.New())
	reg, err := Handlers(svc, Info{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Options{Handlers: reg, Policy: denyAll, Auditor: svc, RefusalWindow: window, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, svc
}

// nodeAdd calls node.add as c, through the server's whole call path.
func nodeAdd(s *Server, c core.Caller, name string) wireResponse {
	ctx := core.WithCaller(context.Background(), c)
	body := fmt.Sprintf(`{"jsonrpc":"2.0","method":"node.add","params":{"name":%q,"address":"10.0.0.1"},"id":1}`, name)
	var r wireResponse
	_ = json.Unmarshal(s.handle(ctx, []byte(body), nil), &r)
	return r
}

// allEvents reads the whole audit log through audit.list's paging.
func allEvents(t *testing.T, svc *core.Service) []core.AuditEvent {
	t.Helper()
	var all []core.AuditEvent
	cursor := ""
	for {
		page, next, err := svc.AuditList(context.Background(), core.AuditFilter{Limit: core.MaxAuditPage, Before: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// TestRefusalFloodIsFolded: two callers hammer node.add, which they may
// not call, while an admin makes changes. The admin's changes are each in
// the log; the refusals leave a bounded number of records whose counts add
// up to every refused call.
func TestRefusalFloodIsFolded(t *testing.T) {
	const window, calls = 100 * time.Millisecond, 3000
	s, svc := refusalServer(t, window)
	attackers := []core.Caller{{UID: 1001, PID: 4242}, {UID: 1002, PID: 4343}}
	start := time.Now()
	var wg sync.WaitGroup
	for _, a := range attackers {
		wg.Go(func() {
			for i := range calls {
				if r := nodeAdd(s, a, fmt.Sprint("x", i)); r.Error == nil || !strings.Contains(r.Error.Message, "needs") {
					t.Errorf("refused call answered %+v", r)
					return
				}
				if i%300 == 0 {
					time.Sleep(window / 4) // spread the flood over several windows
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			if r := nodeAdd(s, core.Caller{UID: 0, Privileged: true}, fmt.Sprint("n", i)); r.Error != nil {
				t.Errorf("admin's node.add: %+v", r.Error)
			}
		}
	})
	wg.Wait()
	elapsed := time.Since(start)
	s.Flush()

	events := allEvents(t, svc)
	ok, refused, records := 0, map[int]int{}, map[int]int{}
	for _, ev := range events {
		switch {
		case ev.Outcome == core.OutcomeOK:
			ok++
			if ev.Count != 0 || !strings.HasPrefix(ev.Target, "n") {
				t.Errorf("a success is not recorded on its own: %+v", ev)
			}
		case ev.Count > 0:
			refused[ev.ActorUID] += ev.Count
			records[ev.ActorUID]++
			if ev.Since.IsZero() || ev.Since.After(ev.Time) || !strings.Contains(ev.Error, "node.add needs") {
				t.Errorf("counted record %+v", ev)
			}
		default:
			refused[ev.ActorUID]++
			records[ev.ActorUID]++
			if !strings.HasPrefix(ev.Target, "x") {
				t.Errorf("a single refusal lost its target: %+v", ev)
			}
		}
	}
	if ok != 20 {
		t.Errorf("%d successful changes recorded, want 20", ok)
	}
	// One record at the start, one per window, one at the flush.
	bound := 2 + int(elapsed/window) + 1
	for _, a := range attackers {
		if refused[a.UID] != calls {
			t.Errorf("uid %d: records count %d refusals, want %d", a.UID, refused[a.UID], calls)
		}
		if records[a.UID] > bound {
			t.Errorf("uid %d: %d records for %d refusals in %v, want at most %d", a.UID, records[a.UID], calls, elapsed, bound)
		}
		t.Logf("uid %d: %d refusals in %v -> %d records", a.UID, calls, elapsed.Round(time.Millisecond), records[a.UID])
	}
}

// TestRefusalWindowCloses: a peer that stopped leaves its count in the
// log when the window closes, without a flush, and its next refusal is
// recorded at once and in full again.
func TestRefusalWindowCloses(t *testing.T) {
	const window = 50 * time.Millisecond
	s, svc := refusalServer(t, window)
	eve := core.Caller{UID: 1003}
	for i := range 5 {
		nodeAdd(s, eve, fmt.Sprint("x", i))
	}
	if evs := allEvents(t, svc); len(evs) != 1 || evs[0].Count != 0 || evs[0].Target != "x0" {
		t.Fatalf("right after the first refusals: %+v", evs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(allEvents(t, svc)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the window's count was never recorded")
		}
		time.Sleep(time.Millisecond)
	}
	evs := allEvents(t, svc)
	if evs[0].Count != 4 || evs[0].Target != "" || evs[0].ActorUID != 1003 {
		t.Fatalf("counted record: %+v", evs[0])
	}
	// The next window sees nothing and closes; the peer is forgotten.
	for {
		s.refusals.mu.Lock()
		n := len(s.refusals.runs)
		s.refusals.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a quiet peer's window never closed")
		}
		time.Sleep(time.Millisecond)
	}
	nodeAdd(s, eve, "again")
	if evs := allEvents(t, svc); len(evs) != 3 || evs[0].Target != "again" || evs[0].Count != 0 {
		t.Fatalf("a refusal after a quiet window: %+v", evs)
	}
}

// TestRefusalFolderForTCPPeers: the dashboard's refused TCP peers fold by
// their source key (a /64), the counted record naming the key when the
// addresses differ.
func TestRefusalFolderForTCPPeers(t *testing.T) {
	var got []core.AuditEvent
	f := NewRefusalFolder(time.Hour, func(ev core.AuditEvent) { got = append(got, ev) })
	ev := func(src string) core.AuditEvent {
		return core.AuditEvent{ActorUID: -1, Source: src, Method: "dashboard.refused", Target: "/", Outcome: core.OutcomeError, Error: "not in the whitelist"}
	}
	if !f.Admit("400::/64", ev("400::1")) {
		t.Fatal("the first refusal is not recorded at once")
	}
	if f.Admit("400::/64", ev("400::2")) || f.Admit("400::/64", ev("400::3")) {
		t.Fatal("a refusal of the same /64 within the window recorded at once")
	}
	if !f.Admit("10.0.0.1", ev("10.0.0.1")) {
		t.Fatal("another source's first refusal is not recorded at once")
	}
	f.Flush()
	if len(got) != 1 || got[0].Count != 2 || got[0].Source != "400::/64" || got[0].ActorUID != -1 {
		t.Fatalf("counted records %+v", got)
	}
}

// TestRefusalsOfManyPeersAreCapped: peers that each come once (an
// attacker with many /64s) get at most maxFreshRefusals full records in a
// window; the rest are counted in one shared record per method.
func TestRefusalsOfManyPeersAreCapped(t *testing.T) {
	var got []core.AuditEvent
	f := NewRefusalFolder(time.Hour, func(ev core.AuditEvent) { got = append(got, ev) })
	now := 0
	for i := range 1000 {
		src := fmt.Sprintf("4%02x:%x::1", i/256, i%256)
		if f.Admit(src+"/64", core.AuditEvent{ActorUID: -1, Source: src, Method: "dashboard.refused", Target: "/", Outcome: core.OutcomeError, Error: "not in the whitelist"}) {
			now++
		}
	}
	f.Flush()
	if now != maxFreshRefusals+1 {
		t.Errorf("%d of 1000 peers' refusals recorded at once, want %d and the shared run's first", now, maxFreshRefusals+1)
	}
	if len(got) != 1 || got[0].Count != 1000-maxFreshRefusals-1 || got[0].Source != "others" {
		t.Fatalf("counted records: %+v", got)
	}
}
