package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

// AuditFilter selects audit events: a page of Limit events older than
// the cursor Before (an event ID), newest first, optionally of one method
// and one actor. Actor matches the actor's uid (as a decimal) or the
// event's source (admin.sock, or a dashboard peer's address).
type AuditFilter struct {
	Limit  int
	Before string
	Method string
	Actor  string
}

// AuditList returns one page of events and the cursor of the next page.
func (s *Service) AuditList(ctx context.Context, f AuditFilter) ([]AuditEvent, string, error) {
	if f.Limit < 0 || f.Limit > MaxAuditPage {
		return nil, "", InvalidField("limit", "must be 0..%d", MaxAuditPage)
	}
	if f.Limit == 0 {
		f.Limit = DefaultAuditPage
	}
	if f.Before != "" && (len(f.Before) > 40 || strings.ContainsAny(f.Before, "/\x00")) {
		return nil, "", InvalidField("before", "is not an audit event id")
	}
	if len(f.Actor) > 64 {
		return nil, "", InvalidField("actor", "at most 64 characters")
	}
	events := []AuditEvent{}
	next := ""
	err := s.store.View(func(tx Tx) error {
		return tx.Scan(keyAudit, true, func(key string, v []byte) (bool, error) {
			id := strings.TrimPrefix(key, keyAudit)
			if f.Before != "" && id >= f.Before {
				return true, nil
			}
			var ev AuditEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return false, err
			}
			if (f.Method != "" && ev.Method != f.Method) || !f.actorMatches(ev) {
				return true, nil
			}
			if len(events) == f.Limit {
				next = events[len(events)-1].ID
				return false, nil
			}
			events = append(events, ev)
			return true, nil
		})
	})
	return events, next, err
}

func (f AuditFilter) actorMatches(ev AuditEvent) bool {
	return f.Actor == "" || f.Actor == strconv.Itoa(ev.ActorUID) || f.Actor == ev.Source
}
