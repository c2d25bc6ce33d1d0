// Command v1keysd is a test copy of the plugin a third-party author wrote
// against the first sshkeys contract (sshkeys.v1), the one issue 13 tells
// of: keys in /etc/ssh/authorized_keys.d/<user>, the user taken from the
// home's last element since v1 passed only the home. v1 had no end of a
// user, so it leaves a deleted user's file behind; the conformance kit,
// running it through the host's v1 adapter, must fail it naming that file.
//
// It serves sshkeys.v1 with the v1 server glue of the sdk of its day
// (copied below, as the sdk now serves v2) and answers the policy's home
// roots as the README of its day asked.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"

	plugin "github.com/hashicorp/go-plugin"
	"golang.org/x/crypto/ssh"
	"google.golang.org/grpc"

	"github.com/threefoldtech/hero_codescalers/sdk"
	"github.com/threefoldtech/hero_codescalers/sdk/check"
	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	"github.com/threefoldtech/hero_codescalers/sdk/identity/identitygrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/policy"
	sshkeysv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

const keysDir = "/etc/ssh/authorized_keys.d"

var info = identity.Info{Name: "v1keysd", Version: "0.1.0", Concerns: []string{"sshkeys"},
	APIVersions: []string{identity.APIVersion, "sshkeys.v1"}, Supports: identity.Supports{Generic: true}}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "describe" {
		os.Stdout.WriteString(`{"schema":1,"name":"v1keysd","version":"0.1.0","concerns":["sshkeys"],"api_versions":["identity.v1","sshkeys.v1"],"supports":{"generic":true}}` + "\n")
		return
	}
	p, _ := policy.Load()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: sdk.Handshake,
		Plugins: plugin.PluginSet{
			"identity": &identitygrpc.Plugin{Impl: &identity.Static{Info: info}},
			"sshkeys":  &v1Plugin{impl: &keysd{homes: p.HomeRoots}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}

// keysd keeps each user's keys in keysDir/<user>, root's.
type keysd struct {
	sshkeysv1.UnimplementedSSHKeysServer
	homes []string
}

func (k *keysd) file(home string) (string, error) {
	if _, ok := policy.Beneath(k.homes, home); !ok {
		return "", sdkerr.Errorf(sdkerr.PermissionDenied, "home %s is outside the home roots", home)
	}
	return filepath.Join(keysDir, filepath.Base(home)), nil
}

func (k *keysd) read(home string) ([]string, string, error) {
	path, err := k.file(home)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, "", err
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines, path, nil
}

func write(path string, lines []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func fingerprint(line string) (string, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", sdkerr.Invalid("keys", "%v", err)
	}
	return ssh.FingerprintSHA256(pub), nil
}

func (k *keysd) AddAuthorizedKeys(_ context.Context, r *sshkeysv1.AddAuthorizedKeysRequest) (*sshkeysv1.AddAuthorizedKeysResponse, error) {
	lines, path, err := k.read(r.GetHome())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	have := map[string]bool{}
	for _, l := range lines {
		fp, _ := fingerprint(l)
		have[fp] = true
	}
	added := 0
	for _, key := range r.GetKeys() {
		fp, err := fingerprint(key)
		if err != nil {
			return nil, sdkerrgrpc.ToStatus(err)
		}
		if !have[fp] {
			have[fp] = true
			lines = append(lines, key)
			added++
		}
	}
	return &sshkeysv1.AddAuthorizedKeysResponse{Added: uint32(added)}, sdkerrgrpc.ToStatus(write(path, lines))
}

func (k *keysd) RemoveAuthorizedKey(_ context.Context, r *sshkeysv1.RemoveAuthorizedKeyRequest) (*sshkeysv1.RemoveAuthorizedKeyResponse, error) {
	lines, path, err := k.read(r.GetHome())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	var kept []string
	for _, l := range lines {
		if fp, _ := fingerprint(l); fp != r.GetFingerprint() {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(lines) {
		return &sshkeysv1.RemoveAuthorizedKeyResponse{}, nil
	}
	return &sshkeysv1.RemoveAuthorizedKeyResponse{Removed: uint32(len(lines) - len(kept))}, sdkerrgrpc.ToStatus(write(path, kept))
}

func (k *keysd) ListAuthorizedKeys(_ context.Context, r *sshkeysv1.ListAuthorizedKeysRequest) (*sshkeysv1.ListAuthorizedKeysResponse, error) {
	lines, _, err := k.read(r.GetHome())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := &sshkeysv1.ListAuthorizedKeysResponse{}
	for _, l := range lines {
		if fp, err := fingerprint(l); err == nil {
			out.Keys = append(out.Keys, &sshkeysv1.AuthorizedKey{Line: l, Fingerprint: fp})
		}
	}
	return out, nil
}

// GenerateKeypair writes the user's own pair into dir, as v1's authors did.
func (k *keysd) GenerateKeypair(_ context.Context, r *sshkeysv1.GenerateKeypairRequest) (*sshkeysv1.GenerateKeypairResponse, error) {
	if _, ok := policy.Beneath(k.homes, r.GetDir()); !ok {
		return nil, sdkerrgrpc.ToStatus(sdkerr.Errorf(sdkerr.PermissionDenied, "dir %s is outside the home roots", r.GetDir()))
	}
	priv, pub := filepath.Join(r.GetDir(), "id_ed25519"), filepath.Join(r.GetDir(), "id_ed25519.pub")
	if data, err := os.ReadFile(pub); err == nil {
		if key, _, _, _, err := ssh.ParseAuthorizedKey(data); err == nil {
			return &sshkeysv1.GenerateKeypairResponse{PublicKey: strings.TrimSpace(string(data)),
				Fingerprint: ssh.FingerprintSHA256(key), PrivatePath: priv, PublicPath: pub}, nil
		}
	}
	pk, sk, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(sk, r.GetComment())
	sp, _ := ssh.NewPublicKey(pk)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
	os.MkdirAll(r.GetDir(), 0o700)
	os.Chown(r.GetDir(), int(r.GetUid()), int(r.GetGid()))
	for path, data := range map[string][]byte{priv: pem.EncodeToMemory(block), pub: []byte(line + "\n")} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, sdkerrgrpc.ToStatus(err)
		}
		os.Chown(path, int(r.GetUid()), int(r.GetGid()))
	}
	return &sshkeysv1.GenerateKeypairResponse{PublicKey: line, Fingerprint: ssh.FingerprintSHA256(sp), PrivatePath: priv, PublicPath: pub}, nil
}

// v1Plugin is the sdk's v1 go-plugin glue of its day, with the checks
// its server adapter made before a plugin saw a request.
type v1Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl *keysd
}

