package plugins_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// One binary serving all five concerns runs as one process, and every
// client reaches it with the plugin's typed errors mapped to core codes.
func TestOneProcessServesEveryConcern(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "fakeplugin"), "allinone")
	h := start(t, dir)
	ready(t, h.Manager)
	list := h.List()
	if len(list) != len(sdk.Concerns) {
		t.Fatalf("list: %+v", list)
	}
	for _, i := range list {
		if i.Name != "allinone" || i.State != core.PluginReady || i.PID != list[0].PID || i.PID == 0 || len(i.SHA256) != 64 {
			t.Errorf("%+v", i)
		}
	}
	ctx := context.Background()
	if _, err := h.Accounts().CreateUser(ctx, accounts.UserSpec{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Accounts().GetUser(ctx, "bob"); !core.IsCode(err, core.NotFound) {
		t.Errorf("GetUser(bob): %v, want not_found", err)
	}
	var ce *core.Error
	if _, err := h.Accounts().GetUser(ctx, "-rf"); !errors.As(err, &ce) || ce.Code != core.Invalid || ce.Field != "name" {
		t.Errorf("GetUser(-rf): %#v, want invalid name", err)
	}
	if _, err := h.Volumes().ListSnapshots(ctx, "/home/alice"); err != nil {
		t.Error(err)
	}
	if _, err := h.ACL().Get(ctx, "/home/alice"); err != nil {
		t.Error(err)
	}
	if _, err := h.SSHKeys().ListAuthorizedKeys(ctx, lifecycle.User{Name: "alice", Home: "/home/alice"}); err != nil {
		t.Error(err)
	}
	if _, err := h.Sessions().ListSessions(ctx, ""); err != nil {
		t.Error(err)
	}
	if !h.Healthy() {
		t.Error("not healthy")
	}
}

// A call the core marks with volumes.DeferSync reaches the plugin marked
// (the host's connections carry the mark), one without the mark arrives
// without it, and Sync goes through the routing like every call.
func TestDeferSyncReachesThePlugin(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "fakeplugin"), "tp-volumes")
	h := start(t, dir)
	ready(t, h.Manager)
	ctx, owner := context.Background(), volumes.Owner{UID: 2001, GID: 2001, Mode: 0o600}
	if err := h.Volumes().WriteFile(volumes.DeferSync(ctx), "/home/alice/deferred", []byte("x"), owner); err != nil {
		t.Errorf("marked call: %v", err)
	}
	if err := h.Volumes().WriteFile(ctx, "/home/alice/durable", []byte("x"), owner); err != nil {
		t.Errorf("unmarked call: %v", err)
	}
	if err := h.Volumes().Sync(ctx, nil); err != nil {
		t.Errorf("Sync probe: %v", err)
	}
	if err := h.Volumes().Sync(ctx, []string{"/home/alice/deferred", "/home/alice", "/home"}); err != nil {
		t.Errorf("Sync: %v", err)
	}
	if err := h.Volumes().Sync(ctx, []string{"/home/bob"}); !core.IsCode(err, core.NotFound) {
		t.Errorf("Sync of an unknown path: %v, want not_found", err)
	}
}

// A kill -9 of a plugin is followed by a restart, and the next call works.
func TestKilledPluginRestarts(t *testing.T) {
	dir := pluginDir(t)
	path := install(t, dir, binary(t, "fakeplugin"), "tp-accounts")
	h := start(t, dir)
	ready(t, h.Manager)
	before := info(h.Manager, "accounts")
	kill9(t, before.PID)
	waitFor(t, 10*time.Second, "a restarted, ready accounts plugin", func() bool {
		i := info(h.Manager, "accounts")
		return i.State == core.PluginReady && i.Restarts == 1 && i.PID != before.PID && i.PID != 0
	})
	if _, err := h.Accounts().CreateUser(context.Background(), accounts.UserSpec{Name: "alice"}); err != nil {
		t.Fatalf("call after restart: %v", err)
	}
	after := info(h.Manager, "accounts")
	if !strings.Contains(after.LastError, "signal: killed") {
		t.Errorf("last error %q should say how it died", after.LastError)
	}
	if n := starts(path); n != 2 {
		t.Errorf("%d processes started, want 2", n)
	}
	if _, ok := h.log.find("plugin crashed; restarting", "plugin=tp-accounts"); !ok {
		t.Error("the crash was not logged under the plugin's name")
	}
}

// A call in flight when its plugin dies fails at once with Unavailable
// saying the plugin is restarting; the plugin's own log lines reach the
// host log under its name.
func TestInFlightCallOfDeadPlugin(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "fakeplugin"), "tp-sessions")
	h := start(t, dir)
	ready(t, h.Manager)
	errc := make(chan error, 1)
	go func() { errc <- h.Sessions().KillSession(context.Background(), "slow", time.Minute) }()
	waitFor(t, 5*time.Second, "the slow call to reach the plugin", func() bool {
		_, ok := h.log.find("slow call started", "plugin=tp-sessions")
		return ok
	})
	kill9(t, info(h.Manager, "sessions").PID)
	var err error
	select {
	case err = <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight call hung on a dead plugin")
	}
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != core.Unavailable ||
		ce.Message != "plugin tp-sessions (sessions) is unavailable: restarting" {
		t.Fatalf("in-flight call: %#v", err)
	}
}

