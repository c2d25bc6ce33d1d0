// Command health measures, in one run, the throughput and latency of
// the JSON-RPC health call over rpc.sock at 1, 8 and 64 concurrent
// keep-alive clients, next to a bare net/http handler on a Unix socket
// that returns a static JSON body, measured the same way. The ratio says
// what the JSON-RPC layer (decode, dispatch, peer credentials, encode)
// costs on top of net/http itself.
//
//	go run ./bench/health [-d 2s] [-clients 1,8,64]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/memstore"
	"github.com/threefoldtech/hero_codescalers/host/rpc"
)

// The goals at 64 clients: issue 2's, at least 0.8 of the bare handler's
// throughput and a p99 under 2 ms; issue 15's (nothing that is fast gets
// slower), at least 0.9 of it.
const (
	goalRatio     = 0.8
	goalP99       = 2 * time.Millisecond
	goalRatioLean = 0.9
)

const healthCall = `{"jsonrpc":"2.0","method":"health","id":1}`

func main() {
	d := flag.Duration("d", 2*time.Second, "measuring time per level and server")
	levels := flag.String("clients", "1,8,64", "concurrent clients per level")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *profile != "" {
		stop, err := startProfile(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/health:", err)
			os.Exit(1)
		}
		defer stop()
	}
	if err := run(*d, *levels); err != nil {
		fmt.Fprintln(os.Stderr, "bench/health:", err)
		os.Exit(1)
	}
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// loadAverage is the machine's 1-minute load, printed with the numbers:
// on a 2-core machine anything else running shows in the tail latencies.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

func run(d time.Duration, levelList string) error {
	var levels []int
	for _, f := range strings.Split(levelList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients %q: want positive integers", levelList)
		}
		levels = append(levels, n)
	}
	dir, err := os.MkdirTemp("", "hcbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rpcSock, bareSock := filepath.Join(dir, "rpc.sock"), filepath.Join(dir, "bare.sock")
	stopRPC, err := serveRPC(rpcSock)
	if err != nil {
		return err
	}
	defer stopRPC()
	stopBare, err := serveBare(bareSock)
	if err != nil {
		return err
	}
	defer stopBare()
	if err := sanity(rpcSock); err != nil {
		return err
	}

	fmt.Printf("health over rpc.sock vs a bare net/http handler on a Unix socket\n")
	fmt.Printf("GOMAXPROCS=%d, NumCPU=%d, load average %s, %s per level and server in %d alternating slices,\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage(), d, rounds)
	fmt.Printf("one keep-alive connection per client, clients in the same process\n\n")
	fmt.Printf("%7s  %11s  %11s  %6s  %9s  %9s  %9s  %9s\n", "clients", "rpc req/s", "bare req/s", "ratio", "rpc p50", "rpc p99", "bare p50", "bare p99")
	var last [2]result
	for _, n := range levels {
		r, b := compare(rpcSock, bareSock, n, d)
		if r.errors+b.errors > 0 {
			return fmt.Errorf("%d clients: %d rpc and %d bare requests failed", n, r.errors, b.errors)
		}
		fmt.Printf("%7d  %11.0f  %11.0f  %6.2f  %9s  %9s  %9s  %9s\n", n, r.rate, b.rate, r.rate/b.rate,
			us(r.p50), us(r.p99), us(b.p50), us(b.p99))
		last = [2]result{r, b}
	}
	ratio := last[0].rate / last[1].rate
	verdict := "met"
	if ratio < goalRatio || last[0].p99 >= goalP99 {
		verdict = "NOT met"
	}
	fmt.Printf("\ngoal at %d clients: ratio >= %.2f and rpc p99 < %s: %s (ratio %.2f, p99 %s)\n",
		levels[len(levels)-1], goalRatio, goalP99, verdict, ratio, us(last[0].p99))
	lean := "MET"
	if ratio < goalRatioLean {
		lean = "MISSED"
	}
	fmt.Printf("goal (issue 15): health at %d clients >= %.1f× the bare net/http handler: %.0f vs %.0f req/s, %.2f× — %s\n",
		levels[len(levels)-1], goalRatioLean, last[0].rate, last[1].rate, ratio, lean)
	return nil
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
}

// serveRPC runs the real JSON-RPC server, the way the host does, over an
// in-memory state (health does not touch the state).
func serveRPC(path string) (func(), error) {
	log := slog.New(slog.DiscardHandler)
	svc := core.NewService(memstore.New(), core.WithLogger(log))
	reg, err := rpc.Handlers(svc, rpc.Info{Version: "bench", Started: time.Now()})
	if err != nil {
		return nil, err
	}
	srv, err := rpc.NewServer(rpc.Options{Handlers: reg, Auditor: svc, Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := rpc.Listen(path, 0o600, "")
	if err != nil {
		return nil, err
	}
	hs := rpc.NewHTTPServer(srv, log)
	go hs.Serve(ln)
	return func() { hs.Close() }, nil
}

// bareBody is what the baseline answers: a health response of the same
// size, prepared once.
var bareBody = []byte(`{"jsonrpc":"2.0","result":{"status":"ok","version":"bench","uptime_secs":1.234,"plugins":[]},"id":1}`)

// serveBare runs the baseline: net/http with a handler that drains the
// body and writes a static JSON answer.
func serveBare(path string) (func(), error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf [512]byte
		for {
			if _, err := r.Body.Read(buf[:]); err != nil {
				break
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(bareBody)))
		w.Write(bareBody)
	})}
	go hs.Serve(ln)
	return func() { hs.Close() }, nil
}

// sanity makes sure the rpc server answers health with a result, so the
// numbers are not those of an error path.
func sanity(sock string) error {
	c := newClient(sock, 1)
	resp, err := c.Post("http://hc/rpc", "application/json", strings.NewReader(healthCall))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf [1024]byte
	n, _ := resp.Body.Read(buf[:])
	if !strings.Contains(string(buf[:n]), `"result":{"status":"ok"`) {
		return fmt.Errorf("health answered %d %q", resp.StatusCode, buf[:n])
	}
	return nil
}

func newClient(sock string, conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
	}}
}
