// Command testhost is a minimal host for the plugin manager's process
// tests: it starts a Manager over an in-memory lock, reports the plugins
// and one call through every concern as JSON lines on stdout, then waits
// until stdin closes or SIGTERM arrives and stops the plugins. Tests
// SIGKILL it to prove no plugin outlives its host, and the integration
// test runs it as an unprivileged account to prove the sudo path.
//
//	testhost -dir DIR [-dir DIR...] [-mode auto|direct|sudo]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/host/plugins"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
)

// Report is the first line testhost prints.
type Report struct {
	Ready   bool              `json:"ready"`
	Error   string            `json:"error,omitempty"`
	Calls   map[string]string `json:"calls"` // concern → "ok" or the error
	UID     int               `json:"uid"`
	Plugins []core.PluginInfo `json:"plugins"`
}

type dirs []string

func (d *dirs) String() string     { return strings.Join(*d, ",") }
func (d *dirs) Set(v string) error { *d = append(*d, v); return nil }

func main() {
	var ds dirs
	flag.Var(&ds, "dir", "plugin dir (repeatable)")
	mode := flag.String("mode", "auto", "auto, direct or sudo")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := plugins.New(plugins.Options{Dirs: ds, Store: memstore.New(), Logger: log, Mode: parseMode(*mode),
		Platform: &plugins.Platform{ID: "linux", FSType: "ext4"}})
	if err == nil {
		err = m.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testhost:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	rep := Report{UID: os.Getuid(), Calls: map[string]string{}}
	if err := m.WaitReady(ctx); err != nil {
		rep.Error = err.Error()
	}
	rep.Ready = rep.Error == ""
	callAll(ctx, m, rep.Calls)
	cancel()
	rep.Plugins = m.List()
	_ = json.NewEncoder(os.Stdout).Encode(rep)
	waitForEnd()
	_ = m.Close()
}

// callAll makes one read call through each concern's client.
func callAll(ctx context.Context, m *plugins.Manager, out map[string]string) {
	res := func(concern string, err error) {
		out[concern] = "ok"
		if err != nil {
			out[concern] = err.Error()
		}
	}
	_, err := m.Accounts().CreateUser(ctx, accounts.UserSpec{Name: "alice"})
	res("accounts", err)
	_, err = m.Volumes().ListSnapshots(ctx, "/home/alice")
	res("volumes", err)
	_, err = m.ACL().Get(ctx, "/home/alice")
	res("acl", err)
	_, err = m.SSHKeys().ListAuthorizedKeys(ctx, lifecycle.User{Name: "alice", Home: "/home/alice"})
	res("sshkeys", err)
	_, err = m.Sessions().ListSessions(ctx, "")
	res("sessions", err)
	for _, c := range m.All() {
		if l, ok := c.Client.(limits.Limits); ok {
			_, err = l.Get(ctx, lifecycle.User{Name: "alice", UID: 1001})
			res(c.Name, err)
		}
	}
}

func waitForEnd() {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-done:
	case <-sig:
	}
}

func parseMode(s string) plugins.Mode {
	switch s {
	case "direct":
		return plugins.ModeDirect
	case "sudo":
		return plugins.ModeSudo
	}
	return plugins.ModeAuto
}
