package plugins_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
)

// A plugin that writes junk to stdout before its handshake is reported at
// once, not waited on until the start timeout.
func TestJunkBeforeHandshake(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "testplugin"), "testplugin")
	began := time.Now()
	h := start(t, dir, func(o *plugins.Options) {
		o.Env = []string{"TESTPLUGIN_MODE=pre-junk"}
		o.StartTimeout = 5 * time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.WaitReady(ctx); err == nil {
		t.Fatal("WaitReady: nil")
	}
	if took := time.Since(began); took >= 5*time.Second {
		t.Errorf("took %s: waited for the start timeout", took)
	}
	i := info(h.Manager, "accounts")
	if i.State == core.PluginReady || !strings.Contains(i.LastError, "hello from a plugin that talks too early") {
		t.Fatalf("%+v", i)
	}
}

// A plugin that never handshakes is given up on after StartTimeout.
func TestSilentPluginTimesOut(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "testplugin"), "testplugin")
	h := start(t, dir, func(o *plugins.Options) {
		o.Env = []string{"TESTPLUGIN_MODE=silent"}
		o.StartTimeout = 500 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = h.WaitReady(ctx)
	if i := info(h.Manager, "sessions"); i.State != core.PluginCrashed || !strings.Contains(i.LastError, "timeout") {
		t.Fatalf("%+v", i)
	}
	_, err := h.Sessions().ListSessions(ctx, "")
	if !core.IsCode(err, core.Unavailable) {
		t.Errorf("call: %v", err)
	}
}

// Probe's answer drives ready and not ready, with the plugin's reason.
func TestProbeNotReady(t *testing.T) {
	dir := pluginDir(t)
	path := install(t, dir, binary(t, "fakeplugin"), "tp-volumes")
	h := start(t, dir)
	ready(t, h.Manager)
	if err := os.WriteFile(path+".notready", []byte("btrfs tool missing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "not ready", func() bool {
		i := info(h.Manager, "volumes")
		return i.State == core.PluginNotReady && i.LastError == "btrfs tool missing"
	})
	if h.Healthy() {
		t.Error("healthy while not ready")
	}
	os.Remove(path + ".notready")
	waitFor(t, 5*time.Second, "ready again", func() bool { return info(h.Manager, "volumes").State == core.PluginReady })
}

// Concerns nobody serves are listed with the reason and fail calls with
// Unavailable; the others run.
func TestMissingConcerns(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "fakeplugin"), "tp-accounts")
	h := start(t, dir)
	err := h.WaitReady(context.Background())
	if err == nil || !strings.Contains(err.Error(), "volumes: not_ready no plugin for volumes fits debian 12") {
		t.Fatalf("WaitReady: %v", err)
	}
	if i := info(h.Manager, "accounts"); i.State != core.PluginReady {
		t.Errorf("%+v", i)
	}
	if ready, total := h.Summary(); ready != 1 || total != 5 {
		t.Errorf("summary %d/%d", ready, total)
	}
	if _, err := h.Volumes().GetUsage(context.Background(), "/home/a"); !core.IsCode(err, core.Unavailable) {
		t.Errorf("call: %v", err)
	}
}

// A pin naming a plugin that is not installed stops the start.
func TestPinOfMissingPlugin(t *testing.T) {
	dir := pluginDir(t)
	m, err := plugins.New(plugins.Options{Dirs: []string{dir}, Store: newStore(), Mode: plugins.ModeDirect,
		Platform: &plugins.Platform{ID: "debian", FSType: "ext4"}, Pins: map[string]string{"accounts": "shadow"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err == nil || !strings.Contains(err.Error(), `no plugin "shadow"`) {
		t.Fatalf("Start: %v", err)
	}
}

// Close stops every plugin process and waits for it.
func TestCloseStopsPlugins(t *testing.T) {
	dir := pluginDir(t)
	fp := binary(t, "fakeplugin")
	install(t, dir, fp, "tp-accounts")
	install(t, dir, fp, "tp-sessions")
	h := start(t, dir)
	ready(t, h.Manager)
	pids := []int{info(h.Manager, "accounts").PID, info(h.Manager, "sessions").PID}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d still runs after Close", pid)
		}
	}
	if i := info(h.Manager, "accounts"); i.State != core.PluginStopped || i.PID != 0 {
		t.Errorf("%+v", i)
	}
	if _, err := h.Accounts().GetUser(context.Background(), "a"); !core.IsCode(err, core.Unavailable) {
		t.Errorf("call after close: %v", err)
	}
}
