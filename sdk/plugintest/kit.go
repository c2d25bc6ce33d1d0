package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/conformance"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

// kit is one conformance run: the plugin under test, started once for the
// call checks, and the report being filled.
type kit struct {
	opts    Options
	binary  string
	report  *Report
	sandbox *sandbox // nil when the kit is not root
	owner   owner    // who the checks give files to

	client *plugin.Client
	rpc    plugin.ClientProtocol
	runner *captureRunner
	after  lockedBuffer // raw stdout after the handshake line
	stdio  lockedBuffer // stdout sent over go-plugin's stdio stream
	info   identity.Info
	ready  bool
	// baseline is the state (checks.go) before the concerns' checks ran.
	baseline conformance.Snapshot
}

func (k *kit) check(ctx context.Context, name string, fn func(context.Context) error) bool {
	start := time.Now()
	err := fn(ctx)
	res := Result{Name: name, Status: Pass, Duration: time.Since(start)}
	if text, ok := conformance.IsNote(err); ok {
		res.Reason = text
	} else if reason, ok := conformance.IsSkip(err); ok {
		res.Status, res.Reason = Skip, reason
	} else if err != nil {
		res.Status, res.Reason = Fail, err.Error()
	}
	k.report.Results = append(k.report.Results, res)
	return res.Status != Fail
}

func (k *kit) run(ctx context.Context) {
	k.grantRoots(ctx)
	k.check(ctx, "sandbox", k.sandboxNote)
	if k.check(ctx, "handshake", k.handshake) {
		k.check(ctx, "identity", k.identity)
		k.check(ctx, "manifest", k.manifest)
		k.check(ctx, "probe", k.probe)
		k.check(ctx, "dispense", k.dispense)
		k.check(ctx, "mtls", k.mtls)
		k.baseline, _ = k.state()
		for _, d := range sdk.Registry {
			if !slices.Contains(k.info.Concerns, d.Name) {
				continue
			}
			for _, c := range d.Checks {
				k.check(ctx, c.Name+"/"+d.Name, func(ctx context.Context) error { return k.runCheck(ctx, d, c) })
			}
		}
		k.check(ctx, "clean-stdout", k.cleanStdout)
	} else if k.client != nil {
		k.client.Kill()
	}
	k.check(ctx, "sigterm", k.sigterm)
	k.check(ctx, "host-death", k.hostDeath)
}

// sandboxNote states where the plugin runs.
func (k *kit) sandboxNote(context.Context) error {
	if k.sandbox != nil {
		return conformance.Note(k.sandbox.describe())
	}
	return conformance.Note(fmt.Sprintf("not root: no sandbox; the plugin runs as uid %d, with no privilege to harm the machine, "+
		"under the machine's own policy (checks in the scratch directory skip where that policy refuses it)", os.Getuid()))
}

func (k *kit) handshake(ctx context.Context) error {
	argv, env, err := k.command(k.binary)
	if err != nil {
		return err
	}
	env = append(slices.Clone(k.opts.Env), env...)
	if k.sandbox != nil {
		// go-plugin's default, the plugin's /tmp, is its own tmpfs there.
		env = append(env, "PLUGIN_UNIX_SOCKET_DIR="+k.sandbox.sockDir)
	}
	k.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(func() []string { return k.info.APIVersions }),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		RunnerFunc:       runnerFunc(argv, k.opts.ScratchDir, env, &k.after, &k.runner),
		StartTimeout:     k.opts.Timeout,
		Logger:           k.opts.Logger,
		SyncStdout:       &k.stdio,
		SyncStderr:       io.Discard,
		// As the host's: the volumes.DeferSync mark travels.
		GRPCDialOptions: append(sdk.ClientWindow(), grpc.WithChainUnaryInterceptor(volumesgrpc.DeferSyncClientInterceptor)),
		// As the host's too: the plugin gets PLUGIN_CLIENT_CERT and must
		// answer with a certificate of its own and serve mutual TLS.
		AutoMTLS: true,
	})
	rpc, err := k.client.Client()
	if err != nil {
		return fmt.Errorf("go-plugin handshake (with AutoMTLS, as the host starts plugins): %w", err)
	}
	k.rpc = rpc
	if err := rpc.Ping(); err != nil {
		return fmt.Errorf("ping after handshake (AutoMTLS: mutual TLS with the certificate in PLUGIN_CLIENT_CERT): %w", err)
	}
	return nil
}

func (k *kit) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, k.opts.Timeout)
}

