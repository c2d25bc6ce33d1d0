package main

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/plugins/internal/etcdb"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
)

// Files serves the accounts concern by editing the account files.
type Files struct {
	accounts.Unimplemented

	// Etc holds the account files; tests point it at a temporary copy.
	Etc string
	// LockTimeout bounds the wait for the account files' lock, as glibc's
	// lckpwdf gives up after 15 seconds.
	LockTimeout time.Duration

	// mu serializes this plugin's changes. The fcntl lock alone would not:
	// it guards against other processes, not against our own goroutines.
	mu sync.Mutex
}

var _ accounts.Accounts = (*Files)(nil)

// New returns the plugin as the host runs it.
func New() *Files { return &Files{Etc: "/etc", LockTimeout: 15 * time.Second} }

// Probe is ready when the account files exist and /etc is writable.
func (f *Files) Probe(context.Context) identity.ProbeResult {
	for _, name := range []string{etcdb.Passwd, etcdb.Group} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(f.Etc, name), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return identity.ProbeResult{Reason: filepath.Join(f.Etc, name) + " is missing or not a regular file"}
		}
	}
	if err := unix.Access(f.Etc, unix.W_OK); err != nil {
		return identity.ProbeResult{Reason: f.Etc + " is not writable: " + err.Error()}
	}
	return identity.ProbeResult{Ready: true}
}

// load reads the account files and settings without locking: every file
// is replaced by rename, so a reader always sees a whole file.
func (f *Files) load() (*etcdb.DB, etcdb.Defs, error) {
	db, err := etcdb.Load(f.Etc)
	return db, etcdb.LoadDefs(f.Etc), err
}

// mutate runs edit on a fresh read of the files taken under the
// shadow-utils locks, and writes back what edit changed before releasing
// them. Nothing is written when edit fails. Like the shadow plugin, it
// first waits for any other hero accounts plugin (etcdb.Serialize).
func (f *Files) mutate(ctx context.Context, edit func(db *etcdb.DB, d etcdb.Defs) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	unlock, err := etcdb.Serialize(ctx, f.Etc)
	if err != nil {
		return err
	}
	defer unlock()
	l, err := acquire(ctx, f.Etc, f.LockTimeout)
	if err != nil {
		return err
	}
	defer l.release()
	db, d, err := f.load()
	if err != nil {
		return err
	}
	if err := edit(db, d); err != nil {
		return err
	}
	return l.commit(db)
}
