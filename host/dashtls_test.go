package host

import (
	"crypto/x509"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDashboardCert: a self-signed certificate is made once for the
// address (key 0600), kept while it fits, made anew for another address;
// a given pair is used as is, and half a pair is refused.
func TestDashboardCert(t *testing.T) {
	dir := t.TempDir()
	a := netip.MustParseAddr("fd42::1")
	c1, fp1, made, err := dashboardCert("", "", dir, a)
	if err != nil || !made || len(fp1) != 95 {
		t.Fatalf("first: made %v fp %q err %v", made, fp1, err)
	}
	x, _ := x509.ParseCertificate(c1.Certificate[0])
	if len(x.IPAddresses) != 1 || !x.IPAddresses[0].Equal(a.AsSlice()) {
		t.Errorf("certificate names %v", x.IPAddresses)
	}
	if fi, _ := os.Stat(filepath.Join(dir, keyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	_, fp2, made, err := dashboardCert("", "", dir, a)
	if err != nil || made || fp2 != fp1 {
		t.Errorf("second start: made %v, fingerprint %s (was %s), %v", made, fp2, fp1, err)
	}
	_, fp3, made, err := dashboardCert("", "", dir, netip.MustParseAddr("fd42::2"))
	if err != nil || !made || fp3 == fp1 {
		t.Errorf("another address: made %v, same fingerprint %v, %v", made, fp3 == fp1, err)
	}
	_, fp4, made, err := dashboardCert(filepath.Join(dir, certFile), filepath.Join(dir, keyFile), t.TempDir(), a)
	if err != nil || made || fp4 != fp3 {
		t.Errorf("given pair: made %v fp %s want %s, %v", made, fp4, fp3, err)
	}
	if _, _, _, err := dashboardCert(filepath.Join(dir, certFile), "", dir, a); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("half a pair: %v", err)
	}
}
