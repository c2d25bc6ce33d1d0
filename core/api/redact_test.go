package api

import (
	"strings"
	"testing"
)

// TestRedactURLs: passwords and tokens are hidden, in a list too, and
// whatever is not a URL with credentials is left alone.
func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:pw1@a:4222":                    "nats://u:xxxxx@a:4222",
		"nats://tok3n@a:4222":                    "nats://xxxxx@a:4222",
		"nats://u:pw1@a:1, nats://tok3n@[::1]:2": "nats://u:xxxxx@a:1,nats://xxxxx@[::1]:2",
		"nats://a:4222,nats://b:4222":            "nats://a:4222,nats://b:4222",
		"[400::1]:5300":                          "[400::1]:5300",
		"nats://u:pw1@a:1,%zz@b":                 "nats://u:xxxxx@a:1,(not a valid URL)",
	} {
		got := RedactURLs(in)
		if got != want || strings.Contains(got, "pw1") || strings.Contains(got, "tok3n") {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
