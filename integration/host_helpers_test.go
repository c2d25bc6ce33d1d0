//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
	"github.com/threefoldtech/hero_codescalers/integration/sandbox"
)

// hostUnderTest is a `hero_codescalers serve` process of a test: the CLI
// hands over to hero_codescalers_server beside it with an exec, so cmd's
// pid is the host's own and signals reach it.
type hostUnderTest struct {
	t    *testing.T
	bin  string
	env  []string
	sock string
	cmd  *exec.Cmd
	args []string // more serve flags (a plugin pin)
	// wrap runs the host under another command that execs it, such as
	// nsenter into a test's network namespace.
	wrap []string
	// unpinned lets the host choose the sessions plugin itself (the
	// tests pin procfs: they open sessions procfs sees, over sshd).
	unpinned bool
	// degradedOK lets start return on a degraded health (a plugin the
	// lock refuses) as well as on ok.
	degradedOK bool
	log        *logBuffer
	done       chan struct{}
}

// newHost prepares (but does not start) a host whose state and sockets
// live in a fresh directory; the home root is the sandbox's btrfs /home.
func newHost(t *testing.T, tree string) *hostUnderTest {
	t.Helper()
	home, err := os.MkdirTemp("", "hc-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	h := &hostUnderTest{t: t, bin: filepath.Join(tree, "hero_codescalers"), sock: filepath.Join(home, "s", "hero_codescalers", "rpc.sock")}
	h.env = append(os.Environ(), "HOME="+home, "PATH_SOCKET="+filepath.Join(home, "s"),
		"HERO_CODESCALERS_DATA_DIR="+filepath.Join(home, "db"), "SECRET_CODESCALERS=integration-secret")
	return h
}

// start runs serve with extra environment (failpoints) and waits until
// /health answers.
func (h *hostUnderTest) start(extraEnv ...string) {
	h.t.Helper()
	h.log = &logBuffer{}
	args := []string{"serve", "--home-root", "/home", "--plugin", "sessions=procfs"}
	if h.unpinned {
		args = args[:3]
	}
	argv := append(append([]string{h.bin}, args...), h.args...)
	argv = append(append([]string{}, h.wrap...), argv...)
	h.cmd = exec.Command(argv[0], argv[1:]...)
	h.cmd.Env = append(append([]string{}, h.env...), extraEnv...)
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.done = make(chan struct{})
	cmd, done := h.cmd, h.done
	go func() { cmd.Wait(); close(done) }()
	h.t.Cleanup(func() { h.kill() })
	c := client.New(h.sock)
	defer c.Close()
	waitFor(h.t, "host health", 20*time.Second, func() bool {
		select {
		case <-done:
			h.t.Fatalf("host exited:\n%s", h.log)
		default:
		}
		hr, err := c.GetHealth(context.Background())
		return err == nil && (hr.Status == "ok" || h.degradedOK && hr.Status == "degraded")
	})
}

// stop ends the host with SIGTERM and waits for it.
func (h *hostUnderTest) stop() {
	h.t.Helper()
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		h.t.Fatalf("host did not stop:\n%s", h.log)
	}
}

// kill ends the host with SIGKILL (a crash) if it still runs, and waits.
func (h *hostUnderTest) kill() {
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	select {
	case <-h.done:
		return
	default:
	}
	_ = h.cmd.Process.Kill()
	<-h.done
}

// waitExit waits for the host to die by itself (a crash failpoint).
func (h *hostUnderTest) waitExit(within time.Duration) {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(within):
		h.t.Fatalf("host still running after %v:\n%s", within, h.log)
	}
}

// cli runs the CLI against this host and returns stdout, stderr and the
// exit code.
func (h *hostUnderTest) cli(args ...string) (string, string, int) {
	h.t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func (h *hostUnderTest) mustCLI(args ...string) string {
	h.t.Helper()
	out, errs, code := h.cli(args...)
	if code != 0 {
		h.t.Fatalf("hero_codescalers %s: exit %d\n%s%s\nhost log:\n%s", strings.Join(args, " "), code, out, errs, h.log)
	}
	return out
}

// call makes one JSON-RPC call and returns the wire error, if any.
func (h *hostUnderTest) call(method string, params, result any) *api.Error {
	h.t.Helper()
	c := client.New(h.sock)
	defer c.Close()
	err := c.Call(context.Background(), method, params, result)
	if err == nil {
		return nil
	}
	var we *api.Error
	if errors.As(err, &we) {
		return we
	}
	h.t.Fatalf("%s: %v", method, err)
	return nil
}

// callQuiet makes a call from a goroutine: it returns the wire error (or a
// synthetic one for a transport failure) and never touches the test.
func (h *hostUnderTest) callQuiet(method string, params any) *api.Error {
	c := client.New(h.sock)
	defer c.Close()
	err := c.Call(context.Background(), method, params, nil)
	var we *api.Error
	if err == nil || errors.As(err, &we) {
		return we
	}
	return &api.Error{Code: -1, Message: err.Error()}
}

// startNode sets the sandbox up as a node that runs hero_codescalers (the
// driver account, btrfs quotas on: a property of the filesystem, not of
// any one user), starts a host of the plain build on it, and returns the
// host with the machine's state before the test.
func startNode(t *testing.T) (*hostUnderTest, map[string]string) {
	t.Helper()
	sandbox.Require(t)
	ensureDriver(t)
	quotasOn(t)
	h := newHost(t, buildTree(t, ""))
	h.start()
	return h, machineState(t)
}

// machineState is what a user's life must leave as it found it: the four
// account files and btrfs's subvolume and qgroup lists.
func machineState(t testing.TB) map[string]string {
	t.Helper()
	st := map[string]string{}
	for _, f := range []string{"passwd", "shadow", "group", "gshadow"} {
		b, err := os.ReadFile("/etc/" + f)
		if err != nil {
			t.Fatal(err)
		}
		st[f] = string(b)
	}
	for name, args := range map[string][]string{
		"subvolumes": {"subvolume", "list", "/home"},
		"qgroups":    {"qgroup", "show", "--raw", "/home"},
	} {
		out, _ := exec.Command("btrfs", args...).CombinedOutput()
		st[name] = string(out)
	}
	return st
}

// sameMachine compares two machineStates; qgroups compare on their ids
// only (every level: a volume's group must go with it), since a deleted
// subvolume's qgroup numbers settle asynchronously.
func sameMachine(t testing.TB, before, after map[string]string) {
	t.Helper()
	for k, b := range before {
		a := after[k]
		if k == "qgroups" {
			b, a = qgroupIDs(b), qgroupIDs(a)
		}
		if a != b {
			t.Errorf("%s changed:\n--- before\n%s\n--- after\n%s", k, b, a)
		}
	}
}

func qgroupIDs(s string) string {
	var ids []string
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(f[0], "/") && f[0][0] >= '0' && f[0][0] <= '9' {
			ids = append(ids, f[0])
		}
	}
	return strings.Join(ids, " ")
}
