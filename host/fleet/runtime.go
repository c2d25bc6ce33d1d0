package fleet

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// runtime is a running fleet membership: the embedded server (none with
// an external NATS), the host's own client, and the store over it.
type runtime struct {
	m     membership
	keys  *Keys
	ca    *CA
	tls   *tls.Config
	seal  *Sealer
	srv   *server.Server
	nc    *nats.Conn
	js    jetstream.JetStream
	st    *store
	ports Ports
	// peers counts the fleet's replica nodes now.
	peers func() int
	// ids is this node's view of the ids bucket, for AllocID.
	ids idsView
}

// crypto derives what the runtime needs from the master key.
func newCrypto(master []byte, node string, addr netip.Addr) (*Keys, *CA, *tls.Config, *Sealer, error) {
	keys := NewKeys(master)
	ca, err := NewCA(keys.CASeed())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var ips []net.IP
	if addr.IsValid() {
		ips = append(ips, net.IP(addr.AsSlice()))
	}
	leaf, err := ca.Leaf(node, ips)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	seal, err := NewSealer(keys.SealKey())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return keys, ca, ca.TLS(leaf), seal, nil
}

// storeDir is where the embedded server keeps JetStream's files.
func storeDir(dataDir string) string { return filepath.Join(dataDir, "fleet", "nats") }

// startRuntime starts m's server (embedded roles) and connects the host's
// client to it, or to the external NATS.
func (f *Fleet) startRuntime(m membership) (*runtime, error) {
	addr, _ := netip.ParseAddr(m.Address)
	keys, ca, tlsCfg, seal, err := newCrypto(m.Master, m.Node, addr)
	if err != nil {
		return nil, err
	}
	rt := &runtime{m: m, keys: keys, ca: ca, tls: tlsCfg, seal: seal, ports: f.ports(), peers: f.replicaCount}
	url := m.NATSURL
	if m.Role != roleExternal {
		rt.srv, err = startServer(serverConfig{
			Name: m.Node, FleetID: m.FleetID, Role: m.Role, Address: addr, Ports: rt.ports, Peers: m.Peers,
			StoreDir: storeDir(f.opts.DataDir), Keys: keys, TLS: tlsCfg, Log: f.log,
		})
		if err != nil {
			return nil, err
		}
		url = "nats://" + hostPort("127.0.0.1", rt.ports.Client)
	}
	if err := rt.connect(url, f.log); err != nil {
		rt.close()
		return nil, err
	}
	return rt, nil
}

// connect connects the host's client: by the fleet's nkey (a
// challenge-response, the secret never on the wire), or by the
// credentials an external NATS URL carries.
func (rt *runtime) connect(url string, log *slog.Logger) error {
	opts := []nats.Option{
		nats.Name("hero_codescalers " + rt.m.Node), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.Timeout(3 * time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Debug("fleet: nats client", "err", err)
		}),
	}
	if us, err := parseURLs(url); err != nil {
		return err
	} else if us[0].User == nil {
		kp := rt.keys.ClientNkey()
		opts = append(opts, nats.Nkey(publicKey(kp), kp.Sign))
	}
	if rt.srv != nil {
		// The host's own server runs in this process: its client talks
		// to it through an in-process pipe, not loopback TCP (no system
		// call per message each way). The server authenticates it as
		// any client, by its nkey.
		opts = append(opts, nats.InProcessServer(rt.srv))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connect to the fleet's NATS: %w", err)
	}
	js, err := jetstream.NewWithDomain(nc, jsDomain)
	api := "$JS." + jsDomain + ".API."
	if rt.m.Role == roleExternal {
		js, err = jetstream.New(nc) // an external cluster is reached without a domain
		api = "$JS.API."
	}
	if err != nil {
		nc.Close()
		return err
	}
	rt.nc, rt.js = nc, js
	rt.st = newStore(nc, js, api, rt.seal, log)
	return nil
}

// close stops the client and the server.
func (rt *runtime) close() {
	if rt.nc != nil {
		rt.nc.Close()
	}
	if rt.srv != nil {
		rt.srv.Shutdown()
		rt.srv.WaitForShutdown()
	}
}

// waitStore waits until the store answers (buckets there, or made), up to
// within: a replica joining waits for the routes and an elected leader.
func (rt *runtime) waitStore(ctx context.Context, within time.Duration, create bool) error {
	deadline := time.Now().Add(within)
	var err error
	for {
		tctx, cancel := context.WithTimeout(ctx, tryTimeout)
		if create {
			err = rt.st.ensure(tctx, rt.bucketReplicas())
		} else {
			_, err = rt.st.bucket(tctx, bucketDesired)
		}
		cancel()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// tryTimeout bounds one try of a loop that waits for the store: while
// JetStream has no leader its requests go unanswered.
const tryTimeout = time.Second

// bucketReplicas is how many replicas the buckets should have: as many
// replica nodes as the fleet has, up to the number it wants.
func (rt *runtime) bucketReplicas() int {
	if rt.m.Role == roleExternal {
		return max(1, rt.m.Replicas)
	}
	n := 1
	if rt.peers != nil {
		n = max(1, rt.peers())
	}
	return min(n, max(rt.m.Replicas, 1))
}

// removeStore deletes the embedded server's files: what a node that
// failed to join, or was evicted, leaves behind of the fleet.
func removeStore(dataDir string) error { return os.RemoveAll(filepath.Join(dataDir, "fleet")) }

// replicaCount is the number of replica nodes the membership knows.
func (f *Fleet) replicaCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		return 0
	}
	return len(f.m.Peers)
}
