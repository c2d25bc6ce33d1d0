// Package sdkerrgrpc carries sdkerr's one error type across gRPC: the server
// adapters turn a plugin's *sdkerr.Error into a status whose details hold a
// common.v1.ErrorDetail, and the client adapters rebuild the same
// *sdkerr.Error on the host side. Each code also maps to the gRPC code a
// client in another language sees first. It lives apart from sdkerr so that
// code needing only the error type (the core, the CLI's client) links no
// gRPC or protobuf.
package sdkerrgrpc

import (
	"context"
	"errors"

	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcCodes maps each sdkerr.Code to the gRPC code a non-Go client sees first.
var grpcCodes = map[sdkerr.Code]codes.Code{
	sdkerr.InvalidArgument:    codes.InvalidArgument,
	sdkerr.NotFound:           codes.NotFound,
	sdkerr.AlreadyExists:      codes.AlreadyExists,
	sdkerr.FailedPrecondition: codes.FailedPrecondition,
	sdkerr.Unavailable:        codes.Unavailable,
	sdkerr.PermissionDenied:   codes.PermissionDenied,
	sdkerr.Internal:           codes.Internal,
	sdkerr.Unimplemented:      codes.Unimplemented,
}

// fromGRPC maps a bare gRPC code (a status without our detail, as from the
// transport or a plugin in another language that sends none) to an
// sdkerr.Code.
func fromGRPC(c codes.Code) sdkerr.Code {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange:
		return sdkerr.InvalidArgument
	case codes.NotFound:
		return sdkerr.NotFound
	case codes.AlreadyExists:
		return sdkerr.AlreadyExists
	case codes.FailedPrecondition, codes.Aborted:
		return sdkerr.FailedPrecondition
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded, codes.ResourceExhausted:
		return sdkerr.Unavailable
	case codes.PermissionDenied, codes.Unauthenticated:
		return sdkerr.PermissionDenied
	case codes.Unimplemented:
		return sdkerr.Unimplemented
	}
	return sdkerr.Internal
}

// ToDetail converts err into the wire detail, nil for nil.
func ToDetail(err error) *commonv1.ErrorDetail {
	if err == nil {
		return nil
	}
	var e *sdkerr.Error
	if !errors.As(err, &e) {
		e = &sdkerr.Error{Code: sdkerr.CodeOf(err), Message: err.Error()}
	}
	return &commonv1.ErrorDetail{
		Code:     string(e.Code),
		Message:  messageOrCause(e),
		Field:    e.Field,
		Command:  e.Command,
		ExitCode: int32(e.ExitCode),
		Stderr:   e.Stderr,
	}
}

// FromDetail rebuilds the *sdkerr.Error a detail describes; an unknown code
// becomes Internal so the host never branches on a code it does not know.
func FromDetail(d *commonv1.ErrorDetail) *sdkerr.Error {
	if d == nil {
		return nil
	}
	code := sdkerr.Code(d.GetCode())
	if !code.Valid() {
		code = sdkerr.Internal
	}
	return &sdkerr.Error{
		Code:     code,
		Message:  d.GetMessage(),
		Field:    d.GetField(),
		Command:  d.GetCommand(),
		ExitCode: int(d.GetExitCode()),
		Stderr:   d.GetStderr(),
	}
}

// messageOrCause keeps a wrapped cause's text when no message was given,
// since the cause itself does not travel.
func messageOrCause(e *sdkerr.Error) string {
	if e.Message == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// ToStatus turns a plugin's error into a gRPC status error carrying the
// detail. The server adapters call it on every error they return.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !hasError(err) {
		return err // already a status, e.g. from a nested gRPC call
	}
	d := ToDetail(err)
	st := status.New(grpcCodes[sdkerr.Code(d.Code)], d.Message)
	if withDetail, derr := st.WithDetails(d); derr == nil {
		st = withDetail
	}
	return st.Err()
}

// FromStatus turns an error from a gRPC call back into an *Error: the
// plugin's own when the status carries a detail, else one mapped from the
// gRPC code. The client adapters call it on every error they receive.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sdkerr.Wrap(err, sdkerr.Unavailable, "plugin call: %v", err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return sdkerr.Wrap(err, sdkerr.Unavailable, "plugin call: %v", err)
	}
	for _, d := range st.Details() {
		if detail, ok := d.(*commonv1.ErrorDetail); ok {
			return FromDetail(detail)
		}
	}
	return &sdkerr.Error{Code: fromGRPC(st.Code()), Message: st.Message(), Err: err}
}

// FromTransport reports whether err (from FromStatus) came from the call's
// transport — the plugin did not answer in time, its process died, the
// connection broke — rather than from the plugin, whose own errors carry
// the sdk's detail.
func FromTransport(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(interface{ GRPCStatus() *status.Status }); ok {
			return true
		}
	}
	return false
}

func hasError(err error) bool {
	var e *sdkerr.Error
	return errors.As(err, &e)
}
