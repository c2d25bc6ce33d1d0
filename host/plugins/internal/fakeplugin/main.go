// Command fakeplugin is the plugin manager's test plugin: the sdk's
// map-backed fakes served through sdk.Serve, shaped by its own file name so
// that copies of one binary are distinct plugins:
//
//   - its name is the file's base name ("tp-accounts");
//   - it serves the concerns named in the dash-separated parts of its name,
//     or all five when none is ("tp-accounts-volumes", "allinone");
//   - each start appends its pid to <path>.starts, so a test can prove a
//     refused binary never ran;
//   - Probe answers not ready, with the file's text as the reason, while
//     <path>.notready exists, and does not answer while <path>.hang does;
//   - sessions.KillSession("slow", grace) logs "slow call started" and
//     blocks for grace or until cancelled, to hold a call in flight;
//   - volumes.WriteFile of a file named "deferred" fails with
//     FailedPrecondition unless the call came under volumes.DeferSync, and
//     of one named "durable" unless it did not, so a test sees the mark
//     cross the host's connection.
//
// The name, not the environment, carries all of this because sudo resets
// the environment on the unprivileged path.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

func main() {
	self := os.Args[0]
	name := filepath.Base(self)
	serves := concernsOf(name)
	cfg := sdk.Config{
		Name:     name,
		Version:  "1.0.0",
		Supports: identity.Supports{Generic: true},
		Probe:    probe(self),
	}
	if serves(sdk.ConcernAccounts) {
		cfg.Accounts = accounts.NewFake()
	}
	if serves(sdk.ConcernVolumes) {
		cfg.Volumes = markedVolumes{Fake: volumes.NewFake()}
	}
	if serves(sdk.ConcernACL) {
		cfg.ACL = acl.NewFake()
	}
	if serves(sdk.ConcernSSHKeys) {
		cfg.SSHKeys = sshkeys.NewFake()
	}
	if serves(sdk.ConcernSessions) {
		cfg.Sessions = &slowSessions{Fake: sessions.NewFake()}
	}
	if serves(sdk.ConcernLimits) {
		cfg.Limits = limits.NewFake()
	}
	if len(os.Args) == 1 {
		recordStart(self)
	}
	sdk.Serve(cfg)
}

func concernsOf(name string) func(string) bool {
	var named []string
	for _, part := range strings.Split(name, "-") {
		if slices.Contains(sdk.Concerns, part) {
			named = append(named, part)
		}
	}
	return func(c string) bool { return len(named) == 0 || slices.Contains(named, c) }
}

func recordStart(self string) {
	f, err := os.OpenFile(self+".starts", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintln(f, os.Getpid())
	f.Close()
}

func probe(self string) func(context.Context) identity.ProbeResult {
	return func(ctx context.Context) identity.ProbeResult {
		if _, err := os.Stat(self + ".hang"); err == nil {
			<-ctx.Done()
			return identity.ProbeResult{Ready: false, Reason: "hung"}
		}
		if why, err := os.ReadFile(self + ".notready"); err == nil {
			return identity.ProbeResult{Ready: false, Reason: strings.TrimSpace(string(why))}
		}
		return identity.ProbeResult{Ready: true}
	}
}

// slowSessions holds KillSession("slow") in flight.
type slowSessions struct{ *sessions.Fake }

func (s *slowSessions) KillSession(ctx context.Context, id string, grace time.Duration) error {
	if id != "slow" {
		return s.Fake.KillSession(ctx, id, grace)
	}
	hclog.Default().Info("slow call started")
	select {
	case <-time.After(grace):
	case <-ctx.Done():
	}
	return nil
}

// markedVolumes checks the DeferSync mark of WriteFile calls by file name.
type markedVolumes struct{ *volumes.Fake }

func (v markedVolumes) WriteFile(ctx context.Context, path string, data []byte, owner volumes.Owner) error {
	switch deferred := volumes.SyncDeferred(ctx); {
	case filepath.Base(path) == "deferred" && !deferred:
		return sdk.Errorf(sdk.FailedPrecondition, "%s: the call came without the defer-sync mark", path)
	case filepath.Base(path) == "durable" && deferred:
		return sdk.Errorf(sdk.FailedPrecondition, "%s: the call came with the defer-sync mark", path)
	}
	return v.Fake.WriteFile(ctx, path, data, owner)
}
