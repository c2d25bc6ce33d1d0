package core

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// BatchOutcome is one user's result in UserCreateBatch.
type BatchOutcome struct {
	Name string
	User User
	Err  error
}

// batchWorkers bounds how many users' volume, layout and key steps run at
// once after the batch account call.
const batchWorkers = 4

// MaxBatch bounds one batch.
const MaxBatch = 10000

// UserCreateBatch creates many users: every spec is validated first, then
// all accounts are made by one accounts.CreateUsers call (one lock and one
// rewrite of the account files), then each user's remaining steps run as in
// UserCreate, all-or-nothing per user. progress, when set, is called after
// each user finishes.
func (s *Service) UserCreateBatch(ctx context.Context, specs []CreateSpec, progress func(done int)) ([]BatchOutcome, error) {
	if len(specs) == 0 || len(specs) > MaxBatch {
		return nil, InvalidField("users", "must hold 1..%d users", MaxBatch)
	}
	if err := s.needPlugins(); err != nil {
		return nil, err
	}
	out := make([]BatchOutcome, len(specs))
	names := make([]string, 0, len(specs))
	seen := map[string]bool{}
	for i := range specs {
		out[i].Name = specs[i].Name
		if err := s.validateCreate(&specs[i]); err != nil {
			out[i].Err = err
		} else if seen[specs[i].Name] {
			out[i].Err = &Error{Code: AlreadyExists, Field: "name", Message: "user " + specs[i].Name + " appears twice in the batch"}
		} else {
			seen[specs[i].Name] = true
			names = append(names, specs[i].Name)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		defer s.locks.Lock(n)()
	}
	if err := s.ensureMarkerGroup(ctx); err != nil {
		return nil, err
	}
	runs := s.batchAccounts(ctx, specs, out)
	s.batchFinish(ctx, runs, out, progress)
	return out, nil
}

// batchAccounts journals and creates the accounts of every still-valid
// spec in one plugin call; it returns the runs that got an account.
func (s *Service) batchAccounts(ctx context.Context, specs []CreateSpec, out []BatchOutcome) map[int]*createRun {
	runs := map[int]*createRun{}
	journals := map[int]*journal{}
	var aspecs []accounts.UserSpec
	var index []int
	machine, err := s.machineUsers(ctx)
	if err != nil {
		for i := range out {
			if out[i].Err == nil {
				out[i].Err = err
			}
		}
		return nil
	}
	owners := byUID(slices.Collect(maps.Values(machine)))
	for i, sp := range specs {
		if out[i].Err != nil {
			continue
		}
		u, onMachine := machine[sp.Name]
		if err := s.nameFree(ctx, sp.Name, u, onMachine); err != nil {
			out[i].Err = err
			continue
		}
		r := &createRun{spec: sp, l: s.layoutOf(sp.Name)}
		if r.homeOwner, err = s.homeBefore(ctx, r.l.home, sp.UID, owners); err != nil {
			out[i].Err = err
			continue
		}
		j := s.newCreateJournal(r)
		_ = j.begin("account", false) // written below, with the others
		runs[i], journals[i] = r, j
		as := accounts.UserSpec{Name: sp.Name, Groups: sp.Groups, Shell: sp.Shell, Home: r.l.home, MarkerGroup: s.cfg.MarkerGroup}
		if sp.UID != nil {
			as.UID = uint32(*sp.UID)
		}
		aspecs = append(aspecs, as)
		index = append(index, i)
	}
	if len(aspecs) == 0 {
		return nil
	}
	// One synced commit journals every account of the batch, before the
	// accounts plugin makes any of them.
	if err := failpoint("create.batch.account.before"); err != nil {
		for _, i := range index {
			out[i].Err = stepError("account", err)
		}
		return nil
	}
	if err := s.store.Update(func(tx Tx) error {
		for _, i := range index {
			if err := putJSON(tx, keyJournal+specs[i].Name, journals[i].entry); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		for _, i := range index {
			out[i].Err = err
		}
		return nil
	}
	results, err := s.plugins.Accounts().CreateUsers(ctx, aspecs)
	if ferr := failpoint("create.batch.account.after"); ferr != nil && err == nil {
		err = ferr
	}
	for k, i := range index {
		var itemErr error
		switch {
		case err != nil:
			itemErr = FromPluginError(err)
		case k >= len(results):
			itemErr = Errorf(Internal, "the accounts plugin returned %d results for %d users", len(results), len(aspecs))
		case results[k].Err != nil:
			itemErr = FromPluginError(results[k].Err)
		default:
			runs[i].user.UID, runs[i].user.GID = int(results[k].User.UID), int(results[k].User.GID)
			journals[i].setIDs(runs[i].user.UID, runs[i].user.GID)
		}
		if itemErr != nil {
			if IsCode(itemErr, AlreadyExists) {
				journals[i].entry.Steps = nil
			}
			s.abortCreate(ctx, journals[i])
			out[i].Err = stepError("account", itemErr)
			delete(runs, i)
			continue
		}
		runs[i].journal = journals[i]
	}
	return runs
}

// batchFinish runs the remaining steps of each run on a small pool, then
// ends the runs that got through them together (finishCreates).
func (s *Service) batchFinish(ctx context.Context, runs map[int]*createRun, out []BatchOutcome, progress func(int)) {
	ctx = s.syncCtx(ctx)
	var mu sync.Mutex
	done := 0
	report := func() {
		done++
		if progress != nil {
			progress(done)
		}
	}
	var ready []int // steps done, to be finished together
	onPool(batchWorkers, len(out), func(i int) {
		if runs[i] == nil {
			return
		}
		err := s.continueCreate(ctx, runs[i], runs[i].journal, s.createSteps()[1:])
		mu.Lock()
		if err != nil {
			out[i].Err = err
			report()
		} else {
			ready = append(ready, i)
		}
		mu.Unlock()
	})
	slices.Sort(ready)
	finishing := make([]*createRun, len(ready))
	for k, i := range ready {
		finishing[k] = runs[i]
	}
	s.finishCreates(ctx, finishing, func(k int, u User, err error) {
		out[ready[k]].User, out[ready[k]].Err = u, err
		report()
	})
}

// machineUsers lists the machine's accounts once, so a batch checks its
// names against one read of the account files instead of one per user.
func (s *Service) machineUsers(ctx context.Context) (map[string]accounts.User, error) {
	list, err := s.plugins.Accounts().ListUsers(ctx, "")
	if err != nil {
		return nil, FromPluginError(err)
	}
	m := make(map[string]accounts.User, len(list))
	for _, u := range list {
		m[u.Name] = u
	}
	return m, nil
}
