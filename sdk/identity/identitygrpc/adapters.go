package identitygrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/identity"
	identityv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/identity/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// Server adapts an identity.Identity implementation to the gRPC service.
type Server struct {
	identityv1.UnimplementedIdentityServer
	impl identity.Identity
}

var _ identityv1.IdentityServer = (*Server)(nil)

// NewServer wraps impl.
func NewServer(impl identity.Identity) *Server { return &Server{impl: impl} }

func (s *Server) GetInfo(ctx context.Context, _ *identityv1.GetInfoRequest) (*identityv1.GetInfoResponse, error) {
	info, err := s.impl.GetInfo(ctx)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &identityv1.GetInfoResponse{
		Name: info.Name, Version: info.Version, Concerns: info.Concerns,
		ApiVersions: info.APIVersions, Supports: supportsToProto(info.Supports), Roots: info.Roots,
	}, nil
}

func (s *Server) Probe(ctx context.Context, _ *identityv1.ProbeRequest) (*identityv1.ProbeResponse, error) {
	res, err := s.impl.Probe(ctx)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &identityv1.ProbeResponse{Ready: res.Ready, Reason: res.Reason}, nil
}

// Client is the host side: an identity.Identity over a gRPC connection.
type Client struct {
	rpc identityv1.IdentityClient
}

var _ identity.Identity = (*Client)(nil)

// NewClient wraps a connection to a plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: identityv1.NewIdentityClient(conn)}
}

func (c *Client) GetInfo(ctx context.Context) (identity.Info, error) {
	r, err := c.rpc.GetInfo(ctx, &identityv1.GetInfoRequest{})
	if err != nil {
		return identity.Info{}, sdkerrgrpc.FromStatus(err)
	}
	return identity.Info{
		Name: r.GetName(), Version: r.GetVersion(), Concerns: r.GetConcerns(),
		APIVersions: r.GetApiVersions(), Supports: supportsFromProto(r.GetSupports()), Roots: r.GetRoots(),
	}, nil
}

func (c *Client) Probe(ctx context.Context) (identity.ProbeResult, error) {
	r, err := c.rpc.Probe(ctx, &identityv1.ProbeRequest{})
	if err != nil {
		return identity.ProbeResult{}, sdkerrgrpc.FromStatus(err)
	}
	return identity.ProbeResult{Ready: r.GetReady(), Reason: r.GetReason()}, nil
}

func supportsToProto(s identity.Supports) *identityv1.Supports {
	out := &identityv1.Supports{OsIds: s.OSIDs, OsIdLikes: s.OSIDLikes, FsTypes: s.FSTypes, Generic: s.Generic, RequirePaths: s.RequirePaths}
	for _, c := range s.Config {
		out.Config = append(out.Config, &identityv1.ConfigMatch{File: c.File, Key: c.Key, Value: c.Value})
	}
	return out
}

func supportsFromProto(s *identityv1.Supports) identity.Supports {
	out := identity.Supports{OSIDs: s.GetOsIds(), OSIDLikes: s.GetOsIdLikes(), FSTypes: s.GetFsTypes(), Generic: s.GetGeneric(), RequirePaths: s.GetRequirePaths()}
	for _, c := range s.GetConfig() {
		out.Config = append(out.Config, identity.ConfigMatch{File: c.GetFile(), Key: c.GetKey(), Value: c.GetValue()})
	}
	return out
}
