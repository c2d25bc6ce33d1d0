package core

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Limits are a user's CPU and memory limits, enforced by the limits
// plugin through the machine's cgroups; a zero field is no limit.
type Limits struct {
	// MilliCPU is CPU time in thousandths of a core (1500: 1.5 cores).
	MilliCPU int `json:"cpu_millicores,omitempty"`
	// MemoryBytes caps the memory charged to the user's processes.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
}

// limits is the desired record's limits, zero for none.
func (d FleetUser) limits() Limits {
	if d.Limits == nil {
		return Limits{}
	}
	return *d.Limits
}

// limits is the user's limits, zero for none.
func (u User) limits() Limits {
	if u.Limits == nil {
		return Limits{}
	}
	return *u.Limits
}

// IsZero reports whether l limits nothing.
func (l Limits) IsZero() bool { return l == Limits{} }

func (l Limits) values() limits.Values {
	return limits.Values{MilliCPU: uint32(l.MilliCPU), Memory: uint64(l.MemoryBytes)}
}

func limitsOf(v limits.Values) Limits {
	return Limits{MilliCPU: int(v.MilliCPU), MemoryBytes: int64(v.Memory)}
}

// ParseLimits reads the CLI's and the API's words for limits: cpu in cores
// ("2", "1.5", "0.25"; "" or "0" none) and memory as a size ("4G", "512M";
// "" or "0" none), checked as every limits plugin checks them.
func ParseLimits(cpu, memory string) (Limits, error) {
	var l Limits
	if cpu = strings.TrimSpace(cpu); cpu != "" {
		f, err := strconv.ParseFloat(cpu, 64)
		if err != nil || strings.ContainsAny(cpu, "eExXpP") || math.IsNaN(f) || math.IsInf(f, 0) {
			return Limits{}, InvalidField("cpu", "%q is not a number of cores like 2 or 1.5", cpu)
		}
		if f < 0 || f*1000 > limits.MaxMilliCPU {
			return Limits{}, InvalidField("cpu", "%q is out of range: 0 (no limit) to %s cores", cpu, limits.FormatCPU(limits.MaxMilliCPU))
		}
		l.MilliCPU = int(math.Round(f * 1000))
	}
	if memory = strings.TrimSpace(memory); memory != "" {
		b, err := ParseQuota("memory", memory)
		if err != nil {
			return Limits{}, err
		}
		l.MemoryBytes = b
	}
	return l, l.validate()
}

// validate checks l as a plugin will, before any plugin is asked.
func (l Limits) validate() error {
	if l.MilliCPU < 0 || l.MemoryBytes < 0 {
		return InvalidField("limits", "must not be negative")
	}
	if err := limits.ValidateValues(l.values()); err != nil {
		var pe *sdkerr.Error
		if errors.As(err, &pe) {
			return InvalidField(strings.TrimPrefix(pe.Field, "limits."), "%s", pe.Message)
		}
		return InvalidField("limits", "%v", err)
	}
	return nil
}

// limiter is the limits plugin: the one concern core reaches through
// Plugins.All alone, since it is optional (a host without it refuses
// limits and runs otherwise).
func (s *Service) limiter() (limits.Limits, error) {
	for _, c := range s.plugins.All() {
		if l, ok := c.Client.(limits.Limits); ok && c.Name == limits.Name {
			return l, nil
		}
	}
	return nil, &Error{Code: FailedPrecondition, Message: "no plugin serves limits on this host", Err: ErrNotServed}
}

// UserLimitsSet applies a user's limits (a zero field lifts that one) and
// keeps them with the user.
func (s *Service) UserLimitsSet(ctx context.Context, name string, l Limits) (User, error) {
	u, err := s.UserGet(ctx, name)
	if err != nil {
		return User{}, err
	}
	if err := refuseFleetEdit(ctx, u, "set its limits"); err != nil {
		return User{}, err
	}
	if err := l.validate(); err != nil {
		return User{}, err
	}
	if err := s.needPlugins(); err != nil {
		return User{}, err
	}
	lim, err := s.limiter()
	if err != nil {
		return User{}, err
	}
	unlock := s.locks.Lock(name)
	defer unlock()
	if _, err := lim.Set(ctx, u.lifecycleUser(), l.values()); err != nil {
		return User{}, FromPluginError(err)
	}
	return s.saveUser(name, func(u *User) {
		u.Limits = nil
		if !l.IsZero() {
			u.Limits = &l
		}
	})
}

// stepLimits applies the limits a create asks for; a create without any
// asks nothing of the limits plugin, which may be absent. A rollback's
// Forget removes them.
func (s *Service) stepLimits(ctx context.Context, r *createRun) error {
	if r.spec.Limits.IsZero() {
		return nil
	}
	lim, err := s.limiter()
	if err != nil {
		return err
	}
	_, err = lim.Set(ctx, r.lifecycleUser(), r.spec.Limits.values())
	return FromPluginError(err)
}

// installedLimits is what the limits plugin says the machine enforces for
// u, for user.get: nil when no plugin serves limits.
func (s *Service) installedLimits(ctx context.Context, u User, in *Installed) {
	lim, err := s.limiter()
	if err != nil {
		return
	}
	v, err := lim.Get(ctx, u.lifecycleUser())
	switch {
	case errors.Is(err, ErrNotServed):
	case err != nil:
		in.LimitsError = FromPluginError(err).Error()
	default:
		l := limitsOf(v)
		in.Limits = &l
	}
}

// convergeLimits compares the limits the plugin enforces with the user's
// and, repairing, re-applies them: a reboot empties the cgroup
// filesystem, where the cgroupfs plugin keeps them.
func (s *Service) convergeLimits(ctx context.Context, u *User, repair bool, note func(string, ...any)) error {
	want := u.limits()
	lim, err := s.limiter()
	if err != nil {
		if !want.IsZero() {
			note("limits %s asked for, but no plugin serves limits on this host", want.values())
		}
		return nil
	}
	got, err := lim.Get(ctx, u.lifecycleUser())
	if err != nil {
		return FromPluginError(err)
	}
	if limitsOf(got) == want {
		return nil
	}
	note("limits are %s, the state says %s", got, want.values())
	if !repair {
		return nil
	}
	_, err = lim.Set(ctx, u.lifecycleUser(), want.values())
	return FromPluginError(err)
}

// ReapplyLimits re-applies every user's limits, as the host does once its
// plugins are up: what the cgroupfs plugin keeps in the cgroup filesystem
// does not survive a reboot. A user it fails for is logged; reconcile
// reports it.
func (s *Service) ReapplyLimits(ctx context.Context) {
	if s.plugins == nil {
		return
	}
	lim, err := s.limiter()
	if err != nil {
		return
	}
	users, err := listJSON[User](s.store, keyUser)
	if err != nil {
		s.log.Warn("limits not re-applied: the users could not be listed", "err", err)
		return
	}
	for _, u := range users {
		if u.Limits == nil || u.Limits.IsZero() {
			continue
		}
		if _, err := lim.Set(ctx, u.lifecycleUser(), u.Limits.values()); err != nil {
			s.log.Warn("limits not re-applied", "user", u.Name, "limits", u.Limits.values().String(), "err", err)
		}
	}
}
