package core

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/keylock"
)

// Key prefixes of the state. Each kind of object lives under its own bucket.
const (
	keyNode       = "node/"
	keyGroup      = "group/"
	keyUser       = "user/"
	keyAudit      = "audit/"
	keyWhitelist  = "config/whitelist"
	keyAuditCount = "meta/audit_count"
)

// Service holds the use cases. It is safe for concurrent use; every method
// is one or a few store transactions, so a reconcile loop can call the same
// methods the JSON-RPC server does.
type Service struct {
	walks   usageWalks // volume usage reads (usage.go)
	store   Store
	now     func() time.Time
	log     *slog.Logger
	cfg     UserConfig
	plugins Plugins
	// fleet is the fleet's store, nil on a host outside any fleet.
	fleet FleetBackend
	// calls are the last fleet calls made through this host.
	calls fleetCalls
	// locks serialises the use cases of one user (or "group/NAME"), so two
	// concurrent creates of one name give one winner and one
	// AlreadyExists, while different names proceed in parallel.
	locks keylock.Map
	// markerReady is set once the marker group is known to exist.
	markerReady atomic.Bool
	// driverKnown is set once the driver account has been seen.
	driverKnown atomic.Bool
	// canSync says whether the volumes plugin has Sync (see syncCtx).
	canSync atomic.Int32
	// kick wakes RunRecovery.
	kick chan struct{}
	// steps sums how long each step took (StepTimes).
	steps stepTimes
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the use cases over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, log: slog.Default(), kick: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	s.cfg.fill()
	return s
}

// Caller is who made a call, from the socket's SO_PEERCRED.
type Caller struct {
	UID, GID, PID int
	// Privileged is set by the transport: root, the host's own uid, or a
	// member of the admin group.
	Privileged bool
}

type callerKey struct{}

// WithCaller attaches the caller to ctx.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller attached to ctx, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Counts is what stats reports about the state.
type Counts struct {
	Users, Groups, Nodes, AuditEvents int
}

// Counts counts the objects in the state.
func (s *Service) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.store.View(func(tx Tx) error {
		var err error
		if c.Users, err = countPrefix(tx, keyUser); err != nil {
			return err
		}
		if c.Groups, err = countPrefix(tx, keyGroup); err != nil {
			return err
		}
		if c.Nodes, err = countPrefix(tx, keyNode); err != nil {
			return err
		}
		_, err = getJSON(tx, keyAuditCount, &c.AuditEvents)
		return err
	})
	return c, err
}

func countPrefix(tx Tx, prefix string) (int, error) {
	n := 0
	err := tx.Scan(prefix, false, func(string, []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}
