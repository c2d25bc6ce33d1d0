package core

import (
	"context"
	"fmt"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// A create never destroys what it did not make. What is at the home path
// before a create begins is looked at first (homeBefore) and recorded in
// its journal (HomeFound) before any step runs, so that neither a failed
// create nor the recovery of a crashed one removes a home it found:
//
//   - nothing there: the volume step makes the home, and its undo removes
//     it;
//   - a volume already the new user's (owned by the uid the account gets:
//     an admin re-creating a user over a home kept by user-delete
//     --keep-home): it is adopted, and a later failure leaves it in place;
//   - anything else (another user's or root's home, a plain directory on
//     a btrfs home root, a file, a link): the create is refused before
//     anything runs, naming the path, and the path is left as it was.

// homeBefore looks at a create's home before anything runs. It returns nil when
// nothing is there, or the owner of a volume the create may adopt; any
// other find is refused with an error naming the path. uid is the uid the
// create asks for (nil: the OS allocates one); owners maps the uids of the
// machine's accounts to their names (nil: asked of the plugin when needed).
func (s *Service) homeBefore(ctx context.Context, home string, uid *int, owners map[uint32]string) (*volumes.Owner, error) {
	v, err := s.plugins.Volumes().GetUsage(ctx, home)
	switch perr := FromPluginError(err); {
	case perr == nil:
	case IsCode(perr, NotFound):
		return nil, nil
	case IsCode(perr, FailedPrecondition), IsCode(perr, Invalid):
		return nil, homeTaken(home, "exists and is not a volume this create could adopt ("+perr.Error()+")")
	default:
		return nil, perr
	}
	o := v.Owner
	switch {
	case o == nil:
		return nil, homeTaken(home, "exists, and the volumes plugin does not report its owner")
	case o.UID == 0:
		return nil, homeTaken(home, "exists, owned by root")
	case uid != nil && o.UID != uint32(*uid):
		return nil, homeTaken(home, fmt.Sprintf("exists, owned by uid %d, not by the uid %d asked for", o.UID, *uid))
	}
	if owners == nil {
		if owners, err = s.uidOwners(ctx); err != nil {
			return nil, err
		}
	}
	if other, ok := owners[o.UID]; ok {
		return nil, homeTaken(home, fmt.Sprintf("exists, owned by uid %d of the account %s", o.UID, other))
	}
	return o, nil
}

// homeTaken is the refusal of a create over a home it must not touch.
func homeTaken(home, why string) error {
	return &Error{Code: AlreadyExists, Field: "name", Message: home + " " + why + "; it is left as it is: move it away first"}
}

// adoptable checks, once the account step gave the uid, that a home found
// before the create (owner) is the new user's: only then may the volume
// step adopt it.
func adoptable(home string, owner *volumes.Owner, uid int) error {
	if owner == nil || owner.UID == uint32(uid) {
		return nil
	}
	return homeTaken(home, fmt.Sprintf("exists, owned by uid %d, which has no account, while the new account got uid %d "+
		"(to re-create its user over it, pass --uid %d)", owner.UID, uid, owner.UID))
}

// uidOwners maps the uid of every account on the machine to its name.
func (s *Service) uidOwners(ctx context.Context) (map[uint32]string, error) {
	list, err := s.plugins.Accounts().ListUsers(ctx, "")
	if err != nil {
		return nil, FromPluginError(err)
	}
	return byUID(list), nil
}

// byUID maps each uid of list to the first name that has it.
func byUID(list []accounts.User) map[uint32]string {
	m := make(map[uint32]string, len(list))
	for _, u := range list {
		if _, ok := m[u.UID]; !ok {
			m[u.UID] = u.Name
		}
	}
	return m
}
