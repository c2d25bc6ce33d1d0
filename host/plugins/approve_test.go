package plugins_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
)

// A pin that moves a concern to another plugin is a change of the lock
// too: refused until approved.
func TestChangedChoiceNeedsApproval(t *testing.T) {
	dir := pluginDir(t)
	fp := binary(t, "fakeplugin")
	install(t, dir, fp, "tp-accounts")
	install(t, dir, fp, "zz-accounts")
	h := start(t, dir)
	ready(t, h.Manager)
	if i := info(h.Manager, "accounts"); i.Name != "tp-accounts" {
		t.Fatalf("ties go to the name first in order: %+v", i)
	}
	h.Close()

	m := startWith(t, dir, h.store, newLogBook(), func(o *plugins.Options) {
		o.Pins = map[string]string{"accounts": "zz-accounts"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = m.WaitReady(ctx)
	i := info(m, "accounts")
	if i.State != core.PluginRefused || !strings.Contains(i.LastError, "plugin changed from tp-accounts (") ||
		!strings.Contains(i.LastError, ") to zz-accounts (") {
		t.Fatalf("%+v", i)
	}
	if err := m.Approve(ctx, "accounts"); err != nil {
		t.Fatal(err)
	}
	if i := info(m, "accounts"); i.State != core.PluginReady || i.Name != "zz-accounts" {
		t.Fatalf("%+v", i)
	}
}

// Approving one concern of a changed multi-concern binary starts it for
// that concern only; approving the next reuses the same process.
func TestApproveConcernByConcern(t *testing.T) {
	dir := pluginDir(t)
	path := install(t, dir, binary(t, "fakeplugin"), "allinone")
	h := start(t, dir)
	ready(t, h.Manager)
	h.Close()
	appendTo(t, path, "upgrade")

	m := startWith(t, dir, h.store, newLogBook())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = m.WaitReady(ctx)
	for _, i := range m.List() {
		if i.State != core.PluginRefused {
			t.Fatalf("%+v", i)
		}
	}
	if err := m.Approve(ctx, "accounts"); err != nil {
		t.Fatal(err)
	}
	acc, vol := info(m, "accounts"), info(m, "volumes")
	if acc.State != core.PluginReady || vol.State != core.PluginRefused {
		t.Fatalf("accounts %+v, volumes %+v", acc, vol)
	}
	if _, err := m.Volumes().GetUsage(ctx, "/home/a"); !core.IsCode(err, core.Unavailable) {
		t.Errorf("a refused concern answered: %v", err)
	}
	if err := m.Approve(ctx, "volumes"); err != nil {
		t.Fatal(err)
	}
	if vol := info(m, "volumes"); vol.State != core.PluginReady || vol.PID != acc.PID {
		t.Fatalf("volumes %+v, want the accounts process %d", vol, acc.PID)
	}
	if _, err := m.Volumes().ListSnapshots(ctx, "/home/a"); err != nil {
		t.Error(err)
	}
	if n := starts(path); n != 2 {
		t.Errorf("%d processes started, want 2 (one per approved digest)", n)
	}
	if err := m.Approve(ctx, "printers"); !core.IsCode(err, core.Invalid) {
		t.Errorf("unknown concern: %v", err)
	}
}
