package fleet

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/threefoldtech/hero_codescalers/core"
	"github.com/threefoldtech/hero_codescalers/core/api"
)

// TestKeysAreDerivedFromTheSecretAlone: two nodes with the same secret
// derive the same keys, and the same CA to the byte; another secret
// derives other ones, and each purpose has its own key.
func TestKeysAreDerivedFromTheSecretAlone(t *testing.T) {
	a, b, c := NewKeys(DeriveMaster("same secret")), NewKeys(DeriveMaster("same secret")), NewKeys(DeriveMaster("other secret"))
	if a.RoutePassword() != b.RoutePassword() || publicKey(a.ClientNkey()) != publicKey(b.ClientNkey()) || !bytes.Equal(a.SealKey(), b.SealKey()) {
		t.Fatal("the same secret gave different keys")
	}
	if a.RoutePassword() == c.RoutePassword() || publicKey(a.ClientNkey()) == publicKey(c.ClientNkey()) || bytes.Equal(a.SealKey(), c.SealKey()) {
		t.Fatal("another secret gave the same keys")
	}
	seen := map[string]string{}
	for purpose, k := range map[string][]byte{"seal": a.SealKey(), "ca": a.CASeed(), "route": []byte(a.RoutePassword()),
		"client": []byte(publicKey(a.ClientNkey())), "leaf": []byte(publicKey(a.LeafNkey())), "sys": []byte(publicKey(a.SystemNkey()))} {
		if other, dup := seen[string(k)]; dup {
			t.Errorf("%s and %s share a key", purpose, other)
		}
		seen[string(k)] = purpose
	}
	caA, err := NewCA(a.CASeed())
	if err != nil {
		t.Fatal(err)
	}
	caB, _ := NewCA(b.CASeed())
	caC, _ := NewCA(c.CASeed())
	if !bytes.Equal(caA.Cert.Raw, caB.Cert.Raw) {
		t.Fatal("the same secret gave two different CA certificates")
	}
	if bytes.Equal(caA.Cert.Raw, caC.Cert.Raw) {
		t.Fatal("another secret gave the same CA")
	}
	leaf, err := caB.Leaf("n2", []net.IP{net.ParseIP("400::2")})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(leaf.Certificate[0])
	// Trusted by another node, and by one whose clock is a day behind
	// (the minting node's runs ahead).
	for _, at := range []time.Time{time.Now(), time.Now().Add(-24 * time.Hour)} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: caA.pool, DNSName: ServerName, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("a certificate minted on one node is not trusted by another at %s: %v", at.Format(time.DateTime), err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: caC.pool, DNSName: ServerName}); err == nil {
		t.Error("a node with another secret trusts this fleet's certificate")
	}
}

// TestSealing: a sealed value opens where it was sealed for, and nowhere
// else — not at another key, not changed by one bit, not without the seal
// key, not unsealed.
func TestSealing(t *testing.T) {
	keys := NewKeys(DeriveMaster("seal secret"))
	s, _ := NewSealer(keys.SealKey())
	other, _ := NewSealer(NewKeys(DeriveMaster("another secret")).SealKey())
	type rec struct{ Token string }
	data, err := s.Seal(bucketDesired, "user.alice", rec{Token: "forge-token-123"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("forge-token-123")) {
		t.Fatal("the sealed value holds the token in clear")
	}
	var got rec
	if err := s.Open(bucketDesired, "user.alice", data, &got); err != nil || got.Token != "forge-token-123" {
		t.Fatalf("open: %v %+v", err, got)
	}
	tampered := bytes.Clone(data)
	tampered[len(tampered)-5] ^= 1
	for name, try := range map[string]func() error{
		"moved to another key":       func() error { return s.Open(bucketDesired, "user.mallory", data, &got) },
		"moved to another bucket":    func() error { return s.Open(bucketStatus, "user.alice", data, &got) },
		"changed by one bit":         func() error { return s.Open(bucketDesired, "user.alice", tampered, &got) },
		"opened with another secret": func() error { return other.Open(bucketDesired, "user.alice", data, &got) },
		"written in clear":           func() error { return s.Open(bucketDesired, "user.alice", []byte(`{"Token":"x"}`), &got) },
		"empty":                      func() error { return s.Open(bucketDesired, "user.alice", nil, &got) },
	} {
		if err := try(); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
}

// TestNATSURLs: --nats-url takes one URL or a comma-separated list, with
// credentials on every URL or on none, and never shows a password.
func TestNATSURLs(t *testing.T) {
	for _, ok := range []string{"nats://127.0.0.1:4222", "tls://nats.example:4222", "nats://[400::1]:4222",
		"nats://a:4222, nats://b:4222,nats://[::1]:4222", "nats://u:p@a:1,nats://u:p@b:2", "nats://a"} {
		if us, err := parseURLs(ok); err != nil || len(us) != strings.Count(ok, ",")+1 {
			t.Errorf("%q: %v %v", ok, us, err)
		}
	}
	for _, bad := range []string{"", "a:4222", "http://a:80", "nats://", "nats://a:1,", "nats://a:1,,nats://b:2",
		"nats://u:p@a:1,nats://b:2", "nats://a:1,nats://u:p@b:2"} {
		if _, err := parseURLs(bad); !core.IsCode(err, core.Invalid) {
			t.Errorf("%q was taken: %v", bad, err)
		}
	}
	if got := api.RedactURLs("nats://u:secret1@a:1, nats://u:secret2@b:2"); strings.Contains(got, "secret") || strings.Count(got, "xxxxx") != 2 {
		t.Errorf("redacted: %q", got)
	}
}
