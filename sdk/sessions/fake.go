package sessions

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// Fake is an in-memory Sessions for unit tests: Add puts a session in,
// AddProcesses a user's processes outside any session, the kill calls take
// them out. It keeps the contract's input checks.
type Fake struct {
	mu        sync.Mutex
	sessions  map[string]Session
	procs     map[string]int // processes outside sessions, by user
	killed    []string
	users     []string // the users KillUser ended, in order
	forgotten []string
}

var _ Sessions = (*Fake)(nil)

// NewFake returns a Fake without sessions.
func NewFake() *Fake { return &Fake{sessions: map[string]Session{}, procs: map[string]int{}} }

// AddProcesses gives user n more processes that belong to no session (a
// daemon, a cron job): only KillUser ends them.
func (f *Fake) AddProcesses(user string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.procs[user] += n
}

// Processes is how many processes outside sessions user still has.
func (f *Fake) Processes(user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[user]
}

// KilledUsers lists the users KillUser ended, in order.
func (f *Fake) KilledUsers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.users)
}

// Add puts a session in, replacing one with the same ID.
func (f *Fake) Add(s Session) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[s.ID] = s
}

// Killed lists the ids of the sessions ended so far, in order.
func (f *Fake) Killed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.killed)
}

func (f *Fake) ListSessions(_ context.Context, user string) ([]Session, error) {
	if err := check.OptionalName("user", user); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Session
	for _, s := range f.sessions {
		if user == "" || s.User == user {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *Fake) KillSession(_ context.Context, id string, grace time.Duration) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	if err := ValidateGrace(grace); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[id]; ok {
		delete(f.sessions, id)
		f.killed = append(f.killed, id)
	}
	return nil
}

func (f *Fake) KillUserSessions(_ context.Context, user string, grace time.Duration) (int, error) {
	if err := ValidateUser(user); err != nil {
		return 0, err
	}
	if err := ValidateGrace(grace); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.killSessions(user), nil
}

func (f *Fake) KillUser(_ context.Context, user string, grace time.Duration) (Ended, error) {
	if err := ValidateUser(user); err != nil {
		return Ended{}, err
	}
	if err := ValidateGrace(grace); err != nil {
		return Ended{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := Ended{Sessions: f.killSessions(user), Processes: f.procs[user]}
	delete(f.procs, user)
	f.users = append(f.users, user)
	return e, nil
}

// killSessions ends user's sessions; the caller holds f.mu.
func (f *Fake) killSessions(user string) int {
	ids := make([]string, 0)
	for id, s := range f.sessions {
		if s.User == user {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		delete(f.sessions, id)
	}
	f.killed = append(f.killed, ids...)
	return len(ids)
}

// Forget remembers the user (Forgotten); the Fake keeps nothing of a user
// beyond its sessions and processes, which KillUser ends.
func (f *Fake) Forget(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
	if err := u.Validate(); err != nil {
		return lifecycle.Forgotten{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgotten = append(f.forgotten, u.Name)
	return lifecycle.Forgotten{}, nil
}

// Forgotten lists the users Forget was called for, in order.
func (f *Fake) Forgotten() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.forgotten)
}
