package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
)

func newService(t *testing.T) *core.Service {
	t.Helper()
	clock := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	return core.NewService(memstore.New(), core.WithClock(now))
}

func TestNodes(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	n, err := s.NodeAdd(ctx, core.Node{Name: "n1", Address: "[400::1]:5000", Labels: map[string]string{"zone": "a"}})
	if err != nil || n.Created.IsZero() {
		t.Fatalf("NodeAdd: %v %+v", err, n)
	}
	if _, err := s.NodeAdd(ctx, core.Node{Name: "n1", Address: "10.0.0.1"}); !core.IsCode(err, core.AlreadyExists) {
		t.Fatalf("duplicate add: %v", err)
	}
	if _, err := s.NodeAdd(ctx, core.Node{Name: "N 1", Address: "10.0.0.1"}); !core.IsCode(err, core.Invalid) {
		t.Fatalf("bad name: %v", err)
	}
	got, err := s.NodeGet(ctx, "n1")
	if err != nil || got.Labels["zone"] != "a" {
		t.Fatalf("NodeGet: %v %+v", err, got)
	}
	list, _ := s.NodeList(ctx)
	if len(list) != 1 {
		t.Fatalf("NodeList: %v", list)
	}
	if err := s.NodeRemove(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := s.NodeRemove(ctx, "n1"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if _, err := s.NodeGet(ctx, "n1"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("get removed: %v", err)
	}
}

func TestGroups(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	g, err := s.GroupCreate(ctx, core.Group{Name: "devs", Members: []string{"bob", "alice", "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.Members) != "[alice bob]" {
		t.Fatalf("members not deduplicated and sorted: %v", g.Members)
	}
	if _, err := s.GroupCreate(ctx, core.Group{Name: "devs"}); !core.IsCode(err, core.AlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = s.GroupCreate(ctx, core.Group{Name: "ops", Members: []string{"../x"}})
	if e := core.AsError(err); e == nil || e.Code != core.Invalid || e.Field != "members" {
		t.Fatalf("bad member: %v", err)
	}
	if list, _ := s.GroupList(ctx); len(list) != 1 {
		t.Fatalf("list: %v", list)
	}
	if err := s.GroupDelete(ctx, "devs", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GroupGet(ctx, "devs"); !core.IsCode(err, core.NotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestWhitelistState(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if l, err := s.WhitelistGet(ctx); err != nil || len(l) != 0 {
		t.Fatalf("initial: %v %v", l, err)
	}
	if _, err := s.WhitelistSet(ctx, []string{"nope"}); !core.IsCode(err, core.Invalid) {
		t.Fatalf("bad entry: %v", err)
	}
	if _, err := s.WhitelistSet(ctx, []string{"400::1", "400::1"}); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.WhitelistGet(ctx); len(l) != 1 || l[0] != "400::1" {
		t.Fatalf("after set: %v", l)
	}
}

func TestAuditPaging(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for i := range 25 {
		m := "node.add"
		if i%5 == 0 {
			m = "group.create"
		}
		if _, err := s.AuditRecord(ctx, core.AuditEvent{ActorUID: 0, Method: m, Target: fmt.Sprint(i), Outcome: core.OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	var all []core.AuditEvent
	cursor := ""
	for {
		page, next, err := s.AuditList(ctx, core.AuditFilter{Limit: 10, Before: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 25 || all[0].Target != "24" || all[24].Target != "0" {
		t.Fatalf("paging gave %d events, first %q last %q", len(all), all[0].Target, all[len(all)-1].Target)
	}
	only, _, _ := s.AuditList(ctx, core.AuditFilter{Method: "group.create"})
	if len(only) != 5 {
		t.Fatalf("method filter: %d", len(only))
	}
	c, _ := s.Counts(ctx)
	if c.AuditEvents != 25 {
		t.Fatalf("count %d", c.AuditEvents)
	}
	if _, _, err := s.AuditList(ctx, core.AuditFilter{Limit: 5000}); !core.IsCode(err, core.Invalid) {
		t.Fatalf("limit: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	e := &core.Error{Code: core.OSCommandFailed, Step: "account", Message: "useradd failed", Command: []string{"useradd", "--", "alice"}, ExitCode: 9, Stderr: "exists\n"}
	if got := e.Error(); got != "step account: useradd failed (useradd -- alice exited 9: exists)" {
		t.Fatalf("got %q", got)
	}
	wrapped := fmt.Errorf("ctx: %w", e)
	if core.ErrorCode(wrapped) != core.OSCommandFailed {
		t.Fatal("code lost through wrapping")
	}
	if ae := core.AsError(errors.New("secret detail")); ae.Error() != "internal error" {
		t.Fatalf("foreign error leaked: %q", ae.Error())
	}
}
