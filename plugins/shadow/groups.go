package shadow

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateGroup runs groupadd and puts the group on the managed-groups
// record; gid 0 lets groupadd allocate from the policy's gid range, any
// other gid must lie in it and be no group's. An existing group of that
// name is returned when hero_codescalers made it (or it is the marker
// group) and the gid agrees or none was asked; any other existing group is
// refused.
func (s *Shadow) CreateGroup(ctx context.Context, name string, gid uint32) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return accounts.Group{}, err
	}
	defer unlock()
	j, d, err := s.judged()
	if err != nil {
		return accounts.Group{}, err
	}
	if g, found, err := j.ExistingGroup(name, gid); found || err != nil {
		return g, err
	}
	if err := j.NewGroup(name, gid); err != nil {
		return accounts.Group{}, err
	}
	argv := append([]string{"groupadd"}, gidRange(d)...)
	if gid != 0 {
		argv = append(argv, "-g", strconv.FormatUint(uint64(gid), 10))
	}
	if _, err := s.run(ctx, append(argv, "--", name), nil); err != nil {
		if sdkerr.Is(err, sdkerr.AlreadyExists) {
			// made meanwhile by another process: ours only if on the record
			if j, _, jerr := s.judged(); jerr == nil {
				if g, found, gerr := j.ExistingGroup(name, gid); found {
					return g, gerr
				}
			}
		}
		return accounts.Group{}, err
	}
	if j.Recorded(name) {
		if err := j.Record(name, true); err != nil {
			_, _ = s.run(context.WithoutCancel(ctx), []string{"groupdel", "--", name}, nil)
			return accounts.Group{}, err
		}
	}
	return s.group(name)
}

func (s *Shadow) group(name string) (accounts.Group, error) {
	db, _, err := s.load()
	if err != nil {
		return accounts.Group{}, err
	}
	return db.Group(name)
}

// DeleteGroup runs groupdel on a group hero_codescalers made, dropping it
// from the record first; a missing group is success, any other group is
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
	j, _, err := s.judged()
	if err != nil {
		return err
	}
	if _, err := j.ManagedGroup(name); sdkerr.Is(err, sdkerr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := j.Record(name, false); err != nil {
		return err
	}
	_, err = s.run(ctx, []string{"groupdel", "--", name}, nil)
	switch {
	case err == nil, sdkerr.Is(err, sdkerr.NotFound):
		return nil
	case s.stillThere(name):
		_ = j.Record(name, true) // still ours
	}
	return err
}

// stillThere reports whether group name exists after a failed groupdel.
func (s *Shadow) stillThere(name string) bool {
	_, err := s.group(name)
	return err == nil
}

func (s *Shadow) GetGroup(_ context.Context, name string) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	return s.group(name)
}

// SetGroupMembers makes members the exact member list (gpasswd -M, which
// rewrites group and gshadow in one locked pass) of a group
// hero_codescalers made; every member added must be a managed user.
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
	j, _, err := s.judged()
	if err != nil {
		return accounts.Group{}, err
	}
	g, err := j.ManagedGroup(name)
	if err != nil {
		return accounts.Group{}, err
	}
	if err := j.Members(g, want); err != nil {
		return accounts.Group{}, err
	}
	if slices.Equal(g.Members, want) {
		return g, nil
	}
	if _, err := s.run(ctx, []string{"gpasswd", "-M", strings.Join(want, ","), "--", name}, nil); err != nil {
		return accounts.Group{}, err
	}
	return s.group(name)
}
