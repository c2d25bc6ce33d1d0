package state

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/host/state/storetest"
)

const testSecret = "correct horse battery staple"

// openAt opens the store in dir with secret and closes it when the test
// ends (Close is idempotent, so tests may close it earlier).
func openAt(t testing.TB, dir, secret string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Secret: secret})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	impls := []struct {
		name string
		open storetest.Open
	}{
		{"memstore", func(*testing.T) core.Store { return memstore.New() }},
		{"badger", func(t *testing.T) core.Store { return openAt(t, t.TempDir(), testSecret) }},
		{"badger-inmemory", func(t *testing.T) core.Store {
			s, err := Open(Options{InMemory: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) { storetest.Run(t, impl.open) })
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, testSecret)
	storetest.Put(t, s, "user/alice", `{"uid":1001}`, "user/bob", `{"uid":1002}`, "gone", "x")
	if err := s.Update(func(tx core.Tx) error { return tx.Delete("gone") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, dir, testSecret)
	if v, _ := storetest.Get(t, s, "user/alice"); v != `{"uid":1001}` {
		t.Errorf("user/alice = %q after reopen", v)
	}
	if _, ok := storetest.Get(t, s, "gone"); ok {
		t.Errorf("a deleted key came back after reopen")
	}
	if got := storetest.Keys(t, s, "user/", true); !slices.Equal(got, []string{"user/bob", "user/alice"}) {
		t.Errorf("reverse scan after reopen = %q", got)
	}
}

// TestScanWholeStore covers the empty prefix, which has no end key to seek
// to in reverse, and shows the store's own keys.
func TestScanWholeStore(t *testing.T) {
	s := openAt(t, t.TempDir(), testSecret)
	storetest.Put(t, s, "a", "1", "z", "2")
	want := []string{"a", schemaKey, "z"}
	if got := storetest.Keys(t, s, "", false); !slices.Equal(got, want) {
		t.Errorf("forward = %q, want %q", got, want)
	}
	slices.Reverse(want)
	if got := storetest.Keys(t, s, "", true); !slices.Equal(got, want) {
		t.Errorf("reverse = %q, want %q", got, want)
	}
}

// TestConflictRetried makes the conflict happen on purpose: a second writer
// commits between the first one's read and its commit. (Calling the store
// from fn is not allowed in general; here it runs in the shared first
// attempt with no retry waiting, so it cannot deadlock.)
func TestConflictRetried(t *testing.T) {
	s := openAt(t, t.TempDir(), testSecret)
	storetest.Put(t, s, "n", "0")
	attempts := 0
	err := s.Update(func(tx core.Tx) error {
		attempts++
		if err := storetest.Increment("n")(tx); err != nil {
			return err
		}
		if attempts == 1 {
			return s.Update(storetest.Increment("n"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := storetest.Get(t, s, "n"); attempts != 2 || v != "2" {
		t.Fatalf("attempts = %d, n = %s; want 2 attempts and n = 2", attempts, v)
	}
}

// TestConflictGivesUp simulates a writer outside the store's control (it
// goes to Badger directly, past the writers lock) that always wins: Update
// must stop with an error instead of looping.
func TestConflictGivesUp(t *testing.T) {
	s := openAt(t, t.TempDir(), testSecret)
	attempts := 0
	err := s.Update(func(txn core.Tx) error {
		attempts++
		if err := storetest.Increment("n")(txn); err != nil {
			return err
		}
		return s.db.Update(func(raw *badger.Txn) error { return storetest.Increment("n")(tx{raw}) })
	})
	if want := 1 + maxExclusiveAttempts; !core.IsCode(err, core.Unavailable) || attempts != want {
		t.Fatalf("after %d attempts: %v; want Unavailable after %d", attempts, err, want)
	}
}

// TestPanicReleasesStore: a panicking fn (in a scan, in a write) must not
// leave a lock or an iterator behind.
func TestPanicReleasesStore(t *testing.T) {
	s := openAt(t, t.TempDir(), testSecret)
	storetest.Put(t, s, "k", "v")
	calls := map[string]func(func(core.Tx) error) error{"View": s.View, "Update": s.Update}
	for name, call := range calls {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s swallowed the panic", name)
				}
			}()
			call(func(tx core.Tx) error {
				return tx.Scan("", false, func(string, []byte) (bool, error) { panic("boom") })
			})
		}()
	}
	storetest.Put(t, s, "k", "w")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInMemoryTouchesNoDisk(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := Open(Options{InMemory: true, Dir: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Put(t, s, "k", "v")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("in-memory store wrote %v", entries)
	}
}

func TestDataDirCreatedPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "hero_codescalers", "db")
	openAt(t, dir, testSecret)
	for _, d := range []string{dir, filepath.Join(dir, badgerSubdir)} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
}

// logBuffer captures a logger's output; Badger may log from its own
// goroutines, hence the lock.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
