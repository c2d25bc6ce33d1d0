package sdk

import (
	"context"
	"os"
	"runtime/debug"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// stopper owns the plugin's gRPC server: it counts in-flight calls, stops
// the server once they are done (or the grace ran out), and points
// os.Stdout and os.Stderr back at the real stderr once go-plugin is done
// with them (see restoreStdio).
type stopper struct {
	log   hclog.Logger
	grace time.Duration
	stdio *os.File

	mu       sync.Mutex
	srv      *grpc.Server
	active   int
	stopping bool
	idle     chan struct{} // closed when stopping and active is 0

	stopOnce  sync.Once
	stdioOnce sync.Once
}

func newStopper(log hclog.Logger, grace time.Duration, stdio *os.File) *stopper {
	return &stopper{log: log, grace: grace, stdio: stdio, idle: make(chan struct{})}
}

// newServer is go-plugin's ServeConfig.GRPCServer: the server it makes is
// the one stop stops. Its calls also get the host's volumes.DeferSync
// mark back on their context, and its connection a fixed Window.
func (s *stopper) newServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.ChainUnaryInterceptor(s.unary, volumesgrpc.DeferSyncServerInterceptor),
		grpc.ChainStreamInterceptor(s.stream))
	opts = append(opts, ServerWindow()...)
	srv := grpc.NewServer(opts...)
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	return srv
}

// restoreStdio undoes go-plugin's swap of os.Stdout and os.Stderr for pipes
// it streams to the host (which discards them unless it asked for them).
// go-plugin swaps them right before it starts serving, so the first call
// handled is ordered after the swap; from then on a stray fmt.Println
// lands on stderr, where the host logs it, never on stdout.
func (s *stopper) restoreStdio() {
	s.stdioOnce.Do(func() {
		os.Stdout = s.stdio
		os.Stderr = s.stdio
	})
}

func (s *stopper) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	s.restoreStdio()
	if !s.enter() {
		return nil, status.Error(codes.Unavailable, "plugin is stopping")
	}
	defer s.leave()
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("plugin call panicked", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
			err = sdkerrgrpc.ToStatus(sdkerr.Errorf(sdkerr.Internal, "plugin panicked in %s: %v", info.FullMethod, r))
		}
	}()
	return handler(ctx, req)
}

func (s *stopper) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	s.restoreStdio()
	return handler(srv, ss)
}

func (s *stopper) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.active++
	return true
}

func (s *stopper) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.stopping && s.active == 0 {
		close(s.idle)
	}
}

// stop begins the shutdown once, whatever asked for it first.
func (s *stopper) stop(reason string) {
	s.stopOnce.Do(func() {
		s.log.Info("plugin stopping", "reason", reason)
		go s.run()
	})
}

func (s *stopper) run() {
	s.mu.Lock()
	s.stopping = true
	srv := s.srv
	if s.active == 0 {
		close(s.idle)
	}
	s.mu.Unlock()
	if srv == nil {
		os.Exit(0) // not serving yet: nothing to finish
	}
	select {
	case <-s.idle:
	case <-time.After(s.grace):
		s.log.Warn("grace period over, cutting in-flight calls", "grace", s.grace)
	}
	// Stop ends go-plugin's Serve, and serve returns 0. Should anything
	// keep it from returning, exit anyway.
	time.AfterFunc(2*time.Second, func() {
		s.log.Error("plugin did not stop in time, exiting")
		os.Exit(1)
	})
	srv.Stop()
}
