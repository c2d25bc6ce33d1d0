package plugintest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// TestRefusesStrangers runs the mtls check's probe against servers that
// get AutoMTLS right and wrong: only one that requires the client's
// certificate passes.
func TestRefusesStrangers(t *testing.T) {
	cert := selfSigned(t)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	cases := []struct {
		name  string
		creds credentials.TransportCredentials // nil: plaintext
		want  string                           // "" passes
	}{
		{"mutual TLS", credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}), ""},
		{"TLS without client auth", credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
			"without the host's client certificate"},
		{"plaintext", nil, "plaintext connection"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []grpc.ServerOption
			if c.creds != nil {
				opts = append(opts, grpc.Creds(c.creds))
			}
			addr := serveHealth(t, opts...)
			err := refusesStrangers(context.Background(), addr, 5*time.Second)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused a plugin that gets mutual TLS right: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want an error about %q", err, c.want)
			}
		})
	}
}

func serveHealth(t *testing.T, opts ...grpc.ServerOption) net.Addr {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "plugin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	grpc_health_v1.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr()
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
