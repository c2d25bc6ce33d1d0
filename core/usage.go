package core

import "context"

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
	v, err := s.plugins.Volumes().GetUsage(ctx, path)
	if err != nil {
		return Usage{}, FromPluginError(err)
	}
	return Usage{UsedBytes: int64(v.UsedBytes), QuotaBytes: int64(v.QuotaBytes)}, nil
}
