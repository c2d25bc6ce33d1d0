package state

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Options configure Open.
type Options struct {
	// Dir is the data dir, created 0700 when missing. Ignored when InMemory.
	Dir string
	// Secret is SECRET_CODESCALERS, the passphrase the encryption key is
	// derived from. When empty, a secret is generated into Dir/secret on
	// first start and read back on later ones.
	Secret string
	// Logger receives the store's notices and Badger's warnings; nil
	// discards them.
	Logger *slog.Logger
	// InMemory keeps the state in RAM only: no dir, no lock, no encryption
	// (nothing reaches a disk). For tests and throwaway hosts.
	InMemory bool
}

// Store is the Badger-backed core.Store. It is safe for concurrent use.
type Store struct {
	db   *badger.DB
	lock *dirLock // nil when InMemory
	log  *slog.Logger

	// mu lets Close wait for the transactions in flight instead of pulling
	// the database from under them.
	mu     sync.RWMutex
	closed bool
	// writers is shared by first attempts of Update and held exclusively
	// by retries (see Update).
	writers sync.RWMutex
}

var _ core.Store = (*Store)(nil)

// badgerSubdir holds Badger's files inside the data dir (see the package
// comment for why).
const badgerSubdir = "badger"

// maxExclusiveAttempts bounds Update's retries after a conflict. A retry
// holds the writers lock and so cannot conflict with this process; a
// second conflict means something outside it writes to the database
// (which the data dir lock is there to prevent), so give up with an error
// rather than loop.
const maxExclusiveAttempts = 2

// Open opens (creating if needed) the state in opts.Dir, takes its lock,
// and runs the pending schema migrations. The errors a user can act on —
// dir in use, wrong secret, schema too new — are *core.Error with code
// FailedPrecondition.
func Open(opts Options) (*Store, error) { return open(opts, migrations) }

func open(opts Options, ms []migration) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	s := &Store{log: log}
	var err error
	if opts.InMemory {
		s.db, err = badger.Open(badgerOptions("", log).WithInMemory(true))
		if err != nil {
			return nil, core.Wrap(err, core.Internal, "cannot open the in-memory state: %v", err)
		}
	} else if err := s.openDisk(opts); err != nil {
		return nil, err
	}
	if err := migrate(s, ms, opts.Dir, log); err != nil {
		s.Close()
		return nil, err
	}
	if !opts.InMemory {
		log.Info("state opened", "dir", opts.Dir, "schema", len(ms), "took", time.Since(start).Round(time.Millisecond))
	}
	return s, nil
}

// openDisk locks the data dir, derives the key and opens Badger in it.
func (s *Store) openDisk(opts Options) (err error) {
	if opts.Dir == "" {
		return core.Errorf(core.FailedPrecondition, "no data dir given")
	}
	dir := opts.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return core.Wrap(err, core.FailedPrecondition, "cannot create the data dir %s: %v", dir, err)
	}
	if s.lock, err = lockDir(dir); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.lock.release()
		}
	}()
	bdir := filepath.Join(dir, badgerSubdir)
	if err := checkFiles(dir, bdir); err != nil {
		return err
	}
	exists := dbExists(bdir)
	secret, fromFile, err := resolveSecret(dir, opts.Secret, exists, s.log)
	if err != nil {
		return err
	}
	params, err := loadKDF(dir, exists)
	if err != nil {
		return err
	}
	start := time.Now()
	key := deriveKey(secret, params)
	// Argon2id's 64 MiB are garbage now, and an idle host makes no
	// garbage to start the next collection for two minutes: collect and
	// hand the pages back at once, before Badger allocates.
	debug.FreeOSMemory()
	s.log.Debug("state key derived", "took", time.Since(start))

	bopts := badgerOptions(bdir, s.log).
		WithEncryptionKey(key).
		// Encrypted tables keep their decrypted index only in this
		// cache; Badger panics on the first read without one.
		WithIndexCacheSize(indexCacheSize)
	s.db, err = openBadger(bopts)
	if err != nil {
		return openError(err, dir, bdir, fromFile)
	}
	return nil
}

// The caches of a state that holds a few MiB (users, groups, journal,
// audit): the working set fits in either many times over, and the block
// cache's admission sketch is sized from its capacity.
const (
	blockCacheSize = 4 << 20
	indexCacheSize = 4 << 20
)

