// Package lifecyclegrpc carries the lifecycle types over gRPC for every
// concern's adapters: the user a call names (common.v1.User) and Forget's
// request and response, which the v2 services of sshkeys, acl and sessions
// share.
package lifecyclegrpc

import (
	"context"

	"github.com/threefoldtech/hero_codescalers/sdk/lifecycle"
	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr/sdkerrgrpc"
	"google.golang.org/grpc"
)

// UserToProto converts a user for the wire.
func UserToProto(u lifecycle.User) *commonv1.User {
	return &commonv1.User{Name: u.Name, Uid: u.UID, Gid: u.GID, Home: u.Home}
}

// UserFromProto converts a user from the wire (nil is the zero user, which
// Validate refuses).
func UserFromProto(u *commonv1.User) lifecycle.User {
	return lifecycle.User{Name: u.GetName(), UID: u.GetUid(), GID: u.GetGid(), Home: u.GetHome()}
}

// ServeForget is a server adapter's Forget: it checks the user, then asks
// impl.
func ServeForget(ctx context.Context, impl lifecycle.Forgetter, r *commonv1.ForgetRequest) (*commonv1.ForgetResponse, error) {
	u := UserFromProto(r.GetUser())
	if err := u.Validate(); err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	f, err := impl.Forget(ctx, u)
	if err != nil {
		return nil, sdkerrgrpc.ToStatus(err)
	}
	return &commonv1.ForgetResponse{Removed: f.Removed}, nil
}

// ForgetCall is the method a generated client has for Forget.
type ForgetCall func(ctx context.Context, in *commonv1.ForgetRequest, opts ...grpc.CallOption) (*commonv1.ForgetResponse, error)

// CallForget is a client adapter's Forget.
func CallForget(ctx context.Context, call ForgetCall, u lifecycle.User) (lifecycle.Forgotten, error) {
	r, err := call(ctx, &commonv1.ForgetRequest{User: UserToProto(u)})
	if err != nil {
		return lifecycle.Forgotten{}, sdkerrgrpc.FromStatus(err)
	}
	return lifecycle.Forgotten{Removed: r.GetRemoved()}, nil
}
