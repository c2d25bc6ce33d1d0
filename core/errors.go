package core

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error. The JSON-RPC layer maps each code to one wire
// code (see core/api), so a caller can act on the class of failure without
// parsing messages.
type Code string

// The error codes. Invalid is bad input (JSON-RPC -32602); the others live in
// the application range.
const (
	Invalid            Code = "invalid"
	NotFound           Code = "not_found"
	AlreadyExists      Code = "already_exists"
	Forbidden          Code = "forbidden"
	FailedPrecondition Code = "failed_precondition"
	Unavailable        Code = "plugin_unavailable"
	OSCommandFailed    Code = "os_command_failed"
	Internal           Code = "internal"
)

// Error is the one error type of hero_codescalers. Message is safe to show a
// user; Err keeps the internal cause for logs. Field names the offending
// input, Step the provisioning step that failed.
type Error struct {
	Code    Code
	Message string
	Field   string
	Step    string
	// Command, ExitCode and Stderr describe a failed OS command.
	Command  []string
	ExitCode int
	Stderr   string
	Err      error
}

// Error renders the public message, prefixed by field or step when known.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Step != "" {
		b.WriteString("step ")
		b.WriteString(e.Step)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if len(e.Command) > 0 {
		fmt.Fprintf(&b, " (%s exited %d", strings.Join(e.Command, " "), e.ExitCode)
		if s := strings.TrimSpace(e.Stderr); s != "" {
			b.WriteString(": ")
			b.WriteString(s)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap exposes the internal cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotServed is the cause of a call to an optional concern (limits) that
// no plugin serves on this host: a user's end skips the concern.
var ErrNotServed = errors.New("the concern has no plugin on this host")

// Errorf builds an Error with a formatted public message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField reports bad input in the named field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and public message to an internal error.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// AsError returns err as an *Error, wrapping foreign errors as Internal with
// a generic message so internal text never reaches a user.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}
