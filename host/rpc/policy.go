package rpc

import (
	"log/slog"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Policy decides who may call privileged methods.
type Policy interface {
	Privileged(c core.Caller) bool
	// Requirement says who is privileged, for the Forbidden message, as
	// in "root or membership of group hcadmin".
	Requirement() string
}

// policyTTL is how long a membership verdict is kept: long enough that a
// burst of calls looks the groups up once, short enough that removing
// someone from the admin group takes effect within seconds.
const policyTTL = 5 * time.Second

// HostPolicy is the host's policy: root, the host's own uid and the members
// of the admin group are privileged. Group membership is read from the
// group database (supplementary groups of the caller's uid, and the
// caller's own gid from SO_PEERCRED) and cached for a few seconds.
type HostPolicy struct {
	euid  int
	group string // under mu: a reload may change it
	log   *slog.Logger

	// Seams over os/user, replaced in tests.
	lookupGroup func(name string) (int, error)
	userGroups  func(uid int) ([]int, error)
	now         func() time.Time

	mu    sync.Mutex
	cache map[[2]int]verdict
}

type verdict struct {
	ok    bool
	until time.Time
}

var _ Policy = (*HostPolicy)(nil)

// NewHostPolicy returns the policy of a host running as euid, with an
// optional admin group (empty: none).
func NewHostPolicy(euid int, adminGroup string, log *slog.Logger) *HostPolicy {
	if log == nil {
		log = slog.Default()
	}
	return &HostPolicy{
		euid: euid, group: adminGroup, log: log,
		lookupGroup: lookupGroup, userGroups: userGroups, now: time.Now,
		cache: map[[2]int]verdict{},
	}
}

// Privileged reports whether c may call privileged methods.
func (p *HostPolicy) Privileged(c core.Caller) bool {
	if c.UID < 0 {
		return false
	}
	if c.UID == 0 || c.UID == p.euid {
		return true
	}
	group := p.adminGroup()
	if group == "" {
		return false
	}
	key, now := [2]int{c.UID, c.GID}, p.now()
	p.mu.Lock()
	v, hit := p.cache[key]
	p.mu.Unlock()
	if hit && now.Before(v.until) {
		return v.ok
	}
	ok := p.member(c, group)
	p.mu.Lock()
	if len(p.cache) > 4096 { // many distinct callers: start over
		clear(p.cache)
	}
	p.cache[key] = verdict{ok: ok, until: now.Add(policyTTL)}
	p.mu.Unlock()
	return ok
}

func (p *HostPolicy) member(c core.Caller, group string) bool {
	gid, err := p.lookupGroup(group)
	if err != nil {
		p.log.Warn("rpc: admin group not found; only root and the host's uid are privileged", "group", group, "err", err)
		return false
	}
	if c.GID == gid {
		return true
	}
	gids, err := p.userGroups(c.UID)
	if err != nil {
		p.log.Debug("rpc: cannot read the caller's groups", "uid", c.UID, "err", err)
		return false
	}
	return slices.Contains(gids, gid)
}

// adminGroup is the admin group now in force.
func (p *HostPolicy) adminGroup() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.group
}

// SetAdminGroup changes the admin group (a reload of the config file) and
// forgets every cached verdict, so the change holds from the next call.
func (p *HostPolicy) SetAdminGroup(group string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.group = group
	clear(p.cache)
}

// Requirement names who is privileged.
func (p *HostPolicy) Requirement() string {
	parts := []string{"root"}
	if p.euid != 0 {
		parts = append(parts, "uid "+strconv.Itoa(p.euid)+" (the host's own user)")
	}
	if g := p.adminGroup(); g != "" {
		parts = append(parts, "membership of group "+g)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

func lookupGroup(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

func userGroups(uid int) ([]int, error) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return nil, err
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, err
	}
	gids := make([]int, 0, len(ids))
	for _, id := range ids {
		if n, err := strconv.Atoi(id); err == nil {
			gids = append(gids, n)
		}
	}
	return gids, nil
}
