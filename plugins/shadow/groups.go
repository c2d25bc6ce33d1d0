package main

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateGroup runs groupadd; gid 0 lets groupadd allocate from
// GID_MIN..GID_MAX. An existing group of that name is returned when the gid
// agrees (or none was asked).
func (s *Shadow) CreateGroup(ctx context.Context, name string, gid uint32) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return accounts.Group{}, err
	}
	defer unlock()
	if g, err := s.existingGroup(name, gid); err == nil || !sdkerr.Is(err, sdkerr.NotFound) {
		return g, err
	}
	argv := []string{"groupadd"}
	if gid != 0 {
		argv = append(argv, "-g", strconv.FormatUint(uint64(gid), 10))
	}
	if _, err := s.run(ctx, append(argv, "--", name), nil); err != nil {
		if g, gerr := s.existingGroup(name, gid); gerr == nil && sdkerr.Is(err, sdkerr.AlreadyExists) {
			return g, nil // made meanwhile by another process
		}
		return accounts.Group{}, err
	}
	return s.group(name)
}

// existingGroup returns the named group if it exists with a matching gid:
// NotFound when it does not exist, AlreadyExists when its gid differs.
func (s *Shadow) existingGroup(name string, gid uint32) (accounts.Group, error) {
	g, err := s.group(name)
	if err != nil {
		return g, err
	}
	if gid != 0 && g.GID != gid {
		return accounts.Group{}, sdkerr.Errorf(sdkerr.AlreadyExists, "group %q exists with gid %d (want %d)", name, g.GID, gid)
	}
	return g, nil
}

func (s *Shadow) group(name string) (accounts.Group, error) {
	db, _, err := s.load()
	if err != nil {
		return accounts.Group{}, err
	}
	return db.Group(name)
}

// DeleteGroup runs groupdel; a missing group is success, a system group is
// refused, and the primary group of a user is FailedPrecondition.
func (s *Shadow) DeleteGroup(ctx context.Context, name string) error {
	if err := check.Name("name", name); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	db, d, err := s.load()
	if err != nil {
		return err
	}
	if _, err := db.GuardGroup(name, d); sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	_, err = s.run(ctx, []string{"groupdel", "--", name}, nil)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	}
	return err
}

func (s *Shadow) GetGroup(_ context.Context, name string) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	return s.group(name)
}

// SetGroupMembers makes members the group's exact member list (gpasswd -M,
// which rewrites group and gshadow in one locked pass).
func (s *Shadow) SetGroupMembers(ctx context.Context, name string, members []string) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	if err := check.Names("members", members); err != nil {
		return accounts.Group{}, err
	}
	want := slices.Compact(slices.Sorted(slices.Values(members)))
	unlock, err := s.lock(ctx)
	if err != nil {
		return accounts.Group{}, err
	}
	defer unlock()
	db, d, err := s.load()
	if err != nil {
		return accounts.Group{}, err
	}
	g, err := db.GuardGroup(name, d)
	if err != nil {
		return g, err
	}
	for _, m := range want {
		if _, err := db.User(m); err != nil {
			return accounts.Group{}, err
		}
	}
	if slices.Equal(g.Members, want) {
		return g, nil
	}
	if _, err := s.run(ctx, []string{"gpasswd", "-M", strings.Join(want, ","), "--", name}, nil); err != nil {
		return accounts.Group{}, err
	}
	return s.group(name)
}
