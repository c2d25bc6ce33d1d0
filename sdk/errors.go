package sdk

import "github.com/threefoldtech/hero_codescalers/sdk/sdkerr"

// Error is a plugin call's failure; see sdkerr.Error. The aliases here let a
// plugin's code say sdk.Errorf(sdk.NotFound, …) without a second import.
type Error = sdkerr.Error

// Code classifies an Error.
type Code = sdkerr.Code

// The codes every plugin call may fail with.
const (
	InvalidArgument    = sdkerr.InvalidArgument
	NotFound           = sdkerr.NotFound
	AlreadyExists      = sdkerr.AlreadyExists
	FailedPrecondition = sdkerr.FailedPrecondition
	Unavailable        = sdkerr.Unavailable
	PermissionDenied   = sdkerr.PermissionDenied
	Internal           = sdkerr.Internal
	Unimplemented      = sdkerr.Unimplemented
)

// Errorf makes an Error with a code and a formatted message; %w wraps.
func Errorf(code Code, format string, args ...any) *Error {
	return sdkerr.Errorf(code, format, args...)
}

// Invalid makes an InvalidArgument error naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	return sdkerr.Invalid(field, format, args...)
}

// CommandError describes a failed OS command: Internal, with the command
// line, exit code and stderr. Change its Code for exit codes you know.
func CommandError(argv []string, exitCode int, stderr string) *Error {
	return sdkerr.CommandError(argv, exitCode, stderr)
}

// CodeOf returns err's code: "" for nil, Internal for a plain error.
func CodeOf(err error) Code { return sdkerr.CodeOf(err) }

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return sdkerr.Is(err, code) }
