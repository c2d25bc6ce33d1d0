package core

import (
	"context"
	"sync"
	"time"
)

// Usage is how much of its quota a volume uses, in bytes; QuotaBytes 0 is
// no limit. The dashboard draws it as a bar.
type Usage struct {
	UsedBytes  int64 `json:"used_bytes"`
	QuotaBytes int64 `json:"quota_bytes"`
}

// UserUsage reads the user's home volume's usage from the volumes plugin.
func (s *Service) UserUsage(ctx context.Context, name string) (Usage, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return Usage{}, err
	}
	return s.volumeUsage(ctx, u.Home)
}

// GroupUsage reads a group's shared volume's usage; a group without one is
// FailedPrecondition.
func (s *Service) GroupUsage(ctx context.Context, name string) (Usage, error) {
	g, err := s.GroupGet(ctx, name)
	if err != nil {
		return Usage{}, err
	}
	if g.Volume == "" {
		return Usage{}, Errorf(FailedPrecondition, "group %s has no shared volume", name)
	}
	return s.volumeUsage(ctx, g.Volume)
}

func (s *Service) volumeUsage(ctx context.Context, path string) (Usage, error) {
	if err := s.needPlugins(); err != nil {
		return Usage{}, err
	}
	return s.walks.get(ctx, path, func(ctx context.Context) (Usage, error) {
		v, err := s.plugins.Volumes().GetUsage(ctx, path)
		if err != nil {
			return Usage{}, FromPluginError(err)
		}
		return Usage{UsedBytes: int64(v.UsedBytes), QuotaBytes: int64(v.QuotaBytes)}, nil
	})
}

// usageWalks runs the volumes plugin's usage reads. One may walk a whole
// tree (the dir plugin, btrfs without quotas), as root, and a caller that
// gives up does not stop it; anyone in the socket group may ask (a user's
// page), and every metrics scrape does. So at most usageWalkers run at
// once, each to its end (within usageWalkLimit), and the callers asking
// for a volume whose read is running share it rather than start another.
type usageWalks struct {
	once    sync.Once
	slots   chan struct{}
	mu      sync.Mutex
	running map[string]*usageWalk
}

type usageWalk struct {
	done chan struct{}
	u    Usage
	err  error
}

const (
	usageWalkers   = 2
	usageWalkLimit = 5 * time.Minute
)

func (w *usageWalks) get(ctx context.Context, path string, read func(context.Context) (Usage, error)) (Usage, error) {
	w.once.Do(func() { w.slots, w.running = make(chan struct{}, usageWalkers), map[string]*usageWalk{} })
	w.mu.Lock()
	r := w.running[path]
	if r == nil {
		r = &usageWalk{done: make(chan struct{})}
		w.running[path] = r
		go func() {
			w.slots <- struct{}{}
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), usageWalkLimit)
			r.u, r.err = read(rctx)
			cancel()
			<-w.slots
			w.mu.Lock()
			delete(w.running, path)
			w.mu.Unlock()
			close(r.done)
		}()
	}
	w.mu.Unlock()
	select {
	case <-r.done:
		return r.u, r.err
	case <-ctx.Done():
		return Usage{}, Wrap(ctx.Err(), Unavailable, "the volume's usage is still being read: %v", ctx.Err())
	}
}
