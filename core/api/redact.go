package api

import (
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
