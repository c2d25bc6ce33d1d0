//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/threefoldtech/hero_codescalers/sdk"
)

// aclModule is the module the acl and sshkeys plugins are built from.
const aclModule = "github.com/threefoldtech/hero_codescalers"

// aclEnv is the environment the acl and sshkeys plugins run with here:
// the sandbox's btrfs home root.
var aclEnv = []string{"HERO_CODESCALERS_PLUGIN_HOME_ROOT=/home"}

// aclBuild builds plugins/<name> into a temporary directory, with its
// manifest beside it as `make build` writes it.
func aclBuild(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, aclModule+"/plugins/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	manifest, err := exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("%s describe: %v", bin, err)
	}
	if err := os.WriteFile(sdk.ManifestPath(bin), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

// aclDispense starts a plugin as the host does (go-plugin, gRPC,
// sdk.Handshake) and dispenses one concern; the plugin is killed at
// cleanup.
func aclDispense(t *testing.T, bin, concern string) any {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), aclEnv...)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	raw, err := rpc.Dispense(concern)
	if err != nil {
		t.Fatalf("dispense %s: %v", concern, err)
	}
	return raw
}

// aclRun runs a tool and fails the test when it fails.
func aclRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// aclUser creates a sandbox account (no home) and removes it at cleanup.
func aclUser(t *testing.T, name string) {
	t.Helper()
	aclRun(t, "useradd", "--no-create-home", "--shell", "/bin/sh", "--", name)
	t.Cleanup(func() { _ = exec.Command("userdel", "--", name).Run() })
}

// aclGroup creates a sandbox group and removes it at cleanup.
func aclGroup(t *testing.T, name string) {
	t.Helper()
	aclRun(t, "groupadd", "--", name)
	t.Cleanup(func() { _ = exec.Command("groupdel", "--", name).Run() })
}

// aclScratch is a fresh directory below the sandbox's /home (not directly
// in it: a direct child of the home root is a home, which the acl plugins
// guard), removed at cleanup.
func aclScratch(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("/home", "hc-acl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "work")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// getfacl is the real getfacl's view of path, without the header.
func getfacl(t *testing.T, args ...string) string {
	t.Helper()
	return aclRun(t, "getfacl", append([]string{"--omit-header", "--absolute-names"}, args...)...)
}
