package logind

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// TestForgetDropsLinger: a managed user's linger flag goes through logind;
// that of a name no account has any more is unlinked by the plugin; a
// user without one is left alone; root, a person's own account and a uid
// that does not match are refused and keep their flag.
func TestForgetDropsLinger(t *testing.T) {
	f := newFake()
	l := plugin(f)
	l.lingerDir = t.TempDir()
	for _, name := range []string{"alice", "gone", "debian", "root"} {
		os.WriteFile(filepath.Join(l.lingerDir, name), nil, 0o644)
	}
	ctx := context.Background()
	if got, err := l.Forget(ctx, lifecycle.User{Name: "alice", UID: 1001}); err != nil || len(got.Removed) != 1 {
		t.Fatalf("alice: %+v %v", got, err)
	}
	if !slices.Contains(f.Calls(), "linger 1001 false") {
		t.Errorf("logind not asked: %v", f.Calls())
	}
	if got, err := l.Forget(ctx, lifecycle.User{Name: "gone", UID: 1009}); err != nil || len(got.Removed) != 1 {
		t.Fatalf("gone: %+v %v", got, err)
	}
	if got, err := l.Forget(ctx, lifecycle.User{Name: "bob", UID: 1002}); err != nil || len(got.Removed) != 0 {
		t.Fatalf("bob, without a flag: %+v %v", got, err)
	}
	for _, u := range []lifecycle.User{{Name: "debian", UID: 1000}, {Name: "root"}, {Name: "carol", UID: 1001}} {
		if _, err := l.Forget(ctx, u); !sdkerr.Is(err, sdkerr.PermissionDenied) {
			t.Errorf("%+v: %v", u, err)
		}
	}
	for name, want := range map[string]bool{"alice": false, "gone": false, "debian": true, "root": true} {
		if _, err := os.Lstat(filepath.Join(l.lingerDir, name)); (err == nil) != want {
			t.Errorf("flag of %s there: %v, want %v", name, err == nil, want)
		}
	}
}
