package core

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// A group's create is all-or-nothing like a user's: its OS steps (the
// Linux group, its members, the shared volume) are journaled before they
// run, under the journal key group/NAME (the group's lock key too, which
// no user name can be), and a failure, or the recovery of a crash,
// undoes what they made in reverse. What was there before is never
// undone: a Linux group or a shared volume that exists is refused before
// anything runs, and a step that finds one anyway (made meanwhile by
// someone else) is dropped from the journal, not undone.

// opGroupCreate is the journal op of a group's create.
const opGroupCreate = "group.create"

// undoTimeout bounds an undo that runs after its caller has gone: the
// undo runs on a context that outlives the caller's cancellation, so a
// client that hangs up mid-create does not leave half a user or group,
// and this deadline keeps a stuck plugin from holding it forever (the
// recovery loop retries what is left).
const undoTimeout = 2 * time.Minute

// undoCtx is the context an undo runs on: ctx's values without its
// cancellation, with a deadline of its own.
func undoCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
}

// groupStep is one journaled step of a group's create with its undo.
type groupStep struct {
	name string
	do   func(context.Context, *Group) error
	undo func(context.Context, *journalEntry) error
}

func (s *Service) groupSteps() []groupStep {
	return []groupStep{
		{"group", s.gstepGroup, s.gundoGroup},
		{"members", s.gstepMembers, nil}, // gone with the group
		{"shared", s.sharedCreate, s.gundoShared},
	}
}

// groupKey is a group's journal and lock key.
func groupKey(name string) string { return "group/" + name }

// groupOSCreate makes the Linux group, its members and its shared volume,
// journaled; the returned journal is ended by GroupCreate together with
// the group's record. A host without plugins keeps groups as state only
// (nil journal).
func (s *Service) groupOSCreate(ctx context.Context, g *Group) (*journal, error) {
	if s.plugins == nil {
		return nil, nil
	}
	if err := s.groupOSCheck(ctx, g); err != nil {
		return nil, err
	}
	home := ""
	if g.Shared {
		home = s.sharedPath(g.Name)
	}
	j := s.newJournal(opGroupCreate, groupKey(g.Name), home)
	for _, st := range s.groupSteps() {
		if (st.name == "members" && len(g.Members) == 0) || (st.name == "shared" && !g.Shared) {
			continue
		}
		err := s.runStep(ctx, j, opGroupCreate, st.name, st.undo != nil, func() error { return st.do(ctx, g) })
		if err == nil && st.name == "group" {
			j.setIDs(0, g.GID)
		}
		if err != nil && st.undo != nil && IsCode(err, AlreadyExists) {
			// Made meanwhile by someone else: not ours to undo.
			j.entry.Steps = j.entry.Steps[:len(j.entry.Steps)-1]
		}
		if err != nil {
			s.abortGroupCreate(ctx, j)
			return nil, stepError(st.name, err)
		}
	}
	return j, nil
}

// groupOSCheck refuses, before anything runs, a group the machine has, a
// member that is not a managed user, and a shared volume's path that is
// taken.
func (s *Service) groupOSCheck(ctx context.Context, g *Group) error {
	if _, err := s.plugins.Accounts().GetGroup(ctx, g.Name); err == nil {
		return &Error{Code: AlreadyExists, Field: "name", Message: "group " + g.Name + " already exists on this machine"}
	} else if perr := FromPluginError(err); !IsCode(perr, NotFound) {
		return perr
	}
	for _, m := range g.Members {
		if _, err := s.UserGet(ctx, m); err != nil {
			return InvalidField("members", "%s is not a managed user", m)
		}
	}
	if !g.Shared {
		return nil
	}
	v := s.plugins.Volumes()
	if err := v.EnsureDir(ctx, s.sharedRoot(), volumes.Owner{Mode: 0o755}); err != nil {
		return FromPluginError(err)
	}
	path := s.sharedPath(g.Name)
	if _, err := v.GetUsage(ctx, path); err == nil {
		return &Error{Code: AlreadyExists, Field: "name", Message: path + " already exists; it is left as it is: move it away or delete it first"}
	} else if perr := FromPluginError(err); !IsCode(perr, NotFound) {
		return perr
	}
	return nil
}

func (s *Service) gstepGroup(ctx context.Context, g *Group) error {
	og, err := s.plugins.Accounts().CreateGroup(ctx, g.Name, uint32(g.GID))
	if err != nil {
		return FromPluginError(err)
	}
	g.GID = int(og.GID)
	return nil
}

func (s *Service) gstepMembers(ctx context.Context, g *Group) error {
	_, err := s.plugins.Accounts().SetGroupMembers(ctx, g.Name, g.Members)
	return FromPluginError(err)
}

func (s *Service) gundoGroup(ctx context.Context, e *journalEntry) error {
	return FromPluginError(s.plugins.Accounts().DeleteGroup(ctx, e.groupName()))
}

func (s *Service) gundoShared(ctx context.Context, e *journalEntry) error {
	if err := FromPluginError(s.plugins.Volumes().DeleteVolume(ctx, e.Home)); err != nil && !IsCode(err, NotFound) {
		return err
	}
	return nil
}

// groupName is the group of a group's journal entry.
func (e *journalEntry) groupName() string { return strings.TrimPrefix(e.User, "group/") }

// sharedPath is where group name's shared volume lives.
func (s *Service) sharedPath(name string) string { return filepath.Join(s.sharedRoot(), name) }

// abortGroupCreate rolls back what a failed group create began, on a
// context of its own; what it cannot undo now stays journaled for the
// recovery loop.
func (s *Service) abortGroupCreate(ctx context.Context, j *journal) {
	uctx, cancel := undoCtx(ctx)
	defer cancel()
	if err := s.rollbackGroupCreate(uctx, j); err != nil {
		s.log.Error("group rollback incomplete; recovery will retry it", "group", j.entry.groupName(), "err", err)
		s.KickRecovery()
	}
}

// rollbackGroupCreate undoes every begun step in reverse, then drops the
// journal.
func (s *Service) rollbackGroupCreate(ctx context.Context, j *journal) error {
	undos := map[string]func(context.Context, *journalEntry) error{}
	for _, st := range s.groupSteps() {
		undos[st.name] = st.undo
	}
	return undoSteps(ctx, j, undos)
}
