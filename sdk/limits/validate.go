package limits

import (
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// The bounds of a limit. The CPU floor is the kernel's: a CFS quota of at
// least 1 ms in the 100 ms period the plugins use. The memory floor keeps
// a limit from making the user unable to log in at all.
const (
	MinMilliCPU = 10
	MaxMilliCPU = 1 << 20 // ~1048 cores
	PageSize    = 4096
	MinMemory   = 4 << 20
	MaxMemory   = 1 << 60
)

// ValidateValues checks v: each limit 0 (none) or within its bounds, the
// memory a whole number of pages.
func ValidateValues(v Values) error {
	if v.MilliCPU != 0 && (v.MilliCPU < MinMilliCPU || v.MilliCPU > MaxMilliCPU) {
		return sdkerr.Invalid("limits.cpu", "%s cores is out of range: 0 (no limit) or %s to %s",
			FormatCPU(v.MilliCPU), FormatCPU(MinMilliCPU), FormatCPU(MaxMilliCPU))
	}
	if v.Memory != 0 && (v.Memory < MinMemory || v.Memory > MaxMemory) {
		return sdkerr.Invalid("limits.memory", "%d bytes is out of range: 0 (no limit) or %s to %d bytes",
			v.Memory, formatBytes(MinMemory), uint64(MaxMemory))
	}
	if v.Memory%PageSize != 0 {
		return sdkerr.Invalid("limits.memory", "%d bytes is not a whole number of %d-byte pages", v.Memory, PageSize)
	}
	return nil
}

// ValidateUser checks the user of a call: its name, and a uid, since a
// cgroup is the uid's.
func ValidateUser(u lifecycle.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.UID == 0 {
		return sdkerr.Invalid("user.uid", "is required and never 0")
	}
	return nil
}
