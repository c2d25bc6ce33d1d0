package sshkeysgrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle/lifecyclegrpc"
	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	sshkeysv2 "github.com/threefoldtech/hero_codescalers/sdk/proto/sshkeys/v2"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
)

// Server adapts an sshkeys.SSHKeys implementation to the v2 gRPC service,
// checking every request (users, paths, key lines, fingerprints) before the
// implementation sees it.
type Server struct {
	sshkeysv2.UnimplementedSSHKeysServer
	impl sshkeys.SSHKeys
}

var _ sshkeysv2.SSHKeysServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl sshkeys.SSHKeys) *Server { return &Server{impl: impl} }

func (s *Server) GenerateKeypair(ctx context.Context, r *sshkeysv2.GenerateKeypairRequest) (*sshkeysv2.GenerateKeypairResponse, error) {
	spec := sshkeys.KeypairSpec{User: lifecyclegrpc.UserFromProto(r.GetUser()), Dir: r.GetDir(),
		Comment: r.GetComment(), Overwrite: r.GetOverwrite()}
	if err := sshkeys.ValidateKeypairSpec(spec); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	kp, err := s.impl.GenerateKeypair(ctx, spec)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sshkeysv2.GenerateKeypairResponse{PublicKey: kp.PublicKey, Fingerprint: kp.Fingerprint,
		PrivatePath: kp.PrivatePath, PublicPath: kp.PublicPath, Unsynced: kp.Unsynced}, nil
}

func (s *Server) AddAuthorizedKeys(ctx context.Context, r *sshkeysv2.AddAuthorizedKeysRequest) (*sshkeysv2.AddAuthorizedKeysResponse, error) {
	u := lifecyclegrpc.UserFromProto(r.GetUser())
	if err := u.ValidateWithHome(); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sshkeys.ValidateKeys(r.GetKeys()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	a, err := s.impl.AddAuthorizedKeys(ctx, u, r.GetKeys())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sshkeysv2.AddAuthorizedKeysResponse{Added: uint32(a.Added), Unsynced: a.Unsynced}, nil
}

func (s *Server) RemoveAuthorizedKey(ctx context.Context, r *sshkeysv2.RemoveAuthorizedKeyRequest) (*sshkeysv2.RemoveAuthorizedKeyResponse, error) {
	u := lifecyclegrpc.UserFromProto(r.GetUser())
	if err := u.Validate(); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	if err := sshkeys.ValidateFingerprint(r.GetFingerprint()); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	n, err := s.impl.RemoveAuthorizedKey(ctx, u, r.GetFingerprint())
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &sshkeysv2.RemoveAuthorizedKeyResponse{Removed: uint32(n)}, nil
}

func (s *Server) ListAuthorizedKeys(ctx context.Context, r *sshkeysv2.ListAuthorizedKeysRequest) (*sshkeysv2.ListAuthorizedKeysResponse, error) {
	u := lifecyclegrpc.UserFromProto(r.GetUser())
	if err := u.Validate(); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	keys, err := s.impl.ListAuthorizedKeys(ctx, u)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	out := make([]*sshkeysv2.AuthorizedKey, len(keys))
	for i, k := range keys {
		out[i] = &sshkeysv2.AuthorizedKey{Line: k.Line, Type: k.Type, Fingerprint: k.Fingerprint,
			Comment: k.Comment, Options: k.Options}
	}
	return &sshkeysv2.ListAuthorizedKeysResponse{Keys: out}, nil
}

func (s *Server) Forget(ctx context.Context, r *commonv1.ForgetRequest) (*commonv1.ForgetResponse, error) {
	return lifecyclegrpc.ServeForget(ctx, s.impl, r)
}
