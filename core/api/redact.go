package api

import (
	"errors"
	"net/url"
	"strings"
)

// RedactURLs hides the credentials of a URL, or of a comma-separated list
// of them (a NATS cluster's servers): a password, and a user name given
// without one, which NATS takes for a token. Anything else is returned
// as it is, and an item that does not parse is not shown.
func RedactURLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(strings.TrimSpace(item))
		switch {
		case err != nil:
			out = append(out, "(not a valid URL)")
		case u.User == nil:
			out = append(out, u.String())
		default:
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx")
			}
			out = append(out, u.String())
		}
	}
	return strings.Join(out, ",")
}

// ParseNATSURLs checks a NATS URL, or a comma-separated list of them (the
// seed servers of a cluster, tried in turn, as the nats tools take them):
// each nats:// or tls:// with a host, and credentials on every URL or on
// none. An error never quotes the value: it may carry a password.
func ParseNATSURLs(s string) ([]*url.URL, error) {
	var out []*url.URL
	for item := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(strings.TrimSpace(item))
		if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
			return nil, errors.New("must be nats://HOST:PORT or tls://HOST:PORT, or several of them separated by commas")
		}
		if len(out) > 0 && (u.User == nil) != (out[0].User == nil) {
			return nil, errors.New("give the credentials on every URL of the list, or on none")
		}
		out = append(out, u)
	}
	return out, nil
}
