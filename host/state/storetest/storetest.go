// Package storetest is the behaviour every core.Store promises, written
// once and run against each implementation (host/state's Badger store,
// core/memstore), so core's unit tests on the in-memory store mean what
// they say about the real one. Like testing/fstest, it is imported only by
// tests.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
)

// Open returns a fresh, empty store for one subtest. Run closes it.
type Open func(t *testing.T) core.Store

// Run checks the core.Store contract; each case gets its own store. Keys
// are kept under "t/" because a real store may hold its own (such as
// meta/schema) outside that prefix.
func Run(t *testing.T, open Open) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, s core.Store)
	}{
		{"GetMissing", testGetMissing},
		{"SetGetDelete", testSetGetDelete},
		{"ValuesAreCopies", testValuesAreCopies},
		{"ReadOnlyView", testReadOnlyView},
		{"OwnWritesVisible", testOwnWritesVisible},
		{"RollbackOnError", testRollbackOnError},
		{"Scan", testScan},
		{"ScanSeesPendingWrites", testScanSeesPendingWrites},
		{"ScanNestedAndDeleting", testScanNestedAndDeleting},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Closed", testClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			c.fn(t, s)
		})
	}
}

// Put writes key=value in its own transaction, failing the test on error.
func Put(t testing.TB, s core.Store, kv ...string) {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("Put: odd number of arguments")
	}
	err := s.Update(func(tx core.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Set(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
}

// Get reads key in its own transaction; found is false for a missing key.
func Get(t testing.TB, s core.Store, key string) (value string, found bool) {
	t.Helper()
	err := s.View(func(tx core.Tx) error {
		b, err := tx.Get(key)
		if errors.Is(err, core.ErrKeyNotFound) {
			return nil
		}
		value, found = string(b), err == nil
		return err
	})
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	return value, found
}

// Keys lists the keys with prefix in the order Scan gives them.
func Keys(t testing.TB, s core.Store, prefix string, reverse bool) []string {
	t.Helper()
	var keys []string
	err := s.View(func(tx core.Tx) error {
		return tx.Scan(prefix, reverse, func(k string, _ []byte) (bool, error) {
			keys = append(keys, k)
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan %q: %v", prefix, err)
	}
	return keys
}

func testGetMissing(t *testing.T, s core.Store) {
	err := s.View(func(tx core.Tx) error {
		_, err := tx.Get("t/missing")
		return err
	})
	if !errors.Is(err, core.ErrKeyNotFound) {
		t.Fatalf("Get of a missing key: %v, want core.ErrKeyNotFound", err)
	}
}

func testSetGetDelete(t *testing.T, s core.Store) {
	Put(t, s, "t/a", "1")
	if v, ok := Get(t, s, "t/a"); !ok || v != "1" {
		t.Fatalf("after Set: %q %v", v, ok)
	}
	Put(t, s, "t/a", "2", "t/empty", "")
	if v, _ := Get(t, s, "t/a"); v != "2" {
		t.Fatalf("after overwrite: %q", v)
	}
	if v, ok := Get(t, s, "t/empty"); !ok || v != "" {
		t.Fatalf("empty value: %q %v", v, ok)
	}
	for range 2 { // deleting a missing key is not an error
		if err := s.Update(func(tx core.Tx) error { return tx.Delete("t/a") }); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if _, ok := Get(t, s, "t/a"); ok {
		t.Fatalf("key still there after Delete")
	}
}

func testValuesAreCopies(t *testing.T, s core.Store) {
	buf := []byte("orig")
	err := s.Update(func(tx core.Tx) error {
		err := tx.Set("t/k", buf)
		copy(buf, "XXXX") // the caller reuses its buffer before commit
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	err = s.View(func(tx core.Tx) error {
		b, err := tx.Get("t/k")
		got = append(got, b)
		if err != nil {
			return err
		}
		return tx.Scan("t/", false, func(_ string, v []byte) (bool, error) {
			got = append(got, v)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range got { // still valid after the transaction ended
		if string(b) != "orig" {
			t.Errorf("value %d = %q, want %q", i, b, "orig")
		}
		copy(b, "ZZZZ")
	}
	if v, _ := Get(t, s, "t/k"); v != "orig" {
		t.Fatalf("mutating a returned value changed the store: %q", v)
	}
}

func testReadOnlyView(t *testing.T, s core.Store) {
	for name, write := range map[string]func(core.Tx) error{
		"Set":    func(tx core.Tx) error { return tx.Set("t/x", []byte("1")) },
		"Delete": func(tx core.Tx) error { return tx.Delete("t/x") },
	} {
		err := s.View(write)
		if !core.IsCode(err, core.Internal) {
			t.Errorf("%s in View: %v, want an Internal error", name, err)
		}
	}
	if _, ok := Get(t, s, "t/x"); ok {
		t.Fatalf("a View wrote")
	}
}

func testOwnWritesVisible(t *testing.T, s core.Store) {
	Put(t, s, "t/gone", "1")
	err := s.Update(func(tx core.Tx) error {
		if err := tx.Set("t/new", []byte("v")); err != nil {
			return err
		}
		if b, err := tx.Get("t/new"); err != nil || string(b) != "v" {
			return fmt.Errorf("own write: %q %v", b, err)
		}
		if err := tx.Delete("t/gone"); err != nil {
			return err
		}
		if _, err := tx.Get("t/gone"); !errors.Is(err, core.ErrKeyNotFound) {
			return fmt.Errorf("own delete: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRollbackOnError(t *testing.T, s core.Store) {
	Put(t, s, "t/keep", "old")
	want := core.Errorf(core.NotFound, "no such thing")
	err := s.Update(func(tx core.Tx) error {
		if err := tx.Set("t/keep", []byte("new")); err != nil {
			return err
		}
		if err := tx.Set("t/added", []byte("x")); err != nil {
			return err
		}
		return want
	})
	if err != want { // fn's error comes back untouched, code and all
		t.Fatalf("Update returned %v, want fn's error itself", err)
	}
	if v, _ := Get(t, s, "t/keep"); v != "old" {
		t.Errorf("t/keep = %q after a failed Update", v)
	}
	if _, ok := Get(t, s, "t/added"); ok {
		t.Errorf("t/added written by a failed Update")
	}
}

func testScan(t *testing.T, s core.Store) {
	Put(t, s, "t/a", "1", "t/a/1", "2", "t/a/2", "3", "t/a0", "4", "t/b/1", "5",
		"t/ab", "6", "t/\xff", "7", "t/\xff\xff", "8", "t/\xff\xffz", "9", "u", "10")
	cases := []struct {
		prefix  string
		reverse bool
		want    []string
	}{
		{"t/a/", false, []string{"t/a/1", "t/a/2"}},
		{"t/a/", true, []string{"t/a/2", "t/a/1"}},
		{"t/a", false, []string{"t/a", "t/a/1", "t/a/2", "t/a0", "t/ab"}},
		{"t/a", true, []string{"t/ab", "t/a0", "t/a/2", "t/a/1", "t/a"}},
		{"t/b/", true, []string{"t/b/1"}},
		{"t/c", false, nil},
		{"t/c", true, nil},
		// Nothing in the store sorts at or before the prefix's end.
		{"0", true, nil},
		{"\x00", true, nil},
		{"t/\xff", true, []string{"t/\xff\xffz", "t/\xff\xff", "t/\xff"}},
		{"t/\xff\xff", false, []string{"t/\xff\xff", "t/\xff\xffz"}},
		{"t/", true, []string{"t/\xff\xffz", "t/\xff\xff", "t/\xff", "t/b/1", "t/ab", "t/a0", "t/a/2", "t/a/1", "t/a"}},
	}
	for _, c := range cases {
		if got := Keys(t, s, c.prefix, c.reverse); !slices.Equal(got, c.want) {
			t.Errorf("Scan(%q, reverse=%v) = %q, want %q", c.prefix, c.reverse, got, c.want)
		}
	}

	// Stopping early and failing both end the scan at once.
	boom := errors.New("boom")
	for _, stop := range []struct {
		ret  bool
		err  error
		want int
	}{{false, nil, 1}, {true, boom, 1}, {true, nil, 5}} {
		n := 0
		err := s.View(func(tx core.Tx) error {
			return tx.Scan("t/a", false, func(string, []byte) (bool, error) {
				n++
				return stop.ret, stop.err
			})
		})
		if !errors.Is(err, stop.err) || n != stop.want {
			t.Errorf("callback (%v, %v): %d calls, err %v; want %d calls, err %v", stop.ret, stop.err, n, err, stop.want, stop.err)
		}
	}
}

func testScanSeesPendingWrites(t *testing.T, s core.Store) {
	Put(t, s, "t/1", "a", "t/2", "b")
	err := s.Update(func(tx core.Tx) error {
		if err := tx.Set("t/3", []byte("c")); err != nil {
			return err
		}
		if err := tx.Set("t/1", []byte("A")); err != nil {
			return err
		}
		if err := tx.Delete("t/2"); err != nil {
			return err
		}
		var got []string
		err := tx.Scan("t/", false, func(k string, v []byte) (bool, error) {
			got = append(got, k+"="+string(v))
			return true, nil
		})
		if want := []string{"t/1=A", "t/3=c"}; !slices.Equal(got, want) {
			return fmt.Errorf("scan in Update = %q, want %q", got, want)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testScanNestedAndDeleting(t *testing.T, s core.Store) {
	Put(t, s, "t/g/1", "x", "t/g/2", "y", "t/m/1", "p", "t/m/2", "q")
	// Nested scans and Gets in a write transaction, deleting as we go: the
	// shape of "remove every group and its members".
	err := s.Update(func(tx core.Tx) error {
		return tx.Scan("t/g/", false, func(g string, _ []byte) (bool, error) {
			err := tx.Scan("t/m/", true, func(m string, _ []byte) (bool, error) {
				if _, err := tx.Get(g); err != nil {
					return false, err
				}
				return true, tx.Delete(m)
			})
			if err != nil {
				return false, err
			}
			return true, tx.Delete(g)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys := Keys(t, s, "t/", false); len(keys) != 0 {
		t.Fatalf("left after deleting during scans: %q", keys)
	}
}

func testConcurrentUpdates(t *testing.T, s core.Store) {
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				if err := s.Update(Increment("t/counter")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Update: %v", err)
	}
	if v, _ := Get(t, s, "t/counter"); v != strconv.Itoa(workers*rounds) {
		t.Fatalf("counter = %s, want %d: an update was lost", v, workers*rounds)
	}
}

// Increment is a read-modify-write of a decimal counter: the transaction a
// lost update would break.
func Increment(key string) func(core.Tx) error {
	return func(tx core.Tx) error {
		n := 0
		b, err := tx.Get(key)
		switch {
		case err == nil:
			if n, err = strconv.Atoi(string(b)); err != nil {
				return err
			}
		case !errors.Is(err, core.ErrKeyNotFound):
			return err
		}
		return tx.Set(key, []byte(strconv.Itoa(n+1)))
	}
}

func testClosed(t *testing.T, s core.Store) {
	Put(t, s, "t/k", "v")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	noop := func(core.Tx) error { return nil }
	if err := s.View(noop); !core.IsCode(err, core.Unavailable) {
		t.Errorf("View after Close: %v, want Unavailable", err)
	}
	if err := s.Update(noop); !core.IsCode(err, core.Unavailable) {
		t.Errorf("Update after Close: %v, want Unavailable", err)
	}
}
