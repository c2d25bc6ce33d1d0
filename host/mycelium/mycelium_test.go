package mycelium

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func addrs(m map[string][]string) func() (map[string][]netip.Addr, error) {
	return func() (map[string][]netip.Addr, error) {
		out := map[string][]netip.Addr{}
		for n, list := range m {
			for _, s := range list {
				out[n] = append(out[n], netip.MustParseAddr(s))
			}
		}
		return out, nil
	}
}

func api(t *testing.T, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/admin" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestDetect(t *testing.T) {
	local := map[string][]string{"lo": {"127.0.0.1", "::1"}, "eth0": {"10.0.0.2", "2001:db8::2"},
		"myc0": {"4a1:2b3c::1", "fe80::1"}, "other": {"5ff:1::9"}}
	cases := []struct {
		name, api string
		local     map[string][]string
		want      string
		source    string
	}{
		{"api nodeIp", api(t, `{"nodeSubnet":"4a1:2b3c::/64","nodeIp":"4a1:2b3c::1"}`), local, "4a1:2b3c::1", SourceAPI},
		{"api subnet only", api(t, `{"nodeSubnet":"5ff:1::/64"}`), local, "5ff:1::9", SourceAPI},
		{"api address not local", api(t, `{"nodeIp":"4ff::1"}`), map[string][]string{"myc0": {"4a1:2b3c::1"}}, "4a1:2b3c::1", SourceInterface},
		{"api garbage", api(t, `not json`), map[string][]string{"tun": {"400::1"}}, "400::1", SourceInterface},
		{"no daemon", "http://127.0.0.1:1", map[string][]string{"tun": {"5ff::1"}}, "5ff::1", SourceInterface},
		{"skip api", "-", map[string][]string{"tun": {"400::1"}}, "400::1", SourceInterface},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Detect(context.Background(), Options{API: c.api, Addrs: addrs(c.local)})
			if err != nil || got.Addr.String() != c.want || got.Source != c.source {
				t.Fatalf("got %+v, %v; want %s by %s", got, err, c.want, c.source)
			}
		})
	}
	if _, err := Detect(context.Background(), Options{API: "-", Addrs: addrs(map[string][]string{"eth0": {"2001:db8::1", "600::1"}})}); err != ErrNotFound {
		t.Fatalf("no overlay address: %v", err)
	}
}

func TestAddressRules(t *testing.T) {
	for s, plain := range map[string]bool{"400::1": true, "5ff:ffff::1": true, "::1": true, "127.0.0.2": true,
		"600::1": false, "2001:db8::1": false, "10.0.0.1": false} {
		a, err := ParseAddress(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if PlainHTTPOK(a) != plain {
			t.Errorf("PlainHTTPOK(%s) = %v", s, !plain)
		}
	}
	if a, err := ParseAddress("[400::1]"); err != nil || a.String() != "400::1" {
		t.Errorf("brackets: %v %v", a, err)
	}
	for _, bad := range []string{"", "a..b", "::", "0.0.0.0", "ff02::1", "400::1%eth0", "host.example", "[::1]:5000"} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
	if _, err := ParseAddress("fe80::1%eth0"); err != nil {
		t.Errorf("link-local with zone: %v", err)
	}
}
