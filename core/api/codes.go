package api

import (
	"errors"

	"github.com/threefoldtech/hero_codescalers/core"
)

// JSON-RPC 2.0 codes from the specification.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// Application codes, in the range the specification leaves to servers.
const (
	CodeNotFound           = -32001
	CodeAlreadyExists      = -32002
	CodeForbidden          = -32003
	CodePluginUnavailable  = -32004
	CodeOSCommandFailed    = -32005
	CodeFailedPrecondition = -32006
)

var codeTable = []struct {
	core core.Code
	wire int
}{
	{core.Invalid, CodeInvalidParams},
	{core.NotFound, CodeNotFound},
	{core.AlreadyExists, CodeAlreadyExists},
	{core.Forbidden, CodeForbidden},
	{core.Unavailable, CodePluginUnavailable},
	{core.OSCommandFailed, CodeOSCommandFailed},
	{core.FailedPrecondition, CodeFailedPrecondition},
	{core.Internal, CodeInternalError},
}

// WireCode maps a core code to its JSON-RPC code.
func WireCode(c core.Code) int {
	for _, e := range codeTable {
		if e.core == c {
			return e.wire
		}
	}
	return CodeInternalError
}

// CoreCode maps a JSON-RPC code back to a core code, so a client can act on
// the class of an error.
func CoreCode(wire int) core.Code {
	for _, e := range codeTable {
		if e.wire == wire {
			return e.core
		}
	}
	return core.Internal
}

// ErrorData is the `data` member of an error response: which field or step
// failed, and for an OS command its argv, exit code and stderr.
type ErrorData struct {
	Kind     string   `json:"kind"`
	Field    string   `json:"field,omitempty"`
	Step     string   `json:"step,omitempty"`
	Command  []string `json:"command,omitempty"`
	ExitCode int      `json:"exit_code,omitempty"`
	Stderr   string   `json:"stderr,omitempty"`
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *ErrorData `json:"data,omitempty"`
}

// Error implements error with the server's message.
func (e *Error) Error() string { return e.Message }

// FromError turns any error into a wire error. Foreign errors become a
// generic internal error so internal detail never leaves the host.
func FromError(err error) *Error {
	var we *Error
	if errors.As(err, &we) {
		return we
	}
	ce := core.AsError(err)
	msg := ce.Error()
	if ce.Code == core.Internal && ce.Message == "" {
		msg = "internal error"
	}
	return &Error{
		Code:    WireCode(ce.Code),
		Message: msg,
		Data: &ErrorData{
			Kind: string(ce.Code), Field: ce.Field, Step: ce.Step,
			Command: ce.Command, ExitCode: ce.ExitCode, Stderr: ce.Stderr,
		},
	}
}

// ToCore turns a wire error back into a core error on the client side.
func (e *Error) ToCore() *core.Error {
	// Message already names the field or step, so they are not copied
	// into the core error, whose Error() would repeat them.
	ce := &core.Error{Code: CoreCode(e.Code), Message: e.Message}
	if e.Data != nil && e.Data.Kind != "" {
		ce.Code = core.Code(e.Data.Kind)
	}
	return ce
}
