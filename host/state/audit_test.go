package state

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// TestAuditPruneOnBadger prunes the audit log on Badger while calls keep
// recording: both write the record count, so their transactions conflict
// and are retried; afterwards the count must equal the records left, and
// those must be the newest.
func TestAuditPruneOnBadger(t *testing.T) {
	st, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := core.NewService(st)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	for i := range 3000 {
		ev := core.AuditEvent{Method: "node.add", Target: fmt.Sprint("old", i), Outcome: core.OutcomeOK, Time: old.Add(time.Duration(i) * time.Second)}
		if _, err := svc.AuditRecord(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 250 {
				if _, err := svc.AuditRecord(ctx, core.AuditEvent{Method: "user.create", Target: fmt.Sprint(w, "-", i), Outcome: core.OutcomeOK}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	start := time.Now()
	n, err := svc.AuditPrune(ctx, core.AuditRetention{MaxAge: 24 * time.Hour, MaxRecords: 5000})
	took := time.Since(start)
	wg.Wait()
	if err != nil || n != 3000 {
		t.Fatalf("pruned %d (%v), want the 3000 older than a day", n, err)
	}
	t.Logf("pruned %d records in %v", n, took)
	keys := 0
	if err := st.View(func(tx core.Tx) error {
		return tx.Scan("audit/", false, func(_ string, v []byte) (bool, error) {
			if strings.Contains(string(v), `"old`) {
				t.Errorf("an old record survived: %s", v)
			}
			keys++
			return true, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	c, err := svc.Counts(ctx)
	if err != nil || keys != 1000 || c.AuditEvents != keys {
		t.Fatalf("%d records, count %d (%v), want 1000 both", keys, c.AuditEvents, err)
	}
	// Now by size, on the same store.
	if n, err := svc.AuditPrune(ctx, core.AuditRetention{MaxRecords: 10}); err != nil || n != 990 {
		t.Fatalf("pruned %d (%v), want 990", n, err)
	}
	page, next, err := svc.AuditList(ctx, core.AuditFilter{Limit: 100})
	if err != nil || len(page) != 10 || next != "" {
		t.Fatalf("after pruning to 10: %d events, next %q, %v", len(page), next, err)
	}
}

// TestAuditListEmptyOnBadger: an empty audit log, as on a fresh host or
// once retention has pruned everything, lists as empty. Badger's reverse
// seek found no key and the scan read an item that was not there (a panic,
// -32603 from audit.list).
func TestAuditListEmptyOnBadger(t *testing.T) {
	st, err := Open(Options{Dir: t.TempDir(), Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, next, err := core.NewService(st).AuditList(context.Background(), core.AuditFilter{})
	if err != nil || len(evs) != 0 || next != "" {
		t.Fatalf("empty log: %v %q %v", evs, next, err)
	}
}
