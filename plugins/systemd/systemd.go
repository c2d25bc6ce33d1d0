package systemd

import (
	"context"
	"errors"
	"math"
	"strconv"

	"github.com/godbus/dbus/v5"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/keylock"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// systemd's D-Bus names.
const (
	dest       = "org.freedesktop.systemd1"
	managerObj = dbus.ObjectPath("/org/freedesktop/systemd1")
	managerIf  = "org.freedesktop.systemd1.Manager"
	sliceIf    = "org.freedesktop.systemd1.Slice"
	// infinity is systemd's "no limit" for both properties
	// (USEC_INFINITY, CGROUP_LIMIT_MAX).
	infinity = uint64(math.MaxUint64)
)

// Systemd is the limits plugin that asks systemd.
type Systemd struct {
	guard *guard.Guard
	dial  func(ctx context.Context) (*dbus.Conn, error)
	locks keylock.Map
}

var _ limits.Limits = (*Systemd)(nil)

// New judges users by g and reaches systemd through dial.
func New(g *guard.Guard, dial func(ctx context.Context) (*dbus.Conn, error)) *Systemd {
	return &Systemd{guard: g, dial: dial}
}

// DialSystem connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, else
// the well-known socket).
func DialSystem(ctx context.Context) (*dbus.Conn, error) {
	return dbus.ConnectSystemBus(dbus.WithContext(ctx))
}

// Probe is ready when systemd owns its name on the system bus and the
// policy could be read.
func (s *Systemd) Probe(ctx context.Context) identity.ProbeResult {
	if err := s.guard.Err(); err != nil {
		return identity.ProbeResult{Reason: err.Error()}
	}
	conn, err := s.dial(ctx)
	if err != nil {
		return identity.ProbeResult{Reason: "systemd is not running (no system bus): " + err.Error()}
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, dest).Store(&owned); err != nil || !owned {
		return identity.ProbeResult{Reason: "systemd is not running (" + dest + " has no owner on the system bus)"}
	}
	return identity.ProbeResult{Ready: true}
}

// slice is the user's slice: made of the uid alone.
func slice(uid uint32) string { return "user-" + strconv.FormatUint(uint64(uid), 10) + ".slice" }

// admit checks u against the policy: a managed account whose uid is
// u.UID, its alone.
func (s *Systemd) admit(u lifecycle.User) error {
	if err := limits.ValidateUser(u); err != nil {
		return err
	}
	uid, err := s.guard.UID(u.Name)
	if err != nil {
		return err
	}
	if uint32(uid) != u.UID {
		return sdkerr.Errorf(sdkerr.PermissionDenied, "account %q has uid %d, not %d; refused", u.Name, uid, u.UID)
	}
	return nil
}

type property struct {
	Name  string
	Value dbus.Variant
}

func props(v limits.Values) []property {
	cpu, mem := infinity, infinity
	if v.MilliCPU > 0 {
		cpu = uint64(v.MilliCPU) * 1000 // µs of CPU time per second: 1000 ms = 1 core
	}
	if v.Memory > 0 {
		mem = v.Memory
	}
	return []property{{"CPUQuotaPerSecUSec", dbus.MakeVariant(cpu)}, {"MemoryMax", dbus.MakeVariant(mem)}}
}

func (s *Systemd) Set(ctx context.Context, u lifecycle.User, v limits.Values) (int, error) {
	if err := s.admit(u); err != nil {
		return 0, err
	}
	if err := limits.ValidateValues(v); err != nil {
		return 0, err
	}
	unlock := s.locks.Lock(slice(u.UID))
	defer unlock()
	conn, err := s.dial(ctx)
	if err != nil {
		return 0, sdkerr.Wrap(err, sdkerr.Unavailable, "system bus: %v", err)
	}
	defer conn.Close()
	// runtime=false: the properties persist (a drop-in under
	// /etc/systemd/system.control), so a reboot keeps the limits.
	call := conn.Object(dest, managerObj).CallWithContext(ctx, managerIf+".SetUnitProperties", 0, slice(u.UID), false, props(v))
	return 0, busErr(call.Err, "set the properties of "+slice(u.UID))
}

func (s *Systemd) Get(ctx context.Context, u lifecycle.User) (limits.Values, error) {
	if err := s.admit(u); err != nil {
		return limits.Values{}, err
	}
	conn, err := s.dial(ctx)
	if err != nil {
		return limits.Values{}, sdkerr.Wrap(err, sdkerr.Unavailable, "system bus: %v", err)
	}
	defer conn.Close()
	var path dbus.ObjectPath
	if err := conn.Object(dest, managerObj).CallWithContext(ctx, managerIf+".LoadUnit", 0, slice(u.UID)).Store(&path); err != nil {
		return limits.Values{}, busErr(err, "load "+slice(u.UID))
	}
	obj := conn.Object(dest, path)
	var v limits.Values
	var cpu, mem uint64
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, sliceIf, "CPUQuotaPerSecUSec").Store(&cpu); err != nil {
		return v, busErr(err, "read CPUQuotaPerSecUSec of "+slice(u.UID))
	}
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, sliceIf, "MemoryMax").Store(&mem); err != nil {
		return v, busErr(err, "read MemoryMax of "+slice(u.UID))
	}
	if cpu != infinity {
		v.MilliCPU = uint32(min(cpu/1000, math.MaxUint32))
	}
	if mem != infinity {
		v.Memory = mem
	}
	return v, nil
}

// Forget lifts the slice's limits and reverts its drop-ins (the
// persistent ones Set wrote), so a user re-created under the uid starts
// without limits. The slice itself is systemd's: it goes when the user's
// last process does.
func (s *Systemd) Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	if u.UID == 0 {
		return lifecycle.Forgotten{}, nil
	}
	if err := s.guard.Forgettable(u); err != nil {
		return lifecycle.Forgotten{}, err
	}
	unlock := s.locks.Lock(slice(u.UID))
	defer unlock()
	conn, err := s.dial(ctx)
	if err != nil {
		return lifecycle.Forgotten{}, sdkerr.Wrap(err, sdkerr.Unavailable, "system bus: %v", err)
	}
	defer conn.Close()
	m := conn.Object(dest, managerObj)
	if err := m.CallWithContext(ctx, managerIf+".SetUnitProperties", 0, slice(u.UID), true, props(limits.Values{})).Err; err != nil {
		return lifecycle.Forgotten{}, busErr(err, "lift the limits of "+slice(u.UID))
	}
	var changes []struct{ Type, Path, Source string }
	if err := m.CallWithContext(ctx, managerIf+".RevertUnitFiles", 0, []string{slice(u.UID)}).Store(&changes); err != nil {
		return lifecycle.Forgotten{}, busErr(err, "revert "+slice(u.UID))
	}
	var f lifecycle.Forgotten
	for _, c := range changes {
		if c.Type == "unlink" {
			f.Removed = append(f.Removed, c.Path)
		}
	}
	return f, nil
}

// busErr types a D-Bus error: systemd's refusals are the caller's, the
// rest the bus's.
func busErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var de dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		case "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.systemd1.UnitMasked":
			return sdkerr.Wrap(err, sdkerr.PermissionDenied, "%s: %v", what, err)
		case "org.freedesktop.DBus.Error.InvalidArgs":
			return sdkerr.Wrap(err, sdkerr.InvalidArgument, "%s: %v", what, err)
		case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
			return sdkerr.Wrap(err, sdkerr.Unavailable, "%s: systemd is not running: %v", what, err)
		}
	}
	return sdkerr.Wrap(err, sdkerr.Internal, "%s: %v", what, err)
}
