package rpc

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
)

// fakeGroups stands in for the group database: hcadmin is gid 500, uid
// 1001 is a supplementary member, uid 1002 is not a member.
func fakePolicy(euid int, group string) (*HostPolicy, *int, *time.Time) {
	p := NewHostPolicy(euid, group, slog.New(slog.DiscardHandler))
	lookups := 0
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	p.lookupGroup = func(name string) (int, error) {
		if name != "hcadmin" {
			return 0, errors.New("no such group")
		}
		return 500, nil
	}
	p.userGroups = func(uid int) ([]int, error) {
		lookups++
		switch uid {
		case 1001:
			return []int{1001, 500}, nil
		case 1002:
			return []int{1002}, nil
		}
		return nil, errors.New("no such user")
	}
	return p, &lookups, &now
}

func TestHostPolicy(t *testing.T) {
	tests := []struct {
		name   string
		euid   int
		group  string
		caller core.Caller
		want   bool
	}{
		{"root", 1000, "", core.Caller{UID: 0, GID: 0}, true},
		{"host's own uid", 1000, "", core.Caller{UID: 1000, GID: 1000}, true},
		{"stranger, no admin group", 1000, "", core.Caller{UID: 1001, GID: 1001}, false},
		{"supplementary member", 1000, "hcadmin", core.Caller{UID: 1001, GID: 1001}, true},
		{"primary gid from SO_PEERCRED", 1000, "hcadmin", core.Caller{UID: 1003, GID: 500}, true},
		{"not a member", 1000, "hcadmin", core.Caller{UID: 1002, GID: 1002}, false},
		{"unknown user", 1000, "hcadmin", core.Caller{UID: 4242, GID: 4242}, false},
		{"missing admin group", 1000, "nogroup-here", core.Caller{UID: 1001, GID: 1001}, false},
		{"no peer credentials", 1000, "hcadmin", unknownCaller, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, _ := fakePolicy(tt.euid, tt.group)
			if got := p.Privileged(tt.caller); got != tt.want {
				t.Fatalf("Privileged(%+v) = %v, want %v", tt.caller, got, tt.want)
			}
		})
	}
}

func TestHostPolicyCache(t *testing.T) {
	p, lookups, now := fakePolicy(1000, "hcadmin")
	member := core.Caller{UID: 1001, GID: 1001}
	for range 3 {
		if !p.Privileged(member) {
			t.Fatal("member refused")
		}
	}
	if *lookups != 1 {
		t.Fatalf("%d group lookups for three calls, want 1", *lookups)
	}
	*now = now.Add(policyTTL + time.Second)
	p.Privileged(member)
	if *lookups != 2 {
		t.Fatalf("the verdict outlived its TTL: %d lookups", *lookups)
	}
}

func TestRequirement(t *testing.T) {
	tests := []struct {
		euid  int
		group string
		want  string
	}{
		{0, "", "root"},
		{0, "hcadmin", "root or membership of group hcadmin"},
		{1000, "", "root or uid 1000 (the host's own user)"},
		{1000, "hcadmin", "root, uid 1000 (the host's own user) or membership of group hcadmin"},
	}
	for _, tt := range tests {
		if got := NewHostPolicy(tt.euid, tt.group, nil).Requirement(); got != tt.want {
			t.Errorf("%d %q: %q, want %q", tt.euid, tt.group, got, tt.want)
		}
	}
}
