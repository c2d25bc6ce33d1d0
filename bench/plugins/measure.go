package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

type latency struct{ p50, p99 time.Duration }

// target is one kind of round trip to time.
type target struct {
	name, note string
	call       func() error
	goal       bool // the row the p50 goal applies to
	floor      bool // the bare gRPC call to another process: the round trip goal's baseline
}

// block is how many calls in a row one target gets before the next takes
// over: long enough to measure back-to-back calls (the goroutines and
// threads on both sides stay awake), short enough that every row samples
// the load of the whole run on this shared machine.
const block = 250

// measureAll times n calls of every target after a warm-up, in blocks
// taken in turn, and returns each target's percentiles.
func measureAll(targets []target, n int) ([]latency, error) {
	for _, t := range targets {
		for range 200 {
			if err := t.call(); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	d := make([][]time.Duration, len(targets))
	for len(d[0]) < n {
		for i, t := range targets {
			for range min(block, n-len(d[i])) {
				start := time.Now()
				if err := t.call(); err != nil {
					return nil, fmt.Errorf("%s: %w", t.name, err)
				}
				d[i] = append(d[i], time.Since(start))
			}
		}
	}
	out := make([]latency, len(targets))
	for i := range d {
		slices.Sort(d[i])
		out[i] = latency{p50: d[i][n/2], p99: d[i][n*99/100]}
	}
	return out, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// childEnv makes this binary the health server of bareGRPC's other-process
// variant, listening on the socket it names.
const childEnv = "BENCHPLUGINS_GRPC_CHILD"

// serveHealth is the child: a gRPC health server on a Unix socket.
func serveHealth(path string) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	fmt.Println("ready")
	_ = srv.Serve(ln)
}

// bareGRPC is a gRPC health check over a Unix socket, against a server in
// this process or (other) in a child process: a round trip without the
// manager, go-plugin, the sdk or TLS.
func bareGRPC(other bool) (func() error, func(), error) {
	dir, err := os.MkdirTemp("", "bench-grpc-")
	if err != nil {
		return nil, nil, err
	}
	closers := []func(){func() { os.RemoveAll(dir) }}
	done := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	path := filepath.Join(dir, "s")
	if other {
		stop, err := startChild(path)
		if err != nil {
			done()
			return nil, nil, err
		}
		closers = append(closers, stop)
	} else {
		ln, err := net.Listen("unix", path)
		if err != nil {
			done()
			return nil, nil, err
		}
		srv := grpc.NewServer()
		healthpb.RegisterHealthServer(srv, health.NewServer())
		go srv.Serve(ln)
		closers = append(closers, srv.Stop)
	}
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		done()
		return nil, nil, err
	}
	closers = append(closers, func() { conn.Close() })
	c := healthpb.NewHealthClient(conn)
	return func() error {
		_, err := c.Check(context.Background(), &healthpb.HealthCheckRequest{})
		return err
	}, done, nil
}

// startChild re-executes this binary as the health server and waits for
// it to listen.
func startChild(path string) (func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		stop()
		return nil, fmt.Errorf("health server child: %w", err)
	}
	return stop, nil
}

// rawProbe is a Probe through go-plugin alone (no manager, no TLS) to the
// test plugin's accounts copy, its client with the sdk's window as the
// manager's: the manager's own cost is the difference.
func rawProbe(testDir string) (func() error, func(), error) {
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginMap(nil),
		Cmd:              exec.Command(filepath.Join(testDir, "bench-"+sdk.ConcernAccounts)),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		GRPCDialOptions:  sdk.ClientWindow(),
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, nil, err
	}
	raw, err := rpc.Dispense(sdk.ConcernIdentity)
	if err != nil {
		client.Kill()
		return nil, nil, err
	}
	id := raw.(identity.Identity)
	return func() error {
		_, err := id.Probe(context.Background())
		return err
	}, client.Kill, nil
}