// A call its plugin never answers ends after the call's own time limit
// (the caller gave none), with Unavailable saying so: a hung plugin must
// not hold a request for ever.
func TestUnansweredCallEnds(t *testing.T) {
	defer plugins.SetCallLimits(time.Second, time.Second)()
	dir := pluginDir(t)
	install(t, dir, binary(t, "fakeplugin"), "tp-sessions")
	h := start(t, dir)
	ready(t, h.Manager)
	errc := make(chan error, 1)
	go func() { errc <- h.Sessions().KillSession(context.Background(), "slow", time.Minute) }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("the unanswered call is still waiting")
	}
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Code != core.Unavailable || !strings.Contains(ce.Message, "no answer within 1s") {
		t.Fatalf("unanswered call: %#v", err)
	}
	if _, err := h.Sessions().ListSessions(context.Background(), ""); err != nil {
		t.Errorf("the plugin after: %v", err)
	}
}

// A binary changed after the lock recorded it is refused with a clear
// error, no process of it starts, and Approve lets it run.
func TestTamperedBinaryRefused(t *testing.T) {
	dir := pluginDir(t)
	path := install(t, dir, binary(t, "fakeplugin"), "tp-accounts")
	h := start(t, dir)
	ready(t, h.Manager)
	locked := info(h.Manager, "accounts").SHA256
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, "tampered")

	log := newLogBook()
	m := startWith(t, dir, h.store, log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.WaitReady(ctx); err == nil {
		t.Fatal("WaitReady: nil, want the refusal")
	}
	i := info(m, "accounts")
	if i.State != core.PluginRefused || i.PID != 0 ||
		!strings.Contains(i.LastError, "sha256 changed from "+locked+" to ") ||
		!strings.HasSuffix(i.LastError, "approve with hero_codescalers plugin-approve accounts") {
		t.Fatalf("%+v", i)
	}
	if n := starts(path); n != 1 {
		t.Fatalf("%d processes started, want only the first run's", n)
	}
	_, err := m.Accounts().GetUser(ctx, "alice")
	if !core.IsCode(err, core.Unavailable) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("call to a refused plugin: %v", err)
	}

	if err := m.Approve(ctx, "accounts"); err != nil {
		t.Fatal(err)
	}
	if i := info(m, "accounts"); i.State != core.PluginReady || i.SHA256 == locked {
		t.Fatalf("after approve: %+v", i)
	}
	if _, err := m.Accounts().CreateUser(ctx, accounts.UserSpec{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	locks, err := plugins.Locks(h.store)
	if err != nil || locks["accounts"].SHA256 == locked {
		t.Errorf("lock not updated: %+v %v", locks, err)
	}
}

// A binary swapped while its process runs is refused at the restart, by
// SecureConfig, before anything is exec'd.
func TestTamperedBeforeRestart(t *testing.T) {
	dir := pluginDir(t)
	path := install(t, dir, binary(t, "fakeplugin"), "tp-accounts")
	h := start(t, dir)
	ready(t, h.Manager)
	replaceTampered(t, path) // a running binary cannot be written to: swap it
	kill9(t, info(h.Manager, "accounts").PID)
	waitFor(t, 10*time.Second, "the refusal", func() bool {
		return info(h.Manager, "accounts").State == core.PluginRefused
	})
	if i := info(h.Manager, "accounts"); !strings.Contains(i.LastError, "sha256 changed") {
		t.Errorf("%+v", i)
	}
	if n := starts(path); n != 1 {
		t.Errorf("%d processes started, want 1", n)
	}
}

// TestOptionalConcernAbsent: a plugin dir without a limits plugin makes a
// whole host — healthy, ready — whose limits calls fail with
// core.ErrNotServed (failed_precondition), which a user's end skips.
func TestOptionalConcernAbsent(t *testing.T) {
	dir := pluginDir(t)
	install(t, dir, binary(t, "fakeplugin"), "accounts-volumes-acl-sshkeys-sessions")
	h := start(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if !h.Healthy() {
		t.Errorf("not healthy without the optional limits plugin: %+v", h.List())
	}
	for _, c := range h.All() {
		l, ok := c.Client.(limits.Limits)
		if !ok {
			continue
		}
		_, err := l.Forget(ctx, lifecycle.User{Name: "alice", UID: 1001})
		if !errors.Is(err, core.ErrNotServed) || !core.IsCode(err, core.FailedPrecondition) {
			t.Errorf("limits without a plugin: %v", err)
		}
	}
}

// TestHangingProbeIsShown: a plugin whose probe goes unanswered is shown
// as not ready, saying so, not as "starting"; once it answers again it is
// ready.
func TestHangingProbeIsShown(t *testing.T) {
	dir := pluginDir(t)
	path := install(t, dir, binary(t, "fakeplugin"), "tp-sessions")
	if err := os.WriteFile(path+".hang", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, func(o *plugins.Options) { o.ProbeTimeout = 300 * time.Millisecond })
	waitFor(t, 10*time.Second, "the unanswered probe shown", func() bool {
		i := info(h.Manager, "sessions")
		return i.State == core.PluginNotReady && strings.Contains(i.LastError, "probe: no answer within 300ms")
	})
	os.Remove(path + ".hang")
	waitFor(t, 20*time.Second, "the plugin ready once it answers", func() bool {
		return info(h.Manager, "sessions").State == core.PluginReady
	})
}
