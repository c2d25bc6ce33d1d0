package sshkeysgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/check"
	sshkeysv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Server adapts an sshkeys.SSHKeys implementation to the gRPC service,
// checking every request (paths, key lines, fingerprints) before the
// implementation sees it.
type Server struct {
	sshkeysv1.UnimplementedSSHKeysServer
	impl sshkeys.SSHKeys
}

var _ sshkeysv1.SSHKeysServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl sshkeys.SSHKeys) *Server { return &Server{impl: impl} }

func (s *Server) GenerateKeypair(ctx context.Context, r *sshkeysv1.GenerateKeypairRequest) (*sshkeysv1.GenerateKeypairResponse, error) {
	spec := sshkeys.KeypairSpec{Dir: r.GetDir(), UID: r.GetUid(), GID: r.GetGid(), Comment: r.GetComment(), Overwrite: r.GetOverwrite()}
	if err := sshkeys.ValidateKeypairSpec(spec); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	kp, err := s.impl.GenerateKeypair(ctx, spec)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sshkeysv1.GenerateKeypairResponse{PublicKey: kp.PublicKey, Fingerprint: kp.Fingerprint,
		PrivatePath: kp.PrivatePath, PublicPath: kp.PublicPath}, nil
}

func (s *Server) AddAuthorizedKeys(ctx context.Context, r *sshkeysv1.AddAuthorizedKeysRequest) (*sshkeysv1.AddAuthorizedKeysResponse, error) {
	if err := check.AbsPath("home", r.GetHome()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sshkeys.ValidateKeys(r.GetKeys()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	n, err := s.impl.AddAuthorizedKeys(ctx, r.GetHome(), r.GetUid(), r.GetGid(), r.GetKeys())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sshkeysv1.AddAuthorizedKeysResponse{Added: uint32(n)}, nil
}

func (s *Server) RemoveAuthorizedKey(ctx context.Context, r *sshkeysv1.RemoveAuthorizedKeyRequest) (*sshkeysv1.RemoveAuthorizedKeyResponse, error) {
	if err := check.AbsPath("home", r.GetHome()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sshkeys.ValidateFingerprint(r.GetFingerprint()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	n, err := s.impl.RemoveAuthorizedKey(ctx, r.GetHome(), r.GetFingerprint())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sshkeysv1.RemoveAuthorizedKeyResponse{Removed: uint32(n)}, nil
}

func (s *Server) ListAuthorizedKeys(ctx context.Context, r *sshkeysv1.ListAuthorizedKeysRequest) (*sshkeysv1.ListAuthorizedKeysResponse, error) {
	if err := check.AbsPath("home", r.GetHome()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	keys, err := s.impl.ListAuthorizedKeys(ctx, r.GetHome())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := make([]*sshkeysv1.AuthorizedKey, len(keys))
	for i, k := range keys {
		out[i] = &sshkeysv1.AuthorizedKey{Line: k.Line, Type: k.Type, Fingerprint: k.Fingerprint,
			Comment: k.Comment, Options: k.Options}
	}
	return &sshkeysv1.ListAuthorizedKeysResponse{Keys: out}, nil
}
