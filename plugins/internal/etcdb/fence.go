package etcdb

import (
	"fmt"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Fence is the policy the accounts plugins judge every change by. Anyone
// allowed to start a plugin (the driver, through its sudoers rule) can call
// it directly, so the plugin trusts nothing its caller says: not the marker
// group, not a uid, a home, a group. It reads the root-owned policy once,
// at start (LoadFence), and judges each change by the account files it
// holds under its lock (Judge).
//
// A policy file that is insecure (not root-owned and protected) or invalid
// makes the plugin refuse to serve: it still starts, so the host can show
// why, but its Probe is not ready and every accounts call fails
// FailedPrecondition with the policy's error. Guessing a fence would be
// worse than none.
type Fence struct {
	Policy policy.Policy
	// Err is why the policy could not be loaded; nil when it was.
	Err error
}

// LoadFence reads the machine's policy (policy.Load: the file, or the
// built-in defaults when there is none).
func LoadFence() Fence {
	p, err := policy.Load()
	return Fence{Policy: p, Err: err}
}

// NewFence is a fence of policy p, for tests and callers that read it
// themselves.
func NewFence(p policy.Policy) Fence { return Fence{Policy: p} }

// Usable is nil when the policy was loaded, else the FailedPrecondition
// every call answers.
func (f Fence) Usable() error {
	if f.Err == nil {
		return nil
	}
	return sdkerr.Wrap(f.Err, sdkerr.FailedPrecondition,
		"refusing to serve: the policy %s is unusable: %v; fix it (root:root 0644, see `hero_codescalers setup driver --check`)", policy.Path, f.Err)
}

// Defs is login.defs and useradd's defaults of etcDir with the policy's
// uid and gid ranges in place of login.defs' own: every id a plugin
// allocates comes from the policy.
func (f Fence) Defs(etcDir string) Defs {
	d := LoadDefs(etcDir)
	p := f.Policy
	d.UIDMin, d.UIDMax, d.GIDMin, d.GIDMax = p.UIDMin, p.UIDMax, p.GIDMin, p.GIDMax
	return d
}

// Judge is one change's view: the policy and the account files as db
// holds them, managed users and groups known. Build it once per change,
// under the lock, from the tables just read.
type Judge struct {
	P  policy.Policy
	DB *DB
	M  *policy.Machine
}

// Judge builds the view of db; it fails when the policy is unusable or the
// managed-groups record cannot be read. The view answers from db's own
// tables and their index: nothing is read or indexed twice.
func (f Fence) Judge(db *DB) (*Judge, error) {
	if err := f.Usable(); err != nil {
		return nil, err
	}
	m := policy.NewMachine(f.Policy, source{db})
	if err := m.ReadRecord(db.Dir); err != nil {
		return nil, sdkerr.Wrap(err, sdkerr.Internal, "read the managed-groups record in %s: %v", db.Dir, err)
	}
	return &Judge{P: f.Policy, DB: db, M: m}, nil
}

// source is a DB as the policy's view reads it.
type source struct{ db *DB }

var _ policy.Source = source{}

func (s source) User(name string) (uint32, uint32, bool) {
	f := s.db.passwd().Get(name)
	if len(f) < 4 {
		return 0, 0, false
	}
	uid, ok1 := parseID(f[2])
	gid, ok2 := parseID(f[3])
	return uid, gid, ok1 && ok2
}

func (s source) Group(name string) (uint32, []string, bool) {
	f := s.db.group().Get(name)
	if len(f) < 3 {
		return 0, nil, false
	}
	gid, ok := parseID(f[2])
	var members []string
	if len(f) > 3 {
		members = SplitList(f[3])
	}
	return gid, members, ok
}

func (s source) Users(fn func(string, uint32, uint32)) {
	s.db.passwd().Records(func(f []string) {
		if len(f) < 4 {
			return
		}
		if uid, ok := parseID(f[2]); ok {
			if gid, ok := parseID(f[3]); ok {
				fn(f[0], uid, gid)
			}
		}
	})
}

func (s source) Groups(fn func(string, uint32, []string)) {
	s.db.group().Records(func(f []string) {
		if len(f) < 3 {
			return
		}
		if gid, ok := parseID(f[2]); ok {
			var members []string
			if len(f) > 3 {
				members = SplitList(f[3])
			}
			fn(f[0], gid, members)
		}
	})
}

// denied is the PermissionDenied of a refusal: what was refused, and the
// rule.
func denied(format string, args ...any) error {
	return sdkerr.Errorf(sdkerr.PermissionDenied, format, args...)
}

// Marker checks a caller's marker group: "" or the policy's own. Any
// other would let the caller pick which accounts count as managed.
func (j *Judge) Marker(given string) error {
	if given != "" && given != j.P.MarkerGroup {
		return denied("marker group %q is not the policy's marker group %q", given, j.P.MarkerGroup)
	}
	return nil
}

// rangeText describes the managed uid range, for messages.
func (j *Judge) rangeText() string {
	return fmt.Sprintf("uid %d..%d", j.P.UIDMin, j.P.UIDMax)
}

// Log says at start which policy the plugin judges by, or, as an error,
// that it refuses to serve and why.
func (f Fence) Log(log hclog.Logger) {
	if f.Err != nil {
		log.Error("refusing to serve: the policy is unusable, so every accounts call fails until it is fixed",
			"policy", policy.Path, "error", f.Err.Error())
		return
	}
	p := f.Policy
	log.Info("policy", "source", p.Source, "home_roots", p.HomeRoots, "marker_group", p.MarkerGroup,
		"uids", fmt.Sprintf("%d..%d", p.UIDMin, p.UIDMax), "gids", fmt.Sprintf("%d..%d", p.GIDMin, p.GIDMax), "groups", p.Groups)
}
