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

// twoSessionsPlugins installs aa-sessions (ranked first: same fit and
// version, the earlier name) and bb-sessions, with aa not ready when
// notReady is set — as logind on a machine with a stale
// /run/systemd/seats and no logind.
func twoSessionsPlugins(t *testing.T, notReady bool) (dir, aa, bb string) {
	t.Helper()
	dir = pluginDir(t)
	aa = install(t, dir, binary(t, "fakeplugin"), "aa-sessions")
	bb = install(t, dir, binary(t, "fakeplugin"), "bb-sessions")
	if notReady {
		if err := os.WriteFile(aa+".notready", []byte("systemd-logind is not running"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, aa, bb
}

// TestFallBackWhenNotReady: the best-ranked plugin whose probe says not
// ready hands its concern to the runner-up, which serves it; plugin.list
// and the log say which was passed over and why, and the one passed over
// stops.
func TestFallBackWhenNotReady(t *testing.T) {
	dir, _, _ := twoSessionsPlugins(t, true)
	h := start(t, dir)
	ready(t, h.Manager)
	i := info(h.Manager, "sessions")
	if i.Name != "bb-sessions" || i.State != core.PluginReady {
		t.Fatalf("sessions: %+v", i)
	}
	if len(i.PassedOver) != 1 || !strings.Contains(i.PassedOver[0], "aa-sessions not ready: systemd-logind is not running") {
		t.Errorf("passed over: %q", i.PassedOver)
	}
	if _, ok := h.log.find("falling back", "aa-sessions", "next=bb-sessions"); !ok {
		t.Error("the fallback is not in the log")
	}
	if _, err := h.Sessions().ListSessions(context.Background(), ""); err != nil {
		t.Errorf("a call after the fallback: %v", err)
	}
	locks, err := plugins.Locks(h.store)
	if err != nil || locks["sessions"].Name != "aa-sessions" {
		t.Errorf("the preferred plugin keeps the concern's lock entry: %+v %v", locks, err)
	}
}

// TestNoFallBackWhenReady: a ready best-ranked plugin is used and nothing
// is passed over.
func TestNoFallBackWhenReady(t *testing.T) {
	dir, _, _ := twoSessionsPlugins(t, false)
	h := start(t, dir)
	ready(t, h.Manager)
	if i := info(h.Manager, "sessions"); i.Name != "aa-sessions" || len(i.PassedOver) != 0 {
		t.Fatalf("sessions: %+v", i)
	}
}

// TestFallBackIsPinnedByTheLock: the plugin fallen back to is pinned like
// any other: a restart admits it unchanged, a changed binary is refused
// until approved, and Approve ends on it ready again.
func TestFallBackIsPinnedByTheLock(t *testing.T) {
	dir, _, bb := twoSessionsPlugins(t, true)
	store, log := newStore(), newLogBook()
	m := startWith(t, dir, store, log)
	ready(t, m)
	m.Close()

	m = startWith(t, dir, store, log)
	ready(t, m)
	if i := info(m, "sessions"); i.Name != "bb-sessions" || i.State != core.PluginReady {
		t.Fatalf("restart: %+v", i)
	}
	m.Close()

	replaceTampered(t, bb)
	m = startWith(t, dir, store, log)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = m.WaitReady(ctx)
	if i := info(m, "sessions"); i.State != core.PluginRefused || !strings.Contains(i.LastError, "plugin-approve sessions") {
		t.Fatalf("a changed fallback binary: %+v", i)
	}
	if err := m.Approve(ctx, "sessions"); err != nil {
		t.Fatal(err)
	}
	if i := info(m, "sessions"); i.Name != "bb-sessions" || i.State != core.PluginReady || len(i.PassedOver) != 1 {
		t.Fatalf("after approve: %+v", i)
	}
}
