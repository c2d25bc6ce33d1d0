package limits

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// Fake is an in-memory Limits for unit tests. It keeps the contract's
// input checks.
type Fake struct {
	mu        sync.Mutex
	set       map[uint32]Values
	forgotten []string
}

var _ Limits = (*Fake)(nil)

// NewFake returns a Fake without limits.
func NewFake() *Fake { return &Fake{set: map[uint32]Values{}} }

func (f *Fake) Set(_ context.Context, u lifecycle.User, v Values) (int, error) {
	if err := ValidateUser(u); err != nil {
		return 0, err
	}
	if err := ValidateValues(v); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set[u.UID] = v
	return 0, nil
}

func (f *Fake) Get(_ context.Context, u lifecycle.User) (Values, error) {
	if err := ValidateUser(u); err != nil {
		return Values{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set[u.UID], nil
}

func (f *Fake) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = append(f.forgotten, u.Name)
	if _, ok := f.set[u.UID]; !ok || u.UID == 0 {
		return lifecycle.Forgotten{}, nil
	}
	delete(f.set, u.UID)
	return lifecycle.Forgotten{Removed: []string{"limits of uid " + strconv.FormatUint(uint64(u.UID), 10)}}, nil
}

// Forgotten lists the users Forget was called for, in order.
func (f *Fake) Forgotten() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.forgotten)
}

// Len is how many users have limits.
func (f *Fake) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.set)
}
