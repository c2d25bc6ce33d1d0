package cli

import (
	"errors"

	"github.com/threefoldtech/hero_codescalers/core/api"
	"github.com/threefoldtech/hero_codescalers/core/api/client"
)

// The exit codes of hero_codescalers, one per class of failure, so a
// script branches on the class without reading messages. 0 to 3 are what
// they always were; 4 and up split what used to be 1.
const (
	ExitOK          = 0
	ExitFailed      = 1 // the call failed for another reason (an OS command, an internal error), or a lifecycle action did
	ExitUsage       = 2 // a bad command line or argument (the host's invalid params too)
	ExitUnreachable = 3 // unavailable: the host cannot be reached or refused the socket, or a plugin is unavailable
	ExitNotFound    = 4 // no such user, group, node, session or plugin
	ExitExists      = 5 // already exists
	ExitForbidden   = 6 // the host refused the caller the method
	ExitConflict    = 7 // the machine or the state is not in the state the call needs (failed precondition; --if-missing over a user that differs in what cannot change)
	ExitPartial     = 8 // some items of many failed: users of a batch, nodes of a fleet
)

// exitClasses documents the codes for --help, the man page and the README
// in one table.
var exitClasses = []struct {
	Code int
	Kind string
	Text string
}{
	{ExitOK, "ok", "success"},
	{ExitFailed, "failed", "the call failed (an OS command, an internal error), a lifecycle action failed, or reconcile found drift"},
	{ExitUsage, "usage", "bad command line or argument (also a host's invalid-params answer)"},
	{ExitUnreachable, "unavailable", "the host cannot be reached (not running, the socket refuses you), or a plugin is unavailable; also status of a stopped host"},
	{ExitNotFound, "not_found", "no such user, group, node, session or plugin"},
	{ExitExists, "already_exists", "it already exists"},
	{ExitForbidden, "forbidden", "the host refused you the method (not root, not in the admin group)"},
	{ExitConflict, "conflict", "the machine or state is not as the call needs it (failed precondition; --if-missing over a user that differs in what cannot change)"},
	{ExitPartial, "partial", "some of many failed: users of user-create --from, nodes of a fleet command"},
}

// exitKind names a code's class, as --json errors carry it.
func exitKind(code int) string {
	for _, c := range exitClasses {
		if c.Code == code {
			return c.Kind
		}
	}
	return "failed"
}

// classify maps an error to its exit code: the one place that decides.
func classify(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case client.IsUnreachable(err), client.IsPermissionDenied(err):
		return ExitUnreachable
	}
	var we *api.Error
	if errors.As(err, &we) {
		return wireExit(we)
	}
	if e, ok := asExit(err); ok {
		return e.code
	}
	return ExitFailed
}

// wireExit is the exit code of a host's error, by its JSON-RPC code.
func wireExit(we *api.Error) int {
	switch we.Code {
	case api.CodeInvalidParams, api.CodeMethodNotFound, api.CodeInvalidRequest, api.CodeParseError:
		return ExitUsage
	case api.CodeNotFound:
		return ExitNotFound
	case api.CodeAlreadyExists:
		return ExitExists
	case api.CodeForbidden:
		return ExitForbidden
	case api.CodeFailedPrecondition:
		return ExitConflict
	case api.CodePluginUnavailable:
		return ExitUnreachable
	}
	return ExitFailed
}
