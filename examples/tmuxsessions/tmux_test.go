package main

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions/guard"
)

func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux); skipping the tmux example's tests")
	}
}

// tmuxRoot makes a private TMUX_TMPDIR with the current user's socket dir,
// and starts a tmux server there with one session running sleep.
func tmuxRoot(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	dir := filepath.Join(root, "tmux-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "default")
	if out, err := exec.Command("tmux", "-S", socket, "new-session", "-d", "-s", "demo", "sleep", "300").CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", socket, "kill-server").Run() })
	return root
}

func TestListAndKillRealTmux(t *testing.T) {
	needTmux(t)
	ctx := context.Background()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	tm := &Tmux{Root: tmuxRoot(t), Run: execRun}
	list, err := tm.ListSessions(ctx, me.Username)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].User != me.Username || len(list[0].PIDs) != 1 || list[0].Started.IsZero() {
		t.Fatalf("sessions %+v", list)
	}
	for range 2 { // the second kill finds the session gone, and succeeds
		if err := tm.KillSession(ctx, list[0].ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	if list, err := tm.ListSessions(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf("after kill: %+v %v", list, err)
	}
}

// TestKillUserIsFenced: KillUser judges the user by the policy, never by
// its caller: root and an account outside the marker group are refused,
// and a name without an account has nothing to end.
func TestKillUserIsFenced(t *testing.T) {
	etc := t.TempDir()
	for name, text := range map[string]string{
		"passwd": "root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\n",
		"group":  "root:x:0:\ncodescalers:x:998:root\n",
	} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tm := &Tmux{Root: t.TempDir(), Run: execRun, Guard: guard.New(policy.Defaults(etc), etc)}
	for _, user := range []string{"root", "debian"} {
		if _, err := tm.KillUser(context.Background(), user, 0); !sdk.IsCode(err, sdk.PermissionDenied) {
			t.Errorf("KillUser(%s) = %v, want PermissionDenied", user, err)
		}
	}
	if e, err := tm.KillUser(context.Background(), "nobody-here", 0); err != nil || e != (sessions.Ended{}) {
		t.Errorf("KillUser of a name without an account: %+v %v", e, err)
	}
}
