package core

import (
	"errors"

	"github.com/threefoldtech/hero_codescalers/sdk/accounts"
	"github.com/threefoldtech/hero_codescalers/sdk/acl"
	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
	"github.com/threefoldtech/hero_codescalers/sdk/sessions"
	"github.com/threefoldtech/hero_codescalers/sdk/sshkeys"
	"github.com/threefoldtech/hero_codescalers/sdk/volumes"
)

// Plugins gives the use cases one implementation per OS concern. The host's
// plugin manager returns wrappers that survive plugin restarts; unit tests
// pass the sdk's map-backed fakes.
type Plugins interface {
	Accounts() accounts.Accounts
	Volumes() volumes.Volumes
	ACL() acl.ACL
	SSHKeys() sshkeys.SSHKeys
	Sessions() sessions.Sessions
	// All lists every concern's client with its name, in the sdk's fixed
	// order: what core does to every concern alike — the Forget of a
	// user's end — loops over it, so a concern added later takes part.
	All() []PluginClient
}

// PluginClient is one concern's client and the concern's name.
type PluginClient struct {
	Name   string
	Client any
}

// pluginCodes maps the sdk's wire codes onto core codes.
var pluginCodes = map[sdkerr.Code]Code{
	sdkerr.InvalidArgument:    Invalid,
	sdkerr.NotFound:           NotFound,
	sdkerr.AlreadyExists:      AlreadyExists,
	sdkerr.FailedPrecondition: FailedPrecondition,
	sdkerr.Unavailable:        Unavailable,
	sdkerr.PermissionDenied:   Forbidden,
	sdkerr.Unimplemented:      FailedPrecondition,
	sdkerr.Internal:           Internal,
}

// FromPluginError turns a plugin's typed error into a core error, keeping
// the OS command, exit code and stderr. An error that is already a core
// error passes unchanged; any other becomes Unavailable, since a plugin call
// that fails without a typed error failed in transport.
func FromPluginError(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	var pe *sdkerr.Error
	if !errors.As(err, &pe) {
		return &Error{Code: Unavailable, Message: "plugin call failed", Err: err}
	}
	code, ok := pluginCodes[pe.Code]
	if !ok {
		code = Internal
	}
	if len(pe.Command) > 0 {
		code = OSCommandFailed
		if pe.Code != sdkerr.Internal {
			code = pluginCodes[pe.Code]
		}
	}
	return &Error{
		Code: code, Message: pe.Message, Field: pe.Field,
		Command: pe.Command, ExitCode: pe.ExitCode, Stderr: pe.Stderr, Err: err,
	}
}
