// Package limits is the plugin contract for per-user resource limits: CPU
// time and memory, enforced by the machine's cgroups. A plugin keeps one
// cgroup (cgroupfs) or slice (systemd) per managed user, puts the user's
// processes in it, and removes it at Forget, the user's end. It holds the
// Go interface, its types and checks, and a map-backed fake; the gRPC glue
// and descriptor are in limits/limitsgrpc, the conformance checks in
// limits/limitstest. A plugin acts only on the accounts its policy manages
// (sdk/policy): anything else is PermissionDenied, whatever the caller
// asks.
package limits

import (
	"context"
	"fmt"
	"strconv"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Name is the concern's name: the go-plugin plugin-map key.
const Name = "limits"

// APIVersion is the contract version this package speaks.
const APIVersion = "limits.v1"

// Limits is implemented by a limits plugin.
type Limits interface {
	// Set applies v to u, replacing what u had (a zero field lifts that
	// limit), and puts u's running processes under them; it returns how
	// many processes it moved. Processes u starts later are put there by
	// the plugin too: that is its job, not the caller's.
	Set(ctx context.Context, u lifecycle.User, v Values) (moved int, err error)
	// Get returns u's limits as the machine has them: zero when none.
	Get(ctx context.Context, u lifecycle.User) (Values, error)
	// Forget removes u's cgroup or slice (lifecycle.Forgetter); the host
	// ends u's processes first.
	Forget(ctx context.Context, u lifecycle.User) (lifecycle.Forgotten, error)
}

// Values are one user's limits; a zero field is no limit.
type Values struct {
	// MilliCPU is CPU time in thousandths of a core: 1500 lets the user's
	// processes use one and a half cores' worth of time.
	MilliCPU uint32
	// Memory caps the memory charged to the user's processes, in bytes:
	// a whole number of 4 KiB pages.
	Memory uint64
}

// IsZero reports whether v limits nothing.
func (v Values) IsZero() bool { return v == Values{} }

// String renders v for logs: "cpu=1.5 memory=64MiB".
func (v Values) String() string {
	cpu, mem := "none", "none"
	if v.MilliCPU > 0 {
		cpu = FormatCPU(v.MilliCPU)
	}
	if v.Memory > 0 {
		mem = formatBytes(v.Memory)
	}
	return "cpu=" + cpu + " memory=" + mem
}

// FormatCPU renders thousandths of a core as cores: 2000 is "2", 1500 "1.5".
func FormatCPU(milli uint32) string {
	return strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
}

func formatBytes(n uint64) string {
	for _, u := range []struct {
		suffix string
		size   uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.suffix)
		}
	}
	return strconv.FormatUint(n, 10)
}

// Unimplemented answers every call with an Unimplemented error; embed it.
type Unimplemented struct{}

var _ Limits = Unimplemented{}

func unimplemented(method string) error {
	return sdkerr.Errorf(sdkerr.Unimplemented, "limits.%s is not implemented by this plugin", method)
}

func (Unimplemented) Set(context.Context, lifecycle.User, Values) (int, error) {
	return 0, unimplemented("Set")
}
func (Unimplemented) Get(context.Context, lifecycle.User) (Values, error) {
	return Values{}, unimplemented("Get")
}
func (Unimplemented) Forget(context.Context, lifecycle.User) (lifecycle.Forgotten, error) {
	return lifecycle.Forgotten{}, unimplemented("Forget")
}
