package fleet

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func init() { argonTime, argonMemoryKiB = 1, 64 } // tests: the same code path, cheaply

// freePorts returns three free TCP ports of 127.0.0.1.
func freePorts(t testing.TB) Ports {
	t.Helper()
	var p [3]int
	for i := range p {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p[i] = l.Addr().(*net.TCPAddr).Port
		defer l.Close()
	}
	return Ports{Client: p[0], Route: p[1], Leaf: p[2]}
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("HC_FLEET_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("t", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testServer starts one embedded server of a fleet whose keys come from
// secret, and stops it at cleanup.
func testServer(t testing.TB, name, secret, role string, peers []peer) (*server.Server, serverConfig) {
	t.Helper()
	keys := NewKeys(DeriveMaster(secret))
	ca, err := NewCA(keys.CASeed())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Leaf(name, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig{Name: name, FleetID: "test", Role: role, Address: netip.MustParseAddr("127.0.0.1"),
		Ports: freePorts(t), Peers: peers, StoreDir: t.TempDir(), Keys: keys, TLS: ca.TLS(leaf), Log: testLog(t)}
	s, err := startServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s, cfg
}

func (cfg serverConfig) peer() peer {
	return peer{Name: cfg.Name, Address: cfg.Address.String(), RoutePort: cfg.Ports.Route, LeafPort: cfg.Ports.Leaf}
}

// connectTest connects a client with the fleet's nkey.
func connectTest(t testing.TB, cfg serverConfig) *nats.Conn {
	t.Helper()
	kp := cfg.Keys.ClientNkey()
	nc, err := nats.Connect(cfg.clientURL(), nats.Nkey(publicKey(kp), kp.Sign), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func (cfg serverConfig) clientURL() string {
	return "nats://" + hostPort("127.0.0.1", cfg.Ports.Client)
}

// TestTopology proves what the fleet's design rests on: replicas joining
// one by one form a JetStream cluster (the first alone has no quorum), a
// bucket scales to three replicas, a leaf node without JetStream reads and
// writes the replicas' buckets, an anonymous client is refused, and a
// server with another secret gets no route.
func TestTopology(t *testing.T) {
	s1, c1 := testServer(t, "n1", "s3cret", roleReplica, nil)
	_, c2 := testServer(t, "n2", "s3cret", roleReplica, []peer{c1.peer()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := jsOf(t, connectTest(t, c2))
	kv := waitBucket(t, ctx, js, 2)
	if _, err := kv.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, c3 := testServer(t, "n3", "s3cret", roleReplica, []peer{c1.peer(), c2.peer()})
	waitFor(t, ctx, "scale to R3", func(ctx context.Context) error {
		_, err := js.UpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t", Replicas: 3})
		return err
	})
	js3 := jsOf(t, connectTest(t, c3))
	waitFor(t, ctx, "read on n3", func(ctx context.Context) error {
		kv3, err := js3.KeyValue(ctx, "t")
		if err == nil {
			_, err = kv3.Get(ctx, "a")
		}
		return err
	})
	_, c4 := testServer(t, "n4", "s3cret", roleLeaf, []peer{c1.peer(), c2.peer(), c3.peer()})
	js4 := jsOf(t, connectTest(t, c4))
	waitFor(t, ctx, "write from the leaf", func(ctx context.Context) error {
		kv4, err := js4.KeyValue(ctx, "t")
		if err == nil {
			_, err = kv4.Put(ctx, "b", []byte("2"))
		}
		return err
	})
	if _, err := nats.Connect(c1.clientURL()); err == nil {
		t.Error("an anonymous client was admitted")
	}
	// The host's own in-process connection is authenticated too.
	if _, err := nats.Connect("", nats.InProcessServer(s1)); err == nil {
		t.Error("an anonymous in-process client was admitted")
	}
	kp := c1.Keys.ClientNkey()
	if nc, err := nats.Connect("", nats.InProcessServer(s1), nats.Nkey(publicKey(kp), kp.Sign)); err != nil {
		t.Errorf("the host's nkey in-process: %v", err)
	} else {
		nc.Close()
	}
	_, bad := testServer(t, "n5", "other", roleLeaf, []peer{c1.peer()})
	jsb := jsOf(t, connectTest(t, bad))
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if _, err := jsb.KeyValue(short, "t"); err == nil {
		t.Error("a leaf with another secret reached the bucket")
	}
}

func jsOf(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	js, err := jetstream.NewWithDomain(nc, jsDomain)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func waitBucket(t testing.TB, ctx context.Context, js jetstream.JetStream, replicas int) jetstream.KeyValue {
	var kv jetstream.KeyValue
	waitFor(t, ctx, "bucket", func(ctx context.Context) error {
		var err error
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t", Replicas: replicas})
		return err
	})
	return kv
}

// waitFor retries fn, each try bounded by 3s, until it succeeds or ctx
// ends.
func waitFor(t testing.TB, ctx context.Context, what string, fn func(context.Context) error) {
	t.Helper()
	var err error
	for ctx.Err() == nil {
		try, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = fn(try)
		cancel()
		if err == nil {
			t.Logf("%s: done at %v", what, time.Now().Format("05.000"))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}
