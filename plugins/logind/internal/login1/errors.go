package login1

import (
	"errors"

	"github.com/godbus/dbus/v5"

	"github.com/threefoldtech/hero_codescalers/sdk/sdkerr"
)

// NotRunning is the reason given whenever logind cannot be reached.
const NotRunning = "systemd-logind is not running"

// errorCodes maps D-Bus error names to the sdk's codes.
var errorCodes = map[string]sdkerr.Code{
	"org.freedesktop.login1.NoSuchSession":                        sdkerr.NotFound,
	"org.freedesktop.login1.NoSuchUser":                           sdkerr.NotFound,
	"org.freedesktop.login1.NoSessionForPID":                      sdkerr.NotFound,
	"org.freedesktop.systemd1.NoSuchUnit":                         sdkerr.NotFound,
	"org.freedesktop.DBus.Error.ServiceUnknown":                   sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.NameHasNoOwner":                   sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.NoServer":                         sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.Disconnected":                     sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.NoReply":                          sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.Timeout":                          sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.TimedOut":                         sdkerr.Unavailable,
	"org.freedesktop.DBus.Error.AccessDenied":                     sdkerr.PermissionDenied,
	"org.freedesktop.DBus.Error.AuthFailed":                       sdkerr.PermissionDenied,
	"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired": sdkerr.PermissionDenied,
}

// mapError turns a D-Bus failure into a typed error naming the call. A
// D-Bus error's name and message are kept in the text.
func mapError(err error, call string) error {
	if err == nil {
		return nil
	}
	var de dbus.Error
	var dp *dbus.Error
	switch {
	case errors.As(err, &de):
	case errors.As(err, &dp):
		de = *dp
	case errors.Is(err, dbus.ErrClosed):
		return unavailable(err)
	default:
		return sdkerr.Wrap(err, sdkerr.Internal, "logind %s: %v", call, err)
	}
	code, ok := errorCodes[de.Name]
	if !ok {
		code = sdkerr.Internal
	}
	if code == sdkerr.Unavailable {
		return sdkerr.Wrap(err, code, "%s (%s: %s: %s)", NotRunning, call, de.Name, de.Error())
	}
	return sdkerr.Wrap(err, code, "logind %s: %s: %s", call, de.Name, de.Error())
}

func unavailable(err error) error {
	return sdkerr.Wrap(err, sdkerr.Unavailable, "%s: no system bus: %v", NotRunning, err)
}
