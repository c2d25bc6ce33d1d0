package core_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
)

// auditAt records n events, one a minute, the newest at now, and returns
// the service and now.
func auditAt(t *testing.T, n int) (*core.Service, time.Time) {
	t.Helper()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := core.NewService(memstore.New(), core.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := n - 1; i >= 0; i-- {
		ev := core.AuditEvent{Method: "node.add", Target: fmt.Sprint(i), Outcome: core.OutcomeOK, Time: now.Add(-time.Duration(i) * time.Minute)}
		if _, err := s.AuditRecord(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	return s, now
}

// pages reads the whole log through audit.list's cursors.
func pages(t *testing.T, s *core.Service) []core.AuditEvent {
	t.Helper()
	var all []core.AuditEvent
	cursor := ""
	for range 1000 {
		page, next, err := s.AuditList(context.Background(), core.AuditFilter{Limit: 100, Before: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
	t.Fatal("audit.list never ended")
	return nil
}

// checkKept checks the log holds exactly the events with targets 0..n-1
// (the n newest), newest first, and that the count agrees.
func checkKept(t *testing.T, s *core.Service, n int) {
	t.Helper()
	all := pages(t, s)
	if len(all) != n {
		t.Fatalf("%d events left, want %d", len(all), n)
	}
	for i, ev := range all {
		if ev.Target != fmt.Sprint(i) {
			t.Fatalf("event %d is %q, want %d: not the newest kept in order", i, ev.Target, i)
		}
	}
	c, err := s.Counts(context.Background())
	if err != nil || c.AuditEvents != n {
		t.Fatalf("count %d (%v), want %d", c.AuditEvents, err, n)
	}
}

func TestAuditPruneByAge(t *testing.T) {
	s, _ := auditAt(t, 2500)
	// Kept: the events of the last 1000 minutes, the one exactly at the
	// limit included.
	n, err := s.AuditPrune(context.Background(), core.AuditRetention{MaxAge: 1000 * time.Minute})
	if err != nil || n != 1499 {
		t.Fatalf("pruned %d (%v), want 1499", n, err)
	}
	checkKept(t, s, 1001)
	if n, err := s.AuditPrune(context.Background(), core.AuditRetention{MaxAge: 1000 * time.Minute}); n != 0 || err != nil {
		t.Fatalf("second prune: %d %v", n, err)
	}
}

func TestAuditPruneBySize(t *testing.T) {
	s, _ := auditAt(t, 2500)
	n, err := s.AuditPrune(context.Background(), core.AuditRetention{MaxRecords: 700})
	if err != nil || n != 1800 {
		t.Fatalf("pruned %d (%v), want 1800", n, err)
	}
	checkKept(t, s, 700)
}

// TestAuditPruneKeepsPaging: a reader in the middle of the log keeps its
// cursor across a prune and reads on to the oldest record still kept.
func TestAuditPruneKeepsPaging(t *testing.T) {
	s, _ := auditAt(t, 300)
	ctx := context.Background()
	page, next, err := s.AuditList(ctx, core.AuditFilter{Limit: 100})
	if err != nil || len(page) != 100 || next == "" {
		t.Fatalf("first page: %d %q %v", len(page), next, err)
	}
	if _, err := s.AuditPrune(ctx, core.AuditRetention{MaxRecords: 150}); err != nil {
		t.Fatal(err)
	}
	rest, next, err := s.AuditList(ctx, core.AuditFilter{Limit: 100, Before: next})
	if err != nil || len(rest) != 50 || next != "" || rest[0].Target != "100" || rest[49].Target != "149" {
		t.Fatalf("page after the prune: %d events, next %q, %v", len(rest), next, err)
	}
}

// TestRunAuditRetention: the background loop prunes at start and stops
// with its context.
func TestRunAuditRetention(t *testing.T) {
	s, _ := auditAt(t, 50)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.RunAuditRetention(ctx, core.AuditRetention{MaxRecords: 10}, time.Hour)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := s.Counts(ctx); c.AuditEvents == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not pruned within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	checkKept(t, s, 10)
}
