//go:build integration

package integration

// The harness: the one copy of what every integration test shares —
// building the plugins and the CLI, starting a plugin as the host does, a
// private sshd, polling with a deadline, a log buffer, running a tool.

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
)

const modulePath = "github.com/threefoldtech/hero_codescalers"

// builtinPlugins are the plugins `make build` puts beside the binary.
var builtinPlugins = []string{"shadow", "files", "btrfs", "dir", "posixacl", "mode", "openssh", "authorizedkeysd", "procfs", "logind", "cgroupfs", "systemd"}

// buildRoot holds everything built for this test binary; removeBuilds
// (from TestMain) deletes it.
var buildRoot struct {
	once sync.Once
	dir  string
	err  error
}

// buildCache holds what is built, by key, for the whole test binary.
var buildCache sync.Map // key → *cachedBinary

type cachedBinary struct {
	once sync.Once
	path string
	err  error
}

// cachedBuild runs make once per key for the whole test binary, in a fresh
// directory of its own, and returns what make returned.
func cachedBuild(t testing.TB, key string, make func(dir string) (string, error)) string {
	t.Helper()
	v, _ := buildCache.LoadOrStore(key, &cachedBinary{})
	b := v.(*cachedBinary)
	b.once.Do(func() {
		buildRoot.once.Do(func() { buildRoot.dir, buildRoot.err = os.MkdirTemp("", "hc-build-") })
		if b.err = buildRoot.err; b.err != nil {
			return
		}
		dir, err := os.MkdirTemp(buildRoot.dir, "b-")
		if err != nil {
			b.err = err
			return
		}
		b.path, b.err = make(dir)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// removeBuilds deletes what cachedBuild made; TestMain calls it once the
// tests are done.
func removeBuilds() {
	if buildRoot.dir != "" {
		os.RemoveAll(buildRoot.dir)
	}
}

// multiCall is the built-in plugins' one binary (plugins/multiCall); each
// plugin is a hard link to it by the plugin's name.
const multiCall = "hero_codescalers_plugins"

// buildMultiCall builds the plugins' binary with the given build tags, once
// per set of tags for the whole test binary.
func buildMultiCall(t testing.TB, tags ...string) string {
	t.Helper()
	return cachedBuild(t, "multicall "+strings.Join(tags, ","), func(dir string) (string, error) {
		bin := filepath.Join(dir, multiCall)
		return bin, goBuild(bin, "plugins/"+multiCall, tags...)
	})
}

// linkPlugin makes dir/name the plugin name, a hard link to the plugins'
// binary bin as make build links it, with its manifest beside it.
func linkPlugin(bin, dir, name string) (string, error) {
	link := filepath.Join(dir, name)
	if err := os.Link(bin, link); err != nil {
		return "", err
	}
	return link, writeManifest(link)
}

// buildPlugin is the plugin name built with the given build tags (a hard
// link to the plugins' binary, with its manifest beside it, as `make build`
// lays it out), once per name and tags for the whole test binary. The
// binary is shared: tests must not change it.
func buildPlugin(t testing.TB, name string, tags ...string) string {
	t.Helper()
	key := "plugin " + name + " " + strings.Join(tags, ",")
	if standalone(name) {
		return cachedBuild(t, key, func(dir string) (string, error) {
			bin := filepath.Join(dir, name)
			if err := goBuild(bin, "plugins/"+name, tags...); err != nil {
				return "", err
			}
			return bin, writeManifest(bin)
		})
	}
	bin := buildMultiCall(t, tags...)
	return cachedBuild(t, key, func(dir string) (string, error) { return linkPlugin(bin, dir, name) })
}

var packageMain = regexp.MustCompile(`(?m)^package main$`)

// standalone says whether plugins/<name> is still a package main of its
// own, not in the multi-call binary: built alone, as make build does.
func standalone(name string) bool {
	b, err := os.ReadFile(filepath.Join("..", "plugins", name, "main.go"))
	return err == nil && packageMain.Match(b)
}

// buildTree builds hero_codescalers (without cgo, as make does),
// hero_codescalers_server beside it, and every built-in plugin (the
// plugins' binary with a hard link and a manifest for each) into one
// directory laid out as `make build` lays bin/, once per set of build tags
// (comma-separated) for the whole test binary.
func buildTree(t testing.TB, tags string) string {
	t.Helper()
	var tagList []string
	if tags != "" {
		tagList = strings.Split(tags, ",")
	}
	return cachedBuild(t, "tree "+tags, func(dir string) (string, error) {
		if err := os.Mkdir(filepath.Join(dir, "plugins"), 0o755); err != nil {
			return "", err
		}
		if err := goBuildEnv([]string{"CGO_ENABLED=0"}, filepath.Join(dir, "hero_codescalers"), "cli/hero_codescalers", tagList...); err != nil {
			return "", err
		}
		if err := goBuild(filepath.Join(dir, "hero_codescalers_server"), "cli/hero_codescalers_server", tagList...); err != nil {
			return "", err
		}
		bin := filepath.Join(dir, "plugins", multiCall)
		if err := goBuild(bin, "plugins/"+multiCall, tagList...); err != nil {
			return "", err
		}
		for _, p := range builtinPlugins {
			if standalone(p) {
				pbin := filepath.Join(dir, "plugins", p)
				if err := goBuild(pbin, "plugins/"+p, tagList...); err != nil {
					return "", err
				}
				if err := writeManifest(pbin); err != nil {
					return "", err
				}
				continue
			}
			if _, err := linkPlugin(bin, filepath.Join(dir, "plugins"), p); err != nil {
				return "", err
			}
		}
		return dir, nil
	})
}

// goBuild builds the module's package pkg into out.
func goBuild(out, pkg string, tags ...string) error {
	return goBuildEnv(nil, out, pkg, tags...)
}

// goBuildEnv is goBuild with env added to go's environment.
func goBuildEnv(env []string, out, pkg string, tags ...string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command(gobin, append(args, modulePath+"/"+pkg)...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// writeManifest writes `<bin> describe` to the manifest file beside bin.
func writeManifest(bin string) error {
	manifest, err := exec.Command(bin, "describe").Output()
	if err != nil {
		return fmt.Errorf("%s describe: %v", bin, err)
	}
	return os.WriteFile(sdk.ManifestPath(bin), manifest, 0o644)
}

// startPlugin starts a plugin binary as the host does (go-plugin, gRPC,
// sdk.Handshake, sdk.PluginMap, the volumes.DeferSync mark carried) with
// the test's environment plus env; the plugin is killed at cleanup.
func startPlugin(t testing.TB, bin string, env ...string) *plugin.Client {
	t.Helper()
	return startPluginSpeaking(t, bin, nil, env...)
}

// startPluginSpeaking is startPlugin for a plugin that speaks the contract
// versions apis (as its manifest lists them, e.g. sessionsgrpc.V1): its
// clients are the host's adapters of those versions; nil means the
// current ones.
func startPluginSpeaking(t testing.TB, bin string, apis []string, env ...string) *plugin.Client {
	t.Helper()
	var speaks func() []string
	if apis != nil {
		speaks = sdk.APIs(apis)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(speaks),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		GRPCDialOptions:  []grpc.DialOption{grpc.WithChainUnaryInterceptor(volumesgrpc.DeferSyncClientInterceptor)},
	})
	t.Cleanup(client.Kill)
	if _, err := client.Client(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return client
}

// dispense returns the client of one concern (sdk.ConcernAccounts, …) of a
// plugin startPlugin started, as its sdk interface T.
func dispense[T any](t testing.TB, client *plugin.Client, concern string) T {
	t.Helper()
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("plugin client: %v", err)
	}
	raw, err := rpc.Dispense(concern)
	if err != nil {
		t.Fatalf("dispense %s: %v", concern, err)
	}
	c, ok := raw.(T)
	if !ok {
		var want T
		t.Fatalf("dispense %s: got %T, want %T", concern, raw, &want)
	}
	return c
}

// sshdOptions shapes the sshd startSSHD runs.
type sshdOptions struct {
	// UsePAM runs sshd with UsePAM yes (pam_loginuid, audit sessions).
	UsePAM bool
	// HostKey is the private host key; empty, ssh-keygen makes one.
	HostKey string
	// AllowUsers, when set, is the only account sshd lets in.
	AllowUsers string
	// AuthorizedKeysFile is where sshd reads users' keys; the default
	// .ssh/authorized_keys when empty.
	AuthorizedKeysFile string
}

// startSSHD runs /usr/sbin/sshd -D -e on a free port of 127.0.0.1 with a
// private config (key logins only, StrictModes, LogLevel VERBOSE) and host
// key in a temporary directory, waits until it accepts connections, and
// stops it, by its process group, at cleanup. It returns the port and
// sshd's log.
func startSSHD(t testing.TB, opts sshdOptions) (string, *logBuffer) {
	t.Helper()
	if _, err := os.Stat("/run/sshd"); errors.Is(err, os.ErrNotExist) {
		// sshd's privilege separation directory is compiled in.
		if err := os.Mkdir("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove("/run/sshd") })
	}
	dir := t.TempDir()
	hostKey := opts.HostKey
	if hostKey == "" {
		hostKey = filepath.Join(dir, "host_ed25519")
		mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	pam := map[bool]string{false: "no", true: "yes"}[opts.UsePAM]
	keysFile := opts.AuthorizedKeysFile
	if keysFile == "" {
		keysFile = ".ssh/authorized_keys"
	}
	cfg := []string{
		"ListenAddress 127.0.0.1", "HostKey " + hostKey, "PidFile none", "UsePAM " + pam, "StrictModes yes",
		"PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
		"AuthorizedKeysFile " + keysFile, "PermitRootLogin no", "UseDNS no", "PrintMotd no",
		"PrintLastLog no", "MaxStartups 200", "LogLevel VERBOSE",
	}
	if opts.AllowUsers != "" {
		cfg = append(cfg, "AllowUsers "+opts.AllowUsers)
	}
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(append(cfg, ""), "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfgPath, "-p", port)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	waitFor(t, "sshd listening on "+port, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("sshd exited:\n%s", logs)
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port, logs
}

// sshArgs are the ssh client's arguments for a login with key to the
// startSSHD on port: no config, agent or known hosts, batch mode; the
// destination and the remote command follow.
func sshArgs(key, port string) []string {
	return []string{"-F", "/dev/null", "-i", key, "-p", port, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"}
}

// eventually polls cond, backing off from 10ms to 200ms between tries,
// until it holds (true) or within has passed (false).
func eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	step := 10 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(step)
		step = min(step*2, 200*time.Millisecond)
	}
	return true
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	if !eventually(within, cond) {
		t.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// logBuffer collects a process's output while tests read it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// mustRun runs a tool and fails the test when it fails; it returns the
// tool's output.
func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
