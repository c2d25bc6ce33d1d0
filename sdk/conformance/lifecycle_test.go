package conformance

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
)

// keeper is a plugin's lifecycle as RunLifecycle drives it: a file in the
// home at each create, and one of its own by the user's name under keep
// (as an authorized_keys.d plugin keeps keys), which its Forget may or may
// not remove.
type keeper struct {
	keep     string
	forget   bool   // Forget removes the file it keeps
	syncKept bool   // Create hands the kept file to the host to sync
	leakOn   int    // a create of this round leaves a second file Forget never removes
	forgets  int    // Forget calls seen
	rounds   []int  // creates seen
	err      string // ReadBack's finding, if any
}

func (k *keeper) lifecycle() Lifecycle {
	kept := func(u lifecycle.User) string { return filepath.Join(k.keep, u.Name) }
	return Lifecycle{
		Create: func(_ context.Context, u lifecycle.User, round int) ([]string, error) {
			k.rounds = append(k.rounds, round)
			home := filepath.Join(u.Home, ".hello")
			if err := os.WriteFile(home, []byte("round"), 0o644); err != nil {
				return nil, err
			}
			if err := os.WriteFile(kept(u), []byte{byte('0' + round)}, 0o644); err != nil {
				return nil, err
			}
			if round == k.leakOn {
				if err := os.WriteFile(filepath.Join(k.keep, "cache-"+u.Name), nil, 0o644); err != nil {
					return nil, err
				}
			}
			if k.syncKept {
				return []string{home, kept(u)}, nil
			}
			return []string{home}, nil
		},
		ReadBack: func(_ context.Context, u lifecycle.User, round int) error {
			b, err := os.ReadFile(kept(u))
			if err == nil && string(b) != string(rune('0'+round)) {
				k.err = "saw round " + string(b)
			}
			return err
		},
		Forget: func(_ context.Context, u lifecycle.User) (lifecycle.Forgotten, error) {
			k.forgets++
			if !k.forget {
				return lifecycle.Forgotten{}, nil
			}
			if err := os.Remove(kept(u)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return lifecycle.Forgotten{}, err
			}
			return lifecycle.Forgotten{Removed: []string{kept(u)}}, nil
		},
	}
}

// lifeEnv is an Env whose State sees the check's directory and the
// plugin's own directory outside the homes.
func lifeEnv(t *testing.T) (*Env, string) {
	t.Helper()
	root := t.TempDir()
	dir, keep := filepath.Join(root, "homes"), filepath.Join(root, "etc", "keys.d")
	for _, d := range []string{dir, keep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &Env{
		Dir:     dir,
		Owner:   Owner{UID: 61234, GID: 61234, Name: "ptest-alice"},
		Ready:   true,
		Timeout: 5 * time.Second,
		State:   func() (Snapshot, error) { return SnapshotDir(root, root) },
	}, keep
}

// TestRunLifecycleNamesWhatIsLeft: the host-level step passes a plugin
// whose Forget removes what it keeps of the user, and fails one that keeps
// it — a file by the user's name outside the home — naming the file and
// where, or that hands the host a file outside the home to sync (the
// host's create would fail at step sync).
func TestRunLifecycleNamesWhatIsLeft(t *testing.T) {
	ctx := context.Background()
	t.Run("forgets", func(t *testing.T) {
		env, keep := lifeEnv(t)
		k := &keeper{keep: keep, forget: true}
		if err := env.RunLifecycle(ctx, k.lifecycle()); err != nil {
			t.Fatal(err)
		}
		if len(k.rounds) != 3 || k.forgets != 4 || k.err != "" {
			t.Errorf("creates %v, %d Forgets (want rounds 1-3 and 4: one before), read back: %q", k.rounds, k.forgets, k.err)
		}
		if entries, _ := os.ReadDir(env.Dir); len(entries) != 0 {
			t.Errorf("the check's homes are not all removed: %v", entries)
		}
	})
	t.Run("keeps", func(t *testing.T) {
		env, keep := lifeEnv(t)
		k := &keeper{keep: keep}
		err := env.RunLifecycle(ctx, k.lifecycle())
		want := filepath.Join(keep, "ptest-alice")
		if !errors.Is(err, errLeftover) || !strings.Contains(err.Error(), "delete: nothing of the user left") ||
			!strings.Contains(err.Error(), "user ptest-alice (uid 61234) left "+want+" (appeared, file") {
			t.Fatalf("got %v, want the delete's leftover %s named", err, want)
		}
		if len(k.rounds) != 1 {
			t.Errorf("creates %v: the check goes on after a leftover", k.rounds)
		}
	})
	t.Run("keeps after a rolled-back create", func(t *testing.T) {
		env, keep := lifeEnv(t)
		k := &keeper{keep: keep, forget: true, leakOn: 2}
		err := env.RunLifecycle(ctx, k.lifecycle())
		if !errors.Is(err, errLeftover) || !strings.Contains(err.Error(), "rolled-back create: nothing of the user left") ||
			!strings.Contains(err.Error(), filepath.Join(keep, "cache-ptest-alice")) {
			t.Fatalf("got %v, want the rollback's leftover named", err)
		}
	})
	t.Run("not ready still fails on a leftover", func(t *testing.T) {
		env, keep := lifeEnv(t)
		env.Ready = false
		k := &keeper{keep: keep}
		if _, skip := IsSkip(env.RunLifecycle(ctx, k.lifecycle())); skip {
			t.Error("a leftover was skipped for a plugin that is not ready: the state is there whatever its readiness")
		}
	})
	t.Run("sync outside the home", func(t *testing.T) {
		env, keep := lifeEnv(t)
		k := &keeper{keep: keep, forget: true, syncKept: true}
		err := env.RunLifecycle(ctx, k.lifecycle())
		if err == nil || !strings.Contains(err.Error(), "outside the user's home") || !strings.Contains(err.Error(), "step sync") {
			t.Fatalf("got %v, want the file left to sync outside the home named", err)
		}
	})
}
