package host

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/host/mycelium"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// testConfig puts the sockets under a short temp dir (sun_path is 108
// bytes) and the data under t.TempDir.
func testConfig(t *testing.T, instance int) Config {
	t.Helper()
	base, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	env := map[string]string{"HOME": t.TempDir(), api.EnvPathSocket: base, api.EnvSecret: "test-secret"}
	paths, err := api.ResolvePaths(api.PathFlags{Instance: instance}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return Config{Paths: paths, Secret: "test-secret", NoPlugins: true, Logger: slog.New(slog.DiscardHandler),
		Dashboard: DashboardConfig{Detect: noMycelium}}
}

// noMycelium is a Detect that finds no overlay address, so a test host
// is on admin.sock only whatever the machine's interfaces hold.
func noMycelium(context.Context) (mycelium.Found, error) {
	return mycelium.Found{}, mycelium.ErrNotFound
}

// start runs the host in a goroutine and waits, with a deadline, until it
// is ready. The returned function stops it and returns Run's error.
func start(t *testing.T, cfg Config) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("host not ready within 20s")
	}
	stopped := false
	var runErr error
	stop := func() error {
		if stopped {
			return runErr
		}
		stopped = true
		cancel()
		select {
		case runErr = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("host did not stop within 20s")
		}
		return runErr
	}
	t.Cleanup(func() { stop() })
	return stop
}

func client(sock string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}

func healthOver(t *testing.T, sock string) (int, string) {
	t.Helper()
	resp, err := client(sock).Get("http://hc/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRun(t *testing.T) {
	cfg := testConfig(t, 3)
	stop := start(t, cfg)
	status, body := healthOver(t, cfg.Paths.RPCSocket)
	if status != http.StatusOK || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, api.Version) {
		t.Fatalf("health: %d %s", status, body)
	}
	if fi, err := os.Stat(cfg.Paths.SocketDir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("socket dir: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Lstat(cfg.Paths.RPCSocket); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi.Mode(), err)
	}
	if filepath.Base(cfg.Paths.SocketDir) != "hero_codescalers_3" {
		t.Fatalf("instance 3 socket dir: %s", cfg.Paths.SocketDir)
	}

	// A second host on the same socket is refused and leaves it alone.
	err := Run(context.Background(), cfg)
	if !errors.Is(err, rpc.ErrInUse) {
		t.Fatalf("second Run: %v, want ErrInUse", err)
	}
	if status, _ := healthOver(t, cfg.Paths.RPCSocket); status != http.StatusOK {
		t.Fatal("the first host stopped answering")
	}

	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Lstat(cfg.Paths.RPCSocket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left after stop: %v", err)
	}
}

// rpcOver posts one JSON-RPC request and returns the response body.
func rpcOver(t *testing.T, sock, req string) string {
	t.Helper()
	resp, err := client(sock).Post("http://hc/rpc", "application/json", strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestRunKeepsState checks the host runs on the durable state: what one
// run stores, the next run reads.
func TestRunKeepsState(t *testing.T) {
	cfg := testConfig(t, 0)
	stop := start(t, cfg)
	add := `{"jsonrpc":"2.0","method":"node.add","params":{"name":"n1","address":"10.0.0.1"},"id":1}`
	if out := rpcOver(t, cfg.Paths.RPCSocket, add); !strings.Contains(out, `"result"`) {
		t.Fatalf("node.add: %s", out)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	start(t, cfg)
	get := `{"jsonrpc":"2.0","method":"node.get","params":["n1"],"id":2}`
	if out := rpcOver(t, cfg.Paths.RPCSocket, get); !strings.Contains(out, `"address":"10.0.0.1"`) {
		t.Fatalf("node.get after a restart: %s", out)
	}
	audit := `{"jsonrpc":"2.0","method":"audit.list","id":3}`
	if out := rpcOver(t, cfg.Paths.RPCSocket, audit); !strings.Contains(out, `"method":"node.add"`) {
		t.Fatalf("audit after a restart: %s", out)
	}
}

// TestRunOverStaleSocket starts over the socket a killed host left.
func TestRunOverStaleSocket(t *testing.T) {
	cfg := testConfig(t, 0)
	if err := os.MkdirAll(cfg.Paths.SocketDir, 0o700); err != nil {
		t.Fatal(err)
	}
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Paths.RPCSocket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	start(t, cfg)
	if status, _ := healthOver(t, cfg.Paths.RPCSocket); status != http.StatusOK {
		t.Fatal("no health over the taken-over socket")
	}
	if fi, _ := os.Stat(cfg.Paths.SocketDir); fi.Mode().Perm() != 0o755 {
		t.Fatalf("socket dir mode %v not corrected to 0755", fi.Mode().Perm())
	}
}

// failing is a component that fails once the host runs.
type failing struct{}

func (failing) Name() string { return "failing" }
func (failing) Run(ctx context.Context, svc *core.Service) error {
	if _, err := svc.Counts(ctx); err != nil {
		return err
	}
	return errors.New("cannot bind")
}

func TestRunStopsWhenAComponentFails(t *testing.T) {
	cfg := testConfig(t, 0)
	cfg.Components = []Component{failing{}}
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), cfg) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "failing: cannot bind") {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop after its component failed")
	}
	if _, err := os.Lstat(cfg.Paths.RPCSocket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left: %v", err)
	}
}

// TestRunStopsOnSIGTERM checks the host stops cleanly on SIGTERM even when
// its caller did not wire signals to ctx.
func TestRunStopsOnSIGTERM(t *testing.T) {
	cfg := testConfig(t, 0)
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), cfg) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("host not ready within 20s")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("host did not stop on SIGTERM")
	}
	if _, err := os.Lstat(cfg.Paths.RPCSocket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket left: %v", err)
	}
}

func TestRunNeedsPaths(t *testing.T) {
	if err := Run(context.Background(), Config{}); err == nil {
		t.Fatal("Run without paths succeeded")
	}
}
