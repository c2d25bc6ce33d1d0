package files

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
	// Fence is the policy every change is judged by, read at start; tests
	// set their own.
	Fence etcdb.Fence
	// Etc holds the account files; tests point it at a temporary copy.
	Etc string
	// LockTimeout bounds the wait for the account files' lock, as glibc's
	// lckpwdf gives up after 15 seconds.
	LockTimeout time.Duration

	// mu serializes this plugin's changes. The fcntl lock alone would not:
	// it guards against other processes, not against our own goroutines.
	mu sync.Mutex

	honourOnce sync.Once
	unhonoured string // what only the shadow-utils tools honour here, or ""
}

var _ accounts.Accounts = (*Files)(nil)

// New returns the plugin as the host runs it.
func New() *Files {
	return &Files{Fence: etcdb.LoadFence(), Etc: "/etc", LockTimeout: 15 * time.Second}
}

// Probe is ready when the policy is usable, the account files exist and
// /etc is writable.
func (f *Files) Probe(context.Context) identity.ProbeResult {
	if err := f.Fence.Usable(); err != nil {
		return identity.ProbeResult{Reason: err.Error()}
	}
	for _, name := range []string{etcdb.Passwd, etcdb.Group} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(f.Etc, name), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return identity.ProbeResult{Reason: filepath.Join(f.Etc, name) + " is missing or not a regular file"}
		}
	}
	if err := unix.Access(f.Etc, unix.W_OK); err != nil {
		return identity.ProbeResult{Reason: f.Etc + " is not writable: " + err.Error()}
	}
	// Read once: the fallback to shadow is decided on the first Probe,
	// and a Probe stays as cheap as the health checks need.
	f.honourOnce.Do(func() { f.unhonoured = unhonoured(f.Etc) })
	if why := f.unhonoured; why != "" {
		return identity.ProbeResult{Reason: "the native accounts path cannot honour this machine's settings: " + why}
	}
	return identity.ProbeResult{Ready: true}
}

// load reads the account files and settings without locking: every file
// is replaced by rename, so a reader always sees a whole file. The id
// ranges are the policy's.
func (f *Files) load() (*etcdb.DB, etcdb.Defs, error) {
	if err := f.Fence.Usable(); err != nil {
		return nil, etcdb.Defs{}, err
	}
	db, err := etcdb.Load(f.Etc)
	return db, f.Fence.Defs(f.Etc), err
}

// mutate runs edit on a fresh read of the files taken under the
// shadow-utils locks, judged by the policy, and writes back what edit
// changed before releasing them. Nothing is written when edit fails. Like
// the shadow plugin, it first waits for any other hero accounts plugin
// (etcdb.Serialize).
func (f *Files) mutate(ctx context.Context, edit func(j *etcdb.Judge, d etcdb.Defs) error) error {
	return f.mutateThen(ctx, edit, nil)
}

// mutateThen is mutate, running then (when not nil) once the files are
// written, still under the locks: what must follow the write, such as
// putting a new group on the managed-groups record.
func (f *Files) mutateThen(ctx context.Context, edit func(j *etcdb.Judge, d etcdb.Defs) error, then func(j *etcdb.Judge) error) error {
	if err := f.Fence.Usable(); err != nil {
		return err
	}
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
	j, err := f.Fence.Judge(db)
	if err != nil {
		return err
	}
	if err := edit(j, d); err != nil {
		return err
	}
	if err := l.commit(db); err != nil {
		return err
	}
	flushCaches(ctx)
	if then == nil {
		return nil
	}
	return then(j)
}
