package files

import (
	"context"
	"reflect"
	"slices"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateUsers creates every spec in one lock and one rewrite of each
// account file: however many users, the cost is one read and one write of
// passwd, shadow, group and gshadow. Each spec succeeds or fails on its
// own (bad input, a spec the policy refuses, a name that exists
// differently, a taken uid, a missing group); the error is for the batch
// as a whole (the lock, the write), in which case nothing was written.
func (f *Files) CreateUsers(ctx context.Context, specs []accounts.UserSpec) ([]accounts.BatchResult, error) {
	out := make([]accounts.BatchResult, len(specs))
	specs = slices.Clone(specs)
	var d etcdb.Defs
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	var made []int
	err := f.createTracked(ctx, names, func(j *etcdb.Judge, defs etcdb.Defs) error {
		d = defs
		made = createAll(j, defs, specs, out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	defs := etcdb.LoginDefs(f.Etc)
	for _, i := range made {
		resetLogs(f.Etc, out[i].User.UID, defs)
	}
	for i, s := range specs {
		if out[i].Err == nil && s.CreateHome {
			u := out[i].User
			out[i].Err = makeHome(u.Home, u.UID, u.GID, d.HomeMode)
		}
	}
	return out, nil
}

// createAll edits the tables for every spec, each first made the policy's
// (specs is changed in place), filling out. A spec repeated identically
// gets the first one's result; differently, AlreadyExists.
func createAll(j *etcdb.Judge, d etcdb.Defs, specs []accounts.UserSpec, out []accounts.BatchResult) (made []int) {
	db := j.DB
	first := map[string]int{}
	sameAs := map[int]int{}
	for i, spec := range specs {
		var err error
		if err = etcdb.ValidateSpec(spec); err == nil {
			spec, err = j.Spec(spec, d)
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		specs[i] = spec
		if k, dup := first[spec.Name]; dup {
			if !reflect.DeepEqual(specs[k], spec) {
				out[i].Err = sdkerr.Errorf(sdkerr.AlreadyExists, "user %q is also specified, differently, at item %d", spec.Name, k)
			} else {
				sameAs[i] = k
			}
			continue
		}
		first[spec.Name] = i
		if db.HasUser(spec.Name) {
			out[i].User, out[i].Err = createOrMatch(j, d, spec)
			continue
		}
		if out[i].Err = j.Fresh(spec); out[i].Err == nil {
			if out[i].Err = createUserIn(db, d, spec); out[i].Err == nil {
				made = append(made, i)
			}
		}
	}
	// Read the users back once all are in: their memberships are final.
	users, _ := db.Users("")
	byName := make(map[string]accounts.User, len(users))
	for _, u := range users {
		byName[u.Name] = u
	}
	for _, i := range made {
		out[i].User = byName[specs[i].Name]
	}
	for i, k := range sameAs {
		out[i] = out[k]
	}
	return made
}
