package core

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

func TestValidateUsername(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a", true},
		{"dev_01-x", true},
		{"a" + strings.Repeat("b", 31), true},
		{"a" + strings.Repeat("b", 32), false},
		{"", false},
		{"-rf", false},
		{"../x", false},
		{"a/b", false},
		{"Alice", false},
		{"ünï", false},
		{"bob\n", false},
		{"bob\nroot", false},
		{"1abc", false},
		{"root", false},
		{"driver", false},
		{"nobody", false},
		{"groups", false}, // /home/groups holds the shared group volumes
		{"a b", false},
		{"a.b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateUsername("name", tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateUsername(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
			if err != nil {
				e := AsError(err)
				if e.Code != Invalid || e.Field != "name" {
					t.Fatalf("got code %q field %q, want invalid/name", e.Code, e.Field)
				}
			}
		})
	}
}

func TestParseQuota(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"500M", 500 << 20, true},
		{"20G", 20 << 30, true},
		{"20g", 20 << 30, true},
		{"1.5T", 3 << 39, true},
		{"10GiB", 10 << 30, true},
		{"1024", 1024, true},
		{"0", 0, true},
		{"4K", 4096, true},
		{"-1G", 0, false},
		{"", 0, false},
		{"G", 0, false},
		{"1e9", 0, false},
		{"abc", 0, false},
		{"NaN", 0, false},
		{"99999999P", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseQuota("quota", tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseQuota(%q) err=%v, want ok=%v", tc.in, err, tc.ok)
			}
			if tc.ok && got != tc.want {
				t.Fatalf("ParseQuota(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseUIDRange(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       UIDRange
		ok         bool
	}{
		{"debian", "# comment\nUID_MIN\t\t\t 1000\nUID_MAX\t\t\t60000\n", UIDRange{1000, 60000}, true},
		{"custom", "UID_MIN 2000\nUID_MAX 2999\n", UIDRange{2000, 2999}, true},
		{"defaults", "", DefaultUIDRange, true},
		{"commented", "#UID_MIN 5\n", DefaultUIDRange, true},
		{"inverted", "UID_MIN 5000\nUID_MAX 4000\n", UIDRange{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseUIDRange(strings.NewReader(tc.text))
			if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
				t.Fatalf("got %v, %v; want %v ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
	r := UIDRange{1000, 60000}
	for uid, ok := range map[int]bool{0: false, 999: false, 1000: true, 60000: true, 60001: false, -1: false} {
		if err := ValidateUID("uid", uid, r); (err == nil) != ok {
			t.Errorf("ValidateUID(%d) = %v, want ok=%v", uid, err, ok)
		}
	}
}

func TestWhitelist(t *testing.T) {
	list, err := ParseWhitelist("addresses", []string{"4f8:306f:d514:7dbd::1", " 10.0.0.1 ", "400::/7", "10.0.0.1", "::ffff:10.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"4f8:306f:d514:7dbd::1", "10.0.0.1", "400::/7", "10.0.0.2"}
	if strings.Join(list, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v want %v", list, want)
	}
	for _, bad := range []string{"x", "10.0.0.300", "fe80::1%eth0", "1.2.3.4/33", ""} {
		if _, err := ParseWhitelist("addresses", []string{bad}); err == nil {
			t.Errorf("ParseWhitelist(%q) accepted", bad)
		}
	}
	for addr, ok := range map[string]bool{"4f8:306f:d514:7dbd::1": true, "5ff::9": true, "10.0.0.1": true, "10.0.0.3": false, "::1": false} {
		if got := WhitelistAllows(list, netip.MustParseAddr(addr)); got != ok {
			t.Errorf("WhitelistAllows(%s) = %v want %v", addr, got, ok)
		}
	}
	if WhitelistAllows(nil, netip.MustParseAddr("1.2.3.4")) {
		t.Error("an empty list must admit nobody (only --dashboard-open admits every peer)")
	}
}

func TestNodeValidation(t *testing.T) {
	for addr, ok := range map[string]bool{
		"[400::1]:5000": true, "10.0.0.1": true, "node-1.example": true, "node1:22": true, "400::1": true,
		"10.0.0.1:5300": true, "Node-1.Example:80": true,
		"": false, "a b": false, "http://x": false, "a..b": false, "[::1]:0": false, "fe80::1%eth0": false,
		"[fe80::1%eth0]:5000": false, "400::1:5000:x": false, "-a.example": false, "a-.example": false,
		"host:99999": false, "host:": false, ":5000": false, "[400::1]": false, "10.0.0.1:0": false,
		"::": false, "[::]:5300": false, "0.0.0.0": false, "0.0.0.0:5300": false, "::ffff:0.0.0.0": false,
		"ff02::1": false, "[ff05::2]:5300": false, "224.0.0.1:5300": false, "255.255.255.255": false,
		"fe80::1": false, "[fe80::1]:5300": false, "127.0.0.1:5300": true, "::1": true, "[::1]:5300": true,
		"169.254.10.1:5300": true,
	} {
		if err := ValidateNodeAddress("address", addr); (err == nil) != ok {
			t.Errorf("ValidateNodeAddress(%q) = %v want ok=%v", addr, err, ok)
		}
	}
	if err := ValidateNodeAddress("address", "nats://hc:pw-s3cret@10.0.0.1:4222"); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "--nats-url") {
		t.Errorf("a NATS URL as a node address: %v", err)
	}
	for addr, want := range map[string][2]any{"400::1": {"400::1", 0}, "[411::2]:5300": {"411::2", 5300}, "n1.example:7": {"n1.example", 7}} {
		host, port, err := SplitNodeAddress("address", addr)
		if err != nil || host != want[0] || port != want[1] {
			t.Errorf("SplitNodeAddress(%q) = %q %d %v, want %v", addr, host, port, err, want)
		}
	}
	if err := ValidateLabels("labels", map[string]string{"zone": "eu-1", "gpu": ""}); err != nil {
		t.Error(err)
	}
	if err := ValidateLabels("labels", map[string]string{"bad key": "x"}); err == nil {
		t.Error("bad label key accepted")
	}
}

// TestShapeMatchesRegexp holds the hand-written shapes to the regexps they
// replace, on a spread of inputs.
func TestShapeMatchesRegexp(t *testing.T) {
	pairs := []struct {
		s  shape
		re string
	}{
		{nameRE, `^[a-z][a-z0-9_-]{0,31}$`},
		{nodeRE, `^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`},
		{labelRE, `^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})?$`},
		{tokenRE, `^[A-Za-z0-9._~+/=:-]{1,512}$`},
	}
	inputs := []string{"", "a", "A", "-", "a-", "a.b", "a/b", "a_b", "0a", "a0", "ab-", "-ab", "a b", "ü", "a\n",
		strings.Repeat("a", 31), strings.Repeat("a", 32), strings.Repeat("a", 33), strings.Repeat("a", 63),
		strings.Repeat("a", 64), strings.Repeat("x", 512), strings.Repeat("x", 513), "x=y:z~+/", "node-1.example"}
	for _, p := range pairs {
		re := regexp.MustCompile(p.re)
		for _, in := range inputs {
			if got, want := p.s.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("%s on %q: shape %v, regexp %v", p.re, in, got, want)
			}
		}
	}
}
