package fleet

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// ServerName is the name every node's certificate carries and every node
// checks: a node's identity is "holds a certificate of the fleet's CA", not
// an address (mycelium addresses are stable, but a test or a staging host
// may bind another).
const ServerName = "fleet.hero-codescalers"

// caValidity is fixed so the CA's certificate is the same bytes on every
// node, derived from the secret alone.
var (
	caNotBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	caNotAfter  = time.Date(2124, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CA is the fleet's certificate authority. Its key comes from the secret
// and its certificate is built deterministically (ed25519 signatures are),
// so every node holding the passphrase has the identical CA, and a node
// without it can neither present a trusted certificate nor trust ours.
type CA struct {
	Cert *x509.Certificate
	key  ed25519.PrivateKey
	pool *x509.CertPool
}

// NewCA builds the CA from its seed (Keys.CASeed).
func NewCA(seed []byte) (*CA, error) {
	key := ed25519.NewKeyFromSeed(seed)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hero_codescalers fleet CA"},
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("fleet CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, key: key, pool: pool}, nil
}

// Leaf mints this host's certificate, at each start, with a fresh key:
// valid for ServerName and the node's addresses, as a server and as a
// client (routes and leaf connections are mutual).
func (ca *CA) Leaf(node string, ips []net.IP) (tls.Certificate, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: node},
		DNSNames:     []string{ServerName},
		IPAddresses:  ips,
		// Valid since the CA is: a node whose clock runs ahead of its
		// peers' (a hardware clock kept in local time, hours off) must
		// not find every route and leaf connection refused.
		NotBefore:   caNotBefore,
		NotAfter:    now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("fleet certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, nil
}

// TLS is the configuration of every fleet connection, as server and as
// client: TLS 1.3 only, this host's certificate, the fleet's CA as the
// only root on both sides, client certificates required.
func (ca *CA) TLS(leaf tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{leaf},
		RootCAs:      ca.pool,
		ClientCAs:    ca.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ServerName:   ServerName,
	}
}
