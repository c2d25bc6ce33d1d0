package host

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The dashboard's own certificate, for an address where plain HTTP is not
// allowed (neither the overlay, which encrypts, nor loopback): made at the
// first start that needs one, kept beside the host's log, renewed when it
// no longer names the address or has less than a month left.
const (
	certFile     = "dashboard-tls.crt"
	keyFile      = "dashboard-tls.key"
	certLifetime = 825 * 24 * time.Hour
	certRenew    = 30 * 24 * time.Hour
)

// dashboardCert returns the certificate to serve on addr and its SHA-256
// fingerprint: the files given, or the self-signed one in dir.
func dashboardCert(certPath, keyPath, dir string, addr netip.Addr) (tls.Certificate, string, bool, error) {
	if certPath != "" || keyPath != "" {
		if certPath == "" || keyPath == "" {
			return tls.Certificate{}, "", false, errors.New("--tls-cert and --tls-key go together")
		}
		c, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return tls.Certificate{}, "", false, fmt.Errorf("dashboard certificate: %w", err)
		}
		return c, fingerprint(c.Certificate[0]), false, nil
	}
	cp, kp := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	if c, err := tls.LoadX509KeyPair(cp, kp); err == nil && certFits(c, addr) {
		return c, fingerprint(c.Certificate[0]), false, nil
	}
	c, err := selfSign(cp, kp, addr)
	if err != nil {
		return tls.Certificate{}, "", false, err
	}
	return c, fingerprint(c.Certificate[0]), true, nil
}

// certFits reports whether a kept certificate still names addr and has
// more than certRenew left.
func certFits(c tls.Certificate, addr netip.Addr) bool {
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil || time.Until(x.NotAfter) < certRenew {
		return false
	}
	return slices.ContainsFunc(x.IPAddresses, func(ip net.IP) bool { return ip.Equal(addr.AsSlice()) })
}

// selfSign makes an ECDSA P-256 certificate for addr and writes it and its
// key (0600, written to a temporary file and renamed) into place.
func selfSign(certPath, keyPath string, addr netip.Addr) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "hero_codescalers dashboard " + host, Organization: []string{"hero_codescalers"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(certLifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{addr.AsSlice()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o755); err != nil {
		return tls.Certificate{}, err
	}
	if err := writePrivate(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})); err != nil {
		return tls.Certificate{}, err
	}
	if err := writePrivate(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// writePrivate writes a new 0600 file beside path and renames it over.
func writePrivate(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// fingerprint is the SHA-256 of a certificate as browsers show it.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
