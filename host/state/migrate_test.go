package state

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/state/storetest"
)

// recorder builds migrations that count their runs and leave a mark.
type recorder map[int]int

func (r recorder) migration(v int) migration {
	return migration{Version: v, Name: fmt.Sprintf("step %d", v), Up: func(tx core.Tx) error {
		r[v]++
		return tx.Set(fmt.Sprintf("mark/%d", v), []byte("x"))
	}}
}

func openWith(t *testing.T, dir string, ms []migration) (*Store, error) {
	t.Helper()
	s, err := open(Options{Dir: dir, Secret: testSecret}, ms)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func schemaOf(t *testing.T, s *Store) string {
	v, _ := storetest.Get(t, s, schemaKey)
	return v
}

// TestMigrationsRunOnce walks one database through three binaries: the
// first with two migrations, an upgrade adding a third, and a downgrade.
func TestMigrationsRunOnce(t *testing.T) {
	dir := t.TempDir()
	r := recorder{}
	v2 := []migration{r.migration(1), r.migration(2)}
	v3 := append(v2[:2:2], r.migration(3))

	steps := []struct {
		ms         []migration
		wantRuns   map[int]int
		wantSchema string
		wantErr    string
	}{
		{v2, map[int]int{1: 1, 2: 1}, "2", ""},
		{v2, map[int]int{1: 1, 2: 1}, "2", ""},
		{v3, map[int]int{1: 1, 2: 1, 3: 1}, "3", ""},
		{v2, map[int]int{1: 1, 2: 1, 3: 1}, "", "schema 3 is newer than this binary supports (2)"},
	}
	for i, st := range steps {
		s, err := openWith(t, dir, st.ms)
		if st.wantErr != "" {
			if !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), st.wantErr) {
				t.Fatalf("step %d: %v, want FailedPrecondition %q", i, err, st.wantErr)
			}
		} else if err != nil {
			t.Fatalf("step %d: %v", i, err)
		} else {
			if got := schemaOf(t, s); got != st.wantSchema {
				t.Errorf("step %d: schema %s, want %s", i, got, st.wantSchema)
			}
			s.Close()
		}
		if fmt.Sprint(map[int]int(r)) != fmt.Sprint(st.wantRuns) {
			t.Errorf("step %d: runs %v, want %v", i, r, st.wantRuns)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, testSecret)
	if got := schemaOf(t, s); got != strconv.Itoa(SchemaVersion) {
		t.Fatalf("new database at schema %q, want %d", got, SchemaVersion)
	}
	storetest.Put(t, s, schemaKey, strconv.Itoa(SchemaVersion+1))
	s.Close()

	_, err := Open(Options{Dir: dir, Secret: testSecret})
	want := fmt.Sprintf("schema %d is newer than this binary supports (%d)", SchemaVersion+1, SchemaVersion)
	if !core.IsCode(err, core.FailedPrecondition) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want FailedPrecondition %q", err, want)
	}
}

// TestFailedMigrationRollsBack: the failing step leaves neither its writes
// nor its version, and the store is not left open.
func TestFailedMigrationRollsBack(t *testing.T) {
	dir := t.TempDir()
	r := recorder{}
	boom := errors.New("boom")
	failing := migration{Version: 2, Name: "breaks", Up: func(tx core.Tx) error {
		if err := tx.Set("mark/2", []byte("x")); err != nil {
			return err
		}
		return boom
	}}
	_, err := openWith(t, dir, []migration{r.migration(1), failing})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "schema migration 2 (breaks) failed") {
		t.Fatalf("got %v, want the migration's error", err)
	}
	s, err := openWith(t, dir, []migration{r.migration(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, s); got != "1" {
		t.Errorf("schema %s after the failed step, want 1", got)
	}
	if _, ok := storetest.Get(t, s, "mark/2"); ok {
		t.Errorf("the failed step's write survived")
	}
}

func TestCheckMigrations(t *testing.T) {
	noop := func(core.Tx) error { return nil }
	cases := []struct {
		name string
		ms   []migration
		ok   bool
	}{
		{"registered", migrations, true},
		{"none", nil, true},
		{"gap", []migration{{1, "a", noop}, {3, "c", noop}}, false},
		{"not from 1", []migration{{2, "b", noop}}, false},
		{"no Up", []migration{{1, "a", nil}}, false},
	}
	for _, c := range cases {
		if err := checkMigrations(c.ms); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if last := migrations[len(migrations)-1].Version; last != SchemaVersion {
		t.Errorf("SchemaVersion = %d but the last migration is %d", SchemaVersion, last)
	}
}
