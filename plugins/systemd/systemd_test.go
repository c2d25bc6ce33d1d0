package systemd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/threefoldtech/hero_codescalers/plugins/logind/fakelogind"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

// fakeSystemd is systemd's manager as far as the plugin uses it, served
// on a private dbus-daemon: units with their properties, persistent
// drop-ins, and the calls made.
type fakeSystemd struct {
	mu      sync.Mutex
	conn    *dbus.Conn
	props   map[string]map[string]uint64 // unit -> property -> value
	dropins map[string]bool              // unit -> has persistent drop-ins
	calls   []string
}

func (f *fakeSystemd) SetUnitProperties(name string, runtime bool, props []property) *dbus.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SetUnitProperties "+name)
	if !strings.HasPrefix(name, "user-") || !strings.HasSuffix(name, ".slice") {
		return dbus.NewError("org.freedesktop.DBus.Error.InvalidArgs", []any{"not a user slice: " + name})
	}
	if f.props[name] == nil {
		f.props[name] = map[string]uint64{}
	}
	for _, p := range props {
		if p.Name != "CPUQuotaPerSecUSec" && p.Name != "MemoryMax" {
			return dbus.NewError("org.freedesktop.DBus.Error.InvalidArgs", []any{"unknown property " + p.Name})
		}
		v, ok := p.Value.Value().(uint64)
		if !ok {
			return dbus.NewError("org.freedesktop.DBus.Error.InvalidArgs", []any{p.Name + " is not a uint64: " + p.Value.Signature().String()})
		}
		f.props[name][p.Name] = v
	}
	if !runtime {
		f.dropins[name] = true
	}
	return nil
}

func (f *fakeSystemd) LoadUnit(name string) (dbus.ObjectPath, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + strings.NewReplacer("-", "_2d", ".", "_2e").Replace(name))
	if err := f.conn.Export(&unit{f, name}, path, "org.freedesktop.DBus.Properties"); err != nil {
		return "", dbus.MakeFailedError(err)
	}
	return path, nil
}

type change struct{ Type, Path, Source string }

func (f *fakeSystemd) RevertUnitFiles(names []string) ([]change, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []change
	for _, n := range names {
		f.calls = append(f.calls, "RevertUnitFiles "+n)
		if f.dropins[n] {
			delete(f.dropins, n)
			out = append(out, change{"unlink", "/etc/systemd/system.control/" + n + ".d/50-MemoryMax.conf", ""})
		}
	}
	return out, nil
}

type unit struct {
	f    *fakeSystemd
	name string
}

func (u *unit) Get(iface, prop string) (dbus.Variant, *dbus.Error) {
	u.f.mu.Lock()
	defer u.f.mu.Unlock()
	if iface != sliceIf {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownInterface", []any{iface})
	}
	v, ok := u.f.props[u.name][prop]
	if !ok {
		v = infinity // a slice without limits
	}
	return dbus.MakeVariant(v), nil
}

// serve starts a private bus with the fake systemd on it.
func serve(t *testing.T) (*fakeSystemd, string) {
	t.Helper()
	addr := fakelogind.Bus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeSystemd{conn: conn, props: map[string]map[string]uint64{}, dropins: map[string]bool{}}
	if err := conn.Export(f, managerObj, managerIf); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(dest, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", reply, err)
	}
	return f, addr
}

func testGuard(t *testing.T) *guard.Guard {
	etc := t.TempDir()
	for name, text := range map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n",
		"group":  "root:x:0:\ncodescalers:x:998:alice\n",
	} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return guard.New(policy.Defaults(etc), etc)
}

func dialer(addr string) func(context.Context) (*dbus.Conn, error) {
	return func(ctx context.Context) (*dbus.Conn, error) { return dbus.Connect(addr, dbus.WithContext(ctx)) }
}

// TestSlicePropertiesOverDBus drives the plugin against a fake systemd on
// a real (private) bus: limits become user-UID.slice's CPUQuotaPerSecUSec
// and MemoryMax, persistently; they read back; a lifted one is infinity;
// Forget lifts both and reverts the drop-ins; other accounts are refused
// before systemd is asked.
func TestSlicePropertiesOverDBus(t *testing.T) {
	ctx := context.Background()
	f, addr := serve(t)
	s := New(testGuard(t), dialer(addr))
	if r := s.Probe(ctx); !r.Ready {
		t.Fatalf("probe: %+v", r)
	}
	alice := lifecycle.User{Name: "alice", UID: 1001, GID: 1001}
	if _, err := s.Set(ctx, alice, limits.Values{MilliCPU: 1500, Memory: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := f.props["user-1001.slice"]; got["CPUQuotaPerSecUSec"] != 1500000 || got["MemoryMax"] != 64<<20 || !f.dropins["user-1001.slice"] {
		t.Fatalf("slice properties %v, drop-ins %v", got, f.dropins)
	}
	if v, err := s.Get(ctx, alice); err != nil || v != (limits.Values{MilliCPU: 1500, Memory: 64 << 20}) {
		t.Errorf("Get = %s, %v", v, err)
	}
	if _, err := s.Set(ctx, alice, limits.Values{Memory: 128 << 20}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, alice); err != nil || v != (limits.Values{Memory: 128 << 20}) {
		t.Errorf("cpu lifted: Get = %s, %v", v, err)
	}
	for what, c := range map[string]struct {
		u    lifecycle.User
		code sdkerr.Code
	}{
		"root":        {lifecycle.User{Name: "root"}, sdkerr.InvalidArgument},
		"unmanaged":   {lifecycle.User{Name: "debian", UID: 1000}, sdkerr.PermissionDenied},
		"another uid": {lifecycle.User{Name: "alice", UID: 1000}, sdkerr.PermissionDenied},
	} {
		if _, err := s.Set(ctx, c.u, limits.Values{Memory: 64 << 20}); !sdkerr.Is(err, c.code) {
			t.Errorf("Set for %s: %v, want %s", what, err, c.code)
		}
	}
	if _, ok := f.props["user-1000.slice"]; ok {
		t.Error("systemd was asked about a person's own account")
	}
	got, err := s.Forget(ctx, alice)
	if err != nil || len(got.Removed) != 1 || !strings.Contains(got.Removed[0], "user-1001.slice.d") {
		t.Fatalf("Forget = %+v, %v", got, err)
	}
	if v, err := s.Get(ctx, alice); err != nil || !v.IsZero() {
		t.Errorf("after Forget: Get = %s, %v", v, err)
	}
	if f.dropins["user-1001.slice"] {
		t.Error("the drop-ins survived Forget")
	}
	if got, err := s.Forget(ctx, alice); err != nil || len(got.Removed) != 0 {
		t.Errorf("a second Forget = %+v, %v", got, err)
	}
}

// TestProbeWithoutSystemd: a bus on which nobody owns systemd's name.
func TestProbeWithoutSystemd(t *testing.T) {
	s := New(testGuard(t), dialer(fakelogind.Bus(t)))
	if r := s.Probe(context.Background()); r.Ready || !strings.Contains(r.Reason, "no owner") {
		t.Errorf("probe: %+v", r)
	}
	_, err := s.Set(context.Background(), lifecycle.User{Name: "alice", UID: 1001}, limits.Values{Memory: 64 << 20})
	if !sdkerr.Is(err, sdkerr.Unavailable) {
		t.Errorf("Set without systemd: %v", err)
	}
}
