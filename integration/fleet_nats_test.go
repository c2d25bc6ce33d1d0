//go:build integration

package integration

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/host/fleet"
)

// The fleet's store as the test reaches it: through a node's local client
// port, inside the node's network namespace, as a client holding the
// fleet's key (what only a host has) — to read the raw stream and to write
// what an attacker with store access would.

// nsDialer dials inside a node's network namespace.
type nsDialer struct{ ns *holder }

func (d nsDialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.ns.dial(ctx, addr)
}

// clientURL is the embedded server's client port of instance 0.
const clientURL = "nats://127.0.0.1:5100"

// storeClient connects to n's client port with the fleet's nkey.
func storeClient(t *testing.T, n *fleetNode) (jetstream.JetStream, *fleet.Sealer) {
	t.Helper()
	keys := fleet.NewKeys(fleet.DeriveMaster(fleetSecret))
	kp := keys.ClientNkey()
	pub, _ := kp.PublicKey()
	nc, err := nats.Connect(clientURL, nats.Nkey(pub, kp.Sign), nats.SetCustomDialer(nsDialer{n.ns}), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("the fleet's key on %s's client port: %v", n.name, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.NewWithDomain(nc, "hc")
	if err != nil {
		t.Fatal(err)
	}
	seal, err := fleet.NewSealer(keys.SealKey())
	if err != nil {
		t.Fatal(err)
	}
	return js, seal
}

// anonymousRefused: a client without the fleet's key (a developer on the
// node) is refused on the client port.
func anonymousRefused(t *testing.T, n *fleetNode) {
	t.Helper()
	nc, err := nats.Connect(clientURL, nats.SetCustomDialer(nsDialer{n.ns}), nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
		t.Fatalf("an anonymous client was admitted on %s's client port", n.name)
	}
	if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Errorf("anonymous client on %s: %v, want an authorization violation", n.name, err)
	}
}

// rawStreamHasNoSecret reads every message of the desired state's stream
// as stored (sealed): neither the token nor a private key nor any field
// name is readable in it.
func rawStreamHasNoSecret(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{"KV_hc-desired", "KV_hc-status", "KV_hc-nodes", "KV_hc-ids"} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		read := 0
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				continue // a deleted or superseded message
			}
			read++
			for _, secret := range []string{forgeToken, "OPENSSH PRIVATE KEY", `"forge_token"`, `"private_key"`, `"name"`} {
				if strings.Contains(string(m.Data), secret) {
					t.Errorf("%s message %d holds %q in clear", name, seq, secret)
				}
			}
		}
		if name == "KV_hc-desired" && read == 0 {
			t.Errorf("read no message of %s", name)
		}
	}
}

// storeFilesHaveNoToken greps the embedded servers' JetStream files.
func storeFilesHaveNoToken(t *testing.T, n *fleetNode) {
	t.Helper()
	root := filepath.Join(n.dir, "host", "db", "fleet")
	files := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		files++
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), forgeToken) {
			t.Errorf("%s: the forge token is in clear in %s", n.name, p)
		}
		return nil
	})
	if files == 0 && n.name != "n4" {
		t.Errorf("%s: no store file under %s", n.name, root)
	}
}

// writeUnsealed writes a desired user the way an attacker with store
// access but without the passphrase could: plain JSON.
func writeUnsealed(t *testing.T, js jetstream.JetStream, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "hc-desired")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "user."+name, []byte(`{"name":"`+name+`","uid":1500,"ssh_keys":[],"groups":[],"shell":"/bin/bash"}`)); err != nil {
		t.Fatal(err)
	}
}

// deleteRaw deletes key from the desired state's bucket.
func deleteRaw(t *testing.T, js jetstream.JetStream, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "hc-desired")
	if err == nil {
		err = kv.Delete(ctx, key)
	}
	if err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
}

// status reads node's status of object, opened with the fleet's key.
func status(js jetstream.JetStream, seal *fleet.Sealer, node, object string) (core.NodeStatus, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "hc-status")
	if err != nil {
		return core.NodeStatus{}, false
	}
	key := node + "." + strings.Replace(object, "/", ".", 1)
	e, err := kv.Get(ctx, key)
	if err != nil {
		return core.NodeStatus{}, false
	}
	var st core.NodeStatus
	if seal.Open("hc-status", key, e.Value(), &st) != nil {
		return core.NodeStatus{}, false
	}
	return st, true
}

// streamLeader names the node that leads the desired state's stream.
func streamLeader(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "KV_hc-desired")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream leader: %+v %v", info, err)
	}
	return info.Cluster.Leader
}

// streamPeers names the nodes that hold a replica of every bucket's
// stream (its leader and its followers), failing if two buckets differ.
func streamPeers(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var first []string
	for _, name := range []string{"KV_hc-desired", "KV_hc-status", "KV_hc-nodes", "KV_hc-ids"} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil || info.Cluster == nil {
			t.Fatalf("stream %s: %+v %v", name, info, err)
		}
		peers := []string{info.Cluster.Leader}
		for _, r := range info.Cluster.Replicas {
			peers = append(peers, r.Name)
		}
		slices.Sort(peers)
		if first == nil {
			first = peers
		} else if !slices.Equal(first, peers) {
			t.Errorf("stream %s is held by %v, another by %v", name, peers, first)
		}
	}
	return first
}
