package main

import (
	"context"
	"reflect"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// CreateUsers creates every spec in one lock and one rewrite of each
// account file: however many users, the cost is one read and one write of
// passwd, shadow, group and gshadow. Each spec succeeds or fails on its
// own (bad input, a name that exists differently, a taken uid, a missing
// group); the error is for the batch as a whole (the lock, the write), in
// which case nothing was written.
func (f *Files) CreateUsers(ctx context.Context, specs []accounts.UserSpec) ([]accounts.BatchResult, error) {
	out := make([]accounts.BatchResult, len(specs))
	var d etcdb.Defs
	err := f.mutate(ctx, func(db *etcdb.DB, defs etcdb.Defs) error {
		d = defs
		createAll(db, defs, specs, out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, s := range specs {
		if out[i].Err == nil && s.CreateHome {
			u := out[i].User
			out[i].Err = makeHome(u.Home, u.UID, u.GID, d.HomeMode)
		}
	}
	return out, nil
}

// createAll edits db for every spec, filling out. A spec repeated
// identically gets the first one's result; differently, AlreadyExists.
func createAll(db *etcdb.DB, d etcdb.Defs, specs []accounts.UserSpec, out []accounts.BatchResult) {
	first := map[string]int{}
	sameAs := map[int]int{}
	var made []int
	for i, spec := range specs {
		if err := etcdb.ValidateSpec(spec); err != nil {
			out[i].Err = err
			continue
		}
		if j, dup := first[spec.Name]; dup {
			if !reflect.DeepEqual(specs[j], spec) {
				out[i].Err = sdkerr.Errorf(sdkerr.AlreadyExists, "user %q is also specified, differently, at item %d", spec.Name, j)
			} else {
				sameAs[i] = j
			}
			continue
		}
		first[spec.Name] = i
		if db.HasUser(spec.Name) {
			out[i].User, out[i].Err = createOrMatch(db, d, spec)
			continue
		}
		if out[i].Err = createUserIn(db, d, spec); out[i].Err == nil {
			made = append(made, i)
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
	for i, j := range sameAs {
		out[i] = out[j]
	}
}
