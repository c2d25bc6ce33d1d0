package client

import (
	"errors"
	"net/url"
	"syscall"
)

// DialError is a failure to connect to the socket. The call never reached
// the host, so it is always safe to retry.
type DialError struct {
	Socket string
	Err    error
}

// Error names the socket and the reason.
func (e *DialError) Error() string { return "connect " + e.Socket + ": " + reason(e.Err) }

// Unwrap exposes the dialer's error (and its errno) to errors.Is.
func (e *DialError) Unwrap() error { return e.Err }

// IsUnreachable reports whether err means no host is listening: the socket
// does not exist or nobody accepts on it. A socket that exists but refuses
// us for lack of permission is not "unreachable" — starting another host
// would not help — so it stays an ordinary error.
func IsUnreachable(err error) bool {
	var de *DialError
	if !errors.As(err, &de) {
		return false
	}
	return errors.Is(err, syscall.ENOENT) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOTDIR)
}

// IsPermissionDenied reports whether err means the socket (or a directory
// on its path) refused us: a host may well be running, but not for this
// user.
func IsPermissionDenied(err error) bool {
	var de *DialError
	return errors.As(err, &de) && (errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM))
}

// reason turns an errno into the words an admin expects to read.
func reason(err error) string {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return "no such socket"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EACCES):
		return "permission denied"
	}
	return err.Error()
}

// unwrapURL drops net/http's `Post "http://localhost/rpc":` prefix, which
// names a URL the user never typed; the socket path is what matters.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
