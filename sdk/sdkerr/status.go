package sdkerr

import (
	"context"
	"errors"

	commonv1 "github.com/threefoldtech/hero_codescalers/sdk/proto/common/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcCodes maps each Code to the gRPC code a non-Go client sees first.
var grpcCodes = map[Code]codes.Code{
	InvalidArgument:    codes.InvalidArgument,
	NotFound:           codes.NotFound,
	AlreadyExists:      codes.AlreadyExists,
	FailedPrecondition: codes.FailedPrecondition,
	Unavailable:        codes.Unavailable,
	PermissionDenied:   codes.PermissionDenied,
	Internal:           codes.Internal,
	Unimplemented:      codes.Unimplemented,
}

// fromGRPC maps a bare gRPC code (a status without our detail, as from the
// transport or a plugin in another language that sends none) to a Code.
func fromGRPC(c codes.Code) Code {
	switch c {
	case codes.InvalidArgument, codes.OutOfRange:
		return InvalidArgument
	case codes.NotFound:
		return NotFound
	case codes.AlreadyExists:
		return AlreadyExists
	case codes.FailedPrecondition, codes.Aborted:
		return FailedPrecondition
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded, codes.ResourceExhausted:
		return Unavailable
	case codes.PermissionDenied, codes.Unauthenticated:
		return PermissionDenied
	case codes.Unimplemented:
		return Unimplemented
	}
	return Internal
}

// ToDetail converts err into the wire detail, nil for nil.
func ToDetail(err error) *commonv1.ErrorDetail {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: CodeOf(err), Message: err.Error()}
	}
	return &commonv1.ErrorDetail{
		Code:     string(e.Code),
		Message:  e.messageOrCause(),
		Field:    e.Field,
		Command:  e.Command,
		ExitCode: int32(e.ExitCode),
		Stderr:   e.Stderr,
	}
}

// FromDetail rebuilds the Error a detail describes; an unknown code becomes
// Internal so the host never branches on a code it does not know.
func FromDetail(d *commonv1.ErrorDetail) *Error {
	if d == nil {
		return nil
	}
	code := Code(d.GetCode())
	if !code.Valid() {
		code = Internal
	}
	return &Error{
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
func (e *Error) messageOrCause() string {
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
	st := status.New(grpcCodes[Code(d.Code)], d.Message)
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
		return Wrap(err, Unavailable, "plugin call: %v", err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return Wrap(err, Unavailable, "plugin call: %v", err)
	}
	for _, d := range st.Details() {
		if detail, ok := d.(*commonv1.ErrorDetail); ok {
			return FromDetail(detail)
		}
	}
	return &Error{Code: fromGRPC(st.Code()), Message: st.Message()}
}

func hasError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
