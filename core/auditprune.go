package core

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The audit log's default bounds: a quarter of a year, and at most
// 100,000 records (some 25 MB; a record is ~250 bytes).
const (
	DefaultAuditMaxAge     = 90 * 24 * time.Hour
	DefaultAuditMaxRecords = 100_000
)

// auditPruneBatch is how many records one pruning transaction deletes:
// small enough for Badger's transaction limit and to keep each commit
// short beside the calls that record, large enough to be cheap.
const auditPruneBatch = 1000

// AuditRetention bounds the audit log by age and by number of records;
// the oldest records go first. A zero field takes its default.
type AuditRetention struct {
	MaxAge     time.Duration
	MaxRecords int
}

func (r AuditRetention) filled() AuditRetention {
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultAuditMaxAge
	}
	if r.MaxRecords <= 0 {
		r.MaxRecords = DefaultAuditMaxRecords
	}
	return r
}

// AuditPrune deletes the records older than r.MaxAge and, beyond
// r.MaxRecords, the oldest, and returns how many it deleted. IDs sort by
// time, so both are a run of keys from the start of the bucket, deleted
// in batches; audit.list's cursors stay valid, as a cursor is an ID and
// compares with the IDs that remain.
func (s *Service) AuditPrune(ctx context.Context, r AuditRetention) (int, error) {
	r = r.filled()
	cutoff := auditIDPrefix(s.now().Add(-r.MaxAge))
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := s.auditPruneBatch(cutoff, r.MaxRecords)
		total += n
		if err != nil || n < auditPruneBatch {
			return total, err
		}
	}
}

// auditPruneBatch deletes up to auditPruneBatch of the oldest records that
// are older than cutoff or beyond maxRecords, and keeps the count with them.
func (s *Service) auditPruneBatch(cutoff string, maxRecords int) (int, error) {
	deleted := 0
	err := s.store.Update(func(tx Tx) error {
		deleted = 0
		var count int
		if _, err := getJSON(tx, keyAuditCount, &count); err != nil {
			return err
		}
		excess := count - maxRecords
		var doomed []string
		all := true // every record was doomed: none is left
		err := tx.Scan(keyAudit, false, func(key string, _ []byte) (bool, error) {
			id := strings.TrimPrefix(key, keyAudit)
			if len(doomed) >= excess && id >= cutoff {
				all = false
				return false, nil
			}
			if len(doomed) == auditPruneBatch {
				all = false
				return false, nil
			}
			doomed = append(doomed, key)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, key := range doomed {
			if err := tx.Delete(key); err != nil {
				return err
			}
		}
		deleted = len(doomed)
		switch {
		case all && count != 0:
			return putJSON(tx, keyAuditCount, 0) // also mends a count that drifted
		case deleted == 0:
			return nil
		}
		return putJSON(tx, keyAuditCount, max(count-deleted, 0))
	})
	return deleted, err
}

// auditIDPrefix is the ID prefix of time t: every record made before t
// has an ID that sorts before it.
func auditIDPrefix(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

// RunAuditRetention prunes the audit log now and then every interval
// until ctx ends. A failure is logged and retried at the next interval.
func (s *Service) RunAuditRetention(ctx context.Context, r AuditRetention, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.AuditPrune(ctx, r)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("audit: pruning failed", "err", err)
		case n > 0:
			s.log.Info("audit: pruned old records", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
