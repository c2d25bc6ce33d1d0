package core

import (
	"context"
	"strings"
	"time"
)

const keyJournal = "journal/"

// journalEntry is the plan of an unfinished create or delete. Each step's
// name is appended before the step runs, and written down before it runs
// when a crash during it would need the step's own undo: after a crash the
// host knows every step that may have had an effect it must reverse. The
// forge token is never in it: an unfinished create is rolled back, not
// forward.
type journalEntry struct {
	Op string `json:"op"` // "create", "delete" or "group.create"
	// User is the user the entry is of, and its key; a group's entry has
	// "group/NAME" (which no user name can be), its lock key too.
	User    string    `json:"user"`
	UID     int       `json:"uid"`
	GID     int       `json:"gid"`
	Home    string    `json:"home"`
	Steps   []string  `json:"steps"`
	Started time.Time `json:"started"`
	// KeepHome is the delete's --keep-home.
	KeepHome bool `json:"keep_home,omitempty"`
	// HomeFound says a create found its home already there (a volume it
	// adopts): it did not make it, so no undo removes it. It is set
	// before the first write, so it is on disk before any step runs.
	HomeFound bool `json:"home_found,omitempty"`
}

// journal persists one entry as its steps begin. Every write is a synced
// commit, so it writes only what recovery needs: nothing before the first
// step that has an effect to undo.
type journal struct {
	s     *Service
	entry journalEntry
}

// newJournal starts an entry in memory; the first save writes it.
func (s *Service) newJournal(op, user, home string) *journal {
	return &journal{s: s, entry: journalEntry{Op: op, User: user, Home: home, Started: s.now().UTC()}}
}

func (j *journal) save() error {
	return j.s.store.Update(func(tx Tx) error { return putJSON(tx, keyJournal+j.entry.User, j.entry) })
}

// begin records that step is about to run, and writes the entry down
// first when durable: a step whose effect has its own undo must be on disk
// before it starts. A step without one (its effect lives inside the home
// volume, which the volume's undo removes whole) needs no write.
func (j *journal) begin(step string, durable bool) error {
	j.entry.Steps = append(j.entry.Steps, step)
	if !durable {
		return nil
	}
	return j.save()
}

// setIDs records the account's ids once the account step gave them; they
// reach the disk with the next write (recovery undoes an account by name).
func (j *journal) setIDs(uid, gid int) {
	j.entry.UID, j.entry.GID = uid, gid
}

// finish removes the entry and applies fn in the same transaction, so the
// user record and the end of the journal are one atomic change.
func (j *journal) finish(fn func(Tx) error) error {
	return j.s.store.Update(func(tx Tx) error {
		if fn != nil {
			if err := fn(tx); err != nil {
				return err
			}
		}
		return tx.Delete(keyJournal + j.entry.User)
	})
}

// journalEntry reads the entry of user.
func (s *Service) journalEntry(user string, e *journalEntry) (bool, error) {
	var found bool
	err := s.store.View(func(tx Tx) error {
		var err error
		found, err = getJSON(tx, keyJournal+user, e)
		return err
	})
	return found, err
}

// RunRecovery retries unfinished journal entries in the background: after
// a rollback or delete failed at run time (a plugin restarting), and after
// a start-up pass that could not finish. It backs off from one second to
// thirty while entries stay unfinished, and returns when ctx is done.
func (s *Service) RunRecovery(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		for delay := time.Second; ; delay = min(2*delay, 30*time.Second) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if s.RecoverPass(ctx) {
				break
			}
		}
	}
}

// KickRecovery asks RunRecovery for a pass; it never blocks.
func (s *Service) KickRecovery() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// RecoverPass runs Recover once and reports whether nothing is left.
func (s *Service) RecoverPass(ctx context.Context) bool {
	done, err := s.Recover(ctx)
	if err != nil {
		s.log.Error("journal recovery", "err", err)
		return false
	}
	for _, r := range done {
		if r.Error != "" {
			return false
		}
	}
	return true
}

// Recovery says what the start-up pass did with one unfinished entry.
type Recovery struct {
	User   string   `json:"user"`
	Op     string   `json:"op"`
	Action string   `json:"action"` // "rolled back" or "completed"
	Steps  []string `json:"steps"`
	Error  string   `json:"error,omitempty"`
}

// Recover finishes or rolls back every unfinished journal entry: an
// interrupted create is undone step by step in reverse, an interrupted
// delete is carried to its end. The host runs it at start-up, before it
// serves, and logs each outcome. Entries are taken a few at a time (each
// under its own lock): after a crashed batch there may be hundreds, and
// most of an undo is waiting on a plugin.
func (s *Service) Recover(ctx context.Context) ([]Recovery, error) {
	entries, err := listJSON[journalEntry](s.store, keyJournal)
	if err != nil {
		return nil, err
	}
	done := make([]*Recovery, len(entries))
	onPool(recoverWorkers, len(entries), func(i int) { done[i] = s.recoverOne(ctx, entries[i].User) })
	out := make([]Recovery, 0, len(entries))
	for _, r := range done {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

// recoverWorkers bounds how many entries Recover works on at once.
const recoverWorkers = 4

// recoverOne finishes or rolls back the entry of key; nil when it is gone.
func (s *Service) recoverOne(ctx context.Context, key string) *Recovery {
	unlock := s.locks.Lock(key)
	defer unlock()
	// Re-read under the lock: a create or delete that was running when
	// the list was taken may have finished meanwhile, and its entry must
	// not be acted on again.
	var e journalEntry
	found, err := s.journalEntry(key, &e)
	if err != nil || !found {
		return nil
	}
	r := &Recovery{User: e.User, Op: e.Op, Steps: e.Steps}
	j := &journal{s: s, entry: e}
	switch e.Op {
	case "create":
		r.Action = "rolled back"
		err = s.rollbackCreate(ctx, j)
	case opGroupCreate:
		r.Action = "rolled back"
		err = s.rollbackGroupCreate(ctx, j)
	default:
		r.Action = "completed"
		err = s.runDelete(ctx, j)
	}
	if err != nil {
		r.Error = err.Error()
		s.log.Error("recovery failed", "user", e.User, "op", e.Op, "action", r.Action, "err", err)
	} else {
		s.log.Info("recovered unfinished operation", "user", e.User, "op", e.Op, "action", r.Action, "steps", e.Steps)
	}
	return r
}

// unfinishedDrift reports every unfinished journal entry: a create or
// delete that crashed or failed and that recovery has not ended yet (a
// plugin refusing or unavailable), so reconcile names what it left on the
// machine until it is gone.
func (s *Service) unfinishedDrift() ([]Drift, error) {
	entries, err := listJSON[journalEntry](s.store, keyJournal)
	if err != nil {
		return nil, err
	}
	out := []Drift{}
	for _, e := range entries {
		detail := "an interrupted " + e.Op + " is not finished yet (steps begun: " + strings.Join(e.Steps, ", ") + "); recovery retries it"
		if e.Op == opGroupCreate {
			out = append(out, Drift{Group: e.groupName(), Detail: detail})
			continue
		}
		out = append(out, Drift{User: e.User, Detail: detail})
	}
	return out, nil
}
