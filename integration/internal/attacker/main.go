// Command attacker is the integration tests' hostile driver: run as the
// unprivileged driver account, it starts a root plugin exactly as the host
// does — `sudo -n -- PLUGIN`, go-plugin's handshake settings in PLUGIN_*
// variables that the sudoers rule keeps, AutoMTLS, the plugin's socket
// made reachable through the driver's group — speaks go-plugin to it
// directly, and tries every attack of its case table for the concern. It
// prints one JSON line per case: the plugin's answer, or "" when the
// attack was accepted. The test (TestDriverCannotEscape) judges them and
// checks the machine.
//
//	attacker -plugin PATH -concern volumes|acl|sshkeys|… < scene.json
//
// The scene (Scene) names what the test prepared: homes, accounts, planted
// links. Each concern's attacks live in a file of their own (volumes.go,
// acl.go, sshkeys.go); add a concern by adding a file that registers its
// attacks in init, and the fields it needs to Scene.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// Result is one attack's outcome, as printed.
type Result struct {
	Concern string `json:"concern"`
	Case    string `json:"case"`
	// Code and Error are the plugin's refusal; both empty when the
	// attack was accepted.
	Code  string `json:"code"`
	Error string `json:"error"`
}

// attack is one case: run returns the plugin's answer (nil: it worked).
type attack struct {
	name string
	run  func(ctx context.Context, impl any, s *Scene) error
}

// cases are the attacks by concern; each concern's file adds its own.
var cases = map[string][]attack{}

func main() {
	path := flag.String("plugin", "", "the plugin binary, as the sudoers rule names it")
	concern := flag.String("concern", "", "the concern to attack")
	flag.Parse()
	var scene Scene
	if err := json.NewDecoder(os.Stdin).Decode(&scene); err != nil {
		fail("read the scene: %v", err)
	}
	attacks, ok := cases[*concern]
	if !ok || *path == "" {
		fail("want -plugin and a -concern with cases (have %v)", keys())
	}
	client, impl := start(*path, *concern)
	defer client.Kill()
	enc := json.NewEncoder(os.Stdout)
	for _, a := range attacks {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := a.run(ctx, impl, &scene)
		cancel()
		r := Result{Concern: *concern, Case: a.name}
		if err != nil {
			r.Code, r.Error = string(sdkerr.CodeOf(err)), err.Error()
			if r.Code == "" {
				r.Code = "error"
			}
		}
		_ = enc.Encode(r)
	}
}

// start runs the plugin through sudo as the host's launch does (see
// host/plugins/launch.go) and dispenses concern.
func start(path, concern string) (*plugin.Client, any) {
	sudo, err := exec.LookPath("sudo")
	if err != nil {
		fail("no sudo: %v", err)
	}
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		fail("my group: %v", err)
	}
	cmd := exec.Command(sudo, "-n", "--", path)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", sdk.LogLevelEnv + "=warn"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              cmd,
		AutoMTLS:         true,
		SkipHostEnv:      true,
		UnixSocketConfig: &plugin.UnixSocketConfig{Group: g.Name},
		StartTimeout:     30 * time.Second,
		Logger:           hclog.NewNullLogger(),
		Stderr:           os.Stderr,
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		fail("start %s through sudo: %v", path, err)
	}
	impl, err := rpc.Dispense(concern)
	if err != nil {
		client.Kill()
		fail("dispense %s: %v", concern, err)
	}
	return client, impl
}

func keys() []string {
	var out []string
	for k := range cases {
		out = append(out, k)
	}
	return out
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "attacker: "+format+"\n", args...)
	os.Exit(2)
}
