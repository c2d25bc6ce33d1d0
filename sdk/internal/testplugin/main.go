// Command testplugin is the sdk's own test plugin: the map-backed fakes of
// every concern served through sdk.Serve, with modes (TESTPLUGIN_MODE) that
// misbehave the ways the conformance kit must catch:
//
//	""             well-behaved, every concern
//	sessions-only  serves sessions only
//	junk           writes to fd 1 and os.Stdout on every Probe; sdk.Serve
//	               must keep that off stdout
//	raw-junk       bypasses sdk.Serve (plain go-plugin, no watchdog) and
//	               writes to fd 1 on every Probe
//	pre-junk       prints a line before the handshake
//	silent         never handshakes
//	unfenced       serves the fakes without the fence: the kit's fence
//	               checks must fail
//	escape         ignores the policy: every Probe writes
//	               /etc/hero_codescalers-ptest-escape, and /root, /home,
//	               /var/log and /var/mail files of the same name; the kit's sandbox must keep
//	               them off the machine
//	no-mtls        ignores the host's PLUGIN_CLIENT_CERT and serves
//	               plaintext: the kit's handshake (AutoMTLS, as the host's)
//	               must fail
package main

import (
	"context"
	"fmt"
	"os"
	"syscall"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/fsutil"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/identity/identitygrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/limits"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

func main() {
	// The fakes keep everything in memory, yet are fenced as a real
	// plugin is: the kit checks that paths outside the policy's roots are
	// refused, and a third-party plugin gets that by wrapping its
	// implementations the same way.
	fence := fsutil.LoadFence("testplugin")
	cfg := sdk.Config{
		Name:     "testplugin",
		Version:  "0.0.1",
		Supports: identity.Supports{Generic: true},
		Probe:    fence.Probe(nil),
		Accounts: accounts.NewFake(),
		Volumes:  fsutil.FenceVolumes(fence, volumes.NewFake()),
		ACL:      fsutil.FenceACL(fence, acl.NewFake()),
		SSHKeys:  fsutil.FenceSSHKeys(fence, syncedKeys()),
		Sessions: sessions.NewFake(),
		Limits:   limits.NewFake(),
	}
	switch mode := os.Getenv("TESTPLUGIN_MODE"); mode {
	case "":
	case "sessions-only":
		cfg.Accounts, cfg.Volumes, cfg.ACL, cfg.SSHKeys, cfg.Limits = nil, nil, nil, nil, nil
	case "junk":
		cfg.Probe = fence.Probe(junkProbe)
	case "raw-junk":
		serveRaw(cfg)
		return
	case "pre-junk":
		fmt.Println("hello from a plugin that talks too early")
	case "silent":
		select {}
	case "unfenced":
		cfg.Volumes, cfg.ACL, cfg.SSHKeys = volumes.NewFake(), acl.NewFake(), syncedKeys()
	case "escape":
		cfg.Probe = escapeProbe
	case "no-mtls":
		os.Unsetenv("PLUGIN_CLIENT_CERT")
	default:
		fmt.Fprintf(os.Stderr, "testplugin: unknown TESTPLUGIN_MODE %q\n", mode)
		os.Exit(2)
	}
	sdk.Serve(cfg)
}

// syncedKeys is the sshkeys fake as a plugin that syncs what it writes:
// its files are not on disk for the host (or the kit) to sync.
func syncedKeys() *sshkeys.Fake {
	k := sshkeys.NewFake()
	k.Synced = true
	return k
}

// junkProbe writes to stdout both ways a plugin can: the raw fd and the
// os.Stdout variable.
func junkProbe(context.Context) identity.ProbeResult {
	_, _ = syscall.Write(1, []byte("junk on fd 1\n"))
	fmt.Println("junk on os.Stdout")
	return identity.ProbeResult{Ready: true}
}

// escapeProbe is a plugin that ignores its policy and writes where it
// likes.
func escapeProbe(context.Context) identity.ProbeResult {
	for _, dir := range []string{"/etc", "/root", "/home", "/var/log", "/var/mail"} {
		_ = os.WriteFile(dir+"/hero_codescalers-ptest-escape", []byte("escaped\n"), 0o644)
	}
	return identity.ProbeResult{Ready: true}
}

// serveRaw serves like a plugin written without sdk.Serve: go-plugin only,
// no stdout guard, no watchdog.
func serveRaw(cfg sdk.Config) {
	if len(os.Args) > 1 && os.Args[1] == "describe" {
		sdk.Serve(cfg) // the manifest is the same
	}
	info := cfg.Manifest().Info()
	set := plugin.PluginSet{
		sdk.ConcernIdentity: &identitygrpc.Plugin{Impl: &identity.Static{Info: info, ProbeFunc: junkProbe}},
	}
	impls := map[string]any{sdk.ConcernAccounts: cfg.Accounts, sdk.ConcernVolumes: cfg.Volumes,
		sdk.ConcernACL: cfg.ACL, sdk.ConcernSSHKeys: cfg.SSHKeys, sdk.ConcernSessions: cfg.Sessions, sdk.ConcernLimits: cfg.Limits}
	for _, d := range sdk.Registry {
		set[d.Name] = d.ServerPlugin(impls[d.Name])
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: sdk.Handshake,
		Plugins:         set,
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
