package sshkeysgrpc_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/threefoldtech/hero_codescalers/sdk/internal/grpctest"
	sshkeysv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys/sshkeysgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes/volumesgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// v1Plugin is a plugin of the first contract: keys by home, as v1 pinned
// them, and no Forget. It notes whether a call came with the DeferSync
// metadata.
type v1Plugin struct {
	sshkeysv1.UnimplementedSSHKeysServer
	mu       sync.Mutex
	keys     map[string][]string // home → fingerprints
	deferred bool
}

func (p *v1Plugin) note(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	p.deferred = p.deferred || len(md.Get(volumesgrpc.DeferSyncMetadataKey)) > 0
}

func (p *v1Plugin) AddAuthorizedKeys(ctx context.Context, r *sshkeysv1.AddAuthorizedKeysRequest) (*sshkeysv1.AddAuthorizedKeysResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.note(ctx)
	for _, k := range r.GetKeys() {
		ak, _ := sshkeys.ParseAuthorizedKey(k)
		p.keys[r.GetHome()] = append(p.keys[r.GetHome()], ak.Fingerprint)
	}
	return &sshkeysv1.AddAuthorizedKeysResponse{Added: uint32(len(r.GetKeys()))}, nil
}

func (p *v1Plugin) ListAuthorizedKeys(_ context.Context, r *sshkeysv1.ListAuthorizedKeysRequest) (*sshkeysv1.ListAuthorizedKeysResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*sshkeysv1.AuthorizedKey
	for _, fp := range p.keys[r.GetHome()] {
		out = append(out, &sshkeysv1.AuthorizedKey{Fingerprint: fp})
	}
	return &sshkeysv1.ListAuthorizedKeysResponse{Keys: out}, nil
}

func (p *v1Plugin) RemoveAuthorizedKey(_ context.Context, r *sshkeysv1.RemoveAuthorizedKeyRequest) (*sshkeysv1.RemoveAuthorizedKeyResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := len(p.keys[r.GetHome()])
	var kept []string
	for _, fp := range p.keys[r.GetHome()] {
		if fp != r.GetFingerprint() {
			kept = append(kept, fp)
		}
	}
	p.keys[r.GetHome()] = kept
	return &sshkeysv1.RemoveAuthorizedKeyResponse{Removed: uint32(before - len(kept))}, nil
}

// TestV1Adapter: a v1 plugin runs behind the current contract — the host
// picks the adapter by the API the plugin lists, sends the home, never
// lets the plugin defer its fsyncs (it could not say what it left
// unsynced), and forgets a user by removing every key it lists.
func TestV1Adapter(t *testing.T) {
	p := &v1Plugin{keys: map[string][]string{}}
	conn := grpctest.ConnWith(t, grpc.NewServer(), func(s *grpc.Server) { sshkeysv1.RegisterSSHKeysServer(s, p) },
		grpc.WithChainUnaryInterceptor(volumesgrpc.DeferSyncClientInterceptor))
	d := sshkeysgrpc.Concern
	api, ok := d.Speaks([]string{"identity.v1", sshkeysgrpc.V1})
	if !ok || api != sshkeysgrpc.V1 || !d.Deprecated(api) {
		t.Fatalf("Speaks: %q %v", api, ok)
	}
	c := d.Client(api, conn).(sshkeys.SSHKeys)
	ctx := volumes.DeferSync(context.Background())
	if a, err := c.AddAuthorizedKeys(ctx, alice, []string{realKey, sshkeys.FakePublicKey("x")}); err != nil || a.Added != 2 || a.Unsynced != nil {
		t.Fatalf("add: %+v %v", a, err)
	}
	if p.deferred {
		t.Error("the v1 plugin got the DeferSync mark: it cannot report what it left unsynced")
	}
	if keys, err := c.ListAuthorizedKeys(ctx, alice); err != nil || len(keys) != 2 {
		t.Fatalf("list: %+v %v", keys, err)
	}
	f, err := c.Forget(ctx, alice)
	if err != nil || len(f.Removed) != 2 || !strings.Contains(f.Removed[0], "sshkeys.v1 adapter") {
		t.Fatalf("forget: %+v %v", f, err)
	}
	if len(p.keys[alice.Home]) != 0 {
		t.Errorf("keys left in the v1 plugin: %v", p.keys)
	}
}
