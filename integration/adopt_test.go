//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// startFails runs serve with extra flags and expects it to exit without
// ever answering; it returns what the host logged.
func (h *hostUnderTest) startFails(flags ...string) string {
	h.t.Helper()
	saved := h.args
	h.args = append(append([]string{}, h.args...), flags...)
	defer func() { h.args = saved }()
	log := &logBuffer{}
	args := append([]string{"serve", "--home-root", "/home", "--plugin", "sessions=procfs"}, h.args...)
	cmd := h.command(args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			h.t.Fatalf("serve exited 0:\n%s", log)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		h.t.Fatalf("serve did not exit:\n%s", log)
	}
	return log.String()
}

// TestAdoptAfterTheDataDirVanished is issue 10 §7's proof for a lost data
// dir: a host whose data dir is gone refuses to start on a fresh state
// (the machine still has its managed users), and --adopt brings them back
// as reconcile finds them — uid, groups, keys, quota, lock — so they can be
// managed (and deleted) again, leaving the machine as it began.
func TestAdoptAfterTheDataDirVanished(t *testing.T) {
	h, before := startNode(t)
	_, pub := clientKey(t)
	var ann, bob core.User
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-create", "ann", "--ssh-key-file", pub, "--quota", "100M")), &ann); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-create", "bob")), &bob); err != nil {
		t.Fatal(err)
	}
	h.mustCLI("user-lock", "bob")
	h.stop()

	dataDir := envValue(h.env, "HERO_CODESCALERS_DATA_DIR")
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	if log := h.startFails(); !strings.Contains(log, "holds no state, but this host used it") || !strings.Contains(log, "--adopt") {
		t.Fatalf("a start over the vanished data dir:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "badger")); !os.IsNotExist(err) {
		t.Fatal("the refused start made a fresh state")
	}

	h.args = append(h.args, "--adopt")
	h.start()
	if !strings.Contains(h.log.String(), "adopted the machine's managed users") {
		t.Errorf("the log does not say what was adopted:\n%s", h.log)
	}
	var list api.UserListResult
	if err := json.Unmarshal([]byte(h.mustCLI("--json", "user-list")), &list); err != nil {
		t.Fatal(err)
	}
	got := map[string]core.User{}
	for _, u := range list.Users {
		got[u.Name] = u
	}
	a, b := got["ann"], got["bob"]
	if a.UID != ann.UID || a.QuotaBytes != 100<<20 || len(a.SSHKeys) != 1 || a.PublicKey != ann.PublicKey || a.State != core.UserActive {
		t.Errorf("ann adopted as %+v, created as %+v", a, ann)
	}
	if b.UID != bob.UID || b.State != core.UserLocked || !slices.Equal(b.Groups, bob.Groups) {
		t.Errorf("bob adopted as %+v, created as %+v", b, bob)
	}
	if out, _, code := h.cli("reconcile"); code != 0 {
		t.Errorf("reconcile after adopt: exit %d\n%s", code, out)
	}
	h.stop()
	h.args = h.args[:len(h.args)-1] // a plain restart keeps the adopted state
	h.start()
	h.mustCLI("user-delete", "ann")
	h.mustCLI("user-delete", "bob")
	sameMachine(t, before, machineState(t))
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// command is the CLI with the host's environment.
func (h *hostUnderTest) command(args ...string) *exec.Cmd {
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	return cmd
}