func (k *kit) identity(ctx context.Context) error {
	raw, err := k.rpc.Dispense(sdk.ConcernIdentity)
	if err != nil {
		return fmt.Errorf("dispense identity: %w", err)
	}
	cctx, cancel := k.call(ctx)
	defer cancel()
	info, err := raw.(identity.Identity).GetInfo(cctx)
	if err != nil {
		return fmt.Errorf("GetInfo: %w", err)
	}
	k.info, k.report.Info = info, info
	if err := sdk.CheckVersion(info.Version); err != nil {
		return fmt.Errorf("GetInfo: %w", err)
	}
	if !slices.Contains(info.APIVersions, identity.APIVersion) {
		return fmt.Errorf("GetInfo: api_versions %v lack %q", info.APIVersions, identity.APIVersion)
	}
	if err := sdk.ManifestFromInfo(info).Validate(); err != nil {
		return fmt.Errorf("GetInfo: %w", err)
	}
	s := info.Supports
	if !s.Generic && len(s.OSIDs)+len(s.OSIDLikes)+len(s.FSTypes) == 0 {
		return errors.New("GetInfo: supports matches no machine (no os_ids, os_id_likes, fs_types, nor generic)")
	}
	return nil
}

// manifest checks `<binary> describe` and the manifest file beside the
// binary against GetInfo: the host chooses plugins by them before it
// starts any.
func (k *kit) manifest(ctx context.Context) error {
	described, err := k.describe(ctx)
	if err != nil {
		return err
	}
	if err := sameInfo("describe", described.Info(), k.info); err != nil {
		return err
	}
	file, err := sdk.ReadManifest(k.binary)
	if errors.Is(err, os.ErrNotExist) {
		return conformance.Note("describe matches GetInfo; no " + sdk.ManifestPath(k.binary) + " yet")
	} else if err != nil {
		return fmt.Errorf("%s: %w", sdk.ManifestPath(k.binary), err)
	}
	return sameInfo(sdk.ManifestPath(k.binary), file.Info(), k.info)
}

// describe runs `<binary> describe` (in the sandbox, when there is one)
// and decodes the manifest it prints.
func (k *kit) describe(ctx context.Context) (sdk.Manifest, error) {
	cctx, cancel := k.call(ctx)
	defer cancel()
	argv, env, err := k.command(k.binary, "describe")
	if err != nil {
		return sdk.Manifest{}, err
	}
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Dir = k.opts.ScratchDir
	cmd.Env = append(append(os.Environ(), k.opts.Env...), env...)
	out, err := cmd.Output()
	if err != nil {
		return sdk.Manifest{}, fmt.Errorf("%s describe: %w", k.binary, err)
	}
	m, err := sdk.DecodeManifest(strings.NewReader(string(out)))
	if err != nil {
		return sdk.Manifest{}, fmt.Errorf("describe: %w", err)
	}
	return m, nil
}

// grantRoots gives the plugin, in the sandbox's policy, the roots its
// manifest says it keeps state in — those the sandbox replaces (beneath
// /etc, its scratch copy, or a covered directory), so what the plugin
// writes there stays in the sandbox, and the lifecycle checks look there.
// A plugin that cannot describe itself is judged by the checks that follow.
func (k *kit) grantRoots(ctx context.Context) {
	if k.sandbox == nil {
		return
	}
	if m, err := k.describe(ctx); err == nil && len(m.Roots) > 0 {
		k.sandbox.grant(m.Name, m.Roots)
	}
}

func sameInfo(what string, got, want identity.Info) error {
	g, _ := json.Marshal(sdk.ManifestFromInfo(got))
	w, _ := json.Marshal(sdk.ManifestFromInfo(want))
	if norm(string(g)) != norm(string(w)) {
		return fmt.Errorf("%s says %s, GetInfo says %s", what, g, w)
	}
	return nil
}

// norm treats an empty list and a missing one alike.
func norm(s string) string { return strings.ReplaceAll(s, "null", "[]") }

func (k *kit) probe(ctx context.Context) error {
	raw, err := k.rpc.Dispense(sdk.ConcernIdentity)
	if err != nil {
		return err
	}
	cctx, cancel := k.call(ctx)
	defer cancel()
	res, err := raw.(identity.Identity).Probe(cctx)
	if err != nil {
		return fmt.Errorf("Probe: %w", err)
	}
	k.ready = res.Ready
	if !res.Ready {
		if res.Reason == "" {
			return errors.New("Probe: not ready, and no reason given")
		}
		return conformance.Note("not ready: " + res.Reason)
	}
	if res.Reason != "" {
		return conformance.Note("ready: " + res.Reason)
	}
	return nil
}