func (p *v1Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sshkeysv1.RegisterSSHKeysServer(s, &checked{impl: p.impl})
	return nil
}

// checked is that v1 server adapter.
type checked struct {
	sshkeysv1.UnimplementedSSHKeysServer
	impl *keysd
}

func (c *checked) GenerateKeypair(ctx context.Context, r *sshkeysv1.GenerateKeypairRequest) (*sshkeysv1.GenerateKeypairResponse, error) {
	if err := check.AbsPath("dir", r.GetDir()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return c.impl.GenerateKeypair(ctx, r)
}

func (c *checked) AddAuthorizedKeys(ctx context.Context, r *sshkeysv1.AddAuthorizedKeysRequest) (*sshkeysv1.AddAuthorizedKeysResponse, error) {
	if err := check.AbsPath("home", r.GetHome()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sshkeys.ValidateKeys(r.GetKeys()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return c.impl.AddAuthorizedKeys(ctx, r)
}

func (c *checked) RemoveAuthorizedKey(ctx context.Context, r *sshkeysv1.RemoveAuthorizedKeyRequest) (*sshkeysv1.RemoveAuthorizedKeyResponse, error) {
	if err := check.AbsPath("home", r.GetHome()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sshkeys.ValidateFingerprint(r.GetFingerprint()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return c.impl.RemoveAuthorizedKey(ctx, r)
}

func (c *checked) ListAuthorizedKeys(ctx context.Context, r *sshkeysv1.ListAuthorizedKeysRequest) (*sshkeysv1.ListAuthorizedKeysResponse, error) {
	if err := check.AbsPath("home", r.GetHome()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return c.impl.ListAuthorizedKeys(ctx, r)
}

func (p *v1Plugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}
