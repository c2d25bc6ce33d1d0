package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
)

// auditSeq disambiguates events recorded in the same nanosecond.
var auditSeq atomic.Uint64

// DefaultAuditPage and MaxAuditPage bound audit.list pages.
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
)

// AuditRecord appends an event. IDs sort by time, so the log reads newest
// first by scanning in reverse. Callers pass only redacted data: the audit
// log never sees params, only the method, the target and the outcome.
func (s *Service) AuditRecord(ctx context.Context, ev AuditEvent) (AuditEvent, error) {
	if ev.Time.IsZero() {
		ev.Time = s.now().UTC()
	}
	ev.ID = fmt.Sprintf("%020d-%08d", ev.Time.UnixNano(), auditSeq.Add(1)%100000000)
	ev.DurationMS = float64(ev.Duration.Microseconds()) / 1000
	err := s.store.Update(func(tx Tx) error {
		var n int
		if _, err := getJSON(tx, keyAuditCount, &n); err != nil {
			return err
		}
		if err := putJSON(tx, keyAudit+ev.ID, ev); err != nil {
			return err
		}
		return putJSON(tx, keyAuditCount, n+1)
	})
	return ev, err
}

// AuditList returns up to limit events older than the cursor before (an
// event ID), newest first, optionally only of one method, and the cursor of
// the next page.
func (s *Service) AuditList(ctx context.Context, limit int, before, method string) ([]AuditEvent, string, error) {
	if limit < 0 || limit > MaxAuditPage {
		return nil, "", InvalidField("limit", "must be 0..%d", MaxAuditPage)
	}
	if limit == 0 {
		limit = DefaultAuditPage
	}
	if before != "" && (len(before) > 40 || strings.ContainsAny(before, "/\x00")) {
		return nil, "", InvalidField("before", "is not an audit event id")
	}
	events := []AuditEvent{}
	next := ""
	err := s.store.View(func(tx Tx) error {
		return tx.Scan(keyAudit, true, func(key string, v []byte) (bool, error) {
			id := strings.TrimPrefix(key, keyAudit)
			if before != "" && id >= before {
				return true, nil
			}
			var ev AuditEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return false, err
			}
			if method != "" && ev.Method != method {
				return true, nil
			}
			if len(events) == limit {
				next = events[len(events)-1].ID
				return false, nil
			}
			events = append(events, ev)
			return true, nil
		})
	})
	return events, next, err
}
