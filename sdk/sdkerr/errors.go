// Package sdkerr is the one error type of the plugin contracts. A plugin
// returns an *Error with a Code; the server adapters carry it across gRPC in
// the status details and the client adapters rebuild the same *Error on the
// host side (package sdkerrgrpc), so the host can branch on NotFound or
// AlreadyExists without parsing text, and show an OS command's exit code and
// stderr when a tool failed. sdkerr itself imports nothing beyond the
// standard library.
package sdkerr

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error. The values are stable strings: they travel on
// the wire and the host maps each one to its own error codes.
type Code string

// The codes every plugin call may fail with.
const (
	InvalidArgument    Code = "invalid_argument"
	NotFound           Code = "not_found"
	AlreadyExists      Code = "already_exists"
	FailedPrecondition Code = "failed_precondition"
	Unavailable        Code = "unavailable"
	PermissionDenied   Code = "permission_denied"
	Internal           Code = "internal"
	// Unimplemented is what the Unimplemented… bases answer, so a plugin can
	// serve part of a concern and say clearly what it leaves out.
	Unimplemented Code = "unimplemented"
)

// Codes lists every code, for tables and tests.
var Codes = []Code{InvalidArgument, NotFound, AlreadyExists, FailedPrecondition,
	Unavailable, PermissionDenied, Internal, Unimplemented}

// maxStderr bounds the stderr kept in an error: enough to read what a tool
// said, never a whole log on the wire.
const maxStderr = 4096

// Error is a plugin call's failure. Command, ExitCode and Stderr describe a
// failed OS command; Field names the request field at fault for
// InvalidArgument. Err is the cause inside the plugin; it does not travel.
type Error struct {
	Code     Code
	Message  string
	Field    string
	Command  []string
	ExitCode int
	Stderr   string
	Err      error
}

// Error renders the code, message, field and command in one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if len(e.Command) > 0 {
		fmt.Fprintf(&b, " (%s exited %d", strings.Join(e.Command, " "), e.ExitCode)
		if s := strings.TrimSpace(e.Stderr); s != "" {
			fmt.Fprintf(&b, ": %s", s)
		}
		b.WriteString(")")
	}
	if e.Err != nil && e.Message == "" {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes the cause for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error with a code and a formatted message. A %w verb wraps
// its argument as the cause.
func Errorf(code Code, format string, args ...any) *Error {
	wrapped := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: wrapped.Error(), Err: errors.Unwrap(wrapped)}
}

// Invalid makes an InvalidArgument error naming the field at fault.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: InvalidArgument, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap gives err a code and a message while keeping it as the cause.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CommandError describes an OS command that failed: Internal, with the
// command line, the exit code and stderr (trimmed and bounded). Plugins that
// know an exit code's meaning change Code, as useradd's exit 9 means
// AlreadyExists.
func CommandError(argv []string, exitCode int, stderr string) *Error {
	stderr = strings.TrimSpace(stderr)
	if len(stderr) > maxStderr {
		stderr = stderr[:maxStderr] + "…"
	}
	name := "command"
	if len(argv) > 0 {
		name = argv[0]
	}
	return &Error{
		Code:     Internal,
		Message:  name + " failed",
		Command:  append([]string(nil), argv...),
		ExitCode: exitCode,
		Stderr:   stderr,
	}
}

// WithCode returns a copy of e with another code.
func (e *Error) WithCode(code Code) *Error {
	c := *e
	c.Code = code
	return &c
}

// CodeOf returns the code of the first *Error in err's chain: "" for nil,
// Unavailable for a cancelled or expired context, Internal otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Unavailable
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Valid reports whether c is one of the known codes.
func (c Code) Valid() bool {
	for _, k := range Codes {
		if c == k {
			return true
		}
	}
	return false
}