// badgerOptions sizes Badger for a small, precious database rather than its
// defaults (five 64 MiB memtables, 256 MiB block cache, 1 GiB value logs).
// SyncWrites makes every commit durable before Update returns. The
// memtable stays 16 MiB: it bounds one transaction to ~2.4 MiB, a WAL
// written by an earlier host is replayed into a memtable of this size, and
// its arena costs memory only as far as it is written; one may wait for
// its flush beside the active one (Badger allocates them as they fill).
func badgerOptions(dir string, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{log: log}).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(blockCacheSize).
		WithValueLogFileSize(16 << 20).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
}

// Exists reports whether the data dir dir holds a state: Badger has
// written a database there.
func Exists(dir string) bool { return dbExists(filepath.Join(dir, badgerSubdir)) }

// dbExists reports whether Badger has already written a database in bdir,
// so that a missing secret or salt is an error rather than a fresh start.
func dbExists(bdir string) bool {
	for _, name := range []string{badger.KeyRegistryFileName, "MANIFEST"} {
		if _, err := os.Stat(filepath.Join(bdir, name)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// openError explains the Badger open failures a user can fix.
func openError(err error, dir, bdir string, fromFile bool) error {
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch):
		hint := ""
		secretFile := filepath.Join(dir, secretFileName)
		if fromFile {
			hint = " (it is not set; the generated secret in " + secretFile + " was tried)"
		} else if _, serr := os.Stat(secretFile); serr == nil {
			hint = " (" + secretFile + " holds a generated secret that may be the right one)"
		}
		return core.Wrap(err, core.FailedPrecondition,
			"cannot decrypt the state in %s: wrong SECRET_CODESCALERS?%s", dir, hint)
	case isBadgerLockError(err):
		return inUseError(dir, readPid(filepath.Join(bdir, "LOCK")), err)
	}
	return core.Wrap(err, core.Internal, "cannot open the state in %s: %v", dir, err)
}

// View runs fn in a read-only Badger transaction.
func (s *Store) View(fn func(core.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return core.Errorf(core.Unavailable, "store closed")
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return fn(tx{txn})
}

// Update runs fn in a read-write transaction and commits it.
//
// Badger's transactions are optimistic: a commit fails with ErrConflict
// when another transaction changed a key fn read. Retrying blindly is not
// enough under contention: writers of one hot key form a herd in which one
// wins per commit and any other can lose again and again. So the first
// attempt runs alongside the other writers (their commits share fsyncs),
// and a retry runs alone: it holds the writers lock exclusively, no other
// write transaction of this process is running, and the data dir lock
// keeps out every other process, so it cannot conflict. fn may run more
// than once and must have no effects outside the transaction; it must not
// call the store itself, as with core/memstore.
func (s *Store) Update(fn func(core.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return core.Errorf(core.Unavailable, "store closed")
	}
	err := s.sharedAttempt(fn)
	if !errors.Is(err, badger.ErrConflict) {
		return err
	}
	s.writers.Lock()
	defer s.writers.Unlock()
	for range maxExclusiveAttempts {
		if err = s.update(fn); !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return core.Wrap(err, core.Unavailable,
		"the state is busy: gave up after %d conflicting updates", 1+maxExclusiveAttempts)
}

// sharedAttempt is Update's first attempt, concurrent with other writers.
// The deferred unlock matters: a panicking fn must not leave the writers
// lock held, or the next retry would wait forever.
func (s *Store) sharedAttempt(fn func(core.Tx) error) error {
	s.writers.RLock()
	defer s.writers.RUnlock()
	return s.update(fn)
}

// update is one attempt of Update. A commit conflict is returned bare so
// Update can recognise it; fn's own errors pass through untouched.
func (s *Store) update(fn func(core.Tx) error) error {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	if err := fn(tx{txn}); err != nil {
		return err
	}
	err := txn.Commit()
	if err == nil || errors.Is(err, badger.ErrConflict) {
		return err
	}
	return txError(err)
}

// Close waits for running transactions, flushes Badger and releases the
// data dir. Calling it again does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.db != nil {
		err = s.db.Close()
	}
	if lerr := s.lock.release(); err == nil {
		err = lerr
	}
	if err != nil {
		return core.Wrap(err, core.Internal, "cannot close the state cleanly: %v", err)
	}
	return nil
}
