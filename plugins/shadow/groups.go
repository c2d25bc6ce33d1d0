package shadow

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/plugins/internal/failpoint"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateGroup runs groupadd and puts the group on the managed-groups
// record; gid 0 takes the gid groupadd would (one above the highest in
// the policy's range), passing over any groupadd refused as taken; any
// other gid must lie in the policy's range and be no group's. An existing group
// of that name is returned when hero_codescalers made it (or it is the
// marker group) and the gid agrees or none was asked; any other existing
// group is refused. The group is on the pending-groups record from before
// groupadd until it is on the managed-groups record, so a crash in between
// leaves a group the host's rollback can delete (DeleteGroup).
func (s *Shadow) CreateGroup(ctx context.Context, name string, gid uint32) (accounts.Group, error) {
	if err := check.Name("name", name); err != nil {
		return accounts.Group{}, err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return accounts.Group{}, err
	}
	defer unlock()
	taken := map[uint32]bool{}
	for attempt := 1; ; attempt++ {
		g, again, err := s.createGroup(ctx, name, gid, taken)
		if !again || attempt == gidAttempts {
			return g, err
		}
	}
}

// gidAttempts bounds CreateGroup's tries when the gid it chose is taken:
// by another process meanwhile, or by a group the local files do not
// show (NSS: LDAP, say), which groupadd sees and refuses.
const gidAttempts = 8

// createGroup is one try of CreateGroup; again when the gid it chose
// itself was taken, which it adds to taken for the next try to skip.
func (s *Shadow) createGroup(ctx context.Context, name string, gid uint32, taken map[uint32]bool) (_ accounts.Group, again bool, _ error) {
	j, d, err := s.judged()
	if err != nil {
		return accounts.Group{}, false, err
	}
	if g, found, err := j.ExistingGroup(name, gid); found || err != nil {
		return g, false, err
	}
	if err := j.NewGroup(name, gid); err != nil {
		return accounts.Group{}, false, err
	}
	pick := gid
	if pick == 0 {
		used := j.DB.UsedGIDs()
		for id := range taken {
			used[id] = true
		}
		if pick, err = etcdb.NextID(used, d.GIDMin, d.GIDMax); err != nil {
			return accounts.Group{}, false, err
		}
	}
	recorded := j.Recorded(name)
	if recorded {
		if err := etcdb.PendGroup(s.Etc, name, pick); err != nil {
			return accounts.Group{}, false, err
		}
	}
	argv := []string{"groupadd", "-g", strconv.FormatUint(uint64(pick), 10), "--", name}
	if _, err := s.run(ctx, argv, nil); err != nil {
		if sdkerr.Is(err, sdkerr.AlreadyExists) {
			// groupadd refused before writing anything: the name or the
			// gid is another's (made meanwhile by another process), and
			// the record must not claim it.
			if recorded {
				_ = etcdb.UnpendGroup(s.Etc, name)
			}
			if j, _, jerr := s.judged(); jerr == nil {
				if g, found, gerr := j.ExistingGroup(name, gid); found {
					return g, false, gerr // ours only if on the record
				}
			}
			taken[pick] = true
			return accounts.Group{}, gid == 0, err // the gid chosen was taken
		}
		// Failed after writing the group (it is there with the gid asked
		// for): it stays pending, for the host's rollback to delete.
		if now, gerr := s.group(name); recorded && (gerr != nil || now.GID != pick) {
			_ = etcdb.UnpendGroup(s.Etc, name)
		}
		return accounts.Group{}, false, err
	}
	failpoint.Point("accounts.groupadd.after")
	if recorded {
		if err := j.Record(name, true); err != nil {
			if _, derr := s.run(context.WithoutCancel(ctx), []string{"groupdel", "--", name}, nil); derr == nil {
				_ = etcdb.UnpendGroup(s.Etc, name)
			}
			return accounts.Group{}, false, err
		}
	}
	g, err := s.group(name)
	return g, false, err
}

func (s *Shadow) group(name string) (accounts.Group, error) {
	db, _, err := s.load()
	if err != nil {
		return accounts.Group{}, err
	}
	return db.Group(name)
}

// DeleteGroup runs groupdel on a group hero_codescalers made, or on one a
// crashed create or delete left on the pending-groups record
// (etcdb.Judge.DeletableGroup); a managed group goes on that record before
// it comes off the managed-groups record, so a crash before its groupdel
// leaves it deletable still. A missing group is success, any other group
// is refused, and the primary group of a user is FailedPrecondition.
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
	pend, err := etcdb.ReadPendingGroups(s.Etc)
	if err != nil {
		return err
	}
	_, err = j.DeletableGroup(name, pend)
	if sdkerr.Is(err, sdkerr.NotFound) {
		return etcdb.UnpendGroup(s.Etc, name)
	} else if err != nil {
		return err
	}
	managed := j.M.GroupManaged(name)
	if managed {
		if err := j.Record(name, false); err != nil {
			return err
		}
	}
	failpoint.Point("accounts.groupdel.before")
	_, err = s.run(ctx, []string{"groupdel", "--", name}, nil)
	switch {
	case err == nil, sdkerr.Is(err, sdkerr.NotFound):
		return etcdb.UnpendGroup(s.Etc, name)
	case s.stillThere(name) && managed:
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
