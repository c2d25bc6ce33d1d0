package host

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/threefoldtech/hero_codescalers/core/api"
)

// floodHostEnv makes the test binary a host with that many open files
// at most (see TestMain): the connection flood must hit the host's file
// limit, not the test's own.
const floodHostEnv = "HC_TEST_FLOOD_HOST_NOFILE"

func TestMain(m *testing.M) {
	if v := os.Getenv(floodHostEnv); v != "" {
		os.Exit(floodHost(v))
	}
	os.Exit(m.Run())
}

// floodHost runs a state-only host under RLIMIT_NOFILE limit, with the
// paths the environment gives, and prints "ready" once it serves.
func floodHost(limit string) int {
	n, err := strconv.ParseUint(limit, 10, 64)
	if err == nil {
		err = unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: n, Max: n})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "open-file limit:", err)
		return 1
	}
	paths, err := api.ResolvePaths(api.PathFlags{}, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := Config{Paths: paths, Secret: "test-secret", NoPlugins: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Ready: func() { fmt.Println("ready") }}
	if err := Run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startFloodHost starts the test binary as a host limited to nofile open
// files and returns its socket and pid; it is stopped when the test ends.
func startFloodHost(t *testing.T, nofile int) (string, int) {
	t.Helper()
	base, err := os.MkdirTemp("", "hc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), floodHostEnv+"="+strconv.Itoa(nofile),
		"HOME="+t.TempDir(), api.EnvPathSocket+"="+base, api.EnvSockName+"=hc", api.EnvDataDir+"="+t.TempDir())
	var logs bytes.Buffer // read only after Wait
	cmd.Stderr = &logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("the host's log:\n%s", logs.String())
		}
	})
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line == "ready\n"
		io.Copy(io.Discard, out)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the host exited before it was ready")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the host was not ready within 30s")
	}
	return filepath.Join(base, "hc", "rpc.sock"), cmd.Process.Pid
}

// needFiles raises this test's own open-file limit to n, or skips.
func needFiles(t *testing.T, n uint64) {
	t.Helper()
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur >= n {
		return
	}
	want := unix.Rlimit{Cur: n, Max: max(rl.Max, n)}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
		t.Skipf("the flood needs %d open files and the limit is %d (raising it: %v)", n, rl.Cur, err)
	}
}

// flood opens n connections to sock from workers in parallel; each makes
// one keep-alive request to /health and stays open, idle, as a client
// between requests does. A worker stops at its first unanswered request.
// It returns the connections (to close later) and how many were answered.
func flood(sock string, n, workers int) ([]net.Conn, int) {
	var mu sync.Mutex
	var conns []net.Conn
	var answered atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				c, err := net.Dial("unix", sock)
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				c.SetDeadline(time.Now().Add(2 * time.Second))
				if _, err := io.WriteString(c, "GET /health HTTP/1.1\r\nHost: hc\r\n\r\n"); err != nil {
					return
				}
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	return conns, int(answered.Load())
}

// timedHealth times one health call on a new connection, as a CLI makes.
func timedHealth(sock string) (time.Duration, error) {
	start := time.Now()
	c := client(sock)
	c.Timeout = 5 * time.Second
	resp, err := c.Get("http://hc/health")
	if err != nil {
		return time.Since(start), err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return time.Since(start), fmt.Errorf("health: HTTP %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

// TestHealthUnderConnectionFlood is issue 10 §8: keep-alive connections,
// one request each, more than the host has files for. Before the cap, the
// host ran out of descriptors and a health call waited for idle
// connections to time out (58 s); with it, the host closes the
// connections quiet longest and health answers at once, while the flood
// goes on.
func TestHealthUnderConnectionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	const hostFiles, idle, more = 1024, 1500, 1500
	needFiles(t, idle+more+512)
	sock, pid := startFloodHost(t, hostFiles)

	conns, answered := flood(sock, idle, 32)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	t.Logf("%d idle keep-alive connections opened, %d answered", len(conns), answered)

	// More of the flood runs while an admin calls health.
	done := make(chan []net.Conn, 1)
	go func() {
		cs, _ := flood(sock, more, 8)
		done <- cs
	}()
	for i := range 5 {
		d, err := timedHealth(sock)
		if err != nil || d > time.Second {
			t.Fatalf("health %d under the flood: %v after %v, want an answer within 1s", i, err, d)
		}
		t.Logf("health %d under the flood: %v", i, d.Round(time.Microsecond))
	}
	t.Cleanup(func() {
		for _, c := range <-done {
			c.Close()
		}
	})
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) >= hostFiles/2 {
		t.Fatalf("the host holds %d descriptors of its %d: the cap did not hold", len(fds), hostFiles)
	}
	t.Logf("the host holds %d descriptors of its %d", len(fds), hostFiles)
}
